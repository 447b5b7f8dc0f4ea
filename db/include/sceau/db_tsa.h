/*
 * sceau db, time-stamping authority area: the TSA unit's certificate and
 * chain (tables service_certs and ca, 002_ca.sql) and the record of the
 * tokens issued (table tsa_tokens, 004_tsa.sql; ETSI EN 319 421 §7.10).
 */
#ifndef SCEAU_DB_TSA_H
#define SCEAU_DB_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/db.h"

#define SC_DB_TSA_CHAIN_MAX 8

/* One issued token, as recorded. */
struct sc_db_tsa_token {
	char serial[41];     /* lower-case hex of serialNumber */
	char gen_time[40];   /* RFC 3339 UTC, "2026-11-27T05:06:12.123Z" */
	char hash_alg[8];    /* "sha256", "sha384" or "sha512" */
	uint8_t imprint[64]; /* MessageImprint.hashedMessage */
	size_t imprint_len;
	char policy[64];     /* dotted OID */
	char tsa_serial[41]; /* serial of the TSA unit's certificate */
};

/**
 * Records @n tokens in one statement and one commit (group commit). A
 * token must not leave the server before this returned 0 for it.
 * @return 0, or -1 with err (SC_E_UNAVAILABLE, SC_E_CONFLICT for a
 *         serial already recorded, SC_E_INVALID_INPUT, SC_E_DB).
 */
int sc_db_tsa_tokens_insert(struct sc_db *db,
    const struct sc_db_tsa_token *const *rows, size_t n, struct sc_err *err);

/**
 * Reads back the token record of @serial.
 * @return SC_DB_ONE with *out filled, SC_DB_NONE, or SC_DB_HARD with err.
 */
enum sc_db_qs sc_db_tsa_token_get(struct sc_db *db, const char *serial,
    struct sc_db_tsa_token *out, struct sc_err *err);

/* The active TSA unit: its certificate, key and chain. */
struct sc_db_tsa_unit {
	char key_alias[80];
	char ca_name[48];
	char serial[41]; /* of the unit's certificate */
	uint8_t *cert;   /* DER, malloc'd */
	size_t cert_len;
	size_t nchain;                       /* issuing CA first, root last */
	uint8_t *chain[SC_DB_TSA_CHAIN_MAX]; /* DER, malloc'd */
	size_t chain_len[SC_DB_TSA_CHAIN_MAX];
};

/**
 * Loads the newest active service_certs row of kind 'tsa' and the
 * certificates of its CA up to the root, in one snapshot.
 * @param[out] out free with sc_db_tsa_unit_free() after SC_DB_ONE.
 * @return SC_DB_ONE, SC_DB_NONE (no TSA unit yet: no hierarchy), or
 *         SC_DB_HARD with err.
 */
enum sc_db_qs sc_db_tsa_unit_load(struct sc_db *db, struct sc_db_tsa_unit *out,
    struct sc_err *err);

/** Frees what sc_db_tsa_unit_load() allocated; zeroes @u. */
void sc_db_tsa_unit_free(struct sc_db_tsa_unit *u);

#endif
