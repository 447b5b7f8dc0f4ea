#!/usr/bin/env bash
# Integration: `sceau ca add` — a later key ceremony adds an issuing CA
# (here for diplomas) under the existing root, with its OCSP responder.
# A profile naming it issues a certificate that `openssl verify` chains
# to the root; the running sceaud answers OCSP for it (`openssl ocsp`)
# and serves its CRL (`openssl crl -verify`) without a restart; a PDF
# signed with that certificate validates online. Bad names, an existing
# name and a missing hierarchy are refused.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
SC="$E2E_BIN/sceau"
"$SC" ca --help 2>/dev/null | grep -q "ca add" || e2e_skip "sceau ca add is not built"
e2e_setup caadd
cd "$T" || exit 1

"$SC" ca add diplomes --cn "SCSE AC Diplômes" >noroot.out 2>&1
rc=$?
ok '[ $rc = 1 ] && grep -q "sceau init" noroot.out' "no hierarchy yet: refused, says to run sceau init"

e2e_demo_server
"$SC" ca cert root >root.pem
"$SC" ca add diplomes --cn "SCSE AC Diplômes" >add.out 2>&1
rc=$?
ok '[ $rc = 0 ] && grep -q "^diplomes " add.out && grep -q "^ocsp-diplomes " add.out' \
	"sceau ca add: the CA and its OCSP responder made"
ok '"$SC" ca list | grep -q "^diplomes	CN=SCSE AC Diplômes (démonstration),organizationIdentifier=NTRML-DEMO-0001"' \
	"listed, with the root's organizationIdentifier and demonstration marker"
"$SC" ca cert diplomes >diplomes.pem
ok 'openssl verify -CAfile root.pem diplomes.pem >/dev/null' "openssl verify: the new CA chains to the root"
ok 'openssl x509 -in diplomes.pem -noout -ext basicConstraints,keyUsage | grep -q "CA:TRUE" && openssl x509 -in diplomes.pem -noout -ext keyUsage | grep -q "CRL Sign"' \
	"a CA certificate (basicConstraints CA:TRUE, keyUsage cRLSign)"
ok '[ "$(e2e_psql -c "select count(*) from audit_log where action = '"'"'ca.create'"'"' and object = '"'"'diplomes'"'"'")" = 1 ]' \
	"audited (ca.create)"

"$SC" ca add diplomes --cn "Encore" >dup.out 2>&1
rc=$?
ok '[ $rc = 1 ] && grep -qi "exist" dup.out' "the same name again: refused (conflict)"
"$SC" ca add Bad_Name --cn "X" >bad.out 2>&1
rc=$?
ok '[ $rc = 64 ]' "a bad name: usage error (64)"
"$SC" ca add root --cn "X" >bad2.out 2>&1
rc=$?
ok '[ $rc = 64 ]' "\"root\": usage error (64)"
"$SC" ca add longcn --cn "$(printf 'A%.0s' $(seq 1 70))" >bad3.out 2>&1
rc=$?
ok '[ $rc = 64 ] && [ -z "$("$SC" ca list | grep "^longcn")" ]' "a commonName over 64 characters: refused before any key is made"

# A profile for diploma signers, issued by the new CA.
cp -r "$E2E_ROOT/policies/profiles" profiles
sed -e 's/^issuer = personnes$/issuer = diplomes/' profiles/person.conf >profiles/diploma.conf
sed -i "s|^profiles = .*|profiles = $T/profiles|" "$SCEAU_CONFIG"
K="dipl-$RANDOM$RANDOM"
"$SC" key generate --alias "$K" --type ec-p256 >/dev/null
echo '{"givenName":"Moussa","surname":"Sangaré","commonName":"Moussa Sangaré","title":"Recteur"}' >s.json
"$SC" cert issue --profile diploma --key "$K" --subject s.json --out leaf.pem >/dev/null 2>issue.err
rc=$?
ok '[ $rc = 0 ] && openssl verify -CAfile root.pem -untrusted diplomes.pem leaf.pem >/dev/null' \
	"a certificate from a profile naming the new CA: openssl verify accepts the chain"
ok 'openssl x509 -in leaf.pem -noout -issuer | grep -q "Diplômes\|Dipl\\\\C3\\\\B4mes"' "issued by the new CA"

# The running sceaud answers for the new CA without a restart.
openssl ocsp -issuer diplomes.pem -cert leaf.pem -url "$URL/ocsp" -CAfile root.pem \
	-resp_text >ocsp.txt 2>&1
ok 'grep -q "leaf.pem: good" ocsp.txt && grep -q "Response verify OK" ocsp.txt' \
	"openssl ocsp against the running sceaud: good, response verified"
http GET /pki/crl/diplomes.crl
cp "$T/body" diplomes.crl
ok '[ "$STATUS" = 200 ] && openssl crl -inform DER -in diplomes.crl -CAfile diplomes.pem -noout 2>&1 | grep -q "verify OK"' \
	"GET /pki/crl/diplomes.crl: a CRL signed by the new CA"

# A document signed under the new CA validates online.
python3 -c 'open("d.pdf","wb").write(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")'
qpdf --empty --pages d.pdf -- in.pdf 2>/dev/null
"$SC" sign pades in.pdf signed.pdf --key "$K" >/dev/null 2>sign.err
rc=$?
ok '[ $rc = 0 ]' "a diploma signed with the new CA's certificate"
"$SC" verify signed.pdf --trust root.pem --format json >v.json 2>v.err
rc=$?
ok '[ $rc = 0 ] && [ "$(jget v.json indication)" = TOTAL-PASSED ] && [ "$(jget v.json signatures.0.revocation.source)" = online ]' \
	"sceau verify online: TOTAL-PASSED, status from the new CA's OCSP responder"
e2e_done
