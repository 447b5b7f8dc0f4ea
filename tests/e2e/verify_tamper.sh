#!/usr/bin/env bash
# Integration: tampered documents against `sceau verify`. sceau signs the
# controls (PAdES and XAdES enveloped, enveloping and detached, at B-LT so
# that `--offline --trust root.pem` can reach TOTAL-PASSED); tools sceau
# did not write then tamper with them (tests/tamper/*.py, Python's
# standard library, appending incremental updates by hand), and qpdf
# --check shows each tampered PDF still parses. Every tampered file must
# exit 1 or 2, never be TOTAL-PASSED, and fail for the reason planted
# (subindication, crypto_intact, modifications, reasons). Garbage and
# truncated files exit 65 with their problem code, and never crash.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
SC="$E2E_BIN/sceau"
TP="$E2E_ROOT/tests/tamper"
"$SC" verify --help >/dev/null 2>&1 || e2e_skip "sceau verify is not built"
"$SC" init --help >/dev/null 2>&1 || e2e_skip "sceau init is not built yet"
command -v qpdf >/dev/null || e2e_skip "qpdf is missing"
command -v gs >/dev/null || e2e_skip "gs (ghostscript) is missing"
e2e_setup tamper
cd "$T" || exit 1
# A fixed port, so that the certificates' OCSP and CRL URLs reach sceaud
# (B-LT embeds their answers).
e2e_demo_server
# The test token is shared: an alias unique to this run. Keys and
# signatures go through sceaud, which keeps the HSM open (each CLI command
# opens it again: seconds, under ASan).
A="tamper-$RANDOM$RANDOM"
ADMIN=$(e2e_token ca_admin "tadmin-$RANDOM")
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d "{\"alias\":\"$A\",\"type\":\"ec-p256\"}"
ok '[ "$STATUS" = 201 ]' "signing key generated in the HSM"
echo '{"givenName":"Awa","surname":"Traoré","commonName":"Awa Traoré","title":"Directrice"}' >awa.json
"$SC" cert issue --profile person --key "$A" --subject awa.json --out awa.pem >/dev/null
rc=$?
ok '[ $rc = 0 ]' "certificate issued for the signing key"
"$SC" ca cert root >root.pem

# vj FILE [args]: verifies FILE; the JSON report in FILE.json, and its
# fields in IND, NSIGS, IND0, SUB0, INTACT0, LEVEL0, REASONS and MODS
# (tests/tamper/report.py). Returns sceau's exit code.
vj() {
	local f=$1 r
	shift
	"$SC" verify "$f" --offline --trust root.pem --format json "$@" >"$f.json" 2>"$f.err"
	r=$?
	eval "$(python3 "$TP/report.py" "$f.json")"
	return $r
}
# failed RC: exit 1 or 2, a report, not TOTAL-PASSED.
failed() {
	{ [ "$1" = 1 ] || [ "$1" = 2 ]; } && [ "$IND" != unreadable ] && [ "$IND" != TOTAL-PASSED ]
}
# sig0 IND SUB INTACT: the first signature's verdict.
sig0() { [ "$IND0" = "$1" ] && [ "$SUB0" = "$2" ] && [ "$INTACT0" = "$3" ]; }
# passed RC: a control's verdict.
passed() { [ "$1" = 0 ] && [ "$IND" = TOTAL-PASSED ] && [ "$INTACT0" = true ] && [ "$LEVEL0" = B-LT ]; }
reason() { printf '%s\n' "$REASONS" | grep -q -- "$1"; }
mod() { printf '%s\n' "$MODS" | grep -qx -- "$1"; }
# parses FILE: qpdf --check finds no damage.
parses() { qpdf --check "$1" >"$1.qpdf" 2>&1; }

# --- controls, signed once -------------------------------------------
# A PDF from producers sceau did not write, its page content left
# uncompressed so that a byte of it can be changed in place.
gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -o gs.pdf \
	-c "/Helvetica findfont 20 scalefont setfont 72 720 moveto (Decision n. 2026-001 - sceau) show" \
	-c "72 690 moveto (Montant: 1500000 XOF) show showpage" \
	-c "72 720 moveto (Page 2) show showpage" >/dev/null 2>&1 &&
	qpdf --object-streams=disable --stream-data=uncompress gs.pdf plain.pdf
rc=$?
ok '[ $rc = 0 ] && parses plain.pdf' "unsigned PDF made (gs, qpdf)"
printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
	'<decision xmlns="urn:example:sceau" numero="2026-042"><objet>Attribution</objet><montant devise="XOF">1500000</montant></decision>' >doc.xml
printf 'Montant: 1500000 XOF\n' >data.bin
SIGNER=$(e2e_token signer "tsigner-$RANDOM" "$A")
# sign OUT KIND QUERY TYPE IN: POST /api/v1/sign/KIND?key=A&level=B-LT
# QUERY; the answer in OUT. Prints the HTTP status.
sign() {
	curl -sS -o "$1" -w '%{http_code}' --max-time 120 -X POST \
		-H "Authorization: Bearer $SIGNER" -H "Content-Type: $4" --data-binary @"$5" \
		"$URL/api/v1/sign/$2?key=$A&level=B-LT$3"
}
st=$(sign ctl.pdf pades "" application/pdf plain.pdf)
ok '[ "$st" = 200 ]' "PAdES B-LT control signed"
st=$(sign env.xml xades "" application/xml doc.xml)
ok '[ "$st" = 200 ]' "XAdES enveloped B-LT control signed"
st=$(sign ing.xml xades "&packaging=enveloping" application/xml doc.xml)
ok '[ "$st" = 200 ]' "XAdES enveloping B-LT control signed"
st=$(sign det.xml xades "&packaging=detached&uri=data.bin" application/octet-stream data.bin)
ok '[ "$st" = 200 ]' "XAdES detached B-LT control signed"

# A control that is not TOTAL-PASSED shows its report: the tampered
# cases below do not depend on it (they check their own signal).
for f in ctl.pdf env.xml ing.xml det.xml; do
	if [ "$f" = det.xml ]; then
		vj "$f" --data data.bin
	else
		vj "$f"
	fi
	rc=$?
	passed $rc || cat "$f.json" "$f.err" >&2
	ok 'passed $rc' "control $f: exit 0, TOTAL-PASSED, crypto intact, B-LT"
done

# Every tampered file, made once by tools sceau did not write.
python3 "$TP/pdf_tamper.py" ctl.pdf noop byte content overlay replace font hide \
	hide-short byterange nocontents emptycontents isa junk
rc=$?
ok '[ $rc = 0 ] && [ -s emptycontents.pdf ]' "pdf_tamper.py: tampered PDFs made"
python3 "$TP/xml_tamper.py" env.xml env roundtrip byte xsw-props no-props-ref &&
	python3 "$TP/xml_tamper.py" ing.xml ing roundtrip byte xsw-object xsw-noid
rc=$?
ok '[ $rc = 0 ] && [ -s ing-xsw-noid.xml ]' "xml_tamper.py: tampered XML made"

# The tools' own controls: an allowed incremental update written by
# pdf_tamper.py, and a parse-and-write by xml_tamper.py, still verify;
# so the cases below fail for what they change, not for how.
ok 'parses noop.pdf' "pdf_tamper noop: qpdf --check accepts the update"
vj noop.pdf
rc=$?
ok '[ $rc = 0 ] && [ "$IND" = TOTAL-PASSED ] && mod metadata:true' "pdf_tamper noop: an Info update is allowed, still TOTAL-PASSED"
for f in env ing; do
	vj "$f-roundtrip.xml"
	rc=$?
	ok '[ $rc = 0 ] && [ "$IND" = TOTAL-PASSED ]' "xml_tamper roundtrip of $f.xml: still TOTAL-PASSED"
done

# --- PAdES -----------------------------------------------------------
# qpdf reads every tampered PDF without damage, except the two "hide"
# files, whose aimed xref entry is the attack: qpdf reports it and
# recovers.
for c in byte content overlay replace font byterange nocontents emptycontents; do
	ok 'parses "$c.pdf"' "PDF $c: qpdf --check accepts it"
done
for c in hide hide-short; do
	qpdf --check "$c.pdf" >"$c.pdf.qpdf" 2>&1
	rc=$?
	ok '[ $rc = 3 ] && grep -q "expected [0-9]* 0 obj" "$c.pdf.qpdf" && grep -q "succeeded with warnings" "$c.pdf.qpdf"' \
		"PDF $c: qpdf reads it and reports the aimed xref entry"
done

# A byte of the signed page content ("2026-001" -> "2026-009").
vj byte.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED HASH_FAILURE false && reason "message digest does not match"' \
	"PDF byte changed in signed content: TOTAL-FAILED/HASH_FAILURE, not intact"
# Incremental update: page 1 gets a new content stream.
vj content.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE true && mod page:false' \
	"PDF update with new page content: TOTAL-FAILED/FORMAT_FAILURE, modification page not allowed"
# Incremental update: a Square annotation whose appearance covers the
# signed line with other text.
vj overlay.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE true && mod annotation:false && reason "paints over the signed page"' \
	"PDF overlay annotation: TOTAL-FAILED/FORMAT_FAILURE, annotation not allowed"
# Incremental update: the page's content stream re-written under the
# same object number, generation 0; the page dictionary is untouched.
vj replace.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE true && mod page:false' \
	"PDF content stream replaced in place: TOTAL-FAILED/FORMAT_FAILURE, modification page not allowed"
# Incremental update: the font name the signed text uses re-pointed to
# another font (shadow replace); page and content stream untouched.
vj font.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE true && mod page:false' \
	"PDF font resource re-pointed: TOTAL-FAILED/FORMAT_FAILURE, modification page not allowed"
# Shadow hide: an xref entry of the update aims at another object, in
# 20-byte and in 19-byte entries.
for c in hide hide-short; do
	vj "$c.pdf"
	rc=$?
	ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE true && mod xref-mismatch:false' \
		"PDF $c: TOTAL-FAILED/FORMAT_FAILURE, modification xref-mismatch"
done
# /ByteRange edited in place (same text length): the second range stops
# 200 bytes short, leaving the revision's xref and trailer unsigned.
vj byterange.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE false && reason "do not end at a revision" && [ "$(stat -c %s byterange.pdf)" = "$(stat -c %s ctl.pdf)" ]' \
	"PDF ByteRange skipping bytes: TOTAL-FAILED/FORMAT_FAILURE, not intact"
# /Contents removed, and /Contents <> (USF): a failed signature, never
# "unsigned", and counted once.
for c in nocontents emptycontents; do
	vj "$c.pdf"
	rc=$?
	ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE false && [ "$NSIGS" = 1 ] && reason "/Contents is not a CMS SignedData"' \
		"PDF $c: one signature, TOTAL-FAILED/FORMAT_FAILURE, not intact"
done

# Objects appended after the last %%EOF with no xref or trailer (the
# incremental saving attack relying on reader recovery) fail; mere junk
# after %%EOF is a warning.
vj isa.pdf
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE true && reason "incremental saving attack"' \
	"PDF objects after %%EOF without xref: TOTAL-FAILED/FORMAT_FAILURE"
vj junk.pdf
rc=$?
ok '[ $rc = 0 ] && [ "$IND" = TOTAL-PASSED ] && reason "bytes after the last"' \
	"PDF junk after %%EOF: TOTAL-PASSED with a warning"

# --- XAdES -----------------------------------------------------------
# A character of the signed data ("1500000" -> "9500000").
for f in env ing; do
	vj "$f-byte.xml"
	rc=$?
	ok 'failed $rc && sig0 TOTAL-FAILED HASH_FAILURE false && reason "digest of reference .* does not match"' \
		"XML $f byte changed in signed content: TOTAL-FAILED/HASH_FAILURE, not intact"
done
sed 's/1500000/9500000/' data.bin >data2.bin
cp det.xml det2.xml
vj det2.xml --data data2.bin
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED HASH_FAILURE false' \
	"XML detached, a byte of the data changed: TOTAL-FAILED/HASH_FAILURE, not intact"

# Signature wrapping. xmlsec still finds the original (crypto intact);
# the wrapping checks must not let it pass.
vj env-xsw-props.xml
rc=$?
ok 'failed $rc && sig0 INDETERMINATE SIGNED_DATA_NOT_FOUND true && reason "occurs twice (signature wrapping)"' \
	"XML XSW, SignedProperties moved and forged with the same Id: INDETERMINATE/SIGNED_DATA_NOT_FOUND"
vj ing-xsw-object.xml
rc=$?
ok 'failed $rc && sig0 INDETERMINATE SIGNED_DATA_NOT_FOUND true && reason "signature wrapping"' \
	"XML XSW, signed ds:Object moved and forged with the same Id: INDETERMINATE/SIGNED_DATA_NOT_FOUND"
if command -v xmlsec1 >/dev/null; then
	xmlsec1 --verify --insecure --enabled-reference-uris empty,same-doc ing-xsw-object.xml >xsw.xmlsec1 2>&1
	rc=$?
	ok '[ $rc = 0 ]' "XML XSW ds:Object: xmlsec1 alone accepts it (the wrapping is real)"
fi
vj ing-xsw-noid.xml
rc=$?
ok 'failed $rc && sig0 INDETERMINATE SIGNED_DATA_NOT_FOUND true && reason "does not resolve to a child of this signature"' \
	"XML XSW, signed ds:Object moved into a wrapper, forged one without Id: INDETERMINATE/SIGNED_DATA_NOT_FOUND"
# The SignedProperties reference removed from SignedInfo: the signature
# value no longer verifies, and the properties are unsigned.
vj env-no-props-ref.xml
rc=$?
ok 'failed $rc && sig0 TOTAL-FAILED FORMAT_FAILURE false && reason "signature value does not verify" && reason "SignedProperties are not signed"' \
	"XML SignedProperties reference removed: TOTAL-FAILED/FORMAT_FAILURE, signature value broken, properties unsigned"

# --- garbage ---------------------------------------------------------
# gone FILE TITLE: exit 65 (no crash, no sanitizer report), no report,
# and the English title of the problem code (core/include/sceau/codes.def;
# the code itself is checked over HTTP below).
gone() {
	SCEAU_LANG=en "$SC" verify "$1" --offline --trust root.pem --format json >"$1.json" 2>"$1.err"
	local r=$?
	[ $r = 65 ] && [ ! -s "$1.json" ] && grep -q "$2" "$1.err"
}
python3 -c 'import os, sys; sys.stdout.buffer.write(b"\x01" + os.urandom(4095))' >random.bin
ok 'gone random.bin "Document not recognised"' "random bytes: exit 65, unsupported_document"
b=$(grep -ao '/ByteRange \[0 [0-9]*' ctl.pdf | head -1 | awk '{print $3}')
head -c "$((b + 100))" ctl.pdf >cut-sig.pdf
ok 'gone cut-sig.pdf "Document not recognised"' "PDF cut inside the signature's /Contents: exit 65, unsupported_document"
head -c 1500 ctl.pdf >cut-head.pdf
ok 'gone cut-head.pdf "Invalid PDF document"' "PDF cut after 1500 bytes: exit 65, invalid_pdf"
head -c 3000 env.xml >cut.xml
ok 'gone cut.xml "Invalid XML document"' "XML cut short: exit 65, invalid_xml"
# The same codes over HTTP (RFC 9457 problem, CONTRACT.md).
for c in random.bin:unsupported_document cut-sig.pdf:unsupported_document cut-head.pdf:invalid_pdf cut.xml:invalid_xml; do
	http POST /api/v1/verify --data-binary @"${c%%:*}"
	ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = "${c#*:}" ]' "POST /api/v1/verify ${c%%:*}: 400 ${c#*:}"
done
e2e_done
