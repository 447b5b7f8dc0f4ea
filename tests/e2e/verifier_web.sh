#!/usr/bin/env bash
# Integration: the citizens' /verifier page in Debian's headless Chromium
# (driven by playwright-core from tests/web): upload a tampered and a
# valid PDF, read the verdict a citizen reads, keep screenshots.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
WEB="$E2E_ROOT/tests/web"
[ -x /usr/bin/chromium ] || e2e_skip "Debian's chromium is not installed"
[ -d "$WEB/node_modules/playwright-core" ] || e2e_skip "run npm ci in tests/web"
e2e_setup web
e2e_start_server
CORPUS=${SCEAU_CORPUS:-$E2E_ROOT/../shared/corpus}
SHOTS=${SCEAU_SCREENSHOTS:-$E2E_ROOT/build/screenshots}
mkdir -p "$SHOTS"

files=()
if [ -f "$CORPUS/dss/pades/pdf-signed-corrupted.pdf" ]; then
	files+=("$CORPUS/dss/pades/pdf-signed-corrupted.pdf")
fi
# A valid PDF signed by sceau itself, when the signer is there.
valid=""
if "$E2E_BIN/sceau" init --help >/dev/null 2>&1 &&
	"$E2E_BIN/sceau" sign --help >/dev/null 2>&1; then
	"$E2E_BIN/sceau" init --demo >/dev/null 2>&1
	alias="web-$RANDOM"
	"$E2E_BIN/sceau" key generate --alias "$alias" --type ec-p256 >/dev/null
	printf '{"givenName":"Awa","surname":"Traoré","commonName":"Awa Traoré","nina":"12345678901234A","title":"Directrice"}' >"$T/subject.json"
	if "$E2E_BIN/sceau" cert issue --profile person --key "$alias" \
		--subject "$T/subject.json" >/dev/null; then
		# A one-page PDF made by qpdf (not by sceau).
		printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' >"$T/raw.pdf"
		qpdf --empty --pages "$T/raw.pdf" -- "$T/in.pdf" 2>/dev/null
		if "$E2E_BIN/sceau" sign pades "$T/in.pdf" "$T/signed.pdf" --key "$alias" >/dev/null; then
			valid="$T/signed.pdf"
			files+=("$valid")
			# The same file with one signed byte changed (the page
			# size), by Python, not by sceau.
			python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"842")
open(sys.argv[2], "wb").write(d[:i] + b"843" + d[i + 3:])' "$T/signed.pdf" "$T/altered.pdf" &&
				files+=("$T/altered.pdf")
		fi
	fi
fi
[ ${#files[@]} -gt 0 ] || e2e_skip "no PDF to upload (corpus absent and no signer yet)"

node "$WEB/verifier.js" "$URL" "$SHOTS" "${files[@]}" >"$T/verdicts" 2>"$T/node.err"
rc=$?
ok '[ $rc -eq 0 ]' "Chromium drove the page"
[ $rc -eq 0 ] || cat "$T/node.err" >&2
cat "$T/verdicts"
if [ -f "$CORPUS/dss/pades/pdf-signed-corrupted.pdf" ]; then
	ok 'grep "pdf-signed-corrupted" "$T/verdicts" | grep -q "Signature invalide"' "tampered PDF: the citizen reads 'Signature invalide'"
fi
if [ -n "$valid" ]; then
	# A B-B signature carries no revocation data: the server asks its
	# own OCSP responder, in-process, and the page says "valid", that the
	# document is unchanged, and who signed it.
	ok 'grep "signed.pdf" "$T/verdicts" | cut -f2 | grep -q "Signature valide"' "PDF signed by sceau: the citizen reads 'Signature valide'"
	ok 'grep "altered.pdf" "$T/verdicts" | cut -f2 | grep -q "Signature invalide"' "the same PDF with one byte changed: 'Signature invalide'"
	ok 'grep "signed.pdf" "$T/verdicts" | cut -f3 | grep -q "inchangé"' "PDF signed by sceau: the citizen reads 'inchangé'"
	ok 'grep "signed.pdf" "$T/verdicts" | cut -f3 | grep -q "Awa Traoré"' "PDF signed by sceau: the signer's name is shown"
else
	echo "SKIPPED (part): no sceau-signed PDF yet (signer or hierarchy missing)"
fi
ok '[ -s "$SHOTS/verifier-1.png" ]' "screenshot saved in $SHOTS"
e2e_done
