/*
 * op_int.h: what the signing operations (signer_pades_op.c,
 * signer_xades_op.c) share: the certificate bound to a key, the audit
 * event written before a signed document is released (Law 2016-012 Art.
 * 120), and the TSA with the hierarchy that trusts it (signer_op.c).
 */
#ifndef SCEAU_SIGNER_OP_INT_H
#define SCEAU_SIGNER_OP_INT_H

#include <openssl/x509.h>

#include "sceau/db.h"
#include "sceau/db_ca.h"
#include "sceau/db_sign.h"
#include "sceau/hsm.h"
#include "sceau/tsa.h"

#define OP_CA_MAX (SC_DB_SIGN_CHAIN_MAX * 2)

/* sc_db_run_txn() callback: the certificate issued for @alias. */
struct lookup {
	const char *alias;
	struct sc_db_sign_cert *out;
	enum sc_db_qs qs;
};
int signer_lookup_txn(struct sc_db_conn *c, void *arg, struct sc_err *err);

/* sc_db_run_txn() callback: one audit event. */
struct audit {
	const struct sc_actor *who;
	const char *action;
	const char *object;
	const char *details;
};
int signer_audit_txn(struct sc_db_conn *c, void *arg, struct sc_err *err);

/** A DER certificate from the database; SC_E_DB if it does not decode. */
X509 *signer_der_x509(const uint8_t *p, size_t len, struct sc_err *err);

/*
 * The TSA a B-T signature uses — sceau's own unit, or the outside one of
 * [signer] tsa_url — with the hierarchy's roots as anchors and its other
 * CAs as intermediates; x[] holds every CA certificate (for B-LT).
 */
struct signer_ltsa {
	struct sc_tsa *unit;
	struct sc_db_ca_row rows[OP_CA_MAX];
	size_t nrows;
	struct sc_tsa_der trust[OP_CA_MAX], inter[OP_CA_MAX];
	X509 *x[OP_CA_MAX];
	size_t nx;
	struct sc_tsa_client client;
};
/** Fills @lt (zeroed by the caller). @return 0 or -1. */
int signer_ltsa_load(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, struct signer_ltsa *lt, struct sc_err *err);
/** Frees what signer_ltsa_load() holds; zeroes @lt. */
void signer_ltsa_free(struct signer_ltsa *lt);

#endif
