/*
 * fuzz_xml: libFuzzer harness for the XAdES signer's XML reading code
 * (signer/signer_xml.c and the signature reading of signer_xades.c):
 * the hardened parser (no DOCTYPE, no entities, Id uniqueness), the
 * search for signatures, QualifyingProperties and SigningCertificateV2,
 * and, when the first byte is odd, sc_xades_extend() at B-B, which also
 * runs the core verification (xmlsec with allow-lists, our c14n, OpenSSL)
 * on whatever signature it finds. No HSM, database or network.
 * Build with -DSCEAU_FUZZ=ON; link: sceau_signer (which brings
 * sceau_core, sceau_hsm, sceau_db, sceau_tsa, sceau_verify, OpenSSL,
 * xmlsec1-openssl, libxml2, qpdf, qrencode, jansson). Seeds:
 * tests/fuzz/seeds/xml (signed documents prefixed by one byte).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sceau/xades.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_xades_opts o = {0};
	struct sc_err err;
	uint8_t *out = NULL;
	size_t outlen = 0;

	if (size < 1 || size > 1024 * 1024)
		return 0;
	sc_err_clear(&err);
	(void)sc_xades_inspect(data + 1, size - 1, 1024 * 1024, &err);
	if (data[0] & 1) {
		o.level = SC_XADES_B_B;
		o.max_input = 1024 * 1024;
		sc_err_clear(&err);
		if (sc_xades_extend(data + 1, size - 1, NULL, &o, &out, &outlen,
			NULL, &err) == 0)
			free(out);
	}
	return 0;
}
