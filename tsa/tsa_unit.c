/*
 * tsa_unit.c: the TSA unit that `sceau init` recorded in the database
 * (service_certs of kind 'tsa', its CA chain in table ca).
 */
#include <string.h>

#include "tsa_int.h"

struct sc_tsa *
sc_tsa_open_db(const struct sc_config *cfg, struct sc_db *db,
    struct sc_hsm *hsm, struct sc_err *err)
{
	struct sc_tsa_der chain[SC_DB_TSA_CHAIN_MAX];
	struct sc_db_tsa_unit u;
	struct sc_tsa_opts o;
	struct sc_tsa *tsa = NULL;
	enum sc_db_qs qs;

	qs = sc_db_tsa_unit_load(db, &u, err);
	if (qs == SC_DB_NONE) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no TSA unit: no active service certificate of kind tsa "
		    "(run sceau init)");
		return NULL;
	}
	if (qs != SC_DB_ONE)
		return NULL;
	for (size_t i = 0; i < u.nchain; i++) {
		chain[i].p = u.chain[i];
		chain[i].len = u.chain_len[i];
	}
	sc_tsa_opts_from_config(cfg, &o);
	tsa = sc_tsa_new(hsm, u.key_alias, u.cert, u.cert_len, chain, u.nchain,
	    &o, err);
	sc_db_tsa_unit_free(&u);
	return tsa;
}
