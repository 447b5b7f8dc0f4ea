/*
 * db_tsa.c: the time-stamping authority's tables (db/include/sceau/
 * db_tsa.h): the TSA unit's certificate and chain, and the record of
 * issued tokens, written in batches (one statement, one commit each).
 */
#include <stdlib.h>
#include <string.h>

#include "sceau/db_tsa.h"

#include "db_int.h"

/* Elements of a batch: [0-9A-Za-z.:+-] only, so that they need no quoting
 * in a PostgreSQL array literal (and cannot break out of one). */
static int
elem_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			(ch >= 'A' && ch <= 'Z') || ch == '.' || ch == ':' ||
			ch == '+' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Appends @s to the array literal @b ("{" first, "," after). */
static int
elem_add(struct sc_buf *b, const char *s, struct sc_err *err)
{
	if (!elem_ok(s))
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "token record: unexpected characters");
	if (sc_buf_append_str(b, b->len == 0 ? "{" : ",", err) != 0)
		return -1;
	return sc_buf_append_str(b, s, err);
}

struct insert_arg {
	struct sc_buf col[6];
};

static int
insert_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct insert_arg *a = arg;
	struct db_params p = {0};

	for (int i = 0; i < 6; i++)
		db_params_text(&p, (const char *)a->col[i].p);
	return db_exec(c, ST_TSA_INSERT, &p, NULL, err) == SC_DB_ONE ? 0 : -1;
}

int
sc_db_tsa_tokens_insert(struct sc_db *db,
    const struct sc_db_tsa_token *const *rows, size_t n, struct sc_err *err)
{
	struct insert_arg a;
	char hex[2 * sizeof(rows[0]->imprint) + 1];
	int rc = -1;

	for (int i = 0; i < 6; i++)
		sc_buf_init(&a.col[i], 64 + n * 160);
	if (n == 0)
		return 0;
	for (size_t k = 0; k < n; k++) {
		const struct sc_db_tsa_token *t = rows[k];

		if (t->imprint_len == 0 ||
		    t->imprint_len > sizeof(t->imprint)) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "token record: bad imprint length");
			goto out;
		}
		sc_hex_encode(t->imprint, t->imprint_len, hex);
		if (elem_add(&a.col[0], t->serial, err) != 0 ||
		    elem_add(&a.col[1], t->gen_time, err) != 0 ||
		    elem_add(&a.col[2], t->hash_alg, err) != 0 ||
		    elem_add(&a.col[3], hex, err) != 0 ||
		    elem_add(&a.col[4], t->policy, err) != 0 ||
		    elem_add(&a.col[5], t->tsa_serial, err) != 0)
			goto out;
	}
	for (int i = 0; i < 6; i++)
		if (sc_buf_append_str(&a.col[i], "}", err) != 0)
			goto out;
	/* Autocommit: the statement is its own transaction, one commit. */
	rc = db_run_plain(db, insert_fn, &a, err);
out:
	for (int i = 0; i < 6; i++)
		sc_buf_free(&a.col[i]);
	return rc;
}

struct get_arg {
	const char *serial;
	struct sc_db_tsa_token *out;
	enum sc_db_qs qs;
};

static int
get_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct get_arg *a = arg;
	struct db_params p = {0};
	struct sc_db_tsa_token *t = a->out;
	PGresult *r = NULL;
	char hex[2 * sizeof(t->imprint) + 1];
	size_t hl;
	int rc = -1;

	a->qs = SC_DB_HARD;
	db_params_text(&p, a->serial);
	if (db_exec(c, ST_TSA_GET, &p, &r, err) != SC_DB_ONE)
		goto out;
	rc = 0;
	a->qs = SC_DB_NONE;
	if (PQntuples(r) != 1)
		goto out;
	memset(t, 0, sizeof(*t));
	snprintf(t->serial, sizeof(t->serial), "%s", a->serial);
	if (db_get_text(r, 0, 0, t->gen_time, sizeof(t->gen_time)) != 0 ||
	    db_get_text(r, 0, 1, t->hash_alg, sizeof(t->hash_alg)) != 0 ||
	    db_get_text(r, 0, 2, hex, sizeof(hex)) != 0 ||
	    db_get_text(r, 0, 3, t->policy, sizeof(t->policy)) != 0 ||
	    db_get_text(r, 0, 4, t->tsa_serial, sizeof(t->tsa_serial)) != 0 ||
	    (hl = strlen(hex)) % 2 != 0 || hl == 0 ||
	    sc_hex_decode(hex, t->imprint, hl / 2) != 0) {
		rc = sc_err_set(err, SC_E_DB, "token row does not fit");
		a->qs = SC_DB_HARD;
		goto out;
	}
	t->imprint_len = hl / 2;
	a->qs = SC_DB_ONE;
out:
	PQclear(r);
	return rc;
}

enum sc_db_qs
sc_db_tsa_token_get(struct sc_db *db, const char *serial,
    struct sc_db_tsa_token *out, struct sc_err *err)
{
	struct get_arg a = {serial, out, SC_DB_HARD};

	if (db_run_plain(db, get_fn, &a, err) != 0)
		return SC_DB_HARD;
	return a.qs;
}

/* Decodes the hex text of column @col into a malloc'd buffer. */
static int
get_der(const PGresult *r, int row, int col, uint8_t **out, size_t *len,
    struct sc_err *err)
{
	const char *hex;
	size_t hl;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col))
		return sc_err_set(err, SC_E_DB, "certificate missing");
	hex = PQgetvalue(r, row, col);
	hl = strlen(hex);
	if (hl == 0 || hl % 2 != 0)
		return sc_err_set(err, SC_E_DB, "certificate malformed");
	if ((*out = malloc(hl / 2)) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	if (sc_hex_decode(hex, *out, hl / 2) != 0) {
		free(*out);
		*out = NULL;
		return sc_err_set(err, SC_E_DB, "certificate malformed");
	}
	*len = hl / 2;
	return 0;
}

struct unit_arg {
	struct sc_db_tsa_unit *u;
	enum sc_db_qs qs;
};

static int
unit_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct unit_arg *a = arg;
	struct sc_db_tsa_unit *u = a->u;
	struct db_params p = {0};
	PGresult *r = NULL;
	int rc = -1, n;

	sc_db_tsa_unit_free(u); /* a retried transaction starts afresh */
	a->qs = SC_DB_HARD;
	if (db_exec(c, ST_TSA_UNIT, NULL, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1) {
		a->qs = SC_DB_NONE;
		rc = 0;
		goto out;
	}
	if (db_get_text(r, 0, 0, u->key_alias, sizeof(u->key_alias)) != 0 ||
	    db_get_text(r, 0, 1, u->ca_name, sizeof(u->ca_name)) != 0 ||
	    db_get_text(r, 0, 2, u->serial, sizeof(u->serial)) != 0) {
		sc_err_set(err, SC_E_DB, "TSA unit row does not fit");
		goto out;
	}
	if (get_der(r, 0, 3, &u->cert, &u->cert_len, err) != 0)
		goto out;
	PQclear(r);
	r = NULL;
	db_params_text(&p, u->ca_name);
	if (db_exec(c, ST_TSA_CHAIN, &p, &r, err) != SC_DB_ONE)
		goto out;
	n = PQntuples(r);
	if (n < 1 || n > SC_DB_TSA_CHAIN_MAX) {
		sc_err_set(err, SC_E_DB, "TSA unit: chain of %d certificates",
		    n);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (get_der(r, i, 0, &u->chain[i], &u->chain_len[i], err) != 0)
			goto out;
		u->nchain = (size_t)i + 1;
	}
	a->qs = SC_DB_ONE;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

enum sc_db_qs
sc_db_tsa_unit_load(struct sc_db *db, struct sc_db_tsa_unit *out,
    struct sc_err *err)
{
	struct unit_arg a = {out, SC_DB_HARD};

	memset(out, 0, sizeof(*out));
	if (db_run_txn_as(db, ST_BEGIN_RR_RO, unit_fn, &a, err) != 0) {
		sc_db_tsa_unit_free(out);
		return SC_DB_HARD;
	}
	if (a.qs != SC_DB_ONE)
		sc_db_tsa_unit_free(out);
	return a.qs;
}

void
sc_db_tsa_unit_free(struct sc_db_tsa_unit *u)
{
	if (u == NULL)
		return;
	free(u->cert);
	for (size_t i = 0; i < u->nchain && i < SC_DB_TSA_CHAIN_MAX; i++)
		free(u->chain[i]);
	memset(u, 0, sizeof(*u));
}
