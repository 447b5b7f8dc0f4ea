/*
 * testenv.c: see testenv.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "testenv.h"

static char test_db[64];
static char test_host[512];
static pid_t test_owner; /* Check forks per test: only the parent drops */

/* Drops the suite's own database when the suite ends. */
static void
drop_db(void)
{
	char cmd[1400];

	if (test_db[0] == '\0' || getpid() != test_owner)
		return;
	snprintf(cmd, sizeof(cmd),
	    "/usr/lib/postgresql/15/bin/dropdb -h '%s' -U postgres "
	    "--if-exists --force '%s' >/dev/null 2>&1",
	    test_host, test_db);
	if (system(cmd) != 0)
		fprintf(stderr, "testenv: could not drop %s\n", test_db);
}

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
	/*
	 * Each suite gets a database of its own in the shared cluster, so
	 * that suites run in parallel without touching each other's tables.
	 */
	if (test_db[0] == '\0') {
		char cmd[1400];

		snprintf(test_host, sizeof(test_host), "%s/pgsock", dir);
		snprintf(test_db, sizeof(test_db), "u_%ld_%ld", (long)getpid(),
		    (long)sc_time_now().usec);
		snprintf(cmd, sizeof(cmd),
		    "/usr/lib/postgresql/15/bin/createdb -h '%s' -U postgres "
		    "'%s'",
		    test_host, test_db);
		if (system(cmd) != 0) {
			fprintf(stderr, "testenv: cannot create %s\n", test_db);
			exit(1);
		}
		test_owner = getpid();
		atexit(drop_db);
	}
	snprintf(cfg->db_url, sizeof(cfg->db_url),
	    "host=%s port=5432 dbname=%s user=postgres", test_host, test_db);
}
