/*
 * sceau db, PKI status: the rows behind revocation, CRLs and the OCSP
 * responder (db/migrations/003_pki.sql, on the tables of 002_ca.sql).
 *
 * Functions that take a struct sc_db_conn run inside the caller's
 * transaction (sc_db_run_txn); those that take a struct sc_db run one
 * statement on a pooled connection. Times are epoch seconds (UTC); -1
 * stands for SQL NULL. No libpq type appears here.
 */
#ifndef SCEAU_DB_PKI_H
#define SCEAU_DB_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/db.h"

#define SC_DB_PKI_NAME_MAX 48
#define SC_DB_PKI_ALIAS_MAX 80
#define SC_DB_PKI_SERIAL_MAX 41 /* 40 hex digits + NUL */

/* A CA of the hierarchy (table ca). */
struct sc_db_pki_ca {
	char name[SC_DB_PKI_NAME_MAX];
	char kind[16];		 /* "root" or "issuing" */
	char key_alias[SC_DB_PKI_ALIAS_MAX];
	uint8_t *cert_der;	 /* malloc'd; sc_db_pki_ca_clear() frees */
	size_t cert_len;
	int64_t not_after;
};

/* An active OCSP responder certificate (service_certs kind 'ocsp'). */
struct sc_db_pki_responder {
	char ca_name[SC_DB_PKI_NAME_MAX];
	char key_alias[SC_DB_PKI_ALIAS_MAX];
	uint8_t *cert_der; /* malloc'd */
	size_t cert_len;
	int64_t not_after;
};

/* The status columns of one certificate of one CA. */
struct sc_db_pki_status {
	char status[16];    /* reserved, linted, issued, failed */
	int64_t revoked_at; /* -1: not revoked */
	int reason;	    /* RFC 5280 CRLReason, -1: none */
	int64_t invalidity; /* -1: none */
	int64_t not_after;  /* -1: unknown */
};

/* One revoked certificate, for a CRL. */
struct sc_db_pki_revoked {
	char serial[SC_DB_PKI_SERIAL_MAX];
	int64_t revoked_at;
	int reason;	    /* -1: none */
	int64_t invalidity; /* -1: none */
};

/* A certificate row locked for update (revocation). */
struct sc_db_pki_certrow {
	char ca_name[SC_DB_PKI_NAME_MAX];
	char status[16];
	int64_t revoked_at; /* -1: not revoked */
	uint8_t *cert_der;  /* malloc'd, NULL while not issued */
	size_t cert_len;
};

/* The latest CRL of a CA. */
struct sc_db_pki_crl {
	int64_t number;
	int64_t this_update;
	int64_t next_update;
	int entries;
	uint8_t *der; /* malloc'd; free() */
	size_t len;
};

/** Frees the members of @ca (not @ca itself); NULL is ignored. */
void sc_db_pki_ca_clear(struct sc_db_pki_ca *ca);
/** Frees an array from sc_db_pki_ca_list(). */
void sc_db_pki_ca_list_free(struct sc_db_pki_ca *v, size_t n);
/** Frees an array from sc_db_pki_responder_list(). */
void sc_db_pki_responder_list_free(struct sc_db_pki_responder *v, size_t n);
void sc_db_pki_certrow_clear(struct sc_db_pki_certrow *r);

/**
 * The active CAs, roots first.
 * @param[out] out array to free with sc_db_pki_ca_list_free().
 */
int sc_db_pki_ca_list(struct sc_db *db, struct sc_db_pki_ca **out,
    size_t *n, struct sc_err *err);

/**
 * The CA @name, in the caller's transaction.
 * @return SC_DB_ONE (clear @out with sc_db_pki_ca_clear()), SC_DB_NONE,
 *         or SC_DB_HARD/SOFT with err set.
 */
enum sc_db_qs sc_db_pki_ca_get(struct sc_db_conn *c, const char *name,
    struct sc_db_pki_ca *out, struct sc_err *err);

/**
 * The active OCSP responder certificates (service_certs kind 'ocsp').
 * @param[out] out array to free with sc_db_pki_responder_list_free().
 */
int sc_db_pki_responder_list(struct sc_db *db,
    struct sc_db_pki_responder **out, size_t *n, struct sc_err *err);

/**
 * The status of certificate @serial (lower-case hex) of CA @ca_name:
 * one indexed read on a pooled connection (the OCSP hot path).
 * @return SC_DB_ONE, SC_DB_NONE (no such row), or SC_DB_HARD with err.
 */
enum sc_db_qs sc_db_pki_cert_status(struct sc_db *db, const char *ca_name,
    const char *serial, struct sc_db_pki_status *out, struct sc_err *err);

/** At most this many lookups in one sc_db_pki_cert_status_many(). */
#define SC_DB_PKI_STATUS_BATCH 64

/**
 * sc_db_pki_cert_status() for @n (CA, serial) pairs in one statement
 * (serial = ANY ($1)), for the OCSP responder's coalesced reads. @serials
 * must be lower-case hex (they travel in an SQL array literal; anything
 * else is refused with SC_E_INVALID_INPUT).
 * @param[out] out @n statuses; @found[i] 1 when row i exists, else 0.
 * @return 0, or -1 with err (then nothing is valid).
 */
int sc_db_pki_cert_status_many(struct sc_db *db, size_t n,
    const char *const *ca_names, const char *const *serials,
    struct sc_db_pki_status *out, int *found, struct sc_err *err);

/**
 * Locks the row of certificate @serial (SELECT ... FOR UPDATE).
 * @return SC_DB_ONE (clear @out with sc_db_pki_certrow_clear()),
 *         SC_DB_NONE, or SC_DB_HARD/SOFT with err.
 */
enum sc_db_qs sc_db_pki_cert_lock(struct sc_db_conn *c, const char *serial,
    struct sc_db_pki_certrow *out, struct sc_err *err);

/**
 * Marks @serial (issued, not yet revoked, locked by the caller) revoked
 * now with @reason and @invalidity (-1: none); the trigger of 003_pki.sql
 * bumps its CA's revocation sequence (ca_status.rev_seq).
 * @param[out] revoked_at the revocation time the database recorded.
 * @return 0, or -1 (SC_E_CONFLICT if the row changed under the lock).
 */
int sc_db_pki_cert_revoke(struct sc_db_conn *c, const char *ca_name,
    const char *serial, int reason, int64_t invalidity, int64_t *revoked_at,
    struct sc_err *err);

/**
 * Takes the CA's next cRLNumber: UPDATE ... RETURNING on its ca_status
 * row, which stays locked until the caller's transaction ends, so CRL
 * numbers increase strictly across nodes and a higher number always
 * comes from a later snapshot.
 * @param[out] rev_seq the CA's revocation sequence under that lock.
 */
int sc_db_pki_crl_next(struct sc_db_conn *c, const char *ca_name,
    int64_t *number, int64_t *rev_seq, struct sc_err *err);

/**
 * Every revoked certificate of @ca_name, expired ones included
 * (expiredCertsOnCRL, X.509 (2019) §9.6.2.6).
 * @param[out] out malloc'd array (free()), *n entries.
 */
int sc_db_pki_revoked_list(struct sc_db_conn *c, const char *ca_name,
    struct sc_db_pki_revoked **out, size_t *n, struct sc_err *err);

/** Stores a CRL just signed. */
int sc_db_pki_crl_store(struct sc_db_conn *c, const char *ca_name,
    int64_t number, int64_t this_update, int64_t next_update,
    int64_t rev_seq, int entries, const uint8_t *der, size_t len,
    struct sc_err *err);

/**
 * The latest CRL of @ca_name.
 * @return SC_DB_ONE (free out->der), SC_DB_NONE, or SC_DB_HARD with err.
 */
enum sc_db_qs sc_db_pki_crl_latest(struct sc_db *db, const char *ca_name,
    struct sc_db_pki_crl *out, struct sc_err *err);

/**
 * The active CAs whose latest CRL is missing, older than @max_age
 * seconds, within @margin seconds of its nextUpdate, or older than the
 * CA's last revocation.
 * @param[out] names malloc'd array of SC_DB_PKI_NAME_MAX strings (free()).
 */
int sc_db_pki_crl_due(struct sc_db *db, int64_t max_age, int64_t margin,
    char (**names)[SC_DB_PKI_NAME_MAX], size_t *n, struct sc_err *err);

/**
 * The revocation epoch: the sum of every CA's rev_seq. It grows with
 * every change to a certificate's status or revocation columns.
 */
int sc_db_pki_rev_epoch(struct sc_db *db, int64_t *epoch, struct sc_err *err);

#endif
