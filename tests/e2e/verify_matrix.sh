#!/usr/bin/env bash
# Integration: what sceau signs, sceau validates. A qualified-person
# certificate for an HSM key (two RA approvals over REST), then PAdES and
# XAdES at every level and packaging, each validated ONLINE (`sceau verify`
# without --offline asks sceaud's OCSP responder over HTTP) and by POST
# /api/v1/verify: TOTAL-PASSED, qualified. After the certificate is
# revoked: B-T and later stay TOTAL-PASSED (their time-stamp proves the
# signature came first, EN 319 102-1 §5.6.2.1), B-B becomes INDETERMINATE
# REVOKED_NO_POE; offline, B-B is INDETERMINATE TRY_LATER.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
SC="$E2E_BIN/sceau"
"$SC" verify --help >/dev/null 2>&1 || e2e_skip "sceau verify is not built"
"$SC" sign pades --help >/dev/null 2>&1 || e2e_skip "sceau sign is not built"
e2e_setup vmatrix
cd "$T" || exit 1
# A fixed port, so that the certificates' OCSP and CRL URLs reach sceaud.
e2e_demo_server
"$SC" ca cert root >root.pem

OFF1=$(e2e_token ra_officer "off1-$RANDOM")
OFF2=$(e2e_token ra_officer "off2-$RANDOM")
Q="qual-$RANDOM$RANDOM"
http POST /api/v1/keys -H "Authorization: Bearer $OFF1" -d "{\"alias\":\"$Q\",\"type\":\"ec-p256\"}"
ok '[ "$STATUS" = 201 ]' "signing key generated in the HSM"
printf '{"profile":"qualified-person","key_alias":"%s","evidence":"CNI ML-0042","subject":{"givenName":"Fatoumata","surname":"Coulibaly","commonName":"Fatoumata Coulibaly","nina":"12345678901234K","title":"Secrétaire générale"}}' "$Q" >req.json
http POST /api/v1/requests -H "Authorization: Bearer $OFF1" -H 'Content-Type: application/json' --data-binary @req.json
RID=$(jfield id)
http POST "/api/v1/requests/$RID/approve" -H "Authorization: Bearer $OFF2"
http POST "/api/v1/requests/$RID/approve" -H "Authorization: Bearer $(e2e_token ca_admin "adm-$RANDOM")"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ]' "qualified-person certificate issued after two approvals"
SERIAL=$(jfield serial)

echo '<?xml version="1.0" encoding="UTF-8"?><decision xmlns="urn:ml:gouv"><numero>2026-117</numero><objet>Nomination</objet></decision>' >doc.xml
printf 'Diplôme de licence, session 2026\n' >data.bin
python3 - <<'EOF'
# A small one-page PDF (ISO 32000-1 §7.5), written here so that the
# signer meets a file it did not make.
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
content = b"BT /F1 18 Tf 72 760 Td (Decision 2026-117: nomination) Tj ET"
objs[3] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open("doc.pdf", "wb").write(out)
EOF

for lv in B-B B-T B-LT B-LTA; do
	"$SC" sign pades doc.pdf "p-$lv.pdf" --key "$Q" --level "$lv" >/dev/null 2>"p-$lv.err"
	rc=$?
	ok '[ $rc = 0 ]' "PAdES $lv signed"
	"$SC" sign xades doc.xml "x-$lv.xml" --key "$Q" --level "$lv" >/dev/null 2>"x-$lv.err"
	rc=$?
	ok '[ $rc = 0 ]' "XAdES enveloped $lv signed"
done
"$SC" sign xades doc.xml x-enveloping.xml --key "$Q" --packaging enveloping --level B-T >/dev/null
rc=$?
ok '[ $rc = 0 ]' "XAdES enveloping B-T signed"
"$SC" sign xades data.bin x-detached.xml --key "$Q" --packaging detached --level B-LT >/dev/null
rc=$?
ok '[ $rc = 0 ]' "XAdES detached B-LT signed"

# v FILE [ARGS...]: sceau verify FILE as JSON into FILE.json; sets VRC.
v() {
	local f=$1
	shift
	"$SC" verify "$f" --trust root.pem --format json "$@" >"$f.json" 2>"$f.verr"
	VRC=$?
}
# passed FILE LEVEL: TOTAL-PASSED, that level, qualified under the law.
passed() {
	[ "$VRC" = 0 ] && [ "$(jget "$1.json" indication)" = TOTAL-PASSED ] &&
		[ "$(jget "$1.json" signatures.0.level)" = "$2" ] &&
		[ "$(jget "$1.json" signatures.0.crypto_intact)" = true ] &&
		[ "$(jget "$1.json" signatures.0.signer.qscd)" = true ] &&
		[ "$(jget "$1.json" signatures.0.law_2016_012.qualified)" = true ]
}

for lv in B-B B-T B-LT B-LTA; do
	v "p-$lv.pdf"
	ok 'passed "p-$lv.pdf" "$lv"' "PAdES $lv online: TOTAL-PASSED, $lv, qualified"
	v "x-$lv.xml"
	ok 'passed "x-$lv.xml" "$lv"' "XAdES $lv online: TOTAL-PASSED, $lv, qualified"
done
# ts_all_valid FILE.json TYPES: every time-stamp valid (token and imprint),
# and the types seen are exactly TYPES (sorted, comma-separated).
ts_all_valid() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
ts=[t for s in d["signatures"] for t in s["timestamps"]]+d.get("document_timestamps",[])
assert all(t["valid"] and t["imprint"]=="match" for t in ts), ts
assert ",".join(sorted({t["type"] for t in ts}))==sys.argv[2], ts' "$1" "$2"
}
ok 'ts_all_valid p-B-LTA.pdf.json document,signature' "PAdES B-LTA: signature and document time-stamps valid, imprints match"
ok 'ts_all_valid x-B-LTA.xml.json archive,signature' "XAdES B-LTA: signature and archive time-stamps valid (EN 319 132-1 §5.5.2.2 imprint)"
ok '[ "$(jget p-B-B.pdf.json signatures.0.revocation.source)" = online ] && [ "$(jget p-B-B.pdf.json signatures.0.revocation.status)" = good ]' \
	"B-B: the status came from sceaud's OCSP responder (online, good)"
ok '[ "$(jget p-B-LT.pdf.json signatures.0.revocation.source)" = embedded ]' \
	"B-LT: the status came from the document's own /DSS"
v x-enveloping.xml
ok 'passed x-enveloping.xml B-T' "XAdES enveloping B-T: TOTAL-PASSED, qualified"
v x-detached.xml --data data.bin
ok 'passed x-detached.xml B-LT' "XAdES detached B-LT (with --data): TOTAL-PASSED, qualified"
v p-B-B.pdf --offline
ok '[ $VRC = 2 ] && [ "$(jget p-B-B.pdf.json signatures.0.subindication)" = TRY_LATER ]' \
	"B-B --offline: INDETERMINATE TRY_LATER (no revocation data)"
v p-B-LTA.pdf --offline
ok 'passed p-B-LTA.pdf B-LTA' "B-LTA --offline: TOTAL-PASSED from embedded data"
"$SC" verify p-B-B.pdf --trust root.pem >text.txt 2>&1
ok 'grep -q "Fatoumata Coulibaly" text.txt && grep -qi "qualifiée" text.txt' "citizen's text: the signer and the qualified grading (French)"

# The server validates the same file with its own responder, in-process.
http POST /api/v1/verify -H 'Content-Type: application/pdf' --data-binary @p-B-B.pdf
ok '[ "$STATUS" = 200 ] && [ "$(jfield indication)" = TOTAL-PASSED ] && [ "$(jfield signatures.0.revocation.status)" = good ]' \
	"POST /api/v1/verify on B-B: TOTAL-PASSED (status from sceau's own OCSP)"

# Revocation, strictly after every time-stamp above (1 s resolution).
sleep 1.2
http POST "/api/v1/certificates/$SERIAL/revoke" -H "Authorization: Bearer $(e2e_token ca_admin "adm2-$RANDOM")" \
	-H 'Content-Type: application/json' -d '{"reason":"keyCompromise"}'
ok '[ "$STATUS" = 200 ]' "the signer's certificate revoked"

v p-B-B.pdf
ok '[ $VRC = 2 ] && [ "$(jget p-B-B.pdf.json indication)" = INDETERMINATE ] && [ "$(jget p-B-B.pdf.json signatures.0.subindication)" = REVOKED_NO_POE ] && [ "$(jget p-B-B.pdf.json signatures.0.revocation.status)" = revoked ]' \
	"PAdES B-B after revocation: INDETERMINATE REVOKED_NO_POE"
ok '[ -n "$(jget p-B-B.pdf.json signatures.0.revocation.revoked_at)" ] && python3 -c "import sys; sys.exit(int(sys.argv[1], 16) != int(sys.argv[2], 16))" "$(jget x-B-B.xml.json signatures.0.signer.serial)" "$SERIAL" && [ "$(jget p-B-B.pdf.json signatures.0.law_2016_012.qualified)" = false ]' \
	"... with the revocation time and the serial, and no longer qualified"
v x-B-B.xml
ok '[ $VRC = 2 ] && [ "$(jget x-B-B.xml.json signatures.0.subindication)" = REVOKED_NO_POE ]' \
	"XAdES B-B after revocation: INDETERMINATE REVOKED_NO_POE"
v p-B-T.pdf
ok 'passed p-B-T.pdf B-T && [ "$(jget p-B-T.pdf.json signatures.0.revocation.status)" = revoked ]' \
	"PAdES B-T after revocation: TOTAL-PASSED (revoked after the time-stamp)"
v x-B-T.xml
ok 'passed x-B-T.xml B-T' "XAdES B-T after revocation: TOTAL-PASSED"
"$SC" verify p-B-T.pdf --trust root.pem >text-rev.txt 2>&1
rc=$?
ok '[ $rc = 0 ] && grep -q "révoqué le" text-rev.txt && grep -q "la signature reste valide" text-rev.txt' \
	"citizen's text after revocation (B-T): valid, and says the certificate was revoked later"
"$SC" verify p-B-T.pdf --trust root.pem --lang en >text-rev-en.txt 2>&1
ok 'grep -q "revoked on" text-rev-en.txt' "... and in English"
for lv in B-LT B-LTA; do
	v "p-$lv.pdf"
	ok 'passed "p-$lv.pdf" "$lv"' "PAdES $lv after revocation: TOTAL-PASSED"
	v "x-$lv.xml"
	ok 'passed "x-$lv.xml" "$lv"' "XAdES $lv after revocation: TOTAL-PASSED"
done
http POST /api/v1/verify -H 'Content-Type: application/pdf' --data-binary @p-B-B.pdf
ok '[ "$STATUS" = 200 ] && [ "$(jfield indication)" = INDETERMINATE ] && [ "$(jfield signatures.0.subindication)" = REVOKED_NO_POE ]' \
	"POST /api/v1/verify on B-B after revocation: INDETERMINATE REVOKED_NO_POE"
http POST /api/v1/verify -H 'Content-Type: application/pdf' --data-binary @p-B-T.pdf
ok '[ "$STATUS" = 200 ] && [ "$(jfield indication)" = TOTAL-PASSED ]' \
	"POST /api/v1/verify on B-T after revocation: TOTAL-PASSED"
e2e_done
