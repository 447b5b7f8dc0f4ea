/*
 * db_audit.c: the append-only, hash-chained audit log (Law 2016-012
 * Art. 120).
 *
 * Canonical form of a row, hashed with SHA-256:
 *
 *   prev_hash (32 bytes)
 *   || L(id) || L(at) || L(actor) || L(role) || L(action) || L(object)
 *   || L(details)
 *
 * where L(x) is the 4-byte big-endian length of x followed by its bytes,
 * id is decimal text ("42"), and at is RFC 3339 UTC with microseconds
 * ("2026-11-27T05:06:12.123456Z", sc_time_fmt()). The first row's
 * prev_hash is 32 zero bytes. Verification reads `at` back with to_char()
 * in UTC, which gives the very same text, since timestamptz keeps
 * microseconds.
 *
 * What the chain proves: a row changed, removed or inserted in the middle
 * breaks the link or the hash of that row or of the next one, and ids
 * are contiguous from 1, so a gap names the removal. What it cannot prove
 * alone: that the LAST rows were not removed, or that someone with write
 * access did not rewrite the whole chain from some point on (there is no
 * secret in it). Operators therefore record the head hash printed by
 * `sceau audit verify` outside the database (or time-stamp it) and check
 * that the chain still goes through it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db_int.h"

#define AUDIT_FIELD_MAX (1u << 20) /* per field, on append */
#define AUDIT_FIELDS 7

static const uint8_t zero_hash[32];

/* SHA-256 over the canonical form above. @return 0 or -1. */
static int
chain_hash(const uint8_t prev[32], const char *const f[AUDIT_FIELDS],
    const size_t flen[AUDIT_FIELDS], uint8_t out[32], struct sc_err *err)
{
	struct sc_buf b;
	uint8_t be[4];
	int rc = -1;

	sc_buf_init(&b, SIZE_MAX / 2);
	if (sc_buf_append(&b, prev, 32, err) != 0)
		goto out;
	for (int i = 0; i < AUDIT_FIELDS; i++) {
		if (flen[i] > UINT32_MAX) {
			sc_err_set(err, SC_E_TOO_LARGE,
			    "audit field too large");
			goto out;
		}
		be[0] = (uint8_t)(flen[i] >> 24);
		be[1] = (uint8_t)(flen[i] >> 16);
		be[2] = (uint8_t)(flen[i] >> 8);
		be[3] = (uint8_t)flen[i];
		if (sc_buf_append(&b, be, 4, err) != 0 ||
		    sc_buf_append(&b, f[i], flen[i], err) != 0)
			goto out;
	}
	sc_sha256(b.p, b.len, out);
	rc = 0;
out:
	sc_buf_free(&b);
	return rc;
}

int
sc_db_audit_append(struct sc_db_conn *c, const struct sc_audit_event *ev,
    struct sc_err *err)
{
	struct db_params p = {0};
	PGresult *r = NULL;
	const char *f[AUDIT_FIELDS];
	size_t flen[AUDIT_FIELDS];
	char id_s[24], at_s[32];
	uint8_t prev[32], hash[32];
	int64_t id = 0;
	int rc = -1;

	if (ev == NULL || ev->action == NULL || ev->action[0] == '\0') {
		sc_err_set(err, SC_E_INTERNAL, "audit event without action");
		goto out;
	}
	/* The advisory lock is transaction-scoped: outside a transaction it
	 * would protect nothing. */
	if (c->pg == NULL || PQtransactionStatus(c->pg) != PQTRANS_INTRANS) {
		sc_err_set(err, SC_E_INTERNAL,
		    "audit append outside a transaction");
		goto out;
	}
	f[2] = ev->actor != NULL && ev->actor[0] != '\0' ? ev->actor : "system";
	f[3] = ev->role != NULL && ev->role[0] != '\0' ? ev->role : "system";
	f[4] = ev->action;
	f[5] = ev->object != NULL ? ev->object : "";
	f[6] =
	    ev->details != NULL && ev->details[0] != '\0' ? ev->details : "{}";
	for (int i = 2; i < AUDIT_FIELDS; i++)
		if ((flen[i] = strlen(f[i])) > AUDIT_FIELD_MAX) {
			sc_err_set(err, SC_E_TOO_LARGE,
			    "audit event field too large");
			goto out;
		}

	/* Serialise appenders (on every node), then read the head. */
	if (db_exec(c, ST_AUDIT_LOCK, NULL, NULL, err) != SC_DB_ONE ||
	    db_exec(c, ST_AUDIT_LAST, NULL, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) == 0) {
		id = 1;
		memcpy(prev, zero_hash, sizeof(prev));
	} else {
		if (db_get_i64(r, 0, 0, &id) != 0 ||
		    db_get_hash(r, 0, 1, prev) != 0 || id < 1 ||
		    id == INT64_MAX) {
			sc_err_set(err, SC_E_AUDIT_BROKEN,
			    "the last audit row is unreadable");
			goto out;
		}
		id++;
	}
	snprintf(id_s, sizeof(id_s), "%" PRId64, id);
	sc_time_fmt(sc_time_now(), 1, at_s);
	f[0] = id_s;
	flen[0] = strlen(id_s);
	f[1] = at_s;
	flen[1] = strlen(at_s);
	if (chain_hash(prev, f, flen, hash, err) != 0)
		goto out;

	for (int i = 0; i < AUDIT_FIELDS; i++)
		db_params_text(&p, f[i]);
	db_params_bin(&p, prev, 32);
	db_params_bin(&p, hash, 32);
	if (db_exec(c, ST_AUDIT_INSERT, &p, NULL, err) != SC_DB_ONE)
		goto out;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

static void
report_bad(struct sc_audit_report *rep, int64_t id, const char *reason)
{
	rep->first_bad_id = id;
	snprintf(rep->reason, sizeof(rep->reason), "%s", reason);
}

/*
 * Checks one row against the chain so far. @return 1 good, 0 bad
 * (rep filled), -1 error.
 */
static int
verify_row(const PGresult *r, int i, int64_t expect, uint8_t prev[32],
    struct sc_audit_report *rep, struct sc_err *err)
{
	const char *f[AUDIT_FIELDS];
	size_t flen[AUDIT_FIELDS];
	char id_s[24], why[128];
	uint8_t row_prev[32], row_hash[32], calc[32];
	int64_t id;

	if (db_get_i64(r, i, 0, &id) != 0)
		return sc_err_set(err, SC_E_DB, "unreadable audit id");
	if (id != expect) {
		if (id > expect)
			snprintf(why, sizeof(why),
			    "row(s) missing before id %" PRId64, id);
		else
			snprintf(why, sizeof(why),
			    "id %" PRId64 " out of sequence (expected %" PRId64
			    ")",
			    id, expect);
		report_bad(rep, id, why);
		return 0;
	}
	if (db_get_hash(r, i, 7, row_prev) != 0 ||
	    db_get_hash(r, i, 8, row_hash) != 0) {
		report_bad(rep, id, "prev_hash or hash is not 32 bytes");
		return 0;
	}
	if (!sc_ct_equal(row_prev, prev, 32)) {
		if (id == 1)
			report_bad(rep, id,
			    "the first row's prev_hash is not "
			    "zero");
		else {
			snprintf(why, sizeof(why),
			    "prev_hash does not match the hash of id %" PRId64,
			    id - 1);
			report_bad(rep, id, why);
		}
		return 0;
	}
	snprintf(id_s, sizeof(id_s), "%" PRId64, id);
	f[0] = id_s;
	flen[0] = strlen(id_s);
	for (int k = 1; k < AUDIT_FIELDS; k++) {
		/* NULL (a dropped constraint) hashes as "", so mismatches. */
		f[k] = PQgetvalue(r, i, k);
		flen[k] = (size_t)PQgetlength(r, i, k);
	}
	if (chain_hash(row_prev, f, flen, calc, err) != 0)
		return -1;
	if (!sc_ct_equal(calc, row_hash, 32)) {
		report_bad(rep, id,
		    "hash does not match the row's content "
		    "(row altered or forged)");
		return 0;
	}
	memcpy(prev, row_hash, 32);
	return 1;
}

static int
verify_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct sc_audit_report *rep = arg;
	struct db_params p;
	PGresult *r = NULL;
	char cursor[24];
	uint8_t prev[32];
	int64_t expect = 1, last;
	int n, rc = -1, good;

	memset(rep, 0, sizeof(*rep));
	rep->first_bad_id = -1;
	memcpy(prev, zero_hash, sizeof(prev));
	snprintf(cursor, sizeof(cursor), "%" PRId64, INT64_MIN);
	for (;;) {
		memset(&p, 0, sizeof(p));
		db_params_text(&p, cursor);
		if (db_exec(c, ST_AUDIT_PAGE, &p, &r, err) != SC_DB_ONE)
			goto out;
		if ((n = PQntuples(r)) == 0)
			break;
		for (int i = 0; i < n; i++) {
			if ((good = verify_row(r, i, expect, prev, rep, err)) <
			    0)
				goto out;
			if (good == 0) {
				rc = 0; /* the walk ran; the report says why */
				goto out;
			}
			rep->rows++;
			memcpy(rep->head, prev, 32);
			if (expect == INT64_MAX) {
				report_bad(rep, expect, "id overflow");
				rc = 0;
				goto out;
			}
			expect++;
		}
		if (db_get_i64(r, n - 1, 0, &last) != 0) {
			sc_err_set(err, SC_E_DB, "unreadable audit id");
			goto out;
		}
		snprintf(cursor, sizeof(cursor), "%" PRId64, last);
		PQclear(r);
		r = NULL;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int
sc_db_audit_verify(struct sc_db *db, struct sc_audit_report *rep,
    struct sc_err *err)
{
	/* One REPEATABLE READ snapshot: appends that commit meanwhile do
	 * not move the head under the walk. */
	return db_run_txn_as(db, ST_BEGIN_RR_RO, verify_fn, rep, err);
}
