#!/usr/bin/env bash
# Integration: validation over HTTP — POST /api/v1/verify and the
# citizens' page /verifier — and `sceau verify` exit codes, on the DSS
# corpus (skipped, and said so, where ../shared/corpus is absent).
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup verify
e2e_start_server
CORPUS=${SCEAU_CORPUS:-$E2E_ROOT/../shared/corpus}

head -c 3000 /dev/urandom >"$T/garbage.bin"
http POST /api/v1/verify --data-binary @"$T/garbage.bin"
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = unsupported_document ]' "garbage: 400 unsupported_document"
http POST /api/v1/verify
ok '[ "$STATUS" = 400 ]' "empty body: 400"
http GET /verifier
ok '[ "$STATUS" = 200 ] && grep -q "<form" "$T/body" && grep -q "Vérifier" "$T/body"' "the page has its form, in French"
ok '! grep -qiE "<script|https?://[a-z]" "$T/body"' "no script, no outside resource"
http GET "/verifier?lang=en"
ok 'grep -q "Check a signed document" "$T/body"' "English page with ?lang=en"
http POST /verifier -F "document=@$T/garbage.bin"
ok '[ "$STATUS" = 400 ] && grep -q "pas un document signé" "$T/body"' "page says plainly that garbage is not a signed document"

"$E2E_BIN/sceau" verify "$T/garbage.bin" >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 65 ]' "sceau verify garbage: exit 65"
"$E2E_BIN/sceau" verify >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 64 ]' "sceau verify without a file: exit 64"

if [ -d "$CORPUS/dss/pades" ]; then
	good="$CORPUS/dss/pades/pades-bes.pdf"
	bad="$CORPUS/dss/pades/pdf-signed-corrupted.pdf"
	http POST /api/v1/verify --data-binary @"$good"
	ok '[ "$STATUS" = 200 ] && [ "$(jfield document.format)" = PAdES ] && [ "$(jfield signatures.0.crypto_intact)" = true ]' "intact corpus PDF: crypto intact"
	ok '[ "$(jfield indication)" != TOTAL-PASSED ]' "no trust anchor for the corpus: not TOTAL-PASSED"
	http POST /api/v1/verify --data-binary @"$bad"
	ok '[ "$STATUS" = 200 ] && [ "$(jfield indication)" = TOTAL-FAILED ] && [ "$(jfield signatures.0.crypto_intact)" = false ]' "corrupted corpus PDF: TOTAL-FAILED"
	http POST /verifier -F "document=@$bad"
	ok '[ "$STATUS" = 200 ] && grep -q "Signature invalide" "$T/body"' "page: tampered PDF gets 'Signature invalide'"
	http POST /verifier -F "document=@$good" -F lang=en
	ok '[ "$STATUS" = 200 ] && grep -q "Incomplete check\|Valid signature" "$T/body"' "page in English"
	"$E2E_BIN/sceau" verify --offline "$bad" >/dev/null
	rc=$?
	ok '[ $rc -eq 1 ]' "sceau verify tampered: exit 1"
	"$E2E_BIN/sceau" verify --offline "$good" >/dev/null
	rc=$?
	ok '[ $rc -eq 2 ]' "sceau verify untrusted intact: exit 2 (INDETERMINATE)"
	"$E2E_BIN/sceau" verify --offline --format etsi "$bad" >"$T/etsi.xml"
	rc=$?
	ok '[ $rc -eq 1 ] && xmllint --noout "$T/etsi.xml"' "sceau verify --format etsi: well-formed XML, exit 1"
	ok 'grep -q "http://uri.etsi.org/19102/v1.2.1#" "$T/etsi.xml" && grep -q "urn:etsi:019102:mainindication:total-failed" "$T/etsi.xml"' "ETSI report: namespace and total-failed"
	"$E2E_BIN/sceau" verify --offline --format text --lang en "$bad" >"$T/text.txt"
	rc=$?
	ok '[ $rc -eq 1 ] && grep -q "Invalid" "$T/text.txt"' "sceau verify --format text --lang en: Invalid"
	"$E2E_BIN/sceau" verify --offline --format text --lang fr "$bad" >"$T/text.txt"
	rc=$?
	ok '[ $rc -eq 1 ] && grep -q "Signature invalide" "$T/text.txt"' "sceau verify --format text --lang fr: Signature invalide"
	http POST /api/v1/verify -H 'Accept: application/xml' --data-binary @"$bad"
	ok '[ "$STATUS" = 200 ] && [ "${CTYPE%%;*}" = application/xml ] && xmllint --noout "$T/body" && grep -q "mainindication:total-failed" "$T/body"' "Accept: application/xml: the ETSI report"
	http POST /api/v1/verify -H 'Accept: application/json' --data-binary @"$bad"
	ok '[ "$STATUS" = 200 ] && [ "${CTYPE%%;*}" = application/json ] && [ "$(jfield indication)" = TOTAL-FAILED ]' "Accept: application/json: JSON"
else
	echo "SKIPPED (part): corpus not found at $CORPUS"
fi
e2e_done
