/*
 * check_db.c: unit tests of db/ against a real PostgreSQL (the one of
 * SCEAU_TEST_ENV): pool, transactions, migrations, tokens, the audit
 * chain and its tamper detection, and surviving a server restart.
 *
 * Every run starts from a fresh schema (DROP SCHEMA public CASCADE), so
 * the suite can be rerun on the same database. Tampering goes through
 * psql as a superuser who first disables the append-only triggers: that
 * is the attacker the hash chain is for.
 */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sceau/db.h"
#include "testenv.h"

#define ENV_SH SCEAU_SOURCE_DIR "/scripts/lib/env.sh"

static struct sc_config cfg;
static char *conninfo;
static struct sc_db *db; /* opened by the fixture */

/* Runs a shell command with env.sh sourced. @return its exit status. */
static int
sh(const char *script)
{
	char cmd[2048];
	int st;

	setenv("SC_T_SCRIPT", script, 1);
	snprintf(cmd, sizeof(cmd),
	    "bash -c 'source %s && eval \"$SC_T_SCRIPT\"'", ENV_SH);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int psql(const char *fmt, ...) SC_ATTR_PRINTF(1, 2);

/* Runs SQL through psql as the superuser. @return psql's exit status. */
static int
psql(const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	setenv("SC_T_URL", conninfo, 1);
	setenv("SC_T_SQL", sql, 1);
	return sh("\"$PGBIN/psql\" -X -q -v ON_ERROR_STOP=1 -d \"$SC_T_URL\" "
		  "-c \"$SC_T_SQL\" >/dev/null 2>&1");
}

/* psql that fails unless @cond (an SQL boolean) holds. */
static int
psql_true(const char *cond)
{
	return psql("DO $$ BEGIN IF NOT (%s) THEN RAISE EXCEPTION "
		    "'false'; END IF; END $$;",
	    cond);
}

static int
pg_stop(void)
{
	return sh("sc_pg_stop \"$SCEAU_TEST_ENV\"");
}

static int
pg_start(void)
{
	return sh("sc_pg_start \"$SCEAU_TEST_ENV\" >/dev/null");
}

static void
reset_schema(void)
{
	ck_assert_int_eq(psql("DROP SCHEMA IF EXISTS public CASCADE; "
			      "CREATE SCHEMA public;"),
	    0);
}

/* Empties the audit log the way an attacker would have to. */
static void
reset_audit(void)
{
	ck_assert_int_eq(psql("ALTER TABLE audit_log DISABLE TRIGGER USER; "
			      "TRUNCATE audit_log; "
			      "ALTER TABLE audit_log ENABLE TRIGGER USER;"),
	    0);
}

static int
count_migrations(void)
{
	DIR *d = opendir(cfg.migrations);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 4 && strcmp(de->d_name + len - 4, ".sql") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
setup(void)
{
	struct sc_err err;
	int applied = -1;

	sc_err_clear(&err);
	db = sc_db_open(conninfo, cfg.db_pool, &err);
	ck_assert_msg(db != NULL, "%s", err.msg);
	ck_assert_msg(sc_db_migrate(db, cfg.migrations, &applied, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
}

static void
teardown(void)
{
	sc_db_close(db);
	db = NULL;
}

/* ---------------------------------------------------------------- */
/* Audit helpers                                                      */

struct append_arg {
	const char *actor;
	int n;    /* events per transaction */
	int fail; /* fail after appending */
};

static int
append_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct append_arg *a = arg;
	char details[64];
	struct sc_audit_event ev;

	for (int i = 0; i < a->n; i++) {
		snprintf(details, sizeof(details), "{\"i\":%d}", i);
		ev.actor = a->actor;
		ev.role = "ca_admin";
		ev.action = "test.append";
		ev.object = "obj \"quoted\" é";
		ev.details = details;
		if (sc_db_audit_append(c, &ev, err) != 0)
			return -1;
	}
	if (a->fail)
		return sc_err_set(err, SC_E_CONFLICT, "the callback failed");
	return 0;
}

static void
append_rows(struct sc_db *d, int n)
{
	struct append_arg a = {"tester", 1, 0};
	struct sc_err err;

	for (int i = 0; i < n; i++) {
		sc_err_clear(&err);
		ck_assert_msg(sc_db_run_txn(d, append_fn, &a, &err) == 0,
		    "%s (%s)", err.msg, err.detail);
	}
}

static void
verify(struct sc_audit_report *rep)
{
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_msg(sc_db_audit_verify(db, rep, &err) == 0, "%s (%s)",
	    err.msg, err.detail);
}

/* ---------------------------------------------------------------- */
/* Migrations                                                         */

START_TEST(migrate_twice)
{
	struct sc_db *d;
	struct sc_err err;
	int applied = -1, n = count_migrations();

	ck_assert_int_ge(n, 1);
	reset_schema();
	sc_err_clear(&err);
	d = sc_db_open(conninfo, 2, &err);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(sc_db_migrate(d, cfg.migrations, &applied, &err), 0);
	ck_assert_int_eq(applied, n);
	ck_assert_int_eq(sc_db_migrate(d, cfg.migrations, &applied, &err), 0);
	ck_assert_int_eq(applied, 0);
	sc_db_close(d);
	ck_assert_int_eq(psql_true("(SELECT count(*) FROM schema_migrations) "
				   "= "
				   "(SELECT max(version) FROM "
				   "schema_migrations) AND EXISTS (SELECT 1 "
				   "FROM schema_migrations WHERE version = 1 "
				   "AND name = 'foundation')"),
	    0);
}
END_TEST

struct mig_thread {
	struct sc_db *d;
	int applied;
	int rc;
};

static void *
mig_thread(void *arg)
{
	struct mig_thread *t = arg;
	struct sc_err err;

	sc_err_clear(&err);
	t->rc = sc_db_migrate(t->d, cfg.migrations, &t->applied, &err);
	return NULL;
}

START_TEST(migrate_concurrent)
{
	struct mig_thread t[4];
	pthread_t th[4];
	struct sc_db *d;
	struct sc_err err;
	int total = 0;

	reset_schema();
	sc_err_clear(&err);
	d = sc_db_open(conninfo, 4, &err);
	ck_assert_ptr_nonnull(d);
	for (int i = 0; i < 4; i++) {
		t[i].d = d;
		t[i].applied = 0;
		t[i].rc = -1;
		ck_assert_int_eq(pthread_create(&th[i], NULL, mig_thread,
				     &t[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(t[i].rc, 0);
		total += t[i].applied;
	}
	/* The advisory lock lets each file through exactly once. */
	ck_assert_int_eq(total, count_migrations());
	sc_db_close(d);
}
END_TEST

START_TEST(migrate_bad_names)
{
	char dir[] = "/tmp/check_db.XXXXXX", path[256];
	struct sc_err err;
	FILE *fp;
	int applied = -1;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_migrate(db, "/nonexistent/folder", &applied,
			     &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_CONFIG);

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/01_Bad-Name.sql", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("SELECT 1;\n", fp);
	fclose(fp);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_migrate(db, dir, &applied, &err), -1);
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	ck_assert_int_eq(applied, 0);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Pool and transactions                                              */

START_TEST(pool_ping_stats)
{
	struct sc_db_stats st;
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_ping(db, &err), 0);
	sc_db_stats(db, &st);
	ck_assert_uint_eq(st.size, cfg.db_pool);
	ck_assert_uint_eq(st.busy, 0);
}
END_TEST

START_TEST(pool_bad_conninfo)
{
	struct sc_err err;
	struct sc_db *d;
	time_t t0;

	sc_err_clear(&err);
	ck_assert_ptr_null(sc_db_open("host=x nonsense", 2, &err));
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_db_open(conninfo, 0, &err));

	/* A server that is not there: fail fast, libpq text in detail. */
	sc_err_clear(&err);
	d = sc_db_open("host=/nonexistent/sock dbname=x user=postgres", 1,
	    &err);
	ck_assert_ptr_nonnull(d);
	t0 = time(NULL);
	ck_assert_int_eq(sc_db_ping(d, &err), -1);
	ck_assert_int_eq(err.code, SC_E_UNAVAILABLE);
	ck_assert_ptr_null(strstr(err.msg, "nonexistent"));
	ck_assert_ptr_nonnull(strstr(err.detail, "nonexistent"));
	ck_assert_int_le(time(NULL) - t0, 6);
	sc_db_close(d);
}
END_TEST

START_TEST(txn_rollback)
{
	struct append_arg a = {"tester", 3, 1};
	struct sc_audit_report before, after;
	struct sc_err err;

	append_rows(db, 1);
	verify(&before);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_run_txn(db, append_fn, &a, &err), -1);
	/* The callback's own error comes back, untouched. */
	ck_assert_int_eq(err.code, SC_E_CONFLICT);
	ck_assert_str_eq(err.msg, "the callback failed");
	verify(&after);
	ck_assert_uint_eq(after.rows, before.rows);
	ck_assert_mem_eq(after.head, before.head, 32);
	ck_assert_int_eq(after.first_bad_id, -1);

	a.fail = 0;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_run_txn(db, append_fn, &a, &err), 0);
	verify(&after);
	ck_assert_uint_eq(after.rows, before.rows + 3);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Tokens                                                             */

static void
hash_text(const char *s, uint8_t out[32])
{
	sc_sha256(s, strlen(s), out);
}

START_TEST(token_create_lookup)
{
	struct sc_db_token tok;
	struct sc_err err;
	uint8_t h[32];
	char *secret = NULL, *s2 = NULL;

	sc_err_clear(&err);
	ck_assert_msg(sc_db_token_create(db, "alice", "signer", "key-1",
			  "cli:root", &secret, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_ptr_nonnull(secret);
	ck_assert_int_eq(strncmp(secret, "sc_", 3), 0);
	ck_assert_uint_eq(strlen(secret), 3 + 43);
	ck_assert_ptr_null(strpbrk(secret, "+/="));

	hash_text(secret, h);
	memset(&tok, 0x55, sizeof(tok));
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_ONE);
	ck_assert_int_gt(tok.id, 0);
	ck_assert_str_eq(tok.name, "alice");
	ck_assert_str_eq(tok.role, "signer");
	ck_assert_str_eq(tok.key_alias, "key-1");

	/* Only the hash is stored, and the audit event is there. */
	ck_assert_int_eq(psql_true("NOT EXISTS (SELECT 1 FROM api_tokens "
				   "WHERE position('sc_' in "
				   "encode(token_hash, 'escape')) = 1)"),
	    0);
	ck_assert_int_eq(psql_true("EXISTS (SELECT 1 FROM audit_log WHERE "
				   "action = 'token.create' AND object = "
				   "'alice' AND actor = 'cli:root' AND "
				   "role = 'system' AND "
				   "details::jsonb ->> 'role' = 'signer' AND "
				   "details::jsonb ->> 'key_alias' = 'key-1')"),
	    0);

	/* The acting role is recorded when known; "" alias is none. */
	ck_assert_int_eq(sc_db_token_create_as(db, "bob \"the\" \\ admin",
			     "ca_admin", "", "alice", "ca_admin", &s2, &err),
	    0);
	hash_text(s2, h);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_ONE);
	ck_assert_str_eq(tok.key_alias, "");
	ck_assert_str_eq(tok.name, "bob \"the\" \\ admin");
	ck_assert_int_eq(psql_true("EXISTS (SELECT 1 FROM audit_log WHERE "
				   "action = 'token.create' AND actor = "
				   "'alice' AND role = 'ca_admin' AND "
				   "details::jsonb -> 'key_alias' = "
				   "'null'::jsonb)"),
	    0);

	/* A wrong token is unknown. */
	hash_text("sc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_NONE);
	ck_assert_int_eq(err.code, SC_E_OK);

	sc_secret_free(secret);
	sc_secret_free(s2);
}
END_TEST

START_TEST(token_revoked)
{
	struct sc_db_token tok;
	struct sc_err err;
	uint8_t h[32];
	char *secret = NULL;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_create(db, "revoke-me", "auditor", NULL,
			     NULL, &secret, &err),
	    0);
	hash_text(secret, h);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_ONE);
	ck_assert_int_eq(psql("UPDATE api_tokens SET revoked_at = now() "
			      "WHERE name = 'revoke-me'"),
	    0);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_NONE);
	sc_secret_free(secret);
}
END_TEST

START_TEST(token_invalid)
{
	struct sc_err err;
	char *secret = NULL, name[200];
	struct sc_audit_report before, after;

	verify(&before);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_create(db, "x", "root", NULL, "t", &secret,
			     &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_UNKNOWN_ROLE);
	ck_assert_ptr_null(secret);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_create(db, "", "signer", NULL, "t",
			     &secret, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	memset(name, 'n', 121);
	name[121] = '\0';
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_create(db, name, "signer", NULL, "t",
			     &secret, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	name[120] = '\0';
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_create(db, name, "signer", NULL, "t",
			     &secret, &err),
	    0);
	sc_secret_free(secret);
	ck_assert_int_eq(sc_db_role_valid("ra_officer"), 1);
	ck_assert_int_eq(sc_db_role_valid("system"), 0);
	ck_assert_int_eq(sc_db_role_valid(NULL), 0);
	verify(&after);
	ck_assert_uint_eq(after.rows, before.rows + 1);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Audit chain                                                        */

START_TEST(audit_many)
{
	struct sc_audit_report rep;
	struct append_arg a = {"batch", 25, 0};
	struct sc_err err;

	reset_audit();
	verify(&rep);
	ck_assert_uint_eq(rep.rows, 0);
	ck_assert_int_eq(rep.first_bad_id, -1);

	append_rows(db, 100);
	for (int i = 0; i < 40; i++) { /* 1000 more, past one page */
		sc_err_clear(&err);
		ck_assert_int_eq(sc_db_run_txn(db, append_fn, &a, &err), 0);
	}
	verify(&rep);
	ck_assert_int_eq(rep.first_bad_id, -1);
	ck_assert_uint_eq(rep.rows, 1100);
	ck_assert_int_eq(psql_true("(SELECT min(id) = 1 AND max(id) = 1100 "
				   "AND count(*) = 1100 FROM audit_log) AND "
				   "(SELECT prev_hash = '\\x00'::bytea || "
				   "decode(repeat('00', 31), 'hex') FROM "
				   "audit_log WHERE id = 1)"),
	    0);
}
END_TEST

struct thr {
	struct sc_db *d;
	int fails;
	char name[16];
};

static void *
append_thread(void *arg)
{
	struct thr *t = arg;
	struct append_arg a = {t->name, 1, 0};
	struct sc_err err;

	for (int i = 0; i < 50; i++) {
		sc_err_clear(&err);
		if (sc_db_run_txn(t->d, append_fn, &a, &err) != 0)
			t->fails++;
	}
	return NULL;
}

START_TEST(audit_concurrent)
{
	struct sc_audit_report rep;
	struct sc_db_stats st;
	struct thr t[4];
	pthread_t th[4];
	struct sc_db *small;
	struct sc_err err;

	reset_audit();
	sc_err_clear(&err);
	/* Fewer connections than threads: leases must wait. */
	small = sc_db_open(conninfo, 2, &err);
	ck_assert_ptr_nonnull(small);
	for (int i = 0; i < 4; i++) {
		t[i].d = small;
		t[i].fails = 0;
		snprintf(t[i].name, sizeof(t[i].name), "thread-%d", i);
		ck_assert_int_eq(pthread_create(&th[i], NULL, append_thread,
				     &t[i]),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(t[i].fails, 0);
	}
	sc_db_stats(small, &st);
	ck_assert_uint_eq(st.size, 2);
	ck_assert_uint_eq(st.busy, 0);
	ck_assert_uint_gt(st.waits, 0);
	sc_db_close(small);

	verify(&rep);
	ck_assert_int_eq(rep.first_bad_id, -1);
	ck_assert_uint_eq(rep.rows, 200);
	ck_assert_int_eq(psql_true("(SELECT max(id) = 200 AND count(*) = 200 "
				   "FROM audit_log) AND (SELECT count(DISTINCT "
				   "actor) = 4 FROM audit_log)"),
	    0);
}
END_TEST

START_TEST(audit_trigger_refuses)
{
	struct sc_audit_report rep;

	reset_audit();
	append_rows(db, 3);
	ck_assert_int_ne(psql("UPDATE audit_log SET actor = 'x' WHERE id = 2"),
	    0);
	ck_assert_int_ne(psql("DELETE FROM audit_log WHERE id = 3"), 0);
	ck_assert_int_ne(psql("TRUNCATE audit_log"), 0);
	verify(&rep);
	ck_assert_int_eq(rep.first_bad_id, -1);
	ck_assert_uint_eq(rep.rows, 3);
}
END_TEST

/* Tampers with a fresh 10-row chain as a superuser, then verifies. */
static void
tamper(const char *sql, struct sc_audit_report *rep)
{
	struct sc_audit_report clean;

	reset_audit();
	append_rows(db, 10);
	verify(&clean);
	ck_assert_int_eq(clean.first_bad_id, -1);
	ck_assert_uint_eq(clean.rows, 10);
	ck_assert_int_eq(psql("ALTER TABLE audit_log DISABLE TRIGGER USER; "
			      "%s; ALTER TABLE audit_log ENABLE TRIGGER USER;",
			     sql),
	    0);
	verify(rep);
}

START_TEST(audit_tamper_update)
{
	struct sc_audit_report rep;

	tamper("UPDATE audit_log SET details = '{\"i\":42}' WHERE id = 5",
	    &rep);
	ck_assert_int_eq(rep.first_bad_id, 5);
	ck_assert_uint_eq(rep.rows, 4);
	ck_assert_ptr_nonnull(strstr(rep.reason, "hash does not match"));
}
END_TEST

START_TEST(audit_tamper_update_time)
{
	struct sc_audit_report rep;

	/* One microsecond is enough. */
	tamper("UPDATE audit_log SET at = at + interval '1 microsecond' "
	       "WHERE id = 7",
	    &rep);
	ck_assert_int_eq(rep.first_bad_id, 7);
}
END_TEST

START_TEST(audit_tamper_delete)
{
	struct sc_audit_report rep;

	tamper("DELETE FROM audit_log WHERE id = 5", &rep);
	ck_assert_int_eq(rep.first_bad_id, 6);
	ck_assert_str_eq(rep.reason, "row(s) missing before id 6");
	ck_assert_uint_eq(rep.rows, 4);
}
END_TEST

START_TEST(audit_tamper_delete_first)
{
	struct sc_audit_report rep;

	tamper("DELETE FROM audit_log WHERE id <= 2", &rep);
	ck_assert_int_eq(rep.first_bad_id, 3);
	ck_assert_str_eq(rep.reason, "row(s) missing before id 3");
	ck_assert_uint_eq(rep.rows, 0);
}
END_TEST

START_TEST(audit_tamper_insert)
{
	struct sc_audit_report rep;

	/* Make room at id 5, then forge a row linked to row 4. */
	tamper("UPDATE audit_log SET id = id + 1000 WHERE id >= 5; "
	       "UPDATE audit_log SET id = id - 999 WHERE id > 1000; "
	       "INSERT INTO audit_log (id, at, actor, role, action, object, "
	       "details, prev_hash, hash) SELECT 5, now(), 'mallory', "
	       "'ca_admin', 'token.create', 'backdoor', '{}', hash, "
	       "sha256('forged') FROM audit_log WHERE id = 4",
	    &rep);
	ck_assert_int_eq(rep.first_bad_id, 5);
	ck_assert_ptr_nonnull(strstr(rep.reason, "hash does not match"));
}
END_TEST

START_TEST(audit_tamper_relink)
{
	struct sc_audit_report rep;

	/* A forged row with a fresh id at the end whose prev_hash skips
	 * the real last row. */
	tamper("INSERT INTO audit_log (id, at, actor, role, action, object, "
	       "details, prev_hash, hash) SELECT 11, now(), 'mallory', "
	       "'ca_admin', 'x', '', '{}', hash, sha256('forged') "
	       "FROM audit_log WHERE id = 9",
	    &rep);
	ck_assert_int_eq(rep.first_bad_id, 11);
	ck_assert_ptr_nonnull(strstr(rep.reason, "prev_hash"));
	ck_assert_uint_eq(rep.rows, 10);
}
END_TEST

START_TEST(audit_truncated_tail)
{
	struct sc_audit_report before, after;

	/* The known limit: removing the LAST rows keeps a valid chain; only
	 * the head recorded outside the database reveals it. */
	reset_audit();
	append_rows(db, 10);
	verify(&before);
	ck_assert_int_eq(psql("ALTER TABLE audit_log DISABLE TRIGGER USER; "
			      "DELETE FROM audit_log WHERE id >= 9; "
			      "ALTER TABLE audit_log ENABLE TRIGGER USER;"),
	    0);
	verify(&after);
	ck_assert_int_eq(after.first_bad_id, -1);
	ck_assert_uint_eq(after.rows, 8);
	ck_assert_mem_ne(after.head, before.head, 32);
}
END_TEST

/* ---------------------------------------------------------------- */
/* PostgreSQL restart under a running pool                            */

static void
restart_teardown(void)
{
	/* Whatever happened, leave the server running. */
	(void)pg_start();
}

START_TEST(restart_survives)
{
	struct sc_db_token tok;
	struct sc_db_stats st;
	struct sc_audit_report rep;
	struct sc_err err;
	struct append_arg a = {"restart", 1, 0};
	uint8_t h[32];
	char *secret = NULL;
	time_t t0;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_create(db, "restart", "signer", NULL, "t",
			     &secret, &err),
	    0);
	hash_text(secret, h);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_ONE);

	ck_assert_int_eq(pg_stop(), 0);
	t0 = time(NULL);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_ping(db, &err), -1);
	ck_assert_int_eq(err.code, SC_E_UNAVAILABLE);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_HARD);
	ck_assert_int_eq(err.code, SC_E_UNAVAILABLE);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_run_txn(db, append_fn, &a, &err), -1);
	ck_assert_int_eq(err.code, SC_E_UNAVAILABLE);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_audit_verify(db, &rep, &err), -1);
	ck_assert_int_eq(err.code, SC_E_UNAVAILABLE);
	ck_assert_int_le(time(NULL) - t0, 5); /* fast, no hang */

	ck_assert_int_eq(pg_start(), 0);
	/* The same pool, never reopened. */
	sc_err_clear(&err);
	ck_assert_msg(sc_db_ping(db, &err) == 0, "%s (%s)", err.msg,
	    err.detail);
	ck_assert_int_eq(sc_db_token_lookup(db, h, &tok, &err), SC_DB_ONE);
	ck_assert_str_eq(tok.name, "restart");
	ck_assert_int_eq(sc_db_run_txn(db, append_fn, &a, &err), 0);
	verify(&rep);
	ck_assert_int_eq(rep.first_bad_id, -1);
	sc_db_stats(db, &st);
	ck_assert_uint_eq(st.busy, 0);
	sc_secret_free(secret);
}
END_TEST

START_TEST(restart_while_idle)
{
	struct sc_audit_report rep;
	struct sc_err err;
	struct append_arg a = {"idle", 1, 0};
	struct thr t[4];
	pthread_t th[4];

	/* Use several connections at once, restart behind their back, and
	 * go on: no call after the restart may fail, however many of the
	 * pooled connections went stale. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 4; i++) {
			t[i].d = db;
			t[i].fails = 0;
			snprintf(t[i].name, sizeof(t[i].name), "idle-%d", i);
			ck_assert_int_eq(pthread_create(&th[i], NULL,
					     append_thread, &t[i]),
			    0);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			ck_assert_int_eq(t[i].fails, 0);
		}
		ck_assert_int_eq(pg_stop(), 0);
		ck_assert_int_eq(pg_start(), 0);
	}
	sc_err_clear(&err);
	ck_assert_msg(sc_db_run_txn(db, append_fn, &a, &err) == 0, "%s (%s)",
	    err.msg, err.detail);
	ck_assert_msg(sc_db_ping(db, &err) == 0, "%s (%s)", err.msg,
	    err.detail);
	verify(&rep);
	ck_assert_int_eq(rep.first_bad_id, -1);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;

	tc = tcase_create("migrate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, migrate_twice);
	tcase_add_test(tc, migrate_concurrent);
	tcase_add_test(tc, migrate_bad_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, pool_ping_stats);
	tcase_add_test(tc, pool_bad_conninfo);
	tcase_add_test(tc, txn_rollback);
	suite_add_tcase(s, tc);

	tc = tcase_create("token");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, token_create_lookup);
	tcase_add_test(tc, token_revoked);
	tcase_add_test(tc, token_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("audit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, audit_many);
	tcase_add_test(tc, audit_concurrent);
	tcase_add_test(tc, audit_trigger_refuses);
	tcase_add_test(tc, audit_tamper_update);
	tcase_add_test(tc, audit_tamper_update_time);
	tcase_add_test(tc, audit_tamper_delete);
	tcase_add_test(tc, audit_tamper_delete_first);
	tcase_add_test(tc, audit_tamper_insert);
	tcase_add_test(tc, audit_tamper_relink);
	tcase_add_test(tc, audit_truncated_tail);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, restart_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, restart_survives);
	tcase_add_test(tc, restart_while_idle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	struct sc_err err;
	SRunner *sr;
	int failed;

	testenv_config(&cfg);
	sc_log_init(SC_LOG_WARNING, NULL);
	sc_err_clear(&err);
	if ((conninfo = sc_config_db_url(&cfg, &err)) == NULL) {
		fprintf(stderr, "check_db: %s\n", err.msg);
		return 1;
	}
	/* A fresh schema on every run, so the suite can be rerun. */
	if (pg_start() != 0 ||
	    psql("DROP SCHEMA IF EXISTS public CASCADE; "
		 "CREATE SCHEMA public;") != 0) {
		fprintf(stderr, "check_db: cannot reset the database\n");
		return 1;
	}
	sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sc_secret_free(conninfo);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
