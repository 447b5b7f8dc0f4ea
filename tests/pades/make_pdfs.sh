#!/usr/bin/env bash
# make_pdfs.sh DIR: test PDFs from producers sceau did not write, made at
# test time (no binary PDF in the repository):
#   gs.pdf        Ghostscript pdfwrite, classic xref table
#   classic.pdf   qpdf rewrite, classic xref table, two pages
#   objstm.pdf    qpdf, xref stream + object streams
#   linear.pdf    qpdf --linearize
#   hybrid.pdf    a hybrid-reference file (table + /XRefStm), make_hybrid.py
#   form.pdf      pdf-lib (npm), an AcroForm with a text field and a check box
#   signed.pdf    pdfsig -add-signature (poppler + NSS): already signed by
#                 another tool (adbe.pkcs7.detached); its key is a throw-away
#                 NSS key of that tool in DIR/nss-other
# Prints the names made, one a line. Exit 0 when at least the qpdf and gs
# files exist; a missing optional producer (npm offline) is skipped.
set -uo pipefail
D=${1:?usage: make_pdfs.sh DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$D"
gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -o "$D/gs.pdf" \
	-c "/Helvetica findfont 20 scalefont setfont 72 720 moveto (Decision n. 2026-001 - sceau) show" \
	-c "72 690 moveto (Ghostscript pdfwrite) show showpage" \
	-c "72 720 moveto (Page 2) show showpage" >/dev/null 2>&1 || exit 1
echo gs.pdf
qpdf --object-streams=disable "$D/gs.pdf" "$D/classic.pdf" || exit 1
echo classic.pdf
qpdf --object-streams=generate "$D/gs.pdf" "$D/objstm.pdf" || exit 1
echo objstm.pdf
qpdf --linearize "$D/gs.pdf" "$D/linear.pdf" || exit 1
echo linear.pdf
python3 "$HERE/make_hybrid.py" "$D/hybrid.pdf" && qpdf --check "$D/hybrid.pdf" >/dev/null || exit 1
echo hybrid.pdf
if [ ! -d "$HERE/node_modules/pdf-lib" ]; then
	(cd "$HERE" && timeout 120 npm install --no-audit --no-fund --silent >/dev/null 2>&1)
fi
if [ -d "$HERE/node_modules/pdf-lib" ] &&
	NODE_PATH="$HERE/node_modules" node "$HERE/make_form.js" "$D/form.pdf" objstm 2>/dev/null; then
	echo form.pdf
fi
if command -v certutil >/dev/null && command -v pdfsig >/dev/null; then
	N="$D/nss-other"
	mkdir -p "$N"
	openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -nodes -keyout "$N/key.pem" \
		-out "$N/cert.pem" -subj "/C=XX/O=Other Tool/CN=Other Tool Signer" \
		-addext "keyUsage=critical,digitalSignature,nonRepudiation" >/dev/null 2>&1 &&
		openssl pkcs12 -export -inkey "$N/key.pem" -in "$N/cert.pem" -name other \
			-passout pass:test -out "$N/other.p12" 2>/dev/null &&
		certutil -N -d "sql:$N" --empty-password 2>/dev/null &&
		pk12util -i "$N/other.p12" -d "sql:$N" -W test >/dev/null 2>&1 &&
		pdfsig -nssdir "sql:$N" -add-signature -nick other \
			-new-signature-field-name OtherTool -reason "other tool" \
			"$D/gs.pdf" "$D/signed.pdf" >/dev/null 2>&1 &&
		rm -f "$N/key.pem" && echo signed.pdf
fi
exit 0
