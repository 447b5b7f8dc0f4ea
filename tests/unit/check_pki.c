/*
 * check_pki.c: revocation, CRLs and the OCSP responder (ca/ca_revoke.c,
 * ca/ca_crl.c, ca/ca_ocsp.c, db/db_pki.c) against a real PostgreSQL and
 * SoftHSM2 (SCEAU_TEST_ENV), with interop checks by `openssl crl` and
 * `openssl ocsp`.
 *
 * The suite makes its own database (t_pki_<random>) and its own
 * hierarchy with testpki (root, issuing CA, delegated OCSP responder,
 * leaves, all keys in the token), and inserts the ca, certificates and
 * service_certs rows itself through psql, so that it does not depend on
 * the issuance code. The tests share that state and run in order,
 * without fork (PKCS#11 sessions do not survive fork()).
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/ca_status.h"
#include "sceau/db.h"
#include "sceau/db_pki.h"
#include "sceau/hsm.h"
#include "testenv.h"
#include "testpki.h"

#define ENV_SH SCEAU_SOURCE_DIR "/scripts/lib/env.sh"

static struct sc_config cfg;
static char *base_url; /* conninfo of the environment */
static char conninfo[2048];
static char dbname[64];
static char dir[256]; /* scratch files */
static struct sc_db *db;
static struct sc_hsm *hsm;
static X509 *root, *issuing, *responder, *leaf_good, *leaf_rev, *leaf_holder;
static X509 *leaf_reserved, *foreign_ca, *foreign_leaf, *leaf_sql;
static char leaf_holder_alias[80], root_alias[80];
static struct sc_ca_ocsp *ocsp;

/* ---------------------------------------------------------------- */
/* Helpers                                                            */

static int
sh(const char *script)
{
	char cmd[512];
	int st;

	setenv("SC_T_SCRIPT", script, 1);
	snprintf(cmd, sizeof(cmd),
	    "bash -c 'source %s && eval \"$SC_T_SCRIPT\"'", ENV_SH);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int psql(const char *url, const char *fmt, ...) SC_ATTR_PRINTF(2, 3);

/* SQL through psql as the superuser. @return psql's exit status. */
static int
psql(const char *url, const char *fmt, ...)
{
	static char sql[65536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	setenv("SC_T_URL", url, 1);
	setenv("SC_T_SQL", sql, 1);
	return sh("\"$PGBIN/psql\" -X -q -v ON_ERROR_STOP=1 -d \"$SC_T_URL\" "
		  "-c \"$SC_T_SQL\" >/dev/null");
}

static int
psql_true(const char *cond)
{
	return psql(conninfo,
	    "DO $$ BEGIN IF NOT (%s) THEN RAISE EXCEPTION 'false'; END IF; "
	    "END $$;",
	    cond);
}

static char *
der_hex(X509 *x)
{
	unsigned char *der = NULL;
	char *hex;
	int n = i2d_X509(x, &der);

	ck_assert_int_gt(n, 0);
	hex = malloc((size_t)n * 2 + 1);
	ck_assert_ptr_nonnull(hex);
	sc_hex_encode(der, (size_t)n, hex);
	OPENSSL_free(der);
	return hex;
}

/* Lower-case hex of the serial, as stored (002_ca.sql). */
static void
serial_of(X509 *x, char out[41])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h = BN_bn2hex(bn);

	ck_assert_ptr_nonnull(h);
	snprintf(out, 41, "%s", h);
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	OPENSSL_free(h);
	BN_free(bn);
}

static void
write_pem(X509 *x, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void
write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static size_t
read_file(const char *name, uint8_t *buf, size_t max)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

/* Runs a shell command in the scratch folder. @return its exit status. */
static int run(const char *fmt, ...) SC_ATTR_PRINTF(1, 2);

static int
run(const char *fmt, ...)
{
	char cmd[2048], full[2400];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
	st = system(full);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static void
insert_ca(const char *name, const char *kind, const char *parent, X509 *x,
    const char *alias)
{
	char *hex = der_hex(x);

	ck_assert_int_eq(psql(conninfo,
			     "INSERT INTO ca (name, kind, parent, key_alias, "
			     "subject, cert_der, name_hash, key_hash, "
			     "not_after) VALUES ('%s', '%s', %s, '%s', "
			     "'test', decode('%s', 'hex'), '\\x00', '\\x00', "
			     "now() + interval '1 year')",
			     name, kind, parent, alias, hex),
	    0);
	free(hex);
}

/* A certificates row; @not_after is an SQL expression. */
static void
insert_cert(X509 *x, const char *ca, const char *status,
    const char *not_after)
{
	char serial[41];
	char *hex = der_hex(x);
	int issued = strcmp(status, "issued") == 0;

	serial_of(x, serial);
	ck_assert_int_eq(psql(conninfo,
			     "INSERT INTO certificates (serial, ca_name, "
			     "profile, status, subject, not_before, "
			     "not_after, cert_der, issued_at) VALUES ('%s', "
			     "'%s', 'test', '%s', 'test', now() - interval "
			     "'1 hour', %s, decode(%s%s%s, 'hex'), now())",
			     serial, ca, status, not_after, issued ? "'" : "",
			     issued ? hex : "NULL", issued ? "'" : ""),
	    0);
	free(hex);
}

/* ---------------------------------------------------------------- */
/* Set-up: database, token, hierarchy                                 */

static void
setup_all(void)
{
	struct testpki_spec ca_spec = {"sceau test root", 1, NULL, 0, 3650,
	    NULL};
	struct testpki_spec iss_spec = {"sceau test issuing", 1, NULL, 0,
	    1825, NULL};
	struct testpki_spec ocsp_spec = {"sceau test OCSP", 0, "OCSPSigning",
	    1, 365, NULL};
	struct testpki_spec leaf_spec = {"Awa Traore", 0, NULL, 0, 365, NULL};
	char a_root[80], a_iss[80], a_ocsp[80], a[80];
	struct sc_err err;
	unsigned char r[4];
	char serial[41];
	char *hex;
	int applied;

	testenv_config(&cfg);
	sc_err_clear(&err);
	base_url = sc_config_db_url(&cfg, &err);
	ck_assert_msg(base_url != NULL, "%s", err.msg);
	ck_assert_int_eq(sc_rand_bytes(r, sizeof(r), &err), 0);
	snprintf(dbname, sizeof(dbname), "t_pki_%02x%02x%02x%02x", r[0], r[1],
	    r[2], r[3]);
	/* libpq: the last dbname of a conninfo wins. */
	snprintf(conninfo, sizeof(conninfo), "%s dbname=%s", base_url, dbname);
	ck_assert_int_eq(psql(base_url, "CREATE DATABASE %s", dbname), 0);
	db = sc_db_open(conninfo, 8, &err);
	ck_assert_msg(db != NULL, "%s", err.msg);
	ck_assert_msg(sc_db_migrate(db, cfg.migrations, &applied, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	hsm = sc_hsm_open(&cfg, &err);
	ck_assert_msg(hsm != NULL, "%s (%s)", err.msg, err.detail);
	snprintf(dir, sizeof(dir), "/tmp/check_pki.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));

	testpki_alias("pki-root", root_alias);
	testpki_alias("pki-iss", a_iss);
	testpki_alias("pki-ocsp", a_ocsp);
	root = testpki_issue(hsm, root_alias, &ca_spec, NULL, NULL);
	issuing = testpki_issue(hsm, a_iss, &iss_spec, root, root_alias);
	responder = testpki_issue(hsm, a_ocsp, &ocsp_spec, issuing, a_iss);
	testpki_alias("pki-leaf", a);
	leaf_good = testpki_issue(hsm, a, &leaf_spec, issuing, a_iss);
	testpki_alias("pki-leaf", a);
	leaf_rev = testpki_issue(hsm, a, &leaf_spec, issuing, a_iss);
	testpki_alias("pki-holder", leaf_holder_alias);
	leaf_holder = testpki_issue(hsm, leaf_holder_alias, &leaf_spec,
	    issuing, a_iss);
	testpki_alias("pki-leaf", a);
	leaf_reserved = testpki_issue(hsm, a, &leaf_spec, issuing, a_iss);
	testpki_alias("pki-leaf", a);
	leaf_sql = testpki_issue(hsm, a, &leaf_spec, issuing, a_iss);
	testpki_alias("pki-foreign", a_root);
	foreign_ca = testpki_issue(hsm, a_root, &ca_spec, NULL, NULL);
	testpki_alias("pki-leaf", a);
	foreign_leaf = testpki_issue(hsm, a, &leaf_spec, foreign_ca, a_root);

	insert_ca("t-root", "root", "NULL", root, "pki-root-unused");
	insert_ca("t-issuing", "issuing", "'t-root'", issuing, a_iss);
	insert_cert(issuing, "t-root", "issued",
	    "now() + interval '5 years'");
	insert_cert(responder, "t-issuing", "issued",
	    "now() + interval '1 year'");
	insert_cert(leaf_good, "t-issuing", "issued",
	    "now() + interval '1 year'");
	insert_cert(leaf_rev, "t-issuing", "issued",
	    "now() + interval '1 year'");
	insert_cert(leaf_holder, "t-issuing", "issued",
	    "now() + interval '1 year'");
	insert_cert(leaf_reserved, "t-issuing", "reserved", "NULL");
	insert_cert(leaf_sql, "t-issuing", "issued", "now() + interval '1 year'");
	/* A revoked certificate that expired ten days ago (serial random). */
	ck_assert_int_eq(psql(conninfo,
			     "INSERT INTO certificates (serial, ca_name, "
			     "profile, status, not_before, not_after, "
			     "cert_der, issued_at, revoked_at, "
			     "revocation_reason) VALUES "
			     "('5eed0000000000000000000000000001', "
			     "'t-issuing', 'test', 'issued', now() - "
			     "interval '1 year', now() - interval '10 days', "
			     "'\\x30', now() - interval '1 year', now() - "
			     "interval '200 days', 4)"),
	    0);
	serial_of(responder, serial);
	hex = der_hex(responder);
	ck_assert_int_eq(psql(conninfo,
			     "INSERT INTO service_certs (kind, ca_name, "
			     "key_alias, serial, cert_der, not_after) VALUES "
			     "('ocsp', 't-issuing', '%s', '%s', "
			     "decode('%s', 'hex'), now() + interval '1 year')",
			     a_ocsp, serial, hex),
	    0);
	free(hex);
	write_pem(root, "root.pem");
	write_pem(issuing, "issuing.pem");
	write_pem(responder, "responder.pem");
	write_pem(leaf_good, "good.pem");
	write_pem(leaf_rev, "rev.pem");
	write_pem(foreign_ca, "foreign.pem");
	write_pem(foreign_leaf, "foreign_leaf.pem");
	ck_assert_int_eq(run("cat issuing.pem root.pem > chain.pem"), 0);
}

static void
teardown_all(void)
{
	X509 *all[] = {root, issuing, responder, leaf_good, leaf_rev,
	    leaf_holder, leaf_reserved, foreign_ca, foreign_leaf, leaf_sql};

	sc_ca_ocsp_free(ocsp);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_free(all[i]);
	sc_hsm_close(hsm);
	sc_db_close(db);
	if (base_url != NULL && dbname[0] != '\0')
		psql(base_url, "DROP DATABASE IF EXISTS %s", dbname);
	sc_secret_free(base_url);
	if (dir[0] != '\0')
		run("rm -rf '%s'", dir);
}

/* ---------------------------------------------------------------- */
/* CRL                                                                */

static X509_CRL *
crl_issue(const char *ca, struct sc_ca_crl_info *info)
{
	struct sc_err err;
	uint8_t *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	X509_CRL *crl;

	sc_err_clear(&err);
	ck_assert_msg(sc_ca_crl_issue(db, hsm, ca, NULL, &der, &len, info,
			  &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	ck_assert_ptr_nonnull(crl);
	ck_assert_ptr_eq(p, der + len);
	write_file("last.crl", der, len);
	free(der);
	return crl;
}

static int64_t
crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	int64_t v = -1;

	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(ASN1_INTEGER_get_int64(&v, n), 1);
	ASN1_INTEGER_free(n);
	return v;
}

static const X509_REVOKED *
crl_find(X509_CRL *crl, X509 *x)
{
	X509_REVOKED *rv = NULL;

	if (X509_CRL_get0_by_serial(crl, &rv,
		X509_get0_serialNumber(x)) != 1)
		return NULL;
	return rv;
}

static void
revoke_ok(X509 *x, const char *reason, const char *inv)
{
	struct sc_actor who = {"officer-1", "ra_officer"};
	struct sc_ca_revocation rv;
	struct sc_err err;
	char serial[41];

	serial_of(x, serial);
	sc_err_clear(&err);
	ck_assert_msg(sc_ca_cert_revoke(db, hsm, &who, serial, reason, inv,
			  &rv, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_int_eq(rv.crl_issued, 1);
	ck_assert_str_eq(rv.ca_name, "t-issuing");
}

START_TEST(crl_structure)
{
	struct sc_ca_crl_info info;
	X509_CRL *crl = crl_issue("t-issuing", &info);
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuing);
	ASN1_OBJECT *eco = OBJ_txt2obj("2.5.29.60", 1);
	int days, secs;

	ck_assert_int_eq(X509_CRL_get_version(crl), 1); /* v2 */
	ck_assert_int_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl),
			     X509_get_subject_name(issuing)),
	    0);
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL,
	    NULL);
	ck_assert_ptr_nonnull(akid);
	ck_assert_int_eq(ASN1_OCTET_STRING_cmp(akid->keyid, ski), 0);
	AUTHORITY_KEYID_free(akid);
	ck_assert_int_eq(crl_number(crl), info.number);
	ck_assert_int_eq(ASN1_TIME_diff(&days, &secs,
			     X509_CRL_get0_lastUpdate(crl),
			     X509_CRL_get0_nextUpdate(crl)),
	    1);
	ck_assert_int_le(days * 86400 + secs, 7 * 86400);
	ck_assert_int_gt(days * 86400 + secs, 0);
	ck_assert_int_ge(X509_CRL_get_ext_by_OBJ(crl, eco, -1), 0);
	ASN1_OBJECT_free(eco);
	/* the expired revoked certificate stays listed */
	ck_assert_int_eq(info.entries, 1);
	ck_assert_int_eq(X509_CRL_verify(crl, X509_get0_pubkey(issuing)), 1);
	X509_CRL_free(crl);
	/* interop: openssl verifies the signature with the CA */
	ck_assert_int_eq(run("openssl crl -inform DER -in last.crl -noout "
			     "-CAfile chain.pem 2>&1 | grep -q 'verify OK'"),
	    0);
	ck_assert_int_eq(run("openssl crl -inform DER -in last.crl -noout "
			     "-CAfile foreign.pem 2>&1 | grep -q 'verify OK'"),
	    1);
	/* stored, and audited */
	ck_assert_int_eq(psql_true("(SELECT count(*) FROM crls WHERE ca_name "
				   "= 't-issuing') >= 1"),
	    0);
	ck_assert_int_eq(psql_true("(SELECT count(*) FROM audit_log WHERE "
				   "action = 'crl.issue') >= 1"),
	    0);
}
END_TEST

START_TEST(crl_root)
{
	struct sc_ca_crl_info info;
	X509_CRL *crl;
	struct sc_err err;

	/* The root's key alias in the table is wrong: refused, loudly. */
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_crl_issue(db, hsm, "t-root", NULL, NULL, NULL,
			     NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_KEY_NOT_FOUND);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_crl_issue(db, hsm, "nope", NULL, NULL, NULL,
			     NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_NOT_FOUND);
	/* With the right alias: the root's CRL, for the issuing CA. */
	ck_assert_int_eq(psql(conninfo,
			     "UPDATE ca SET key_alias = '%s' WHERE name = "
			     "'t-root'",
			     root_alias),
	    0);
	crl = crl_issue("t-root", &info);
	ck_assert_int_eq(info.entries, 0);
	ck_assert_int_eq(info.number, 1);
	ck_assert_ptr_null(crl_find(crl, issuing));
	X509_CRL_free(crl);
	ck_assert_int_eq(run("openssl crl -inform DER -in last.crl -noout "
			     "-CAfile root.pem 2>&1 | grep -q 'verify OK'"),
	    0);
}
END_TEST

START_TEST(crl_revocations)
{
	struct sc_ca_crl_info info;
	const X509_REVOKED *rv;
	ASN1_ENUMERATED *reason;
	ASN1_GENERALIZEDTIME *inv;
	X509_CRL *crl;
	int64_t before;

	crl = crl_issue("t-issuing", &info);
	before = info.number;
	ck_assert_ptr_null(crl_find(crl, leaf_rev));
	X509_CRL_free(crl);
	revoke_ok(leaf_rev, "keyCompromise", "2026-01-02T03:04:05Z");
	crl = crl_issue("t-issuing", &info);
	ck_assert_int_gt(info.number, before + 1); /* one came with revoke */
	ck_assert_int_eq(info.entries, 2);
	rv = crl_find(crl, leaf_rev);
	ck_assert_ptr_nonnull(rv);
	reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, NULL, NULL);
	ck_assert_ptr_nonnull(reason);
	ck_assert_int_eq(ASN1_ENUMERATED_get(reason), 1);
	ASN1_ENUMERATED_free(reason);
	inv = X509_REVOKED_get_ext_d2i(rv, NID_invalidity_date, NULL, NULL);
	ck_assert_ptr_nonnull(inv);
	ck_assert_int_eq(ASN1_TIME_cmp_time_t(inv, 1767323045), 0);
	ASN1_GENERALIZEDTIME_free(inv);
	X509_CRL_free(crl);
	/* openssl: the revoked leaf fails, the good one passes */
	write_pem(leaf_rev, "rev.pem");
	ck_assert_int_eq(run("openssl crl -inform DER -in last.crl -out "
			     "last.pem && openssl verify -CAfile root.pem "
			     "-untrusted issuing.pem -crl_check -CRLfile "
			     "last.pem good.pem >/dev/null 2>&1"),
	    0);
	ck_assert_int_ne(run("openssl verify -CAfile root.pem -untrusted "
			     "issuing.pem -crl_check -CRLfile last.pem "
			     "rev.pem >/dev/null 2>&1"),
	    0);
	ck_assert_int_eq(run("openssl crl -inform DER -in last.crl -noout "
			     "-text | grep -q 'Key Compromise'"),
	    0);
}
END_TEST

struct crl_thread {
	int64_t numbers[5];
	int fails;
};

static void *
crl_thread_main(void *arg)
{
	struct crl_thread *t = arg;

	for (int i = 0; i < 5; i++) {
		struct sc_ca_crl_info info;
		struct sc_err err;

		sc_err_clear(&err);
		if (sc_ca_crl_issue(db, hsm, "t-issuing", NULL, NULL, NULL,
			&info, &err) != 0) {
			t->fails++;
			continue;
		}
		t->numbers[i] = info.number;
	}
	return NULL;
}

START_TEST(crl_numbers_strict)
{
	struct crl_thread t[2];
	pthread_t th[2];
	struct sc_ca_crl_info a, b;
	X509_CRL *c1, *c2;

	c1 = crl_issue("t-issuing", &a);
	c2 = crl_issue("t-issuing", &b);
	ck_assert_int_gt(crl_number(c2), crl_number(c1));
	X509_CRL_free(c1);
	X509_CRL_free(c2);
	memset(t, 0, sizeof(t));
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, crl_thread_main,
				     &t[i]),
		    0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(t[i].fails, 0);
		for (int k = 1; k < 5; k++)
			ck_assert_int_gt(t[i].numbers[k], t[i].numbers[k - 1]);
		for (int k = 0; k < 5; k++) {
			ck_assert_int_gt(t[i].numbers[k], b.number);
			for (int m = 0; m < 5; m++)
				ck_assert_int_ne(t[i].numbers[k],
				    t[1 - i].numbers[m]);
		}
	}
	/* the table agrees: numbers unique and contiguous */
	ck_assert_int_eq(psql_true("(SELECT max(number) - min(number) + 1 = "
				   "count(*) AND count(DISTINCT number) = "
				   "count(*) FROM crls WHERE ca_name = "
				   "'t-issuing')"),
	    0);
}
END_TEST

START_TEST(crl_refresh_due)
{
	struct sc_err err;
	int issued = -1;

	/* Everything fresh: nothing is due for t-issuing. */
	sc_err_clear(&err);
	ck_assert_int_eq(psql(conninfo, "UPDATE ca SET active = false WHERE "
					"name = 't-root'"),
	    0);
	ck_assert_msg(sc_ca_crl_refresh(db, hsm, NULL, &issued, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(issued, 0);
	/* A revocation that no CRL carries yet makes it due. */
	ck_assert_int_eq(psql(conninfo, "UPDATE ca_status SET rev_seq = "
					"rev_seq + 1 WHERE ca_name = "
					"'t-issuing'"),
	    0);
	ck_assert_msg(sc_ca_crl_refresh(db, hsm, NULL, &issued, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(issued, 1);
	/* So does age (24 h). */
	ck_assert_int_eq(psql(conninfo, "UPDATE crls SET this_update = "
					"this_update - interval '25 hours'"),
	    0);
	ck_assert_msg(sc_ca_crl_refresh(db, hsm, NULL, &issued, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(issued, 1);
	ck_assert_int_eq(psql(conninfo, "UPDATE ca SET active = true WHERE "
					"name = 't-root'"),
	    0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Revocation                                                         */

START_TEST(revoke_errors)
{
	struct sc_actor officer = {"officer-1", "ra_officer"};
	struct sc_actor signer = {"signer-1", "signer"};
	struct sc_err err;
	char serial[41];

	serial_of(leaf_good, serial);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &signer, serial,
			     "keyCompromise", NULL, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_FORBIDDEN);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &officer, serial,
			     "removeFromCRL", NULL, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &officer, serial, "bogus",
			     NULL, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &officer, serial,
			     "superseded", "2999-01-01T00:00:00Z", NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &officer,
			     "00112233445566778899", "superseded", NULL, NULL,
			     &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_NOT_FOUND);
	serial_of(leaf_reserved, serial);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &officer, serial,
			     "superseded", NULL, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_NOT_FOUND);
	serial_of(leaf_rev, serial);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke(db, hsm, &officer, serial,
			     "superseded", NULL, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_CONFLICT);
	/* audited once, with its reason */
	ck_assert_int_eq(psql_true("(SELECT count(*) FROM audit_log WHERE "
				   "action = 'cert.revoke') = 1 AND "
				   "(SELECT details::jsonb->>'reason' FROM "
				   "audit_log WHERE action = 'cert.revoke') = "
				   "'keyCompromise'"),
	    0);
}
END_TEST

static size_t
holder_sign(const char *msg, uint8_t *sig, size_t max)
{
	struct sc_err err;
	EVP_PKEY *key;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = max;

	sc_err_clear(&err);
	key = sc_hsm_key_get1(hsm, leaf_holder_alias, &err);
	ck_assert_ptr_nonnull(key);
	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
			     key),
	    1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &n,
			     (const unsigned char *)msg, strlen(msg)),
	    1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return n;
}

START_TEST(revoke_by_holder)
{
	struct sc_ca_revocation rv;
	struct sc_err err;
	char serial[41], now[32], old[32], msg[256];
	uint8_t sig[512];
	size_t n;

	serial_of(leaf_holder, serial);
	sc_time_fmt(sc_time_now(), 0, now);
	sc_time_fmt((struct sc_time){sc_time_now().sec - 3600, 0}, 0, old);
	/* signed by another key: refused */
	snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s",
	    SC_CA_HOLDER_REVOKE_PREFIX, serial, "superseded", now);
	n = holder_sign(msg, sig, sizeof(sig));
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke_by_holder(db, hsm, serial,
			     "keyCompromise", now, sig, n, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_FORBIDDEN);
	/* too old */
	snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s",
	    SC_CA_HOLDER_REVOKE_PREFIX, serial, "superseded", old);
	n = holder_sign(msg, sig, sizeof(sig));
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke_by_holder(db, hsm, serial,
			     "superseded", old, sig, n, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_FORBIDDEN);
	/* right */
	snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s",
	    SC_CA_HOLDER_REVOKE_PREFIX, serial, "superseded", now);
	n = holder_sign(msg, sig, sizeof(sig));
	sc_err_clear(&err);
	ck_assert_msg(sc_ca_cert_revoke_by_holder(db, hsm, serial,
			  "superseded", now, sig, n, &rv, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_int_eq(rv.reason, 4);
	/* a replay repeats nothing */
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_revoke_by_holder(db, hsm, serial,
			     "superseded", now, sig, n, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_CONFLICT);
	ck_assert_int_eq(psql_true("(SELECT count(*) FROM audit_log WHERE "
				   "action = 'cert.revoke' AND role = "
				   "'holder') = 1"),
	    0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* OCSP                                                               */

static void
ocsp_setup(void)
{
	struct sc_err err;

	if (ocsp != NULL)
		return;
	sc_err_clear(&err);
	ocsp = sc_ca_ocsp_new(db, hsm, NULL, &err);
	ck_assert_ptr_nonnull(ocsp);
}

/* A DER OCSPRequest for @x from @issuer. */
static size_t
make_req(X509 *x, X509 *issuer, const EVP_MD *md, int nonce, uint8_t **der)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(md, x, issuer);
	int n;

	ck_assert_ptr_nonnull(id);
	ck_assert_ptr_nonnull(OCSP_request_add0_id(req, id));
	if (nonce)
		ck_assert_int_eq(OCSP_request_add1_nonce(req, NULL, 16), 1);
	*der = NULL;
	n = i2d_OCSP_REQUEST(req, der);
	ck_assert_int_gt(n, 0);
	OCSP_REQUEST_free(req);
	return (size_t)n;
}

/* Answers @der; checks signature and CertID; @return the cert status. */
static int
ask(const uint8_t *der, size_t len, X509 *x, const EVP_MD *md,
    int *from_cache, int *reason, OCSP_REQUEST **reqp)
{
	struct sc_ca_ocsp_resp r;
	struct sc_err err;
	const unsigned char *p;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	OCSP_CERTID *id;
	X509_STORE *st;
	STACK_OF(X509) *certs = sk_X509_new_null();
	ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;
	int status = -1, rs = -1;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_ocsp_respond(ocsp, der, len, &r, &err), 0);
	ck_assert_int_eq(r.status, 0);
	if (from_cache != NULL)
		*from_cache = r.from_cache;
	p = r.der;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r.len);
	ck_assert_ptr_nonnull(resp);
	bs = OCSP_response_get1_basic(resp);
	ck_assert_ptr_nonnull(bs);
	st = X509_STORE_new();
	X509_STORE_add_cert(st, root);
	sk_X509_push(certs, issuing);
	ck_assert_int_eq(OCSP_basic_verify(bs, certs, st, 0), 1);
	/* responderID byKey */
	{
		const ASN1_OCTET_STRING *kid = NULL;
		const X509_NAME *nm = NULL;

		ck_assert_int_eq(OCSP_resp_get0_id(bs, &kid, &nm), 1);
		ck_assert_ptr_nonnull(kid);
		ck_assert_ptr_null(nm);
	}
	if (reqp != NULL && *reqp != NULL)
		ck_assert_int_eq(OCSP_check_nonce(*reqp, bs), 1);
	id = OCSP_cert_to_id(md, x, issuing);
	ck_assert_int_eq(OCSP_resp_find_status(bs, id, &status, &rs, &rev,
			     &tu, &nu),
	    1);
	ck_assert_int_eq(OCSP_check_validity(tu, nu, 300, -1), 1);
	{
		/* archiveCutoff in the single response */
		int idx = OCSP_resp_find(bs, id, -1);
		OCSP_SINGLERESP *s = OCSP_resp_get0(bs, idx);

		ck_assert_int_ge(OCSP_SINGLERESP_get_ext_by_NID(s,
				     NID_id_pkix_OCSP_archiveCutoff, -1),
		    0);
	}
	if (reason != NULL)
		*reason = rs;
	OCSP_CERTID_free(id);
	X509_STORE_free(st);
	sk_X509_free(certs);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	sc_ca_ocsp_resp_clear(&r);
	return status;
}

START_TEST(ocsp_good_revoked_cached)
{
	uint8_t *der;
	size_t len;
	int cached, reason;
	char serial[41];
	struct sc_actor admin = {"admin-1", "ca_admin"};
	struct sc_err err;

	ocsp_setup();
	len = make_req(leaf_good, issuing, EVP_sha1(), 0, &der);
	ck_assert_int_eq(ask(der, len, leaf_good, EVP_sha1(), &cached, NULL,
			     NULL),
	    V_OCSP_CERTSTATUS_GOOD);
	ck_assert_int_eq(cached, 0);
	ck_assert_int_eq(ask(der, len, leaf_good, EVP_sha1(), &cached, NULL,
			     NULL),
	    V_OCSP_CERTSTATUS_GOOD);
	ck_assert_int_eq(cached, 1);
	/* revoked: the cached "good" is never served again */
	serial_of(leaf_good, serial);
	sc_err_clear(&err);
	ck_assert_msg(sc_ca_cert_revoke(db, NULL, &admin, serial,
			  "cessationOfOperation", NULL, NULL, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(ask(der, len, leaf_good, EVP_sha1(), &cached,
			     &reason, NULL),
	    V_OCSP_CERTSTATUS_REVOKED);
	ck_assert_int_eq(cached, 0);
	ck_assert_int_eq(reason, 5);
	OPENSSL_free(der);
	/* SHA-256 CertIDs (RFC 9919) too */
	len = make_req(leaf_rev, issuing, EVP_sha256(), 0, &der);
	ck_assert_int_eq(ask(der, len, leaf_rev, EVP_sha256(), NULL, &reason,
			     NULL),
	    V_OCSP_CERTSTATUS_REVOKED);
	ck_assert_int_eq(reason, 1);
	OPENSSL_free(der);
	/* the delegated responder itself is good */
	len = make_req(responder, issuing, EVP_sha256(), 0, &der);
	ck_assert_int_eq(ask(der, len, responder, EVP_sha256(), NULL, NULL,
			     NULL),
	    V_OCSP_CERTSTATUS_GOOD);
	OPENSSL_free(der);
}
END_TEST

START_TEST(ocsp_unknown)
{
	uint8_t *der;
	size_t len;
	X509 *fake;
	ASN1_INTEGER *s;

	ocsp_setup();
	/* a reserved row is not a certificate */
	len = make_req(leaf_reserved, issuing, EVP_sha1(), 0, &der);
	ck_assert_int_eq(ask(der, len, leaf_reserved, EVP_sha1(), NULL, NULL,
			     NULL),
	    V_OCSP_CERTSTATUS_UNKNOWN);
	OPENSSL_free(der);
	/* a serial never issued */
	fake = X509_dup(leaf_reserved);
	s = ASN1_INTEGER_new();
	ASN1_INTEGER_set_int64(s, 0x1234567890abcdefLL);
	X509_set_serialNumber(fake, s);
	ASN1_INTEGER_free(s);
	len = make_req(fake, issuing, EVP_sha256(), 0, &der);
	ck_assert_int_eq(ask(der, len, fake, EVP_sha256(), NULL, NULL, NULL),
	    V_OCSP_CERTSTATUS_UNKNOWN);
	OPENSSL_free(der);
	X509_free(fake);
}
END_TEST

START_TEST(ocsp_nonce)
{
	OCSP_REQUEST *req;
	const unsigned char *p;
	uint8_t *der;
	size_t len;
	int cached;

	ocsp_setup();
	len = make_req(leaf_holder, issuing, EVP_sha1(), 1, &der);
	p = der;
	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	ck_assert_int_eq(ask(der, len, leaf_holder, EVP_sha1(), &cached, NULL,
			     &req),
	    V_OCSP_CERTSTATUS_REVOKED);
	ck_assert_int_eq(cached, 0);
	ck_assert_int_eq(ask(der, len, leaf_holder, EVP_sha1(), &cached, NULL,
			     &req),
	    V_OCSP_CERTSTATUS_REVOKED);
	ck_assert_int_eq(cached, 0); /* signed live, every time */
	OCSP_REQUEST_free(req);
	OPENSSL_free(der);
}
END_TEST

START_TEST(ocsp_errors)
{
	static const uint8_t garbage[] = "this is not an OCSP request";
	struct sc_ca_ocsp_resp r;
	struct sc_err err;
	const unsigned char *p;
	OCSP_RESPONSE *resp;
	uint8_t *der, *longer;
	size_t len;

	ocsp_setup();
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_ocsp_respond(ocsp, garbage, sizeof(garbage), &r,
			     &err),
	    0);
	ck_assert_int_eq(r.status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	p = r.der;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)r.len);
	ck_assert_ptr_nonnull(resp);
	ck_assert_int_eq(OCSP_response_status(resp),
	    OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OCSP_RESPONSE_free(resp);
	sc_ca_ocsp_resp_clear(&r);
	/* trailing bytes after a valid request */
	len = make_req(leaf_rev, issuing, EVP_sha1(), 0, &der);
	longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	ck_assert_int_eq(sc_ca_ocsp_respond(ocsp, longer, len + 1, &r, &err),
	    0);
	ck_assert_int_eq(r.status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	sc_ca_ocsp_resp_clear(&r);
	free(longer);
	OPENSSL_free(der);
	/* another issuer */
	len = make_req(foreign_leaf, foreign_ca, EVP_sha1(), 0, &der);
	ck_assert_int_eq(sc_ca_ocsp_respond(ocsp, der, len, &r, &err), 0);
	ck_assert_int_eq(r.status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	sc_ca_ocsp_resp_clear(&r);
	OPENSSL_free(der);
	/* an unsupported CertID hash */
	len = make_req(leaf_rev, issuing, EVP_sha384(), 0, &der);
	ck_assert_int_eq(sc_ca_ocsp_respond(ocsp, der, len, &r, &err), 0);
	ck_assert_int_eq(r.status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	sc_ca_ocsp_resp_clear(&r);
	OPENSSL_free(der);
}
END_TEST

/* `openssl ocsp` builds the request and checks the response. */
static void
openssl_roundtrip(const char *cert, const char *expect)
{
	struct sc_ca_ocsp_resp r;
	struct sc_err err;
	static uint8_t req[16384];
	size_t n;

	ck_assert_int_eq(run("openssl ocsp -issuer issuing.pem -cert %s "
			     "-reqout req.der -no_nonce >/dev/null 2>&1",
			     cert),
	    0);
	n = read_file("req.der", req, sizeof(req));
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_ocsp_respond(ocsp, req, n, &r, &err), 0);
	write_file("resp.der", r.der, r.len);
	sc_ca_ocsp_resp_clear(&r);
	ck_assert_int_eq(run("openssl ocsp -respin resp.der -issuer "
			     "issuing.pem -cert %s -CAfile chain.pem "
			     "-no_nonce >out.txt 2>&1 && grep -q 'Response "
			     "verify OK' out.txt && grep -q '%s: %s' out.txt",
			     cert, cert, expect),
	    0);
	ck_assert_int_eq(run("openssl ocsp -respin resp.der -issuer "
			     "issuing.pem -cert %s -VAfile responder.pem "
			     "-no_nonce 2>&1 | grep -q '%s: %s'",
			     cert, cert, expect),
	    0);
}

START_TEST(ocsp_openssl_interop)
{
	ocsp_setup();
	openssl_roundtrip("rev.pem", "revoked");
	ck_assert_int_eq(run("openssl ocsp -respin resp.der -issuer "
			     "issuing.pem -cert rev.pem -CAfile chain.pem "
			     "-no_nonce 2>&1 | grep -q 'Reason: "
			     "keyCompromise'"),
	    0);
	openssl_roundtrip("good.pem", "revoked"); /* revoked earlier */
	/* a certificate still good: the responder's own */
	openssl_roundtrip("responder.pem", "good");
	/* a wrong trust anchor fails: the test can fail */
	ck_assert_int_ne(run("openssl ocsp -respin resp.der -issuer "
			     "issuing.pem -cert responder.pem -CAfile "
			     "foreign.pem -no_nonce 2>&1 | grep -q "
			     "'Response verify OK'"),
	    0);
}
END_TEST

/*
 * Another node revokes (here psql, another process, straight in SQL):
 * once the lease has run out, this responder answers "revoked" although
 * it had "good" cached and served it without reading the row.
 */
START_TEST(ocsp_other_node_revokes)
{
	uint8_t *der;
	size_t len;
	int cached, reason;
	char serial[41];
	struct timespec ms = {0, (SC_CA_OCSP_LEASE_MS +
				     SC_CA_OCSP_LEASE_MARGIN_MS) * 1000000L};

	ocsp_setup();
	len = make_req(leaf_sql, issuing, EVP_sha256(), 0, &der);
	ck_assert_int_eq(ask(der, len, leaf_sql, EVP_sha256(), &cached, NULL,
			     NULL),
	    V_OCSP_CERTSTATUS_GOOD);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(ask(der, len, leaf_sql, EVP_sha256(), &cached,
				     NULL, NULL),
		    V_OCSP_CERTSTATUS_GOOD);
		ck_assert_int_eq(cached, 1);
	}
	serial_of(leaf_sql, serial);
	ck_assert_int_eq(psql(conninfo,
			     "UPDATE certificates SET revoked_at = now(), "
			     "revocation_reason = 9 WHERE serial = '%s'",
			     serial),
	    0);
	nanosleep(&ms, NULL);
	ck_assert_int_eq(ask(der, len, leaf_sql, EVP_sha256(), &cached,
			     &reason, NULL),
	    V_OCSP_CERTSTATUS_REVOKED);
	ck_assert_int_eq(cached, 0);
	ck_assert_int_eq(reason, 9);
	/* the trigger moved the CA's revocation sequence: a CRL is due */
	ck_assert_int_eq(psql_true("(SELECT rev_seq FROM ca_status WHERE "
				   "ca_name = 't-issuing') > (SELECT rev_seq "
				   "FROM crls WHERE ca_name = 't-issuing' "
				   "ORDER BY number DESC LIMIT 1)"),
	    0);
	OPENSSL_free(der);
}
END_TEST

static Suite *
pki_suite(void)
{
	Suite *s = suite_create("pki");
	TCase *tc = tcase_create("pki");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup_all, teardown_all);
	tcase_add_test(tc, crl_structure);
	tcase_add_test(tc, crl_root);
	tcase_add_test(tc, crl_revocations);
	tcase_add_test(tc, crl_numbers_strict);
	tcase_add_test(tc, crl_refresh_due);
	tcase_add_test(tc, revoke_errors);
	tcase_add_test(tc, revoke_by_holder);
	tcase_add_test(tc, ocsp_good_revoked_cached);
	tcase_add_test(tc, ocsp_unknown);
	tcase_add_test(tc, ocsp_nonce);
	tcase_add_test(tc, ocsp_errors);
	tcase_add_test(tc, ocsp_openssl_interop);
	tcase_add_test(tc, ocsp_other_node_revokes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(pki_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
