/*
 * sceau db: the only user of libpq (STYLE.md rule 17). A connection pool
 * shared by the server's threads, transactions with bounded retry,
 * named prepared statements, migrations and the audit log.
 *
 * No libpq type appears here. Every function may be called from any
 * thread; a struct sc_db_conn belongs to one thread between lease and
 * release.
 */
#ifndef SCEAU_DB_H
#define SCEAU_DB_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/core.h"

/* Query status, as Taler's GNUNET_DB_QueryStatus. */
enum sc_db_qs {
	SC_DB_HARD = -2, /* failed for good */
	SC_DB_SOFT = -1, /* serialization failure or deadlock: retry */
	SC_DB_NONE = 0,	 /* no row */
	SC_DB_ONE = 1	 /* one row (or success) */
};

struct sc_db;	   /* the pool, opaque */
struct sc_db_conn; /* one leased connection, opaque */

/**
 * Opens a pool of @size connections to @conninfo (libpq syntax). Opening
 * connects lazily: a database that is down makes calls fail with
 * SC_E_UNAVAILABLE, and a later call reconnects, so a running server
 * survives a PostgreSQL restart.
 * @return the pool, to free with sc_db_close(), or NULL with err.
 */
struct sc_db *sc_db_open(const char *conninfo, unsigned size,
    struct sc_err *err);
void sc_db_close(struct sc_db *db);

/** "SELECT 1" on a pooled connection. @return 0 or -1 (SC_E_UNAVAILABLE). */
int sc_db_ping(struct sc_db *db, struct sc_err *err);

struct sc_db_stats {
	unsigned size;	   /* pool size */
	unsigned busy;	   /* leased now */
	unsigned long long waits; /* leases that had to wait */
};
void sc_db_stats(struct sc_db *db, struct sc_db_stats *st);

/**
 * Applies every db/migrations/NNN_name.sql file in @dir not yet recorded
 * in schema_migrations, in order, each in its own transaction.
 * @param[out] applied number applied now (may be NULL).
 */
int sc_db_migrate(struct sc_db *db, const char *dir, int *applied,
    struct sc_err *err);

/**
 * Runs @fn inside one transaction (READ COMMITTED) on a leased connection;
 * commits when @fn returns 0, rolls back otherwise. Serialization failures
 * and deadlocks (SQLSTATE 40001/40P01) are retried up to 3 times.
 * @return 0, or -1 with err set (by @fn or by the database layer).
 */
int sc_db_run_txn(struct sc_db *db,
    int (*fn)(struct sc_db_conn *c, void *arg, struct sc_err *err), void *arg,
    struct sc_err *err);

/* ------------------------------------------------------------------ */
/* Audit log: append-only, hash-chained (Law 2016-012 Art. 120)        */

struct sc_audit_event {
	const char *actor;   /* token name, "cli:<user>" or "system" */
	const char *role;    /* ca_admin, ra_officer, auditor, signer, ... */
	const char *action;  /* "token.create", "key.generate", ... */
	const char *object;  /* what it acted on; may be "" */
	const char *details; /* a JSON object as text; may be "{}" */
};

/**
 * Appends @ev within the caller's transaction, chained to the previous
 * event: hash = SHA-256(prev_hash || the event's fields, each length-
 * prefixed). Appends are serialised with a transaction-scoped advisory
 * lock so that the chain stays linear across nodes.
 */
int sc_db_audit_append(struct sc_db_conn *c, const struct sc_audit_event *ev,
    struct sc_err *err);

/** The outcome of sc_db_audit_verify(). */
struct sc_audit_report {
	uint64_t rows;		/* rows checked */
	int64_t first_bad_id;	/* id of the first broken row, or -1 */
	char reason[128];	/* why it is broken */
	uint8_t head[32];	/* hash of the last good row */
};

/**
 * Walks the chain from the first row and recomputes every hash and link.
 * @return 0 when the walk ran (inspect rep->first_bad_id), -1 when it
 *         could not run.
 */
int sc_db_audit_verify(struct sc_db *db, struct sc_audit_report *rep,
    struct sc_err *err);

/* ------------------------------------------------------------------ */
/* API tokens (CONTRACT.md roles)                                      */

struct sc_db_token {
	int64_t id;
	char name[128];
	char role[32];
	char key_alias[80]; /* "" if the token is not bound to a key */
};

/** Roles of CONTRACT.md: @return 1 if @role is one of them. */
int sc_db_role_valid(const char *role);

/**
 * Creates a bearer token: 32 bytes from the CSPRNG, shown once as
 * "sc_" + base64url, stored only as its SHA-256, with the audit event
 * "token.create" (by @actor) in the same transaction.
 * @param[out] secret the token text, malloc'd; free with sc_secret_free().
 * @return 0, or -1 (SC_E_UNKNOWN_ROLE, SC_E_INVALID_INPUT for an empty or
 *         over-long name, SC_E_DB/SC_E_UNAVAILABLE).
 */
int sc_db_token_create(struct sc_db *db, const char *name, const char *role,
    const char *key_alias, const char *actor, char **secret,
    struct sc_err *err);

/**
 * As sc_db_token_create(), recording @actor_role (the acting token's role,
 * or NULL for "system") as the role of the audit event.
 */
int sc_db_token_create_as(struct sc_db *db, const char *name, const char *role,
    const char *key_alias, const char *actor, const char *actor_role,
    char **secret, struct sc_err *err);

/**
 * Looks a token up by the SHA-256 of the presented secret; the stored
 * hash is compared in constant time.
 * @return SC_DB_ONE with *out filled, SC_DB_NONE if unknown or revoked,
 *         SC_DB_HARD with err set (SC_E_UNAVAILABLE when the database is
 *         down).
 */
enum sc_db_qs sc_db_token_lookup(struct sc_db *db, const uint8_t hash[32],
    struct sc_db_token *out, struct sc_err *err);

#endif
