/*
 * sceau db, signing area: the certificate issued for a signing key
 * (table certificates, 002_ca.sql) and its CA chain (table ca), for the
 * document signers. Functions run inside the caller's transaction.
 */
#ifndef SCEAU_DB_SIGN_H
#define SCEAU_DB_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/db.h"

#define SC_DB_SIGN_CHAIN_MAX 8

struct sc_db_sign_der {
	uint8_t *p; /* malloc'd */
	size_t len;
};

struct sc_db_sign_cert {
	char serial[41];
	char ca_name[48];
	struct sc_db_sign_der cert;			 /* the signer's */
	struct sc_db_sign_der chain[SC_DB_SIGN_CHAIN_MAX]; /* issuer first */
	size_t nchain;
};

/**
 * The newest certificate issued for @key_alias that is valid now and not
 * revoked, with the chain of its CA up to the root.
 * @return SC_DB_ONE (free @out with sc_db_sign_cert_free), SC_DB_NONE,
 *         or SC_DB_HARD with err.
 */
enum sc_db_qs sc_db_sign_cert_get(struct sc_db_conn *c, const char *key_alias,
    struct sc_db_sign_cert *out, struct sc_err *err);

/** Frees the DER buffers; the struct itself is the caller's. */
void sc_db_sign_cert_free(struct sc_db_sign_cert *s);

#endif
