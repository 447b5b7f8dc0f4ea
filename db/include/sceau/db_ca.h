/*
 * sceau db, CA area: the hierarchy (table ca), certificates through
 * Boulder's issuance cycle (reserved -> linted -> issued | failed),
 * service certificates, registration requests and approvals
 * (002_ca.sql).
 *
 * Functions taking a struct sc_db_conn run inside the caller's
 * transaction (sc_db_run_txn()). Text outputs are copied into fixed
 * buffers; byte outputs are malloc'd and freed by the *_free() helpers.
 */
#ifndef SCEAU_DB_CA_H
#define SCEAU_DB_CA_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/db.h"

struct sc_db_ca_row {
	char name[48];
	char kind[16];	 /* root, issuing */
	char parent[48]; /* "" for the root */
	char key_alias[80];
	char subject[512];
	uint8_t *cert_der; /* malloc'd by sc_db_ca_get(); NULL in lists */
	size_t cert_len;
};

/** Takes the transaction-scoped lock that serialises hierarchy set-up. */
int sc_db_ca_lock(struct sc_db_conn *c, struct sc_err *err);
/** Number of CAs. */
int sc_db_ca_count(struct sc_db_conn *c, int64_t *n, struct sc_err *err);
/**
 * Inserts a CA. @name_hash, @key_hash: SHA-1 (RFC 6960 §4.1.1), 20 bytes.
 * @not_after RFC 3339.
 */
int sc_db_ca_insert(struct sc_db_conn *c, const struct sc_db_ca_row *row,
    const uint8_t name_hash[20], const uint8_t key_hash[20],
    const char *not_after, struct sc_err *err);
/** @return SC_DB_ONE (row filled; free with sc_db_ca_row_free), NONE, HARD. */
enum sc_db_qs sc_db_ca_get(struct sc_db_conn *c, const char *name,
    struct sc_db_ca_row *out, struct sc_err *err);
/** All CAs, without certificates. @param[out] rows malloc'd (free()). */
int sc_db_ca_list(struct sc_db_conn *c, struct sc_db_ca_row **rows, size_t *n,
    struct sc_err *err);
void sc_db_ca_row_free(struct sc_db_ca_row *row);

/* A certificate row about to be reserved. */
struct sc_db_cert_new {
	const char *serial;  /* lower-case hex */
	const char *ca_name;
	const char *profile;
	int64_t request_id;  /* -1: none */
	const char *subject; /* RFC 2253 text */
	const char *key_alias; /* or NULL */
};

/** Step 1: the serial, status 'reserved'. 23505 -> SC_E_CONFLICT. */
int sc_db_cert_reserve(struct sc_db_conn *c, const struct sc_db_cert_new *n,
    struct sc_err *err);
/** Step 3: the linted TBS; only from 'reserved' (else SC_E_CONFLICT). */
int sc_db_cert_linted(struct sc_db_conn *c, const char *serial,
    const uint8_t *tbs, size_t tbs_len, const char *not_before,
    const char *not_after, struct sc_err *err);
/** Step 6: the certificate; only from 'linted' (else SC_E_CONFLICT). */
int sc_db_cert_issued(struct sc_db_conn *c, const char *serial,
    const uint8_t *der, size_t len, struct sc_err *err);
/** A reserved or linted row that will never be issued. */
int sc_db_cert_fail(struct sc_db_conn *c, const char *serial,
    const char *failure, struct sc_err *err);

struct sc_db_cert_row {
	char serial[41];
	char ca_name[48];
	char profile[48];
	char status[16];
	char subject[512];
	char not_before[32]; /* RFC 3339 or "" */
	char not_after[32];
	char revoked_at[32];
	int64_t request_id;  /* -1: none */
	uint8_t *cert_der;   /* malloc'd, or NULL */
	size_t cert_len;
	uint8_t *tbs_der;    /* malloc'd, or NULL */
	size_t tbs_len;
};

/** @return SC_DB_ONE (free with sc_db_cert_row_free), NONE, or HARD. */
enum sc_db_qs sc_db_cert_get(struct sc_db_conn *c, const char *serial,
    struct sc_db_cert_row *out, struct sc_err *err);
void sc_db_cert_row_free(struct sc_db_cert_row *row);

/** A TSA unit's or OCSP responder's certificate (kind "tsa", "ocsp"). */
int sc_db_svc_insert(struct sc_db_conn *c, const char *kind,
    const char *ca_name, const char *key_alias, const char *serial,
    const uint8_t *der, size_t len, const char *not_after,
    struct sc_err *err);

struct sc_db_req_row {
	int64_t id;
	char profile[48];
	uint8_t *csr_der; /* malloc'd, or NULL */
	size_t csr_len;
	char key_alias[80];
	char *subject;	  /* JSON text, malloc'd */
	char evidence[256];
	char status[16];
	unsigned approvals_needed;
	unsigned approvals;
	char submitted_by[128];
	char reason[256];
	char serial[41];
};

/** Inserts a pending request. @param[out] id */
int sc_db_req_insert(struct sc_db_conn *c, const struct sc_db_req_row *row,
    int64_t *id, struct sc_err *err);
/**
 * Reads request @id, after locking its row (FOR UPDATE) when @lock.
 * @return SC_DB_ONE (free with sc_db_req_row_free), NONE, or HARD.
 */
enum sc_db_qs sc_db_req_get(struct sc_db_conn *c, int64_t id, int lock,
    struct sc_db_req_row *out, struct sc_err *err);
void sc_db_req_row_free(struct sc_db_req_row *row);
/** Records @approver's approval; SC_E_CONFLICT if already given. */
int sc_db_req_approve(struct sc_db_conn *c, int64_t id, const char *approver,
    struct sc_err *err);
/** Certificates of request @id not 'failed'. */
int sc_db_req_active_certs(struct sc_db_conn *c, int64_t id, int64_t *n,
    struct sc_err *err);
/** Closes a pending request: issued (with @serial), rejected or failed. */
int sc_db_req_decide(struct sc_db_conn *c, int64_t id, const char *status,
    const char *reason, const char *serial, struct sc_err *err);

#endif
