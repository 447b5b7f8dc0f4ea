#!/usr/bin/env bash
# Integration + interop: `sceau sign pades` and POST /api/v1/sign/pades
# against the demonstration hierarchy (`sceau init --demo`, `sceau cert
# issue`), sceau's TSA and OCSP responder over HTTP; every signature is
# checked by poppler's pdfsig (trusting the demo root in a throw-away NSS
# database) and every document time-stamp by `openssl ts -verify`.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
SC="$E2E_BIN/sceau"
"$SC" init --help >/dev/null 2>&1 || e2e_skip "sceau init is not built yet"
command -v pdfsig >/dev/null || e2e_skip "pdfsig (poppler-utils) is missing"
command -v certutil >/dev/null || e2e_skip "certutil (libnss3-tools) is missing"
e2e_setup pades
cd "$T" || exit 1
# A fixed port, so that the certificates' OCSP and CRL URLs reach sceaud.
e2e_demo_server
# The test token is shared: aliases unique to this run.
A="alice-$RANDOM$RANDOM" B="bob-$RANDOM$RANDOM"
"$SC" key generate --alias "$A" --type ec-p256 >/dev/null
"$SC" key generate --alias "$B" --type rsa-2048 >/dev/null
echo '{"givenName":"Alice","surname":"Diarra","commonName":"Alice Diarra","title":"Directrice"}' >alice.json
echo '{"givenName":"Bob","surname":"Keita","commonName":"Bob Keïta"}' >bob.json
"$SC" cert issue --profile person --key "$A" --subject alice.json --out alice.pem >/dev/null
rc=$?
ok '[ $rc = 0 ]' "certificate issued for the signing key"
"$SC" cert issue --profile person --key "$B" --subject bob.json --out bob.pem >/dev/null
"$SC" ca cert root >root.pem
mkdir nss && certutil -N -d sql:nss --empty-password && certutil -A -d sql:nss -n root -t CT,C,C -i root.pem
bash "$E2E_ROOT/tests/pades/make_pdfs.sh" pdf >made.txt
ok '[ -s pdf/classic.pdf ] && [ -s pdf/objstm.pdf ]' "test PDFs made (gs, qpdf)"

# sig_ok FILE N: pdfsig sees N signatures; every CMS one valid and trusted.
sig_ok() {
	pdfsig -nssdir sql:nss "$1" >"$1.txt" 2>&1
	python3 - "$1.txt" "$2" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
blocks = re.split(r'\nSignature #\d+:\n', t)[1:]
assert len(blocks) == int(sys.argv[2]), f"{len(blocks)} signatures"
for b in blocks:
    if 'Signature Type: unknown' in b:
        continue  # document time-stamp: checked with openssl ts
    assert 'Signature Validation: Signature is Valid.' in b, b
    if 'ETSI.CAdES.detached' in b:
        assert 'Certificate Validation: Certificate is Trusted.' in b, b
EOF
}
# ts_ok FILE: the last /DocTimeStamp verifies over its byte range.
ts_ok() {
	python3 - "$1" <<'EOF' &&
import re, sys
d = open(sys.argv[1], 'rb').read()
i = d.rfind(b'/ETSI.RFC3161')
a, b, c, e = map(int, re.compile(rb'/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)').search(d, i).groups())
open('ts.data', 'wb').write(d[a:a + b] + d[c:c + e])
open('ts.tok', 'wb').write(bytes.fromhex(d[a + b + 1:c - 1].decode()))
assert c + e == len(d)
EOF
		"$SC" ca cert personnes >chain.pem && "$SC" ca cert personnes-morales >>chain.pem &&
		openssl ts -verify -data ts.data -in ts.tok -token_in -CAfile root.pem -untrusted chain.pem 2>&1 | grep -q 'Verification: OK'
}

# CLI, every level
"$SC" sign pades pdf/objstm.pdf bb.pdf --key "$A" --reason "Approuvé" --location Bamako >/dev/null
rc=$?
ok '[ $rc = 0 ] && sig_ok bb.pdf 1' "CLI B-B on an xref-stream PDF: pdfsig valid"
ok 'grep -q "Total document signed" bb.pdf.txt' "B-B covers the whole file"
"$SC" sign pades pdf/classic.pdf bt.pdf --key "$A" --level B-T >/dev/null
rc=$?
ok '[ $rc = 0 ] && sig_ok bt.pdf 1' "CLI B-T: pdfsig valid"
"$SC" sign pades pdf/classic.pdf blt.pdf --key "$A" --level B-LT >/dev/null 2>blt.err
rc=$?
ok '[ $rc = 0 ] && sig_ok blt.pdf 1' "CLI B-LT: pdfsig valid"
ok 'grep -aq "/OCSPs \[ [0-9]" blt.pdf && grep -aq "/Type /DSS" blt.pdf' "B-LT: a /DSS with OCSP responses from sceaud"
"$SC" sign pades pdf/gs.pdf blta.pdf --key "$A" --level B-LTA >/dev/null 2>blta.err
rc=$?
ok '[ $rc = 0 ] && sig_ok blta.pdf 2 && ts_ok blta.pdf' "CLI B-LTA: signature valid, document time-stamp verifies (openssl ts)"
"$SC" sign pades blta.pdf blta2.pdf --extend B-LTA >/dev/null 2>&1
rc=$?
ok '[ $rc = 0 ] && sig_ok blta2.pdf 3 && ts_ok blta2.pdf' "archive renewal (--extend B-LTA)"
"$SC" sign pades bb.pdf bb2.pdf --key "$B" --visible 1,300,50,220,70 >/dev/null
rc=$?
ok '[ $rc = 0 ] && sig_ok bb2.pdf 2' "second signer (RSA), visible: both signatures valid"
if [ -s pdf/signed.pdf ]; then
	"$SC" sign pades pdf/signed.pdf foreign.pdf --key "$A" >/dev/null
	rc=$?
	ok '[ $rc = 0 ] && [ "$(grep -c "Signature is Valid." <(pdfsig -nssdir sql:nss foreign.pdf 2>&1))" = 2 ]' \
		"over a pdfsig signature: both valid"
fi

# bad input: clear errors, nothing written
printf 'not a pdf' >garbage.pdf
"$SC" sign pades garbage.pdf out1.pdf --key "$A" 2>err.txt
rc=$?
ok '[ $rc = 65 ] && [ ! -e out1.pdf ] && [ -z "$(ls out1.pdf.* 2>/dev/null)" ]' "garbage: exit 65, nothing written"
head -c 1500 pdf/classic.pdf >trunc.pdf
"$SC" sign pades trunc.pdf out2.pdf --key "$A" 2>err.txt
rc=$?
ok '[ $rc = 65 ] && [ ! -e out2.pdf ]' "truncated: exit 65"
qpdf --encrypt u o 256 -- pdf/classic.pdf enc.pdf
"$SC" sign pades enc.pdf out3.pdf --key "$A" 2>err.txt
rc=$?
ok '[ $rc = 65 ] && grep -qi "chiffr" err.txt && [ ! -e out3.pdf ]' "encrypted: exit 65 (encrypted_pdf)"
"$SC" sign pades pdf/classic.pdf out4.pdf --key nobody 2>err.txt
rc=$?
ok '[ $rc = 1 ] && [ ! -e out4.pdf ]' "key without certificate: refused"
ok '[ "$(e2e_psql -c "select count(*) from audit_log where action = '"'"'sign.pades'"'"' and object = '"'"'$A'"'"'")" -ge 5 ]' \
	"every signature audited (sign.pades)"
ok 'e2e_psql -c "select details from audit_log where action = '"'"'sign.pades'"'"' order by id desc limit 1" | grep -q document_sha256' \
	"audit details carry the document SHA-256"

# A configured outside TSA ([signer] tsa_url, tsa_trust): one that does
# not answer makes B-T fail with nothing written; sceaud's /tsa over
# HTTP, trusted through root.pem, stamps the signature.
cp "$SCEAU_CONFIG" conf.bak
grep -q '^tsa_url' "$SCEAU_CONFIG" || printf '\n[signer]\ntsa_url =\ntsa_trust =\n' >>"$SCEAU_CONFIG"
sed -i -e "s|^tsa_url =.*|tsa_url = http://127.0.0.1:1/tsa|" "$SCEAU_CONFIG"
"$SC" sign pades pdf/classic.pdf otsa0.pdf --key "$A" --level B-T >/dev/null 2>otsa0.err
rc=$?
ok '[ $rc != 0 ] && [ ! -e otsa0.pdf ]' "[signer] tsa_url that does not answer: B-T refused, nothing written"
sed -i -e "s|^tsa_url =.*|tsa_url = $URL/tsa|" -e "s|^tsa_trust =.*|tsa_trust = $T/root.pem|" "$SCEAU_CONFIG"
"$SC" sign pades pdf/classic.pdf otsa.pdf --key "$A" --level B-T >/dev/null 2>otsa.err
rc=$?
ok '[ $rc = 0 ] && sig_ok otsa.pdf 1' "[signer] tsa_url = sceaud's /tsa over HTTP: B-T valid in pdfsig"
cp conf.bak "$SCEAU_CONFIG"

# REST
ALICE=$(e2e_token signer "alice-$RANDOM" "$A")
ADMIN=$(e2e_token ca_admin "admin-$RANDOM")
http POST "/api/v1/sign/pades?key=$A&level=B-T" -H "Authorization: Bearer $ALICE" \
	-H 'Content-Type: application/pdf' --data-binary @pdf/classic.pdf
cp "$T/body" api.pdf
ok '[ "$STATUS" = 200 ] && [ "$CTYPE" = application/pdf ] && sig_ok api.pdf 1' "POST /api/v1/sign/pades B-T: 200, pdfsig valid"
ok 'cmp -n "$(stat -c %s pdf/classic.pdf)" pdf/classic.pdf api.pdf' "the answer starts with the original bytes"
http POST "/api/v1/sign/pades?key=$B" -H "Authorization: Bearer $ALICE" \
	-H 'Content-Type: application/pdf' --data-binary @pdf/classic.pdf
ok '[ "$STATUS" = 403 ] && [ "$(jfield code)" = forbidden ]' "another key than the token's: 403"
http POST "/api/v1/sign/pades?key=$A" -H "Authorization: Bearer $ADMIN" \
	-H 'Content-Type: application/pdf' --data-binary @pdf/classic.pdf
ok '[ "$STATUS" = 403 ]' "ca_admin may not sign with a subscriber key: 403"
http POST "/api/v1/sign/pades?key=$A" -H "Authorization: Bearer $ALICE" \
	-H 'Content-Type: application/pdf' --data-binary @garbage.pdf
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_pdf ]' "garbage over HTTP: 400 invalid_pdf"
http POST "/api/v1/sign/pades?key=$A" -H "Authorization: Bearer $ALICE" \
	-H 'Content-Type: application/pdf' --data-binary @enc.pdf
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = encrypted_pdf ]' "encrypted over HTTP: 400 encrypted_pdf"
http POST "/api/v1/sign/pades?key=$A" -H "Authorization: Bearer $ALICE" \
	-H 'Content-Type: text/plain' --data-binary @pdf/classic.pdf
ok '[ "$STATUS" = 415 ]' "wrong media type: 415"
http POST "/api/v1/sign/pades?key=$A&level=B-Z" -H "Authorization: Bearer $ALICE" \
	-H 'Content-Type: application/pdf' --data-binary @pdf/classic.pdf
ok '[ "$STATUS" = 400 ]' "unknown level: 400"
e2e_done
