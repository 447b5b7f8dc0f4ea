/*
 * db_pool.c: the connection pool, named prepared statements, statement
 * execution with error classification, and transactions with bounded
 * retry (STYLE.md rule 17).
 *
 * Reconnection: a connection found broken (PQstatus CONNECTION_BAD, or an
 * error of SQLSTATE class 08 or 57P01..57P03) is marked and PQreset() on
 * its next lease; its statements are then prepared again. A connection
 * that sat idle across a server restart only shows it on first use, so a
 * failure on the very first statement of a lease (BEGIN, or the single
 * statement of a plain call) on a connection that was not fresh is
 * retried once on the reset connection. Connecting uses
 * connect_timeout=5 unless the conninfo sets it, so a down server makes
 * calls fail fast with SC_E_UNAVAILABLE instead of hanging.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define DB_POOL_MAX 256
#define DB_TXN_RETRIES 3

struct db_stmt_def {
	const char *name;
	const char *sql;
	int nparams;
};

/*
 * Every statement of db/, gathered from stmts/NAME.def (one file per
 * area, so that areas grow without touching each other).
 */
static const struct db_stmt_def stmts[ST__COUNT] = {
#define DB_STMT(e, name, sql, n) [e] = {name, sql, n},
#include "stmts/all.def"
#undef DB_STMT
};

void
db_params_text(struct db_params *p, const char *v)
{
	if (p->n >= (int)(sizeof(p->v) / sizeof(p->v[0])))
		return;
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void
db_params_bin(struct db_params *p, const void *v, int len)
{
	if (p->n >= (int)(sizeof(p->v) / sizeof(p->v[0])))
		return;
	p->v[p->n] = v;
	p->len[p->n] = len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* Server notices (e.g. "relation already exists, skipping"): debug only. */
static void
notice_cb(void *arg, const char *msg)
{
	size_t n = strlen(msg);

	(void)arg;
	while (n > 0 && msg[n - 1] == '\n')
		n--;
	sc_log(SC_LOG_DEBUG, "db: %.*s", (int)n, msg);
}

/* The libpq message without its trailing newline, for err->detail. */
static void
detail_pq(struct sc_err *err, const char *what, const char *msg)
{
	size_t n;

	if (msg == NULL)
		msg = "";
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (n > INT_MAX)
		n = INT_MAX;
	sc_err_detail(err, "%s: %.*s", what, (int)n, msg);
}

struct sc_db *
sc_db_open(const char *conninfo, unsigned size, struct sc_err *err)
{
	struct sc_db *db = NULL, *ret = NULL;
	PQconninfoOption *opts = NULL, *o;
	char *perr = NULL;
	int mu_ok = 0, cv_ok = 0;

	if (conninfo == NULL || size < 1 || size > DB_POOL_MAX) {
		sc_err_set(err, SC_E_CONFIG,
		    "database pool: size must be 1..%d", DB_POOL_MAX);
		goto out;
	}
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		sc_err_set(err, SC_E_CONFIG,
		    "invalid database connection string");
		detail_pq(err, "PQconninfoParse",
		    perr != NULL ? perr : "out of memory");
		goto out;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->conns = calloc(size, sizeof(*db->conns))) == NULL ||
	    (db->conninfo = strdup(conninfo)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	db->size = size;
	db->add_timeout = 1;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 &&
		    o->val != NULL && o->val[0] != '\0')
			db->add_timeout = 0;
	for (unsigned i = 0; i < size; i++)
		db->conns[i].db = db;
	if (pthread_mutex_init(&db->mu, NULL) != 0) {
		sc_err_set(err, SC_E_INTERNAL, "pthread_mutex_init failed");
		goto out;
	}
	mu_ok = 1;
	if (pthread_cond_init(&db->cv, NULL) != 0) {
		sc_err_set(err, SC_E_INTERNAL, "pthread_cond_init failed");
		goto out;
	}
	cv_ok = 1;
	ret = db; /* the caller owns it now */
	db = NULL;
out:
	if (db != NULL) {
		if (cv_ok)
			pthread_cond_destroy(&db->cv);
		if (mu_ok)
			pthread_mutex_destroy(&db->mu);
		sc_secret_free(db->conninfo);
		free(db->conns);
		free(db);
	}
	if (opts != NULL)
		PQconninfoFree(opts);
	PQfreemem(perr);
	return ret;
}

void
sc_db_close(struct sc_db *db)
{
	if (db == NULL)
		return;
	for (unsigned i = 0; i < db->size; i++)
		if (db->conns[i].pg != NULL)
			PQfinish(db->conns[i].pg);
	pthread_cond_destroy(&db->cv);
	pthread_mutex_destroy(&db->mu);
	sc_secret_free(db->conninfo); /* it may hold a password */
	free(db->conns);
	free(db);
}

/* Makes @c usable: connects, or resets a broken connection. */
static int
conn_ensure(struct sc_db_conn *c, int *fresh, struct sc_err *err)
{
	const char *kw[] = {"dbname", "connect_timeout", NULL};
	const char *val[] = {c->db->conninfo, "5", NULL};

	*fresh = 0;
	if (c->pg != NULL && !c->broken && PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	*fresh = 1;
	memset(c->prep, 0, sizeof(c->prep));
	c->broken = 0;
	if (c->pg != NULL) {
		PQreset(c->pg);
	} else {
		if (!c->db->add_timeout)
			kw[1] = NULL;
		/* expand_dbname: "dbname" carries the whole conninfo. */
		if ((c->pg = PQconnectdbParams(kw, val, 1)) == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		PQsetNoticeProcessor(c->pg, notice_cb, NULL);
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		sc_err_set(err, SC_E_UNAVAILABLE,
		    "the database is unavailable");
		detail_pq(err, "connect", PQerrorMessage(c->pg));
		PQfinish(c->pg);
		c->pg = NULL;
		return -1;
	}
	return 0;
}

static int
lease(struct sc_db *db, struct sc_db_conn **out, int *fresh, struct sc_err *err)
{
	struct sc_db_conn *c = NULL;
	int waited = 0;

	*out = NULL;
	pthread_mutex_lock(&db->mu);
	while (db->busy >= db->size) {
		if (!waited)
			db->waits++;
		waited = 1;
		pthread_cond_wait(&db->cv, &db->mu);
	}
	for (unsigned i = 0; i < db->size; i++)
		if (!db->conns[i].leased) {
			c = &db->conns[i];
			break;
		}
	/* busy < size guarantees a free connection */
	c->leased = 1;
	db->busy++;
	pthread_mutex_unlock(&db->mu);

	/* Connecting happens outside the lock: other leases go on. */
	if (conn_ensure(c, fresh, err) != 0) {
		db_release(c);
		return -1;
	}
	c->soft = 0;
	*out = c;
	return 0;
}

int
db_lease(struct sc_db *db, struct sc_db_conn **out, struct sc_err *err)
{
	int fresh;

	return lease(db, out, &fresh, err);
}

void
db_release(struct sc_db_conn *c)
{
	struct sc_db *db;

	if (c == NULL)
		return;
	db = c->db;
	if (c->pg != NULL && !c->broken) {
		PGTransactionStatusType ts = PQtransactionStatus(c->pg);

		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
			if (db_exec(c, ST_ROLLBACK, NULL, NULL, NULL) !=
			    SC_DB_ONE)
				c->broken = 1;
		} else if (ts != PQTRANS_IDLE) {
			c->broken = 1;
		}
	}
	pthread_mutex_lock(&db->mu);
	c->leased = 0;
	db->busy--;
	pthread_cond_signal(&db->cv);
	pthread_mutex_unlock(&db->mu);
}

static int
conn_class_lost(const char *state)
{
	if (state == NULL)
		return 0;
	return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

enum sc_db_qs
db_fail(struct sc_db_conn *c, const PGresult *r, const char *what,
    struct sc_err *err)
{
	const char *state = NULL, *msg = NULL;

	if (r != NULL) {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		msg = PQresultErrorMessage(r);
	}
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK || conn_class_lost(state)) {
		c->broken = 1;
		sc_err_set(err, SC_E_UNAVAILABLE,
		    "the database is unavailable");
		detail_pq(err, what, msg);
		return SC_DB_HARD;
	}
	if (state != NULL &&
	    (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)) {
		c->soft = 1;
		sc_err_set(err, SC_E_DB, "database conflict, try again");
		detail_pq(err, what, msg);
		return SC_DB_SOFT;
	}
	if (state != NULL && strncmp(state, "22", 2) == 0)
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "input rejected by the database");
	else if (state != NULL && strcmp(state, "23505") == 0)
		sc_err_set(err, SC_E_CONFLICT, "the record already exists");
	else
		sc_err_set(err, SC_E_DB, "database error");
	detail_pq(err, what, msg);
	return SC_DB_HARD;
}

enum sc_db_qs
db_exec(struct sc_db_conn *c, enum db_stmt st, const struct db_params *p,
    PGresult **res, struct sc_err *err)
{
	const struct db_stmt_def *d;
	PGresult *r = NULL;
	enum sc_db_qs q;
	int n = p != NULL ? p->n : 0;

	if (res != NULL)
		*res = NULL;
	if ((unsigned)st >= ST__COUNT) {
		sc_err_set(err, SC_E_INTERNAL, "unknown statement");
		return SC_DB_HARD;
	}
	d = &stmts[st];
	if (n != d->nparams) {
		sc_err_set(err, SC_E_INTERNAL, "statement %s: %d parameters",
		    d->name, n);
		return SC_DB_HARD;
	}
	if (c->pg == NULL || c->broken) {
		sc_err_set(err, SC_E_UNAVAILABLE,
		    "the database is unavailable");
		return SC_DB_HARD;
	}
	/* Prepared on first use: a statement may name a table that only a
	 * migration creates. */
	if (!c->prep[st]) {
		r = PQprepare(c->pg, d->name, d->sql, d->nparams, NULL);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			q = db_fail(c, r, d->name, err);
			PQclear(r);
			return q;
		}
		PQclear(r);
		c->prep[st] = 1;
	}
	r = PQexecPrepared(c->pg, d->name, n, p != NULL ? p->v : NULL,
	    p != NULL ? p->len : NULL, p != NULL ? p->fmt : NULL, 0);
	if (r == NULL ||
	    (PQresultStatus(r) != PGRES_COMMAND_OK &&
		PQresultStatus(r) != PGRES_TUPLES_OK)) {
		q = db_fail(c, r, d->name, err);
		PQclear(r);
		return q;
	}
	if (res != NULL)
		*res = r; /* the caller PQclear()s it */
	else
		PQclear(r);
	return SC_DB_ONE;
}

/* Passes a local error up, first error wins. */
static void
err_pass(struct sc_err *err, const struct sc_err *e)
{
	if (err != NULL && err->code == SC_E_OK && e->code != SC_E_OK)
		*err = *e;
}

int
db_run_plain(struct sc_db *db,
    int (*fn)(struct sc_db_conn *c, void *arg, struct sc_err *err), void *arg,
    struct sc_err *err)
{
	struct sc_db_conn *c;
	struct sc_err e;
	int fresh, rc, stale;

	/* Each stale connection is found once; at most size + 1 tries. */
	for (unsigned attempt = 0; attempt <= db->size; attempt++) {
		sc_err_clear(&e);
		if (lease(db, &c, &fresh, &e) != 0) {
			err_pass(err, &e);
			return -1;
		}
		rc = fn(c, arg, &e);
		stale = rc != 0 && c->broken && !fresh;
		db_release(c);
		if (rc == 0)
			return 0;
		if (!stale)
			break;
		sc_log(SC_LOG_INFO, "db: stale connection, reconnecting (%s)",
		    e.detail);
	}
	err_pass(err, &e);
	return -1;
}

int
db_run_txn_as(struct sc_db *db, enum db_stmt begin,
    int (*fn)(struct sc_db_conn *c, void *arg, struct sc_err *err), void *arg,
    struct sc_err *err)
{
	struct sc_db_conn *c;
	struct sc_err e;
	int fresh, retries = 0, soft;
	unsigned stale = 0;
	enum sc_db_qs q;

	for (;;) {
		sc_err_clear(&e);
		if (lease(db, &c, &fresh, &e) != 0)
			break;
		if (db_exec(c, begin, NULL, NULL, &e) != SC_DB_ONE) {
			/* A connection that died while idle: try once more. */
			int again = c->broken && !fresh && stale < db->size;

			db_release(c);
			if (!again)
				break;
			stale++;
			sc_log(SC_LOG_INFO,
			    "db: stale connection, reconnecting (%s)",
			    e.detail);
			continue;
		}
		if (fn(c, arg, &e) == 0) {
			q = db_exec(c, ST_COMMIT, NULL, NULL, &e);
			if (q == SC_DB_ONE) {
				db_release(c);
				return 0;
			}
			soft = q == SC_DB_SOFT;
		} else {
			soft = c->soft;
		}
		/* ROLLBACK; db_release() marks the connection broken if that
		 * fails. */
		db_release(c);
		if (!soft || retries >= DB_TXN_RETRIES)
			break;
		retries++;
		sc_log(SC_LOG_INFO, "db: transaction retry %d (%s)", retries,
		    e.detail);
	}
	err_pass(err, &e);
	return -1;
}

int
sc_db_run_txn(struct sc_db *db,
    int (*fn)(struct sc_db_conn *c, void *arg, struct sc_err *err), void *arg,
    struct sc_err *err)
{
	return db_run_txn_as(db, ST_BEGIN, fn, arg, err);
}

static int
ping_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	(void)arg;
	return db_exec(c, ST_PING, NULL, NULL, err) == SC_DB_ONE ? 0 : -1;
}

int
sc_db_ping(struct sc_db *db, struct sc_err *err)
{
	return db_run_plain(db, ping_fn, NULL, err);
}

void
sc_db_stats(struct sc_db *db, struct sc_db_stats *st)
{
	pthread_mutex_lock(&db->mu);
	st->size = db->size;
	st->busy = db->busy;
	st->waits = db->waits;
	pthread_mutex_unlock(&db->mu);
}

int
db_get_text(const PGresult *r, int row, int col, char *out, size_t outlen)
{
	int n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (PQgetisnull(r, row, col))
		return 0;
	n = PQgetlength(r, row, col);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	memcpy(out, PQgetvalue(r, row, col), (size_t)n);
	out[n] = '\0';
	return 0;
}

int
db_get_hash(const PGresult *r, int row, int col, uint8_t out[32])
{
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 64)
		return -1;
	return sc_hex_decode(PQgetvalue(r, row, col), out, 32);
}

int
db_get_i64(const PGresult *r, int row, int col, int64_t *out)
{
	const char *s;
	char *end;
	long long v;

	if (PQgetisnull(r, row, col))
		return -1;
	s = PQgetvalue(r, row, col);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}
