/*
 * verify_doc.c: the entry point. Bounds the input, detects the format
 * (EN 319 102-1 §5.2.2 format checking starts here) and dispatches:
 * PDF -> verify_pdf.c, CMS / time-stamp token -> verify_cms.c,
 * XML -> verify_xml.c.
 */
#include <assert.h>
#include <string.h>

#include <openssl/err.h>

#include "verify_int.h"

enum doc_kind { DOC_UNKNOWN, DOC_PDF, DOC_XML, DOC_DER };

static enum doc_kind
detect(const uint8_t *p, size_t len)
{
	size_t i = 0, lim = len < 1024 ? len : 1024;

	/* X.690: a SEQUENCE, definite or indefinite length. First, since
	 * an attached CMS may well carry a PDF near its start. */
	if (len >= 2 && p[0] == 0x30)
		return DOC_DER;
	/* ISO 32000-1 §7.5.2: the header; readers accept it within the
	 * first 1024 bytes. */
	for (size_t j = 0; j + 5 <= lim; j++)
		if (memcmp(p + j, "%PDF-", 5) == 0)
			return DOC_PDF;
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < lim &&
	    (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < len && p[i] == '<')
		return DOC_XML;
	return DOC_UNKNOWN;
}

int
sc_ver_document(const uint8_t *doc, size_t len, const struct sc_ver_opts *o,
    struct sc_ver_report **out, struct sc_err *err)
{
	static const struct sc_ver_opts defaults = {0};
	struct ver_ctx c = {0};
	struct sc_ver_report *rep = NULL;
	size_t max;
	uint8_t h[32];
	int rc = -1;

	assert(out != NULL && *out == NULL);
	if (o == NULL)
		o = &defaults;
	max = o->max_document != 0 ? o->max_document
				   : SC_VER_MAX_DOCUMENT_DEFAULT;
	if (len > max)
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "document of %zu bytes exceeds the limit of %zu", len, max);
	if (doc == NULL || len == 0)
		return sc_err_set(err, SC_E_UNSUPPORTED_DOCUMENT,
		    "empty document");
	if (o->detached != NULL && o->detached_len > max)
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "detached data exceeds the limit of %zu bytes", max);
	ERR_clear_error();

	if ((rep = ver_report_new()) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	rep->lang = o->lang != NULL && strcmp(o->lang, "en") == 0 ? "en" : "fr";
	c.o = o;
	c.rep = rep;
	c.err = err;
	c.now =
	    o->validation_time != 0 ? o->validation_time : sc_time_now().sec;
	sc_time_fmt((struct sc_time){c.now, 0}, 0, rep->validation_time);
	if (ver_anchors_load(o->trust_pem, &c.anchors, err) != 0)
		goto out;
	sc_sha256(doc, len, h);
	sc_hex_encode(h, sizeof(h), rep->sha256);
	rep->size = len;

	switch (detect(doc, len)) {
	case DOC_PDF:
		rep->format = "PAdES";
		if (ver_pdf_document(&c, doc, len) != 0)
			goto out;
		break;
	case DOC_DER:
		if (ver_cms_document(&c, doc, len) != 0)
			goto out;
		break;
	case DOC_XML:
		rep->format = "XAdES";
		if (ver_xml_document(&c, doc, len) != 0)
			goto out;
		break;
	case DOC_UNKNOWN:
		sc_err_set(err, SC_E_UNSUPPORTED_DOCUMENT,
		    "not a PDF, XML or CMS signed document");
		goto out;
	}
	ver_report_finish(rep);
	*out = rep;
	rep = NULL; /* now the caller's */
	rc = 0;
out:
	ver_net_free(&c);
	X509_STORE_free(c.anchors);
	sc_ver_report_free(rep);
	ERR_clear_error();
	return rc;
}
