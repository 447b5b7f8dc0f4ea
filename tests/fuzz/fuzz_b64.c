/* fuzz_b64: base64/base64url decoding (OCSP GET paths, tokens). */
#include <stdlib.h>
#include <string.h>

#include "sceau/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_err err;
	uint8_t *out = NULL;
	size_t outlen = 0;

	sc_err_clear(&err);
	if (sc_b64_decode((const char *)data, size, &out, &outlen, &err) == 0) {
		/* Round trip: what decodes re-encodes to a decodable text. */
		char *again = sc_b64_encode(out, outlen, 0);
		uint8_t *back = NULL;
		size_t backlen = 0;

		if (again == NULL ||
		    sc_b64_decode(again, strlen(again), &back, &backlen,
			&err) != 0 ||
		    backlen != outlen || memcmp(back, out, outlen) != 0)
			abort();
		free(back);
		free(again);
	}
	free(out);
	return 0;
}
