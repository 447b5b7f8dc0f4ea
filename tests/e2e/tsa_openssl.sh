#!/usr/bin/env bash
# Interop: sceaud's RFC 3161 responder (POST /tsa) driven by `openssl ts`
# and curl, checked by `openssl ts -verify`, `-reply -text` and
# `asn1parse`; rejections (badAlg, badDataFormat), HTTP limits (413,
# 415), the clock check (timeNotAvailable) and token records counted in
# PostgreSQL; `sceau timestamp` in-process and over HTTP.
#
# The TSA unit comes from `sceau init --demo` when the CLI has it;
# otherwise the test makes a hierarchy itself: keys generated in the HSM
# by `sceau key generate`, certificates signed in the HSM through
# OpenSSL's pkcs11 engine, rows inserted as `sceau init` would.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
command -v openssl >/dev/null || e2e_skip "openssl is not installed"
e2e_setup tsa
SCEAU="$E2E_BIN/sceau"
POLICY=2.16.466.1.1.3.1

# shellcheck source=tsa_hierarchy.bash
. "$(dirname "$0")/tsa_hierarchy.bash"
tsa_psql() { e2e_psql "$@"; }
PIN_FILE="$E2E_ENV/hsm.pin"

# --- before any hierarchy: a protocol answer, systemFailure, no row ---
e2e_start_server
printf 'x\n' >"$T/x.txt"
openssl ts -query -sha256 -data "$T/x.txt" -out "$T/q0.tsq" 2>/dev/null
out=$(curl -sS -o "$T/r0.tsr" -w '%{http_code}' -H 'Content-Type: application/timestamp-query' \
	--data-binary @"$T/q0.tsq" "$URL/tsa")
ok '[ "$out" = 200 ] && openssl ts -reply -in "$T/r0.tsr" -text 2>/dev/null | grep -q "due to system failure"' \
	"no TSA unit yet: rejection, systemFailure"
ok '[ "$(e2e_psql -c "select count(*) from tsa_tokens")" = 0 ]' "and no row"
e2e_stop_server

if "$SCEAU" init --help >/dev/null 2>&1 && "$SCEAU" init --demo >"$T/init.out" 2>&1 &&
	[ "$(e2e_psql -c "select count(*) from service_certs where kind = 'tsa' and active")" -ge 1 ]; then
	echo "# hierarchy from sceau init --demo"
else
	# Not this test's subject: `sceau init` has its own tests.
	echo "# sceau init --demo unavailable or without a TSA unit; making one:"
	sed 's/^/#   /' "$T/init.out" 2>/dev/null | head -3
	tsa_make_hierarchy "$SCEAU" "$PIN_FILE" "$T" || exit 1
fi
# root.pem and chain.pem as a relying party gets them, from the database
unit_ca=$(e2e_psql -c "select ca_name from service_certs where kind = 'tsa' and active")
ok '[ -n "$unit_ca" ]' "a TSA unit is configured"
e2e_psql -c "with recursive up(name, parent, cert, d) as (
	select name, parent, cert_der, 0 from ca where name = '$unit_ca'
	union all select ca.name, ca.parent, ca.cert_der, up.d + 1 from ca join up on ca.name = up.parent)
	select encode(cert, 'hex') || ' ' || (parent is null) from up order by d" >"$T/chain.hex"
: >"$T/chain.pem"
while read -r hex isroot; do
	if [ "$isroot" = true ]; then
		echo "$hex" | xxd -r -p | openssl x509 -inform DER >"$T/root.pem"
	else
		echo "$hex" | xxd -r -p | openssl x509 -inform DER >>"$T/chain.pem"
	fi
done <"$T/chain.hex"
ok '[ -s "$T/root.pem" ]' "root certificate from the database"
# for replies without certReq: the unit's certificate as well
e2e_psql -c "select encode(cert_der, 'hex') from service_certs where kind = 'tsa' and active
	order by created_at desc, id desc limit 1" | xxd -r -p | openssl x509 -inform DER >"$T/unit.pem"
cat "$T/chain.pem" "$T/unit.pem" >"$T/untrusted.pem"

e2e_start_server
rows() { e2e_psql -c "select count(*) from tsa_tokens"; }
# tsq FILE [openssl ts -query args]: a reply for a query, in $T/reply.tsr
post_tsq() {
	curl -sS -o "$T/reply.tsr" -w '%{http_code} %{content_type}' --max-time 30 \
		-H 'Content-Type: application/timestamp-query' --data-binary @"$1" "$URL/tsa"
}
reply_text() { openssl ts -reply -in "$T/reply.tsr" -text 2>/dev/null; }

printf 'Arrêté n° 2026-042 du ministère de la Santé\n' >"$T/doc.txt"
before=$(rows)

# --- the acceptance pipeline of the issue ---
openssl ts -query -sha256 -cert -data "$T/doc.txt" 2>/dev/null |
	curl -sS -o "$T/reply.tsr" -w '%{http_code} %{content_type}\n' --max-time 30 \
		-H 'Content-Type: application/timestamp-query' --data-binary @- "$URL/tsa" >"$T/http.out"
ok 'grep -q "^200 application/timestamp-reply" "$T/http.out"' "POST /tsa: 200 application/timestamp-reply"
openssl ts -verify -data "$T/doc.txt" -in "$T/reply.tsr" -CAfile "$T/root.pem" \
	-untrusted "$T/chain.pem" >"$T/verify.out" 2>&1
rc=$?
ok '[ $rc = 0 ] && grep -q "Verification: OK" "$T/verify.out"' "openssl ts -verify accepts the token"
reply_text >"$T/reply.txt"
ok 'grep -q "^Status: Granted" "$T/reply.txt"' "status granted"
ok 'grep -q "^Policy OID: $POLICY" "$T/reply.txt"' "our policy OID $POLICY"
ok 'grep -q "^Accuracy: 0x01 seconds" "$T/reply.txt"' "declared accuracy 1 s"
ok 'grep -Eq "^Time stamp: .* GMT" "$T/reply.txt"' "genTime in UTC"
serial=$(sed -n 's/^Serial number: 0x//p' "$T/reply.txt" | tr 'A-F' 'a-f')
ok '[ ${#serial} -ge 16 ]' "serial of at least 64 bits ($serial)"
openssl asn1parse -inform DER -in "$T/reply.tsr" >"$T/asn1.txt" 2>&1
ok 'grep -q ":id-smime-aa-signingCertificateV2$" "$T/asn1.txt"' "ESSCertIDv2 (1.2.840.113549.1.9.16.2.47) present"
ok '! grep -q ":id-smime-aa-signingCertificate$" "$T/asn1.txt"' "ESSCertID v1 (…9.16.2.12) absent"
ok '[ "$(rows)" = $((before + 1)) ]' "one token row recorded"
ok '[ "$(e2e_psql -c "select count(*) from tsa_tokens where serial = '"'"'$serial'"'"' and policy = '"'"'$POLICY'"'"' and hash_alg = '"'"'sha256'"'"'")" = 1 ]' \
	"the row carries the token's serial and policy"
imprint=$(sha256sum "$T/doc.txt" | cut -c1-64)
ok '[ "$(e2e_psql -c "select encode(message_imprint, '"'"'hex'"'"') from tsa_tokens where serial = '"'"'$serial'"'"'")" = "$imprint" ]' \
	"the row carries the hashed message"

# nonce echoed, checked against the query
openssl ts -query -sha512 -data "$T/doc.txt" -out "$T/q512.tsq" 2>/dev/null
post_tsq "$T/q512.tsq" >/dev/null
openssl ts -verify -queryfile "$T/q512.tsq" -in "$T/reply.tsr" -CAfile "$T/root.pem" \
	-untrusted "$T/untrusted.pem" >/dev/null 2>&1
rc=$?
ok '[ $rc = 0 ]' "SHA-512 query without certReq: verifies against the query (nonce, imprint)"
qn=$(openssl ts -query -in "$T/q512.tsq" -text 2>/dev/null | sed -n 's/^Nonce: //p')
rn=$(reply_text | sed -n 's/^Nonce: //p')
ok '[ -n "$qn" ] && [ "$qn" = "$rn" ]' "nonce echoed ($qn)"
ok '! reply_text | grep -q "^TSA: .*CN"' "no certReq: ok"

# --- rejections are TSP answers and write no row ---
before=$(rows)
for alg in sha1 md5; do
	openssl ts -query -$alg -data "$T/doc.txt" -out "$T/q.tsq" 2>/dev/null
	out=$(post_tsq "$T/q.tsq")
	ok '[ "${out%% *}" = 200 ] && reply_text | grep -q "^Status: Rejected" && reply_text | grep -q "unrecognized or unsupported algorithm"' \
		"$alg: rejection, badAlg"
done
head -c 300 /dev/urandom >"$T/garbage.bin"
out=$(post_tsq "$T/garbage.bin")
ok '[ "${out%% *}" = 200 ] && reply_text | grep -q "the data submitted has the wrong format"' "garbage: badDataFormat"
openssl ts -query -sha256 -data "$T/doc.txt" -tspolicy 1.2.3.4 -out "$T/q.tsq" 2>/dev/null
post_tsq "$T/q.tsq" >/dev/null
ok 'reply_text | grep -q "the requested TSA policy is not supported"' "other policy: unacceptedPolicy"
head -c 100000 /dev/zero >"$T/big.bin"
out=$(post_tsq "$T/big.bin")
ok '[ "${out%% *}" = 413 ]' "oversized body: 413"
out=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
	--data-binary @"$T/q512.tsq" "$URL/tsa")
ok '[ "$out" = 415 ]' "other media type: 415"
ok '[ "$(rows)" = "$before" ]' "no token row for rejections and HTTP errors"

# --- sceau timestamp: in-process and over HTTP ---
"$SCEAU" timestamp "$T/doc.txt" >"$T/cli.out" 2>&1
rc=$?
ok '[ $rc = 0 ] && [ -s "$T/doc.txt.tsr" ]' "sceau timestamp FILE (in-process) writes FILE.tsr"
openssl ts -verify -data "$T/doc.txt" -in "$T/doc.txt.tsr" -CAfile "$T/root.pem" \
	-untrusted "$T/chain.pem" >/dev/null 2>&1
rc=$?
ok '[ $rc = 0 ]' "its token verifies with openssl"
"$SCEAU" timestamp "$T/doc.txt" --url "$URL/tsa" --out "$T/http.tsr" >"$T/cli2.out" 2>&1
rc=$?
ok '[ $rc = 0 ] && grep -q "$POLICY" "$T/cli2.out"' "sceau timestamp --url (HTTP) checks and prints the token"
"$SCEAU" timestamp "$T/doc.txt" --url "$URL/tsa" --out "$T/x.tsr" --trust "$T/chain.pem" >"$T/cli4.out" 2>&1
rc=$?
ok '[ $rc = 1 ] && grep -q "does not verify" "$T/cli4.out"' "a trust anchor that is not the TSA's root: refused"
"$SCEAU" timestamp "$T/doc.txt" --url "$URL/tsa" --policy 1.2.3.4 --out "$T/x.tsr" >"$T/cli3.out" 2>&1
rc=$?
ok '[ $rc = 1 ] && grep -q unacceptedPolicy "$T/cli3.out"' "a refused request: exit 1 with the failure name"
ok '[ "$(rows)" = $((before + 3)) ]' "the three tokens granted recorded (one the client then distrusted)"

# --- concurrent clients: every token granted and recorded ---
before=$(rows)
openssl ts -query -sha256 -data "$T/doc.txt" -out "$T/q.tsq" 2>/dev/null
pids=()
for i in $(seq 1 40); do
	curl -sS -o "$T/par.$i" --max-time 30 -H 'Content-Type: application/timestamp-query' \
		--data-binary @"$T/q.tsq" "$URL/tsa" &
	pids+=($!)
done
wait "${pids[@]}" # not the server's
granted=0
for i in $(seq 1 40); do
	openssl ts -reply -in "$T/par.$i" -text 2>/dev/null | grep -q "^Status: Granted" && granted=$((granted + 1))
done
ok '[ $granted = 40 ] && [ "$(rows)" = $((before + 40)) ]' "40 concurrent requests: 40 tokens, 40 rows"

# --- the clock check (EN 319 421): simulated through the clock source ---
e2e_stop_server
sed -i -e '/^clock_check = /d' -e '/^clock_source = /d' "$SCEAU_CONFIG"
grep -q '^\[tsa\]' "$SCEAU_CONFIG" || echo '[tsa]' >>"$SCEAU_CONFIG"
sed -i "/^\[tsa\]/a clock_check = 1\nclock_source = file:$T/clock" "$SCEAU_CONFIG"
echo unsynced >"$T/clock"
e2e_start_server
before=$(rows)
openssl ts -query -sha256 -data "$T/doc.txt" -out "$T/q.tsq" 2>/dev/null
post_tsq "$T/q.tsq" >/dev/null
ok 'reply_text | grep -q "the TSA'"'"'s time source is not available"' "clock unsynchronised: timeNotAvailable"
ok '[ "$(rows)" = "$before" ]' "no row while the clock is unsynchronised"
http GET /readyz
if grep -q '"tsa"' "$T/body"; then
	ok '[ "$(jfield tsa)" = "clock not synchronised" ]' "/readyz reports the clock"
fi
echo synced >"$T/clock"
post_tsq "$T/q.tsq" >/dev/null
ok 'reply_text | grep -q "^Status: Granted"' "clock synchronised again: granted"
ok '[ "$(rows)" = $((before + 1)) ]' "and recorded"

e2e_done
