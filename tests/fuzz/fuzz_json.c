/* fuzz_json: request bodies as the API reads them (bounded JSON). */
#include <stdlib.h>

#include "api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_req r = {0};
	struct sc_err err;
	const char *s;
	json_t *j;

	sc_err_clear(&err);
	sc_buf_init(&r.body, 1024 * 1024);
	if (sc_buf_append(&r.body, data, size, &err) != 0)
		return 0;
	j = api_json_body(&r, &err);
	if (j != NULL) {
		(void)api_json_str(j, "alias", 1, 64, &s, &err);
		(void)api_json_str(j, "type", 0, 16, &s, &err);
		json_decref(j);
	}
	sc_buf_free(&r.body);
	return 0;
}
