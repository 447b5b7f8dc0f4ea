/*
 * fuzz_verify: libFuzzer harness for the validator's entry point. The
 * first byte picks the path so that the corpus reaches every parser:
 * PDF (qpdf + ByteRange checks), CMS/CAdES and RFC 3161 tokens, XML.
 * The rest of the input is the document. Seed it with real documents
 * prefixed by a 0x00 byte (e.g. corpus/dss files). Bit 2 of the first
 * byte also passes the input as detached data.
 * Build with -DSCEAU_FUZZ=ON; link: sceau_verify (which brings
 * sceau_core, OpenSSL::Crypto, PkgConfig::JANSSON, PkgConfig::QPDF,
 * PkgConfig::XMLSEC and Threads::Threads).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *magic[] = {"", "%PDF-1.7\n", "\x30\x80", "<"};
	struct sc_ver_opts o = {0};
	struct sc_ver_report *r = NULL;
	struct sc_err err;
	const char *m;
	uint8_t *doc;
	size_t ml;

	if (size < 1 || size > 4 * 1024 * 1024)
		return 0;
	m = magic[data[0] % 4];
	ml = strlen(m);
	if ((doc = malloc(ml + size - 1 + 1)) == NULL)
		return 0;
	memcpy(doc, m, ml);
	memcpy(doc + ml, data + 1, size - 1);
	o.offline = 1;
	/* Half the runs also give detached data: the input itself. */
	if (data[0] & 4) {
		o.detached = data;
		o.detached_len = size;
	}
	sc_err_clear(&err);
	if (sc_ver_document(doc, ml + size - 1, &o, &r, &err) == 0) {
		char *j = sc_ver_report_json(r);

		free(j);
		(void)sc_ver_report_exit(r);
		sc_ver_report_free(r);
	}
	free(doc);
	return 0;
}
