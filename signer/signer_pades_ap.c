/*
 * signer_pades_ap.c: the appearance of a visible signature (ISO 32000-1
 * §12.7.4.5, §12.5.5): a form XObject with the signer's name, capacity
 * and date, and a QR code (libqrencode) linking to this service's
 * /verifier page with the document's reference.
 *
 * The text uses the standard Helvetica font (§9.6.2.2) in
 * WinAnsiEncoding; characters outside it are shown as '?'.
 */
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "pades_int.h"

/* A literal string of @s (UTF-8) in WinAnsiEncoding (Latin-1 subset). */
static int
winansi(struct sc_buf *b, const char *s, size_t maxchars, struct sc_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (sc_buf_append(b, "(", 1, err) != 0)
		return -1;
	while (*p != '\0' && n < maxchars) {
		unsigned c = *p++;

		if (c >= 0x80) {
			/* Two-byte UTF-8 up to U+00FF maps to Latin-1. */
			if ((c == 0xc2 || c == 0xc3) && (*p & 0xc0) == 0x80) {
				c = ((c & 0x1f) << 6) | (*p++ & 0x3f);
			} else {
				while ((*p & 0xc0) == 0x80)
					p++;
				c = '?';
			}
		}
		if (c < 0x20)
			c = ' ';
		if (c == '(' || c == ')' || c == '\\') {
			if (sc_buf_printf(b, err, "\\%c", (char)c) != 0)
				return -1;
		} else if (c >= 0x80) {
			if (sc_buf_printf(b, err, "\\%03o", c) != 0)
				return -1;
		} else if (sc_buf_printf(b, err, "%c", (char)c) != 0) {
			return -1;
		}
		n++;
	}
	return sc_buf_append(b, ")", 1, err);
}

int
pades_appearance(struct pdf_upd *u, int num, const char *name,
    const char *capacity, const char *date, const char *qr_text, double w,
    double h, struct sc_err *err)
{
	QRcode *qr = NULL;
	struct sc_buf c;
	double qs = 0, m, tx, fs, ty;
	char extra[256];
	int rc = -1;

	sc_buf_init(&c, 4u << 20);
	if (sc_buf_printf(&c, err, "q 1 1 1 rg 0 0 %.2f %.2f re f 0 0 0 RG "
		"0.8 w 0.4 0.4 %.2f %.2f re S\n", w, h, w - 0.8, h - 0.8) != 0)
		goto out;
	qr = QRcode_encodeString(qr_text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL) {
		sc_err_set(err, SC_E_INTERNAL, "cannot make the QR code");
		goto out;
	}
	/* The code is a square of the box's height, beside the text. */
	qs = h - 8 < w / 2.5 ? h - 8 : w / 2.5;
	m = qs / qr->width;
	if (sc_buf_append_str(&c, "0 0 0 rg\n", err) != 0)
		goto out;
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width; x++)
			if ((qr->data[y * qr->width + x] & 1) != 0 &&
			    sc_buf_printf(&c, err, "%.3f %.3f %.3f %.3f re\n",
				4 + x * m, (h - qs) / 2 + (qr->width - 1 - y) * m,
				m, m) != 0)
				goto out;
	if (sc_buf_append_str(&c, "f\n", err) != 0)
		goto out;
	tx = qs + 10;
	fs = h / 6 < 10 ? h / 6 : 10;
	if (fs < 4)
		fs = 4;
	ty = h - 6 - fs;
	if (sc_buf_printf(&c, err, "BT /F1 %.2f Tf %.2f %.2f Td ", fs, tx, ty) != 0 ||
	    sc_buf_append_str(&c, "(Sign\\351 par / Signed by:) Tj ", err) != 0 ||
	    sc_buf_printf(&c, err, "0 %.2f Td ", -fs * 1.3) != 0 ||
	    winansi(&c, name, 60, err) != 0 ||
	    sc_buf_append_str(&c, " Tj ", err) != 0)
		goto out;
	if (capacity != NULL && capacity[0] != '\0' &&
	    (sc_buf_printf(&c, err, "0 %.2f Td ", -fs * 1.3) != 0 ||
		winansi(&c, capacity, 60, err) != 0 ||
		sc_buf_append_str(&c, " Tj ", err) != 0))
		goto out;
	if (sc_buf_printf(&c, err, "0 %.2f Td (Date: %s UTC) Tj ", -fs * 1.3,
		date) != 0 ||
	    sc_buf_printf(&c, err, "0 %.2f Td (V\\351rifier / verify: QR) Tj "
		"ET Q\n", -fs * 1.3) != 0)
		goto out;
	snprintf(extra, sizeof(extra), "/Type /XObject /Subtype /Form /BBox "
	    "[0 0 %.2f %.2f] /Resources << /Font << /F1 << /Type /Font "
	    "/Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding "
	    ">> >> >>", w, h);
	if (pdf_upd_stream(u, num, extra, c.p, c.len, err) != 0)
		goto out;
	rc = 0;
out:
	QRcode_free(qr);
	sc_buf_free(&c);
	return rc;
}
