#!/usr/bin/env bash
# Integration: the whole life of a qualified certificate from the demo
# hierarchy (`sceau init --demo`, `sceau cert issue`): valid by CRL and
# OCSP, revoked (keyCompromise), then refused by openssl through the new
# CRL and OCSP. Skips (77) until issuance exists; tests/e2e/pki_http.sh
# covers revocation, CRLs and OCSP without it.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
SC="${SCEAU_BIN:-$E2E_BIN}/sceau"
"$SC" init --help >/dev/null 2>&1 && "$SC" --help 2>/dev/null | grep -q "cert issue" ||
	e2e_skip "issuance not available yet (sceau init / sceau cert issue)"
e2e_setup pkirevoke
cd "$T" || exit 1
"$SC" init --demo >init.txt 2>&1 || { echo "sceau init --demo failed:" >&2; cat init.txt >&2; exit 1; }
e2e_start_server
OFFICER=$(e2e_token ra_officer "officer-$RANDOM")
OFFICER2=$(e2e_token ra_officer "officer2-$RANDOM")
OFFICER3=$(e2e_token ra_officer "officer3-$RANDOM")
SIGNER=$(e2e_token signer "signer-$RANDOM")

# A citizen's qualified certificate, from a CSR; the profile needs two
# approvals by officers other than the submitter (four eyes).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out holder.key 2>/dev/null
openssl req -new -key holder.key -subj "/CN=Awa Traore" -out holder.csr 2>/dev/null
python3 - <<'PY' >request.json
import json
print(json.dumps({"profile": "qualified-person", "csr": open("holder.csr").read(),
    "subject": {"givenName": "Awa", "surname": "Traoré", "commonName": "Awa Traoré",
                "nina": "12345678901234A", "title": "Directrice", "locality": "Bamako"}}))
PY
http POST /api/v1/requests -H "Authorization: Bearer $OFFICER" --data-binary @request.json
RID=$(jfield id)
[ "$STATUS" = 201 ] || echo "submit: $STATUS $(cat "$T/body")" >&2
ok '[ "$STATUS" = 201 ] && [ -n "$RID" ]' "qualified-person request submitted"
http POST "/api/v1/requests/$RID/approve" -H "Authorization: Bearer $OFFICER2" -d '{}'
http POST "/api/v1/requests/$RID/approve" -H "Authorization: Bearer $OFFICER3" -d '{}'
SERIAL=$(jfield serial)
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ] && [ -n "$SERIAL" ]' "issued after two approvals"
http GET "/api/v1/certificates/$SERIAL" -H "Authorization: Bearer $OFFICER"
jfield pem >leaf.pem
[ -s leaf.pem ] && openssl x509 -in leaf.pem -noout 2>/dev/null || { cat "$T/body" >&2; e2e_done; exit 1; }
SERIAL=$(openssl x509 -in leaf.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^\(00\)*//')
CA=$(e2e_psql -c "select ca_name from certificates where serial = '$SERIAL'")
ROOT=$(e2e_psql -c "select name from ca where kind = 'root' limit 1")
"$SC" ca cert "$CA" >issuing.pem
"$SC" ca cert "$ROOT" >root.pem
cat issuing.pem root.pem >chain.pem
ok '[ -n "$CA" ] && [ -s issuing.pem ] && [ -s root.pem ]' "issuing CA $CA and root $ROOT"

getcrl() { # getcrl NAME FILE.pem: the CRL as served, in PEM
	curl -sS -o "$2.der" "$URL/pki/crl/$1.crl" && openssl crl -inform DER -in "$2.der" -out "$2"
}
getcrl "$CA" crl0.pem
getcrl "$ROOT" rootcrl.pem
openssl verify -CAfile root.pem -untrusted issuing.pem -crl_check_all -CRLfile crl0.pem -CRLfile rootcrl.pem leaf.pem >v0.txt 2>&1
rc=$?
ok '[ $rc = 0 ]' "openssl verify -crl_check_all accepts the new certificate"
openssl ocsp -url "$URL/ocsp" -issuer issuing.pem -cert leaf.pem -CAfile chain.pem >o0.txt 2>&1
rc=$?
ok '[ $rc = 0 ] && grep -q "leaf.pem: good" o0.txt && grep -q "Response verify OK" o0.txt' "openssl ocsp: good"

http POST "/api/v1/certificates/$SERIAL/revoke" -H "Authorization: Bearer $SIGNER" -d '{"reason":"keyCompromise"}'
ok '[ "$STATUS" = 403 ]' "a signer token cannot revoke: 403"
http POST "/api/v1/certificates/$SERIAL/revoke" -H "Authorization: Bearer $OFFICER" -d '{"reason":"keyCompromise"}'
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = revoked ]' "revoked (keyCompromise) by an RA officer"

openssl ocsp -url "$URL/ocsp" -issuer issuing.pem -cert leaf.pem -CAfile chain.pem >o1.txt 2>&1
ok 'grep -q "leaf.pem: revoked" o1.txt && grep -q "Reason: keyCompromise" o1.txt' "openssl ocsp: revoked, keyCompromise"
getcrl "$CA" crl1.pem
openssl verify -CAfile root.pem -untrusted issuing.pem -crl_check_all -CRLfile crl1.pem -CRLfile rootcrl.pem leaf.pem >v1.txt 2>&1
rc=$?
ok '[ $rc != 0 ] && grep -q "certificate revoked" v1.txt' "openssl verify with the new CRL rejects it"

# RFC 5019 GET. A request whose base64 holds '/' needs the route matcher's
# "{request*}" wildcard (docs/pki.md).
openssl ocsp -issuer issuing.pem -cert leaf.pem -no_nonce -reqout get.der >/dev/null 2>&1
B64=$(base64 -w0 get.der | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')
curl -sS -D get.hdr -o get.resp "$URL/ocsp/$B64"
ok 'grep -qi "^HTTP/1.1 200" get.hdr && grep -qiE "^Cache-Control: max-age=[0-9]+, public, no-transform, must-revalidate" get.hdr' \
	"GET /ocsp/{base64}: RFC 5019 Cache-Control"
ok 'grep -qi "^Last-Modified: " get.hdr && grep -qi "^Expires: " get.hdr && grep -qi "^ETag: " get.hdr' "GET: Last-Modified, Expires, ETag"
openssl ocsp -respin get.resp -issuer issuing.pem -cert leaf.pem -CAfile chain.pem -no_nonce >get.txt 2>&1
ok 'grep -q "leaf.pem: revoked" get.txt' "GET answer: revoked"

e2e_done
