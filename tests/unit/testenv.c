/*
 * testenv.c: see testenv.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testenv.h"

void
testenv_config(struct sc_config *cfg)
{
	const char *dir = getenv("SCEAU_TEST_ENV");
	const char *req = getenv("SCEAU_E2E_REQUIRED");
	char path[1024];
	struct sc_err err;

	if (dir == NULL || dir[0] == '\0') {
		fprintf(stderr, "SKIPPED: SCEAU_TEST_ENV is not set "
				"(run through scripts/test)\n");
		exit(req != NULL && strcmp(req, "1") == 0 ? 1 : 77);
	}
	snprintf(path, sizeof(path), "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(path, sizeof(path), "%s/sceau.conf", dir);
	sc_err_clear(&err);
	if (sc_config_load(cfg, path, &err) != 0) {
		fprintf(stderr, "testenv: %s\n", err.msg);
		exit(1);
	}
}
