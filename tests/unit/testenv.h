/*
 * testenv: the environment that scripts/test prepares for the suites that
 * need PostgreSQL or SoftHSM2 (SCEAU_TEST_ENV, made by scripts/lib/env.sh).
 */
#ifndef SCEAU_TESTENV_H
#define SCEAU_TESTENV_H

#include "sceau/core.h"

/**
 * Loads $SCEAU_TEST_ENV/sceau.conf into @cfg and sets SOFTHSM2_CONF.
 * cfg->db_url then names a database created for this process alone in
 * the test cluster (dropped at exit), so suites may run in parallel.
 * When SCEAU_TEST_ENV is unset: exits 77 (skip), or 1 when
 * SCEAU_E2E_REQUIRED=1, after saying so on stderr.
 */
void testenv_config(struct sc_config *cfg);

#endif
