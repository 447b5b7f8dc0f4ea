/*
 * db_pki.c: the rows behind revocation, CRLs and the OCSP responder
 * (sceau/db_pki.h, migrations 002_ca.sql and 003_pki.sql).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/db_pki.h"

#include "db_int.h"

#define PKI_LIST_MAX 100000 /* rows read into memory at most */

/* Copies a bytea column (text format, "\x..." hex) into malloc'd memory. */
static int
get_bytea(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
{
	unsigned char *u;
	size_t n;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col))
		return 0;
	u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (u == NULL)
		return -1;
	if ((*out = malloc(n > 0 ? n : 1)) == NULL) {
		PQfreemem(u);
		return -1;
	}
	memcpy(*out, u, n);
	*len = n;
	PQfreemem(u);
	return 0;
}

/* A bigint column, -1 when NULL. */
static int
get_opt_i64(const PGresult *r, int row, int col, int64_t *out)
{
	if (PQgetisnull(r, row, col)) {
		*out = -1;
		return 0;
	}
	return db_get_i64(r, row, col, out);
}

static int
get_opt_int(const PGresult *r, int row, int col, int *out)
{
	int64_t v;

	if (get_opt_i64(r, row, col, &v) != 0 || v < -1 || v > 1000)
		return -1;
	*out = (int)v;
	return 0;
}

static int
row_err(struct sc_err *err, const char *what)
{
	return sc_err_set(err, SC_E_DB, "%s: row does not fit", what);
}

void
sc_db_pki_ca_clear(struct sc_db_pki_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->cert_der);
	memset(ca, 0, sizeof(*ca));
}

void
sc_db_pki_ca_list_free(struct sc_db_pki_ca *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		sc_db_pki_ca_clear(&v[i]);
	free(v);
}

void
sc_db_pki_responder_list_free(struct sc_db_pki_responder *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].cert_der);
	free(v);
}

void
sc_db_pki_certrow_clear(struct sc_db_pki_certrow *r)
{
	if (r == NULL)
		return;
	free(r->cert_der);
	memset(r, 0, sizeof(*r));
}

/* Columns: name, kind, key_alias, cert_der, not_after. */
static int
ca_from_row(const PGresult *r, int row, struct sc_db_pki_ca *ca)
{
	memset(ca, 0, sizeof(*ca));
	if (db_get_text(r, row, 0, ca->name, sizeof(ca->name)) != 0 ||
	    db_get_text(r, row, 1, ca->kind, sizeof(ca->kind)) != 0 ||
	    db_get_text(r, row, 2, ca->key_alias, sizeof(ca->key_alias)) != 0 ||
	    get_bytea(r, row, 3, &ca->cert_der, &ca->cert_len) != 0 ||
	    get_opt_i64(r, row, 4, &ca->not_after) != 0) {
		sc_db_pki_ca_clear(ca);
		return -1;
	}
	return 0;
}

struct list_arg {
	void *out;
	size_t n;
};

static int
ca_list_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct list_arg *a = arg;
	struct sc_db_pki_ca *v = NULL;
	PGresult *r = NULL;
	int rc = -1, nt;

	if (db_exec(c, ST_PKI_CA_LIST, NULL, &r, err) != SC_DB_ONE)
		goto out;
	nt = PQntuples(r);
	if (nt > PKI_LIST_MAX) {
		sc_err_set(err, SC_E_DB, "too many CAs");
		goto out;
	}
	if ((v = calloc((size_t)nt + 1, sizeof(*v))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nt; i++)
		if (ca_from_row(r, i, &v[i]) != 0) {
			sc_db_pki_ca_list_free(v, (size_t)i);
			v = NULL;
			row_err(err, "ca");
			goto out;
		}
	a->out = v; /* the caller frees it */
	a->n = (size_t)nt;
	v = NULL;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_pki_ca_list(struct sc_db *db, struct sc_db_pki_ca **out, size_t *n,
    struct sc_err *err)
{
	struct list_arg a = {NULL, 0};

	*out = NULL;
	*n = 0;
	if (db_run_plain(db, ca_list_fn, &a, err) != 0)
		return -1;
	*out = a.out;
	*n = a.n;
	return 0;
}

enum sc_db_qs
sc_db_pki_ca_get(struct sc_db_conn *c, const char *name,
    struct sc_db_pki_ca *out, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	enum sc_db_qs q;

	memset(out, 0, sizeof(*out));
	db_params_text(&p, name);
	if ((q = db_exec(c, ST_PKI_CA_GET, &p, &r, err)) != SC_DB_ONE)
		return q;
	q = SC_DB_NONE;
	if (PQntuples(r) == 1) {
		q = SC_DB_ONE;
		if (ca_from_row(r, 0, out) != 0) {
			row_err(err, "ca");
			q = SC_DB_HARD;
		}
	}
	PQclear(r);
	return q;
}

static int
responder_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct list_arg *a = arg;
	struct sc_db_pki_responder *v = NULL;
	PGresult *r = NULL;
	int rc = -1, nt;

	if (db_exec(c, ST_PKI_RESPONDERS, NULL, &r, err) != SC_DB_ONE)
		goto out;
	nt = PQntuples(r);
	if (nt > PKI_LIST_MAX) {
		sc_err_set(err, SC_E_DB, "too many responders");
		goto out;
	}
	if ((v = calloc((size_t)nt + 1, sizeof(*v))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nt; i++) {
		if (db_get_text(r, i, 0, v[i].ca_name,
			sizeof(v[i].ca_name)) != 0 ||
		    db_get_text(r, i, 1, v[i].key_alias,
			sizeof(v[i].key_alias)) != 0 ||
		    get_bytea(r, i, 2, &v[i].cert_der, &v[i].cert_len) != 0 ||
		    get_opt_i64(r, i, 3, &v[i].not_after) != 0) {
			sc_db_pki_responder_list_free(v, (size_t)i + 1);
			v = NULL;
			row_err(err, "service_certs");
			goto out;
		}
	}
	a->out = v; /* the caller frees it */
	a->n = (size_t)nt;
	v = NULL;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_pki_responder_list(struct sc_db *db, struct sc_db_pki_responder **out,
    size_t *n, struct sc_err *err)
{
	struct list_arg a = {NULL, 0};

	*out = NULL;
	*n = 0;
	if (db_run_plain(db, responder_fn, &a, err) != 0)
		return -1;
	*out = a.out;
	*n = a.n;
	return 0;
}

struct status_arg {
	const char *ca_name;
	const char *serial;
	struct sc_db_pki_status *out;
	enum sc_db_qs qs;
};

static int
status_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct status_arg *a = arg;
	struct db_params p = {0};
	PGresult *r = NULL;
	int rc = -1;

	a->qs = SC_DB_HARD;
	db_params_text(&p, a->serial);
	db_params_text(&p, a->ca_name);
	if (db_exec(c, ST_PKI_CERT_STATUS, &p, &r, err) != SC_DB_ONE)
		goto out;
	rc = 0;
	a->qs = SC_DB_NONE;
	if (PQntuples(r) != 1)
		goto out;
	if (db_get_text(r, 0, 0, a->out->status,
		sizeof(a->out->status)) != 0 ||
	    get_opt_i64(r, 0, 1, &a->out->revoked_at) != 0 ||
	    get_opt_int(r, 0, 2, &a->out->reason) != 0 ||
	    get_opt_i64(r, 0, 3, &a->out->invalidity) != 0 ||
	    get_opt_i64(r, 0, 4, &a->out->not_after) != 0) {
		rc = row_err(err, "certificates");
		a->qs = SC_DB_HARD;
		goto out;
	}
	a->qs = SC_DB_ONE;
out:
	PQclear(r);
	return rc;
}

enum sc_db_qs
sc_db_pki_cert_status(struct sc_db *db, const char *ca_name,
    const char *serial, struct sc_db_pki_status *out, struct sc_err *err)
{
	struct status_arg a = {ca_name, serial, out, SC_DB_HARD};

	memset(out, 0, sizeof(*out));
	if (db_run_plain(db, status_fn, &a, err) != 0)
		return SC_DB_HARD;
	return a.qs;
}

struct many_arg {
	size_t n;
	const char *const *ca_names;
	const char *const *serials;
	struct sc_db_pki_status *out;
	int *found;
};

/* "{"a","b"}" from lower-case hex words (checked: nothing to escape). */
static int
array_lit(struct sc_buf *b, const char *const *v, size_t n,
    struct sc_err *err)
{
	if (sc_buf_append_str(b, "{", err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i][0] == '\0' ||
		    strspn(v[i], "0123456789abcdef") != strlen(v[i]))
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "not a serial");
		if ((i > 0 && sc_buf_append_str(b, ",", err) != 0) ||
		    sc_buf_append_str(b, "\"", err) != 0 ||
		    sc_buf_append_str(b, v[i], err) != 0 ||
		    sc_buf_append_str(b, "\"", err) != 0)
			return -1;
	}
	return sc_buf_append_str(b, "}", err);
}

static int
many_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct many_arg *a = arg;
	struct db_params p = {0};
	struct sc_buf sers;
	PGresult *r = NULL;
	int rc = -1, nt;

	sc_buf_init(&sers, 65536);
	memset(a->found, 0, a->n * sizeof(*a->found));
	if (array_lit(&sers, a->serials, a->n, err) != 0)
		goto out;
	db_params_text(&p, (const char *)sers.p);
	if (db_exec(c, ST_PKI_CERT_STATUS_MANY, &p, &r, err) != SC_DB_ONE)
		goto out;
	nt = PQntuples(r);
	for (int i = 0; i < nt; i++) {
		const char *serial = PQgetvalue(r, i, 0);
		const char *ca = PQgetvalue(r, i, 1);

		for (size_t k = 0; k < a->n; k++) {
			struct sc_db_pki_status *o = &a->out[k];

			if (a->found[k] || strcmp(a->serials[k], serial) != 0 ||
			    strcmp(a->ca_names[k], ca) != 0)
				continue;
			memset(o, 0, sizeof(*o));
			if (db_get_text(r, i, 2, o->status,
				sizeof(o->status)) != 0 ||
			    get_opt_i64(r, i, 3, &o->revoked_at) != 0 ||
			    get_opt_int(r, i, 4, &o->reason) != 0 ||
			    get_opt_i64(r, i, 5, &o->invalidity) != 0 ||
			    get_opt_i64(r, i, 6, &o->not_after) != 0) {
				row_err(err, "certificates");
				goto out;
			}
			a->found[k] = 1;
		}
	}
	rc = 0;
out:
	PQclear(r);
	sc_buf_free(&sers);
	return rc;
}

int
sc_db_pki_cert_status_many(struct sc_db *db, size_t n,
    const char *const *ca_names, const char *const *serials,
    struct sc_db_pki_status *out, int *found, struct sc_err *err)
{
	struct many_arg a = {n, ca_names, serials, out, found};

	if (n == 0)
		return 0;
	if (n > SC_DB_PKI_STATUS_BATCH)
		return sc_err_set(err, SC_E_INTERNAL, "batch too large");
	if (n == 1) {
		/* One lookup: the plain indexed statement plans once. */
		enum sc_db_qs q = sc_db_pki_cert_status(db, ca_names[0],
		    serials[0], &out[0], err);

		if (q == SC_DB_HARD || q == SC_DB_SOFT)
			return -1;
		found[0] = q == SC_DB_ONE;
		return 0;
	}
	return db_run_plain(db, many_fn, &a, err);
}

enum sc_db_qs
sc_db_pki_cert_lock(struct sc_db_conn *c, const char *serial,
    struct sc_db_pki_certrow *out, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	enum sc_db_qs q;

	memset(out, 0, sizeof(*out));
	db_params_text(&p, serial);
	if ((q = db_exec(c, ST_PKI_CERT_LOCK, &p, &r, err)) != SC_DB_ONE)
		return q;
	q = SC_DB_NONE;
	if (PQntuples(r) == 1) {
		q = SC_DB_ONE;
		if (db_get_text(r, 0, 0, out->ca_name,
			sizeof(out->ca_name)) != 0 ||
		    db_get_text(r, 0, 1, out->status, sizeof(out->status)) != 0 ||
		    get_opt_i64(r, 0, 2, &out->revoked_at) != 0 ||
		    get_bytea(r, 0, 3, &out->cert_der, &out->cert_len) != 0) {
			sc_db_pki_certrow_clear(out);
			row_err(err, "certificates");
			q = SC_DB_HARD;
		}
	}
	PQclear(r);
	return q;
}

int
sc_db_pki_cert_revoke(struct sc_db_conn *c, const char *ca_name,
    const char *serial, int reason, int64_t invalidity, int64_t *revoked_at,
    struct sc_err *err)
{
	struct db_params p = {0};
	char rs[16], inv[24];
	PGresult *r = NULL;
	int rc = -1;

	snprintf(rs, sizeof(rs), "%d", reason);
	snprintf(inv, sizeof(inv), "%" PRId64, invalidity);
	db_params_text(&p, serial);
	db_params_text(&p, rs);
	db_params_text(&p, inv);
	if (db_exec(c, ST_PKI_CERT_REVOKE, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1) {
		sc_err_set(err, SC_E_CONFLICT, "certificate already revoked");
		goto out;
	}
	if (db_get_i64(r, 0, 0, revoked_at) != 0) {
		row_err(err, "certificates");
		goto out;
	}
	/* ca_status.rev_seq: bumped by the trigger of 003_pki.sql. */
	(void)ca_name;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_pki_crl_next(struct sc_db_conn *c, const char *ca_name,
    int64_t *number, int64_t *rev_seq, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	int rc = -1;

	db_params_text(&p, ca_name);
	if (db_exec(c, ST_PKI_CRL_NEXT, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1 || db_get_i64(r, 0, 0, number) != 0 ||
	    db_get_i64(r, 0, 1, rev_seq) != 0) {
		row_err(err, "ca_status");
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_pki_revoked_list(struct sc_db_conn *c, const char *ca_name,
    struct sc_db_pki_revoked **out, size_t *n, struct sc_err *err)
{
	struct db_params p = {0};
	struct sc_db_pki_revoked *v = NULL;
	PGresult *r = NULL;
	int rc = -1, nt;

	*out = NULL;
	*n = 0;
	db_params_text(&p, ca_name);
	if (db_exec(c, ST_PKI_REVOKED_LIST, &p, &r, err) != SC_DB_ONE)
		goto out;
	nt = PQntuples(r);
	if (nt > PKI_LIST_MAX) {
		sc_err_set(err, SC_E_DB, "too many revoked certificates");
		goto out;
	}
	if ((v = calloc((size_t)nt + 1, sizeof(*v))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nt; i++)
		if (db_get_text(r, i, 0, v[i].serial,
			sizeof(v[i].serial)) != 0 ||
		    db_get_i64(r, i, 1, &v[i].revoked_at) != 0 ||
		    get_opt_int(r, i, 2, &v[i].reason) != 0 ||
		    get_opt_i64(r, i, 3, &v[i].invalidity) != 0) {
			row_err(err, "certificates");
			goto out;
		}
	*out = v; /* the caller frees it */
	*n = (size_t)nt;
	v = NULL;
	rc = 0;
out:
	free(v);
	PQclear(r);
	return rc;
}

int
sc_db_pki_crl_store(struct sc_db_conn *c, const char *ca_name,
    int64_t number, int64_t this_update, int64_t next_update,
    int64_t rev_seq, int entries, const uint8_t *der, size_t len,
    struct sc_err *err)
{
	struct db_params p = {0};
	char nb[24], tu[24], nu[24], rs[24], en[16];

	if (len > 0x7fffffff)
		return sc_err_set(err, SC_E_TOO_LARGE, "CRL too large");
	snprintf(nb, sizeof(nb), "%" PRId64, number);
	snprintf(tu, sizeof(tu), "%" PRId64, this_update);
	snprintf(nu, sizeof(nu), "%" PRId64, next_update);
	snprintf(rs, sizeof(rs), "%" PRId64, rev_seq);
	snprintf(en, sizeof(en), "%d", entries);
	db_params_text(&p, ca_name);
	db_params_text(&p, nb);
	db_params_text(&p, tu);
	db_params_text(&p, nu);
	db_params_text(&p, rs);
	db_params_text(&p, en);
	db_params_bin(&p, der, (int)len);
	return db_exec(c, ST_PKI_CRL_STORE, &p, NULL, err) == SC_DB_ONE ? 0
									 : -1;
}

struct crl_arg {
	const char *ca_name;
	struct sc_db_pki_crl *out;
	enum sc_db_qs qs;
};

static int
crl_latest_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct crl_arg *a = arg;
	struct db_params p = {0};
	PGresult *r = NULL;
	int64_t entries;
	int rc = -1;

	a->qs = SC_DB_HARD;
	db_params_text(&p, a->ca_name);
	if (db_exec(c, ST_PKI_CRL_LATEST, &p, &r, err) != SC_DB_ONE)
		goto out;
	rc = 0;
	a->qs = SC_DB_NONE;
	if (PQntuples(r) != 1)
		goto out;
	if (db_get_i64(r, 0, 0, &a->out->number) != 0 ||
	    db_get_i64(r, 0, 1, &a->out->this_update) != 0 ||
	    db_get_i64(r, 0, 2, &a->out->next_update) != 0 ||
	    db_get_i64(r, 0, 3, &entries) != 0 || entries < 0 ||
	    entries > PKI_LIST_MAX ||
	    get_bytea(r, 0, 4, &a->out->der, &a->out->len) != 0) {
		rc = row_err(err, "crls");
		a->qs = SC_DB_HARD;
		goto out;
	}
	a->out->entries = (int)entries;
	a->qs = SC_DB_ONE;
out:
	PQclear(r);
	return rc;
}

enum sc_db_qs
sc_db_pki_crl_latest(struct sc_db *db, const char *ca_name,
    struct sc_db_pki_crl *out, struct sc_err *err)
{
	struct crl_arg a = {ca_name, out, SC_DB_HARD};

	memset(out, 0, sizeof(*out));
	if (db_run_plain(db, crl_latest_fn, &a, err) != 0) {
		free(out->der);
		memset(out, 0, sizeof(*out));
		return SC_DB_HARD;
	}
	return a.qs;
}

struct due_arg {
	int64_t max_age, margin;
	char (*names)[SC_DB_PKI_NAME_MAX];
	size_t n;
};

static int
due_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct due_arg *a = arg;
	struct db_params p = {0};
	char ma[24], mg[24];
	PGresult *r = NULL;
	int rc = -1, nt;

	snprintf(ma, sizeof(ma), "%" PRId64, a->max_age);
	snprintf(mg, sizeof(mg), "%" PRId64, a->margin);
	db_params_text(&p, ma);
	db_params_text(&p, mg);
	if (db_exec(c, ST_PKI_CRL_DUE, &p, &r, err) != SC_DB_ONE)
		goto out;
	nt = PQntuples(r);
	if (nt > PKI_LIST_MAX) {
		sc_err_set(err, SC_E_DB, "too many CAs");
		goto out;
	}
	if ((a->names = calloc((size_t)nt + 1, sizeof(*a->names))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nt; i++)
		if (db_get_text(r, i, 0, a->names[i],
			sizeof(a->names[i])) != 0) {
			free(a->names);
			a->names = NULL;
			row_err(err, "ca");
			goto out;
		}
	a->n = (size_t)nt;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_pki_crl_due(struct sc_db *db, int64_t max_age, int64_t margin,
    char (**names)[SC_DB_PKI_NAME_MAX], size_t *n, struct sc_err *err)
{
	struct due_arg a = {max_age, margin, NULL, 0};

	*names = NULL;
	*n = 0;
	if (db_run_plain(db, due_fn, &a, err) != 0)
		return -1;
	*names = a.names; /* the caller frees it */
	*n = a.n;
	return 0;
}

static int
epoch_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	int64_t *out = arg;
	PGresult *r = NULL;
	int rc = -1;

	if (db_exec(c, ST_PKI_EPOCH, NULL, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1 || db_get_i64(r, 0, 0, out) != 0) {
		row_err(err, "ca_status");
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_pki_rev_epoch(struct sc_db *db, int64_t *epoch, struct sc_err *err)
{
	return db_run_plain(db, epoch_fn, epoch, err);
}
