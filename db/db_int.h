/*
 * db_int.h: the internals of the db module, shared by its files only.
 * This is the one header in sceau that includes libpq-fe.h.
 */
#ifndef SCEAU_DB_INT_H
#define SCEAU_DB_INT_H

#include <pthread.h>

#include <libpq-fe.h>

#include "sceau/db.h"

/* Advisory lock keys, pg_advisory_xact_lock(bigint): "sceauMIG", "sceauAUD". */
#define SC_DB_LOCK_MIGRATE "8314600806310299975"
#define SC_DB_LOCK_AUDIT "8314600806309516612"

/* Every statement that db/ runs, by its index in the table of db_pool.c. */
enum db_stmt {
#define DB_STMT(e, name, sql, n) e,
#include "stmts/all.def"
#undef DB_STMT
	ST__COUNT
};

/* One pooled connection; leased by one thread at a time. */
struct sc_db_conn {
	struct sc_db *db;
	PGconn *pg;                    /* NULL until first connected */
	unsigned char prep[ST__COUNT]; /* prepared on this PGconn */
	int broken;                    /* reset it before the next use */
	int leased;                    /* guarded by db->mu */
	int soft;                      /* last failure was 40001/40P01 */
};

struct sc_db {
	char *conninfo;
	int add_timeout; /* conninfo lacks connect_timeout */
	unsigned size;
	struct sc_db_conn *conns; /* [size] */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned busy;            /* guarded by mu */
	unsigned long long waits; /* guarded by mu */
};

/* Parameters of one statement; lengths and formats only for binary ones. */
struct db_params {
	int n;
	const char *v[10];
	int len[10];
	int fmt[10]; /* 0 text, 1 binary */
};

void db_params_text(struct db_params *p, const char *v);
void db_params_bin(struct db_params *p, const void *v, int len);

/**
 * Leases a connection, waiting for one to be free, and (re)connects it
 * when needed. @return 0, or -1 with err (SC_E_UNAVAILABLE).
 */
int db_lease(struct sc_db *db, struct sc_db_conn **out, struct sc_err *err);
/** Rolls back what is left open and returns the connection to the pool. */
void db_release(struct sc_db_conn *c);

/**
 * Runs the named statement @st (prepared on first use on @c).
 * @param[out] res the result when the call succeeds (caller PQclear()s),
 *             may be NULL to discard it.
 * @return SC_DB_ONE (success; tuples in *res), SC_DB_SOFT (40001/40P01),
 *         SC_DB_HARD with err set (SC_E_UNAVAILABLE when the connection
 *         is lost, which marks it for reset).
 */
enum sc_db_qs db_exec(struct sc_db_conn *c, enum db_stmt st,
    const struct db_params *p, PGresult **res, struct sc_err *err);

/**
 * Classifies the failed result @r (may be NULL) of @what on @c: sets err
 * (libpq text in err->detail only) and marks a lost connection broken.
 * @return SC_DB_SOFT or SC_DB_HARD; @r stays owned by the caller.
 */
enum sc_db_qs db_fail(struct sc_db_conn *c, const PGresult *r, const char *what,
    struct sc_err *err);

/**
 * Runs @fn once outside any explicit transaction, retrying once on a new
 * connection when the first one turns out to be stale (the server was
 * restarted since it was last used).
 */
int db_run_plain(struct sc_db *db,
    int (*fn)(struct sc_db_conn *c, void *arg, struct sc_err *err), void *arg,
    struct sc_err *err);

/** Runs sc_db_run_txn() with a chosen BEGIN statement. */
int db_run_txn_as(struct sc_db *db, enum db_stmt begin,
    int (*fn)(struct sc_db_conn *c, void *arg, struct sc_err *err), void *arg,
    struct sc_err *err);

/** Copies a text column into @out (@outlen bytes). @return 0, or -1. */
int db_get_text(const PGresult *r, int row, int col, char *out, size_t outlen);
/** Decodes a 32-byte hash selected as encode(x, 'hex'). @return 0 or -1. */
int db_get_hash(const PGresult *r, int row, int col, uint8_t out[32]);
/** Parses a bigint column. @return 0 or -1. */
int db_get_i64(const PGresult *r, int row, int col, int64_t *out);

#endif
