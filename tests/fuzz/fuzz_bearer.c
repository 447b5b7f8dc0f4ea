/* fuzz_bearer: the Authorization header parser. */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = malloc(size + 1);
	const char *t;
	size_t n = 0;

	if (h == NULL)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	t = api_bearer_parse(h, &n);
	if (t != NULL && (t < h || t + n > h + strlen(h)))
		abort();
	free(h);
	return 0;
}
