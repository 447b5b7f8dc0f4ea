/*
 * db_ca.c: the CA area of the database (sceau/db_ca.h, stmts/ca.def,
 * migrations/002_ca.sql). Every function runs one or two prepared
 * statements on the caller's connection, inside its transaction.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/db_ca.h"

#include "db_int.h"

/* Decodes a hex text column into a malloc'd buffer ("" gives NULL). */
static int
get_hex(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
{
	const char *s;
	size_t n;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col))
		return 0;
	s = PQgetvalue(r, row, col);
	n = strlen(s);
	if (n == 0)
		return 0;
	if (n % 2 != 0 || (*out = malloc(n / 2)) == NULL)
		return -1;
	if (sc_hex_decode(s, *out, n / 2) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = n / 2;
	return 0;
}

static int
bin_len(size_t len, int *out, struct sc_err *err)
{
	if (len > INT_MAX)
		return sc_err_set(err, SC_E_TOO_LARGE, "value too large");
	*out = (int)len;
	return 0;
}

/* Runs a statement that must change exactly one row. */
static int
exec_one(struct sc_db_conn *c, enum db_stmt st, const struct db_params *p,
    const char *what, struct sc_err *err)
{
	PGresult *r = NULL;
	int rc = -1;

	if (db_exec(c, st, p, &r, err) != SC_DB_ONE)
		goto out;
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		sc_err_set(err, SC_E_CONFLICT, "%s: the row is not in the "
					       "expected state",
		    what);
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

static int
count(struct sc_db_conn *c, enum db_stmt st, const struct db_params *p,
    int64_t *n, struct sc_err *err)
{
	PGresult *r = NULL;
	int rc = -1;

	if (db_exec(c, st, p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1 || db_get_i64(r, 0, 0, n) != 0) {
		sc_err_set(err, SC_E_DB, "count returned no number");
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ca                                                                  */

int
sc_db_ca_lock(struct sc_db_conn *c, struct sc_err *err)
{
	return db_exec(c, ST_CA_LOCK, NULL, NULL, err) == SC_DB_ONE ? 0 : -1;
}

int
sc_db_ca_count(struct sc_db_conn *c, int64_t *n, struct sc_err *err)
{
	return count(c, ST_CA_COUNT, NULL, n, err);
}

int
sc_db_ca_insert(struct sc_db_conn *c, const struct sc_db_ca_row *row,
    const uint8_t name_hash[20], const uint8_t key_hash[20],
    const char *not_after, struct sc_err *err)
{
	struct db_params p = {0};
	int len = 0;

	if (bin_len(row->cert_len, &len, err) != 0)
		return -1;
	db_params_text(&p, row->name);
	db_params_text(&p, row->kind);
	db_params_text(&p, row->parent);
	db_params_text(&p, row->key_alias);
	db_params_text(&p, row->subject);
	db_params_bin(&p, row->cert_der, len);
	db_params_bin(&p, name_hash, 20);
	db_params_bin(&p, key_hash, 20);
	db_params_text(&p, not_after);
	return exec_one(c, ST_CA_INSERT, &p, "ca insert", err);
}

static int
ca_row(const PGresult *r, int i, struct sc_db_ca_row *o, int with_cert)
{
	memset(o, 0, sizeof(*o));
	if (db_get_text(r, i, 0, o->name, sizeof(o->name)) != 0 ||
	    db_get_text(r, i, 1, o->kind, sizeof(o->kind)) != 0 ||
	    db_get_text(r, i, 2, o->parent, sizeof(o->parent)) != 0 ||
	    db_get_text(r, i, 3, o->key_alias, sizeof(o->key_alias)) != 0 ||
	    db_get_text(r, i, 4, o->subject, sizeof(o->subject)) != 0)
		return -1;
	if (with_cert && get_hex(r, i, 5, &o->cert_der, &o->cert_len) != 0)
		return -1;
	return 0;
}

enum sc_db_qs
sc_db_ca_get(struct sc_db_conn *c, const char *name, struct sc_db_ca_row *out,
    struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	enum sc_db_qs qs = SC_DB_HARD;

	memset(out, 0, sizeof(*out));
	db_params_text(&p, name);
	if (db_exec(c, ST_CA_GET, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1) {
		qs = SC_DB_NONE;
		goto out;
	}
	if (ca_row(r, 0, out, 1) != 0 || out->cert_der == NULL) {
		sc_db_ca_row_free(out);
		sc_err_set(err, SC_E_DB, "ca row does not fit");
		goto out;
	}
	qs = SC_DB_ONE;
out:
	PQclear(r);
	return qs;
}

int
sc_db_ca_list(struct sc_db_conn *c, struct sc_db_ca_row **rows, size_t *n,
    struct sc_err *err)
{
	PGresult *r = NULL;
	struct sc_db_ca_row *v = NULL;
	int nt, rc = -1;

	*rows = NULL;
	*n = 0;
	if (db_exec(c, ST_CA_LIST, NULL, &r, err) != SC_DB_ONE)
		goto out;
	nt = PQntuples(r);
	if (nt > 0 && (v = calloc((size_t)nt, sizeof(*v))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nt; i++)
		if (ca_row(r, i, &v[i], 0) != 0) {
			sc_err_set(err, SC_E_DB, "ca row does not fit");
			goto out;
		}
	*rows = v; /* the caller free()s it */
	*n = (size_t)nt;
	v = NULL;
	rc = 0;
out:
	free(v);
	PQclear(r);
	return rc;
}

void
sc_db_ca_row_free(struct sc_db_ca_row *row)
{
	if (row == NULL)
		return;
	free(row->cert_der);
	row->cert_der = NULL;
	row->cert_len = 0;
}

/* ------------------------------------------------------------------ */
/* certificates                                                        */

int
sc_db_cert_reserve(struct sc_db_conn *c, const struct sc_db_cert_new *n,
    struct sc_err *err)
{
	struct db_params p = {0};
	char rid[24] = "";

	if (n->request_id >= 0)
		snprintf(rid, sizeof(rid), "%" PRId64, n->request_id);
	db_params_text(&p, n->serial);
	db_params_text(&p, n->ca_name);
	db_params_text(&p, n->profile);
	db_params_text(&p, rid);
	db_params_text(&p, n->subject);
	db_params_text(&p, n->key_alias != NULL ? n->key_alias : "");
	return exec_one(c, ST_CERT_RESERVE, &p, "certificate reserve", err);
}

int
sc_db_cert_linted(struct sc_db_conn *c, const char *serial,
    const uint8_t *tbs, size_t tbs_len, const char *not_before,
    const char *not_after, struct sc_err *err)
{
	struct db_params p = {0};
	int len = 0;

	if (bin_len(tbs_len, &len, err) != 0)
		return -1;
	db_params_text(&p, serial);
	db_params_bin(&p, tbs, len);
	db_params_text(&p, not_before);
	db_params_text(&p, not_after);
	return exec_one(c, ST_CERT_LINTED, &p, "certificate linted", err);
}

int
sc_db_cert_issued(struct sc_db_conn *c, const char *serial,
    const uint8_t *der, size_t der_len, struct sc_err *err)
{
	struct db_params p = {0};
	int len = 0;

	if (bin_len(der_len, &len, err) != 0)
		return -1;
	db_params_text(&p, serial);
	db_params_bin(&p, der, len);
	return exec_one(c, ST_CERT_ISSUED, &p, "certificate issued", err);
}

int
sc_db_cert_fail(struct sc_db_conn *c, const char *serial, const char *failure,
    struct sc_err *err)
{
	struct db_params p = {0};

	db_params_text(&p, serial);
	db_params_text(&p, failure);
	return exec_one(c, ST_CERT_FAIL, &p, "certificate failed", err);
}

enum sc_db_qs
sc_db_cert_get(struct sc_db_conn *c, const char *serial,
    struct sc_db_cert_row *o, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	enum sc_db_qs qs = SC_DB_HARD;
	char rid[24];

	memset(o, 0, sizeof(*o));
	o->request_id = -1;
	db_params_text(&p, serial);
	if (db_exec(c, ST_CERT_GET, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1) {
		qs = SC_DB_NONE;
		goto out;
	}
	if (db_get_text(r, 0, 0, o->serial, sizeof(o->serial)) != 0 ||
	    db_get_text(r, 0, 1, o->ca_name, sizeof(o->ca_name)) != 0 ||
	    db_get_text(r, 0, 2, o->profile, sizeof(o->profile)) != 0 ||
	    db_get_text(r, 0, 3, o->status, sizeof(o->status)) != 0 ||
	    db_get_text(r, 0, 4, o->subject, sizeof(o->subject)) != 0 ||
	    db_get_text(r, 0, 5, o->not_before, sizeof(o->not_before)) != 0 ||
	    db_get_text(r, 0, 6, o->not_after, sizeof(o->not_after)) != 0 ||
	    db_get_text(r, 0, 7, o->revoked_at, sizeof(o->revoked_at)) != 0 ||
	    db_get_text(r, 0, 8, rid, sizeof(rid)) != 0 ||
	    (rid[0] != '\0' && db_get_i64(r, 0, 8, &o->request_id) != 0) ||
	    get_hex(r, 0, 9, &o->cert_der, &o->cert_len) != 0 ||
	    get_hex(r, 0, 10, &o->tbs_der, &o->tbs_len) != 0) {
		sc_db_cert_row_free(o);
		sc_err_set(err, SC_E_DB, "certificate row does not fit");
		goto out;
	}
	qs = SC_DB_ONE;
out:
	PQclear(r);
	return qs;
}

void
sc_db_cert_row_free(struct sc_db_cert_row *row)
{
	if (row == NULL)
		return;
	free(row->cert_der);
	free(row->tbs_der);
	row->cert_der = row->tbs_der = NULL;
	row->cert_len = row->tbs_len = 0;
}

int
sc_db_svc_insert(struct sc_db_conn *c, const char *kind, const char *ca_name,
    const char *key_alias, const char *serial, const uint8_t *der,
    size_t der_len, const char *not_after, struct sc_err *err)
{
	struct db_params p = {0};
	int len = 0;

	if (bin_len(der_len, &len, err) != 0)
		return -1;
	db_params_text(&p, kind);
	db_params_text(&p, ca_name);
	db_params_text(&p, key_alias);
	db_params_text(&p, serial);
	db_params_bin(&p, der, len);
	db_params_text(&p, not_after);
	return exec_one(c, ST_SVC_INSERT, &p, "service certificate", err);
}

/* ------------------------------------------------------------------ */
/* requests                                                            */

int
sc_db_req_insert(struct sc_db_conn *c, const struct sc_db_req_row *row,
    int64_t *id, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	char needed[16];
	int len = 0, rc = -1;

	if (bin_len(row->csr_len, &len, err) != 0)
		return -1;
	snprintf(needed, sizeof(needed), "%u", row->approvals_needed);
	db_params_text(&p, row->profile);
	db_params_bin(&p, row->csr_der, len); /* NULL: SQL NULL */
	db_params_text(&p, row->key_alias);
	db_params_text(&p, row->subject);
	db_params_text(&p, row->evidence);
	db_params_text(&p, needed);
	db_params_text(&p, row->submitted_by);
	if (db_exec(c, ST_REQ_INSERT, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1 || db_get_i64(r, 0, 0, id) != 0) {
		sc_err_set(err, SC_E_DB, "request insert returned no id");
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

enum sc_db_qs
sc_db_req_get(struct sc_db_conn *c, int64_t id, int lock,
    struct sc_db_req_row *o, struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	enum sc_db_qs qs = SC_DB_HARD;
	char ids[24];
	int64_t v;
	size_t n;

	memset(o, 0, sizeof(*o));
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	db_params_text(&p, ids);
	if (lock) {
		if (db_exec(c, ST_REQ_LOCK, &p, &r, err) != SC_DB_ONE)
			goto out;
		if (PQntuples(r) != 1) {
			qs = SC_DB_NONE;
			goto out;
		}
		PQclear(r);
		r = NULL;
	}
	if (db_exec(c, ST_REQ_GET, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1) {
		qs = SC_DB_NONE;
		goto out;
	}
	n = (size_t)PQgetlength(r, 0, 4);
	if (db_get_i64(r, 0, 0, &o->id) != 0 ||
	    db_get_text(r, 0, 1, o->profile, sizeof(o->profile)) != 0 ||
	    get_hex(r, 0, 2, &o->csr_der, &o->csr_len) != 0 ||
	    db_get_text(r, 0, 3, o->key_alias, sizeof(o->key_alias)) != 0 ||
	    (o->subject = malloc(n + 1)) == NULL ||
	    db_get_text(r, 0, 4, o->subject, n + 1) != 0 ||
	    db_get_text(r, 0, 5, o->evidence, sizeof(o->evidence)) != 0 ||
	    db_get_text(r, 0, 6, o->status, sizeof(o->status)) != 0 ||
	    db_get_i64(r, 0, 7, &v) != 0 || v < 1 || v > 100 ||
	    db_get_text(r, 0, 8, o->submitted_by, sizeof(o->submitted_by)) !=
		0 ||
	    db_get_text(r, 0, 9, o->reason, sizeof(o->reason)) != 0 ||
	    db_get_text(r, 0, 10, o->serial, sizeof(o->serial)) != 0) {
		sc_db_req_row_free(o);
		sc_err_set(err, SC_E_DB, "request row does not fit");
		goto out;
	}
	o->approvals_needed = (unsigned)v;
	if (db_get_i64(r, 0, 11, &v) != 0 || v < 0 || v > 1000) {
		sc_db_req_row_free(o);
		sc_err_set(err, SC_E_DB, "request row does not fit");
		goto out;
	}
	o->approvals = (unsigned)v;
	qs = SC_DB_ONE;
out:
	PQclear(r);
	return qs;
}

void
sc_db_req_row_free(struct sc_db_req_row *row)
{
	if (row == NULL)
		return;
	free(row->csr_der);
	free(row->subject);
	row->csr_der = NULL;
	row->subject = NULL;
	row->csr_len = 0;
}

int
sc_db_req_approve(struct sc_db_conn *c, int64_t id, const char *approver,
    struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	char ids[24];
	int rc = -1;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	db_params_text(&p, ids);
	db_params_text(&p, approver);
	if (db_exec(c, ST_APPROVAL_ADD, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (strcmp(PQcmdTuples(r), "1") != 0) {
		sc_err_set(err, SC_E_CONFLICT,
		    "%s has already approved request %" PRId64, approver, id);
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_req_active_certs(struct sc_db_conn *c, int64_t id, int64_t *n,
    struct sc_err *err)
{
	struct db_params p = {0};
	char ids[24];

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	db_params_text(&p, ids);
	return count(c, ST_REQ_ACTIVE_CERTS, &p, n, err);
}

int
sc_db_req_decide(struct sc_db_conn *c, int64_t id, const char *status,
    const char *reason, const char *serial, struct sc_err *err)
{
	struct db_params p = {0};
	char ids[24];

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	db_params_text(&p, ids);
	db_params_text(&p, status);
	db_params_text(&p, reason != NULL ? reason : "");
	db_params_text(&p, serial != NULL ? serial : "");
	return exec_one(c, ST_REQ_DECIDE, &p, "request decision", err);
}
