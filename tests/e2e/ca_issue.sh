#!/usr/bin/env bash
# Integration: the CA over the CLI and HTTP — `sceau init --demo`, the
# registration workflow (four-eyes, two-approval profiles, roles),
# qualified certificates checked item by item (Law 2016-012 Art. 115)
# with openssl as an independent decoder, CA certificates under /pki/ca,
# and hostile CSRs refused with nothing stored.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup ca_issue
S="$E2E_BIN/sceau"

# ---------------------------------------------------------------- init
"$S" init --demo >"$T/init.out" 2>&1
rc=$?
ok '[ $rc = 0 ]' "sceau init --demo"
"$S" init --demo >"$T/init2.out" 2>&1
rc=$?
ok '[ $rc = 1 ] && grep -q "already exists" "$T/init2.out"' "a second init is refused"
ok '[ "$(e2e_psql -c "select count(*) from ca")" = 3 ]' "root and two issuing CAs in table ca"
ok '[ "$(e2e_psql -c "select string_agg(kind || '"'"':'"'"' || ca_name, '"'"','"'"' order by kind, ca_name) from service_certs")" = "ocsp:personnes,ocsp:personnes-morales,tsa:personnes-morales" ]' \
	"OCSP responders per issuing CA and the TSA unit in service_certs"
"$S" ca list >"$T/list"
ok '[ "$(wc -l <"$T/list")" = 3 ] && grep -q "^personnes	.*O=Service de Certification et de Signature Électronique" "$T/list"' \
	"ca list: name, subject (accents kept), key alias"
"$S" ca cert root >"$T/root.pem"
"$S" ca cert personnes >"$T/pers.pem"
"$S" ca cert personnes-morales >"$T/morales.pem"
ok 'openssl verify -CAfile "$T/root.pem" "$T/pers.pem" >/dev/null' "issuing CA verifies under the root"
ok 'openssl x509 -in "$T/root.pem" -noout -ext basicConstraints | grep -q "CA:TRUE"' "root is a CA"
ok 'openssl x509 -in "$T/pers.pem" -noout -subject -nameopt RFC2253,-esc_msb | grep -q "organizationIdentifier=NTRML-DEMO-0001.*C=ML"' \
	"issuer DN has organizationIdentifier and C=ML"
# svc_pem KIND CA: a service certificate from the database, PEM.
svc_pem() {
	echo "-----BEGIN CERTIFICATE-----"
	e2e_psql -c "select encode(cert_der, 'base64') from service_certs where kind = '$1' and ca_name = '$2'"
	echo "-----END CERTIFICATE-----"
}
svc_pem tsa personnes-morales >"$T/tsa.pem"
ok 'openssl x509 -in "$T/tsa.pem" -noout -ext extendedKeyUsage | grep -A1 "critical" | grep -qx " *Time Stamping"' \
	"TSA unit: critical EKU timeStamping only"
ok 'openssl verify -CAfile "$T/root.pem" -untrusted "$T/morales.pem" "$T/tsa.pem" >/dev/null' \
	"TSA unit certificate verifies under personnes-morales"
svc_pem ocsp personnes >"$T/ocsp.pem"
ok 'openssl x509 -in "$T/ocsp.pem" -noout -text | grep -q "OCSP No Check" && openssl x509 -in "$T/ocsp.pem" -noout -ext extendedKeyUsage | grep -q "OCSP Signing"' \
	"OCSP responder: id-kp-OCSPSigning and id-pkix-ocsp-nocheck"
ok '[ "$(e2e_psql -c "select count(*) from audit_log where action = '"'"'key.generate'"'"'")" = 6 ]' "six HSM keys generated, audited"

e2e_start_server
OFF1=$(e2e_token ra_officer "officer1-$RANDOM")
OFF2=$(e2e_token ra_officer "officer2-$RANDOM")
ADMIN=$(e2e_token ca_admin "admin-$RANDOM")
SIGNER=$(e2e_token signer "signer-$RANDOM")

# ---------------------------------------------------------------- /pki/ca
http GET /pki/ca/root.crt
ok '[ "$STATUS" = 200 ] && [ "$CTYPE" = application/pkix-cert ]' "GET /pki/ca/root.crt: DER"
ok 'cmp -s "$T/body" <(openssl x509 -in "$T/root.pem" -outform der)' "served DER is the root certificate"
http GET /pki/ca/personnes.pem
ok '[ "$STATUS" = 200 ] && [ "$CTYPE" = application/x-pem-file ] && cmp -s "$T/body" "$T/pers.pem"' "GET /pki/ca/personnes.pem"
http GET /pki/ca/nope.crt
ok '[ "$STATUS" = 404 ]' "unknown CA: 404"
http GET /pki/ca/root.txt
ok '[ "$STATUS" = 404 ]' "unknown extension: 404"

# ---------------------------------------------------------------- workflow
# request FILE TOKEN: POST /api/v1/requests with the JSON in FILE.
request() {
	http POST /api/v1/requests -H "Authorization: Bearer $2" -H 'Content-Type: application/json' --data-binary @"$1"
}
approve() {
	http POST "/api/v1/requests/$1/approve" -H "Authorization: Bearer $2"
}
SUBJ='{"givenName":"Aminata","surname":"Doumbia-Diallo Traoré","commonName":"Aminata Doumbia-Diallo Traoré","nina":"12345678901234K","title":"Directrice des affaires juridiques","email":"a.traore@example.ml"}'

KEY="sub-$RANDOM$RANDOM"
http POST /api/v1/keys -H "Authorization: Bearer $OFF1" -d "{\"alias\":\"$KEY\",\"type\":\"ec-p256\"}"
ok '[ "$STATUS" = 201 ]' "subscriber key generated in the HSM by an RA officer"
jfield public_key_pem >"$T/subpub.pem"
printf '{"profile":"qualified-person","key_alias":"%s","evidence":"CNI ML-0001, vue le 2026-01-05","subject":%s}' "$KEY" "$SUBJ" >"$T/req1.json"
request "$T/req1.json" "$SIGNER"
ok '[ "$STATUS" = 403 ] && [ "$(jfield code)" = forbidden ]' "a signer token cannot submit: 403"
request "$T/req1.json" "$OFF1"
ok '[ "$STATUS" = 201 ] && [ "$(jfield status)" = pending ]' "request submitted: 201 pending"
ID1=$(jfield id)
approve "$ID1" "$OFF1"
ok '[ "$STATUS" = 403 ] && [ "$(jfield code)" = forbidden ]' "the submitter cannot approve their own request: 403"
approve "$ID1" "$SIGNER"
ok '[ "$STATUS" = 403 ]' "a signer cannot approve: 403"
approve "$ID1" "$OFF2"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = pending ] && [ "$(jfield approvals)" = 1 ]' "first approval: still pending"
ok '[ "$(e2e_psql -c "select count(*) from certificates where request_id = $ID1")" = 0 ]' \
	"a two-approval profile is not issued after one approval"
approve "$ID1" "$OFF2"
ok '[ "$STATUS" = 409 ] && [ "$(jfield code)" = conflict ]' "the same officer twice: 409"
approve "$ID1" "$ADMIN"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ] && [ ${#BODY} -gt 100 ]' "second approval issues: status issued"
SER1=$(jfield serial)
ok '[[ "$SER1" =~ ^[0-7][0-9a-f]{39}$ ]]' "serial: 40 hex digits (159 CSPRNG bits, positive)"
http GET "/api/v1/requests/$ID1" -H "Authorization: Bearer $OFF1"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ] && [ "$(jfield serial)" = "$SER1" ]' "GET request: issued with its serial"
http GET "/api/v1/certificates/$SER1" -H "Authorization: Bearer $SIGNER"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ]' "GET certificate: JSON"
jfield pem >"$T/q1.pem"
ok 'openssl verify -CAfile "$T/root.pem" -untrusted "$T/pers.pem" "$T/q1.pem"' "openssl verify accepts the HSM-key qualified certificate"
ok 'cmp -s <(openssl x509 -in "$T/q1.pem" -noout -pubkey | openssl pkey -pubin -outform der) <(openssl pkey -pubin -in "$T/subpub.pem" -outform der)' "certificate key is the subscriber's HSM key"

# An independent decoder: the extension's bytes through openssl asn1parse.
# ext_dump CERT NAME: the inner DER of extension NAME, parsed.
ext_dump() {
	local off
	off=$(openssl asn1parse -in "$1" | grep -A2 ":$2\$" | grep "OCTET STRING" | head -1 | cut -d: -f1 | tr -d ' ')
	[ -n "$off" ] && openssl asn1parse -in "$1" -strparse "$off"
}
ext_dump "$T/q1.pem" qcStatements >"$T/qc1.txt"
ok 'grep -q ":0.4.0.1862.1.1$" "$T/qc1.txt"' "Art. 115 (1): QcCompliance 0.4.0.1862.1.1"
ok 'grep -A2 ":0.4.0.1862.1.7$" "$T/qc1.txt" | grep -q "PRINTABLESTRING *:ML"' "QcCClegislation 0.4.0.1862.1.7 = ML"
ok 'grep -q ":0.4.0.1862.1.6.1$" "$T/qc1.txt"' "QcType esign 0.4.0.1862.1.6.1"
ok 'grep -q ":0.4.0.1862.1.4$" "$T/qc1.txt"' "QcSSCD 0.4.0.1862.1.4 (key in the HSM)"
ok 'grep -A4 ":0.4.0.1862.1.5$" "$T/qc1.txt" | grep -q "IA5STRING *:http://.*/pki/pds/fr" && grep -q "PRINTABLESTRING *:en" "$T/qc1.txt"' \
	"QcPDS 0.4.0.1862.1.5 with URL, fr and en"
ok 'grep -A1 ":0.4.0.1862.1.3$" "$T/qc1.txt" | grep -q "INTEGER *:0A"' "QcRetentionPeriod 0.4.0.1862.1.3 = 10 years"
ok 'grep -A4 ":0.4.0.1862.1.2$" "$T/qc1.txt" | grep -q "PRINTABLESTRING *:XOF" && grep -A4 ":0.4.0.1862.1.2$" "$T/qc1.txt" | grep -q "INTEGER *:989680"' \
	"Art. 146: QcLimitValue 0.4.0.1862.1.2, XOF 10 000 000"
ok 'grep -A3 ":1.3.6.1.5.5.7.11.2$\|id-qcs-pkixQCSyntax-v2" "$T/qc1.txt" | grep -q ":0.4.0.194121.1.1$"' \
	"id-qcs-pkixQCSyntax-v2 with semanticsIdentifier 0.4.0.194121.1.1"
ok '! grep -q "0.4.0.194121.1.3" "$T/qc1.txt"' "not the eIDAS semantics identifier"
openssl x509 -in "$T/q1.pem" -noout -subject -nameopt RFC2253,-esc_msb >"$T/subj1.txt"
ok 'grep -q "serialNumber=PNOML-12345678901234K" "$T/subj1.txt"' "Art. 115 (3): serialNumber PNOML-<NINA>"
ok 'grep -q "title=Directrice des affaires juridiques" "$T/subj1.txt"' "Art. 115 (3): title (capacity)"
ok 'grep -q "CN=Aminata Doumbia-Diallo Traoré" "$T/subj1.txt" && grep -q "SN=Doumbia-Diallo Traoré" "$T/subj1.txt"' \
	"names with accents kept byte for byte"
ok 'openssl asn1parse -in "$T/q1.pem" | grep -A1 ":serialNumber$" | grep -q "PRINTABLESTRING *:PNOML-"' "serialNumber is a PrintableString"
ok 'openssl asn1parse -in "$T/q1.pem" | grep -A1 ":commonName$" | grep -q "UTF8STRING"' "commonName is a UTF8String"
ext_dump "$T/q1.pem" "X509v3 Certificate Policies" >"$T/pol1.txt"
ok 'grep -q ":2.16.466.1.1.1.1$" "$T/pol1.txt"' "Art. 115 (7): certificatePolicies with the policy OID"
ok 'grep -q "Policy Qualifier CPS" "$T/pol1.txt" && grep -q "IA5STRING *:http://.*/pki/cps" "$T/pol1.txt"' "CPS URI"
ok 'grep -q "Policy Qualifier User Notice" "$T/pol1.txt" && grep -q "UTF8STRING *:Certificat qualifié" "$T/pol1.txt"' "user notice in French (UTF8String)"
ok 'openssl x509 -in "$T/q1.pem" -noout -ext keyUsage | grep -A1 critical | grep -qx " *Non Repudiation"' "keyUsage critical nonRepudiation (ETSI EN 319 412-2)"
ok 'openssl x509 -in "$T/q1.pem" -noout -ext crlDistributionPoints | grep -q "/pki/crl/personnes.crl"' "CRL distribution point"
ok 'openssl x509 -in "$T/q1.pem" -noout -ext authorityInfoAccess | grep -q "OCSP - URI:.*/ocsp" && openssl x509 -in "$T/q1.pem" -noout -ext authorityInfoAccess | grep -q "CA Issuers - URI:.*/pki/ca/personnes.crt"' \
	"AIA: OCSP and caIssuers"
ok 'openssl x509 -in "$T/q1.pem" -noout -ext subjectAltName | grep -q "email:a.traore@example.ml"' "e-mail in subjectAltName"
ok '[ "$(e2e_psql -c "select status from certificates where serial = '"'"'$SER1'"'"'")" = issued ]' "certificates row: issued"
ok '[ "$(e2e_psql -c "select tbs_der is not null from certificates where serial = '"'"'$SER1'"'"'")" = t ]' "the linted TBS is stored"
ok '[ "$(e2e_psql -c "select count(*) from audit_log where action in ('"'"'request.submit'"'"','"'"'request.approve'"'"','"'"'request.issue'"'"') and object = '"'"'request:$ID1'"'"'")" = 4 ] && [ "$(e2e_psql -c "select count(*) from audit_log where action = '"'"'cert.issue'"'"' and object = '"'"'$SER1'"'"'")" = 1 ]' \
	"every step audited: submit, 2 approvals, issue, cert.issue"

# A CSR made by openssl (the subscriber's software key).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/sub.key" \
	-subj "/CN=ignored" -out "$T/sub.csr" 2>/dev/null
python3 -c 'import json,sys; print(json.dumps({"profile":"qualified-person","csr":open(sys.argv[1]).read(),"subject":json.loads(sys.argv[2])}))' \
	"$T/sub.csr" "$SUBJ" >"$T/req2.json"
request "$T/req2.json" "$OFF1"
ID2=$(jfield id)
ok '[ "$STATUS" = 201 ]' "CSR request submitted"
approve "$ID2" "$OFF2"
approve "$ID2" "$ADMIN"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ]' "CSR request issued after two approvals"
jfield pem >"$T/q2.pem"
ok 'openssl verify -CAfile "$T/root.pem" -untrusted "$T/pers.pem" "$T/q2.pem"' "openssl verify accepts the CSR qualified certificate"
ok 'cmp -s <(openssl x509 -in "$T/q2.pem" -noout -pubkey) <(openssl pkey -in "$T/sub.key" -pubout)' "certificate key is the CSR's key"
ext_dump "$T/q2.pem" qcStatements >"$T/qc2.txt"
ok 'grep -q ":0.4.0.1862.1.1$" "$T/qc2.txt" && ! grep -q ":0.4.0.1862.1.4$" "$T/qc2.txt"' \
	"CSR key (not on a secure device): qualified, but no QcSSCD"

# One-approval profile through the CLI (cert issue) and cert show.
printf '{"givenName":"Moussa","surname":"Keïta","commonName":"Moussa Keïta"}' >"$T/s3.json"
"$S" cert issue --profile person --csr "$T/sub.csr" --subject "$T/s3.json" --out "$T/p3.pem" >"$T/ser3"
rc=$?
ok '[ $rc = 0 ] && openssl verify -CAfile "$T/root.pem" -untrusted "$T/pers.pem" "$T/p3.pem" >/dev/null' "sceau cert issue (one-approval profile)"
ok '[ -z "$(ext_dump "$T/p3.pem" qcStatements 2>/dev/null)" ]' "advanced profile: no qcStatements"
"$S" cert show "$(cat "$T/ser3")" --pem >"$T/p3b.pem"
ok 'cmp -s "$T/p3.pem" "$T/p3b.pem"' "sceau cert show --pem"
"$S" cert issue --profile qualified-person --csr "$T/sub.csr" --subject "$T/s3.json" >/dev/null 2>"$T/err"
rc=$?
ok '[ $rc = 64 ] && grep -q "request submit" "$T/err"' "cert issue refuses a two-approval profile (usage, explained)"

# Reject with a reason.
request "$T/req2.json" "$OFF1"
ID4=$(jfield id)
http POST "/api/v1/requests/$ID4/reject" -H "Authorization: Bearer $OFF2" -d '{"reason":"pièce d'"'"'identité expirée"}'
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = rejected ]' "reject with a reason"
approve "$ID4" "$ADMIN"
ok '[ "$STATUS" = 409 ]' "a rejected request cannot be approved"

# Subject checks over HTTP.
printf '{"profile":"qualified-person","key_alias":"%s","subject":{"givenName":"A","surname":"B","commonName":"A B","nina":"1234"}}' "$KEY" >"$T/bad.json"
request "$T/bad.json" "$OFF1"
ok '[ "$STATUS" = 422 ] && [ "$(jfield code)" = invalid_input ] && jfield detail | grep -q nina' "bad NINA: 422"
printf '{"profile":"qualified-person","key_alias":"%s","subject":{"givenName":"A","surname":"B","commonName":"A B","nina":"12345678901234K","nickname":"x"}}' "$KEY" >"$T/bad.json"
request "$T/bad.json" "$OFF1"
ok '[ "$STATUS" = 422 ] && jfield detail | grep -q nickname' "unknown subject field: 422"
printf '{"profile":"no-such","key_alias":"%s","subject":{}}' "$KEY" >"$T/bad.json"
request "$T/bad.json" "$OFF1"
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = unknown_profile ]' "unknown profile: 400"

# ---------------------------------------------------------------- bad CSRs
reqs_before=$(e2e_psql -c "select count(*) from requests")
certs_before=$(e2e_psql -c "select count(*) from certificates")
# bad_csr NAME FILE WORD: submits FILE as the CSR; expects 400 invalid_csr
# with WORD in the detail.
bad_csr() {
	local want=$3
	python3 -c 'import json,sys; print(json.dumps({"profile":"person","csr":open(sys.argv[1],encoding="latin-1").read(),"subject":{"givenName":"A","surname":"B","commonName":"A B"}}))' \
		"$2" >"$T/badcsr.json"
	request "$T/badcsr.json" "$OFF1"
	ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_csr ] && jfield detail | grep -qi "$want"' "$1: 400 invalid_csr ($(jfield detail | head -c 80))"
}
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj "/CN=x" -out "$T/rsa1024.csr" 2>/dev/null
bad_csr "RSA-1024" "$T/rsa1024.csr" "2048"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes -keyout /dev/null -subj "/CN=x" -out "$T/k1.csr" 2>/dev/null
bad_csr "secp256k1" "$T/k1.csr" "curve"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -keyout /dev/null -subj "/CN=x" -out "$T/p521.csr" 2>/dev/null
bad_csr "P-521" "$T/p521.csr" "curve"
# broken self-signature: flip a bit in the last byte of the signature
openssl req -in "$T/sub.csr" -outform der -out "$T/good.der"
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-1]^=1; open(sys.argv[2],"wb").write(b)' "$T/good.der" "$T/broken.der"
openssl req -inform der -in "$T/broken.der" -out "$T/broken.csr" 2>/dev/null ||
	{ echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w64 "$T/broken.der"; echo "-----END CERTIFICATE REQUEST-----"; } >"$T/broken.csr"
bad_csr "broken signature" "$T/broken.csr" "signature"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; head -c 70000 /dev/urandom | base64 -w64; echo "-----END CERTIFICATE REQUEST-----"; } >"$T/big.csr"
bad_csr "oversized (> 64 KiB)" "$T/big.csr" "64 KiB"
echo "this is not a certification request" >"$T/garbage.csr"
bad_csr "garbage" "$T/garbage.csr" "not a"
{ cat "$T/sub.csr"; echo "trailing"; } >"$T/trail.csr"
bad_csr "trailing garbage after PEM" "$T/trail.csr" "trailing"
ok '[ "$(e2e_psql -c "select count(*) from requests")" = "$reqs_before" ] && [ "$(e2e_psql -c "select count(*) from certificates")" = "$certs_before" ]' \
	"nothing stored for any bad CSR"
"$S" request submit --profile person --csr "$T/garbage.csr" --subject "$T/s3.json" >/dev/null 2>&1
rc=$?
ok '[ $rc = 65 ]' "CLI: a bad CSR exits 65"

ok '"$S" audit verify >/dev/null' "audit chain intact"
e2e_done
