/* fuzz_config: the INI configuration parser. */
#include <stddef.h>
#include <stdint.h>

#include "sceau/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_config cfg;
	struct sc_err err;

	sc_err_clear(&err);
	sc_config_defaults(&cfg);
	(void)sc_config_parse(&cfg, (const char *)data, size, "fuzz", &err);
	return 0;
}
