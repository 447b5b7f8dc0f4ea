/*
 * db_sign.c: the signing area of the database (sceau/db_sign.h,
 * stmts/sign.def): which certificate a signing key signs with.
 */
#include <stdlib.h>
#include <string.h>

#include "sceau/db_sign.h"

#include "db_int.h"

/* Decodes a hex text column into a malloc'd buffer. */
static int
hex_col(const PGresult *r, int row, int col, struct sc_db_sign_der *out)
{
	const char *s;
	size_t n;

	out->p = NULL;
	out->len = 0;
	if (PQgetisnull(r, row, col))
		return -1;
	s = PQgetvalue(r, row, col);
	n = strlen(s);
	if (n == 0 || n % 2 != 0 || (out->p = malloc(n / 2)) == NULL)
		return -1;
	if (sc_hex_decode(s, out->p, n / 2) != 0) {
		free(out->p);
		out->p = NULL;
		return -1;
	}
	out->len = n / 2;
	return 0;
}

void
sc_db_sign_cert_free(struct sc_db_sign_cert *s)
{
	if (s == NULL)
		return;
	free(s->cert.p);
	for (size_t i = 0; i < s->nchain; i++)
		free(s->chain[i].p);
	memset(s, 0, sizeof(*s));
}

enum sc_db_qs
sc_db_sign_cert_get(struct sc_db_conn *c, const char *key_alias,
    struct sc_db_sign_cert *out, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	enum sc_db_qs qs = SC_DB_HARD;
	int n;

	memset(out, 0, sizeof(*out));
	db_params_text(&p, key_alias);
	if (db_exec(c, ST_SIGN_CERT, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1) {
		qs = SC_DB_NONE;
		goto out;
	}
	if (db_get_text(r, 0, 0, out->serial, sizeof(out->serial)) != 0 ||
	    db_get_text(r, 0, 1, out->ca_name, sizeof(out->ca_name)) != 0 ||
	    hex_col(r, 0, 2, &out->cert) != 0) {
		sc_err_set(err, SC_E_DB, "certificate row does not fit");
		goto out;
	}
	PQclear(r);
	r = NULL;
	memset(&p, 0, sizeof(p));
	db_params_text(&p, out->ca_name);
	if (db_exec(c, ST_SIGN_CHAIN, &p, &r, err) != SC_DB_ONE)
		goto out;
	n = PQntuples(r);
	if (n < 1 || n > SC_DB_SIGN_CHAIN_MAX) {
		sc_err_set(err, SC_E_DB, "the CA chain of %s has %d links",
		    out->ca_name, n);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (hex_col(r, i, 0, &out->chain[i]) != 0) {
			sc_err_set(err, SC_E_DB, "ca row does not fit");
			goto out;
		}
		out->nchain++;
	}
	qs = SC_DB_ONE;
out:
	if (qs != SC_DB_ONE)
		sc_db_sign_cert_free(out);
	PQclear(r);
	return qs;
}
