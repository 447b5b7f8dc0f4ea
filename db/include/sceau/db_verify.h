/*
 * db_verify: what the validator's shells read from the database.
 */
#ifndef SCEAU_DB_VERIFY_H
#define SCEAU_DB_VERIFY_H

#include "sceau/db.h"

/**
 * sceau's own trust anchors: the active root CAs, as PEM text.
 * @param[out] pem malloc'd PEM (free with free()), or NULL when there is
 *             no root yet (then 0 is returned too).
 * @return 0, or -1 with err set.
 */
int sc_db_trust_roots_pem(struct sc_db *db, char **pem, struct sc_err *err);

#endif
