/*
 * fuzz_pdf: libFuzzer harness for the PAdES signer's PDF reading code
 * (signer/signer_pdf.c, signer_pades.c): the startxref scan, qpdf with
 * recovery off, the catalog, AcroForm and field walk, existing
 * signatures (their CMS through sc_cms_certs), DocMDP and /DSS, and the
 * incremental-update writer. It runs sc_pades_extend() to B-T: no HSM
 * is needed, and the "TSA" answers a fixed token so that the update is
 * written in full. An input that starts with '%' is taken whole (the
 * seeds are real PDFs); otherwise the first byte chooses whether the rest
 * is put behind a "%PDF-1.7" header.
 * Seeds: tests/pades/seeds/ and the PDFs of tests/pades/make_pdfs.sh.
 * Link: sceau_signer (which brings sceau_core, sceau_hsm, sceau_db,
 * sceau_tsa, qpdf, OpenSSL, libqrencode, jansson).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/pades.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fake_tsa(void *arg, const uint8_t digest[32], uint8_t **token,
    size_t *toklen, struct sc_err *err)
{
	(void)arg;
	*token = malloc(32);
	if (*token == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(*token, digest, 32);
	*toklen = 32;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hdr[] = "%PDF-1.7\n";
	struct sc_cms_tsa tsa = {fake_tsa, NULL};
	struct sc_pades_opts o;
	struct sc_buf tail;
	struct sc_err err;
	uint8_t *doc;
	size_t len;

	if (size < 1 || size > 4 * 1024 * 1024)
		return 0;
	len = data[0] == '%' ? size
			     : size - 1 + ((data[0] & 1) ? sizeof(hdr) - 1 : 0);
	if ((doc = malloc(len + 1)) == NULL)
		return 0;
	if (data[0] == '%') {
		memcpy(doc, data, size);
	} else if (data[0] & 1) {
		memcpy(doc, hdr, sizeof(hdr) - 1);
		memcpy(doc + sizeof(hdr) - 1, data + 1, size - 1);
	} else {
		memcpy(doc, data + 1, size - 1);
	}
	memset(&o, 0, sizeof(o));
	o.level = SC_PADES_B_T;
	o.tsa = &tsa;
	o.tst_reserve = 64;
	sc_buf_init(&tail, (size_t)64 << 20);
	sc_err_clear(&err);
	(void)sc_pades_extend(&(struct sc_pades_doc){doc, -1, len}, &o, &tail,
	    NULL, &err);
	sc_buf_free(&tail);
	free(doc);
	return 0;
}
