/*
 * check_tsa.c: the time-stamping authority (RFC 3161, RFC 5816, ETSI EN
 * 319 421/422) against a throw-away hierarchy whose keys are in SoftHSM2,
 * with token records in the test PostgreSQL, and `openssl ts` as the
 * independent checker.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "sceau/db.h"
#include "sceau/db_tsa.h"
#include "sceau/hsm.h"
#include "sceau/tsa.h"

#include "testenv.h"
#include "testpki.h"

#define POLICY "2.16.466.1.1.3.1"

static struct sc_config cfg;
static struct sc_hsm *hsm;
static struct sc_db *db;
static X509 *root, *ica, *unit;
static char unit_alias[80];
static uint8_t *unit_der, *ica_der, *root_der;
static size_t unit_len, ica_len, root_len;
static char tmpdir[64];
static char clockfile[128];

static size_t
to_der(X509 *x, uint8_t **out)
{
	int n = i2d_X509(x, out);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static void
pem_write(const char *name, X509 *const *xs, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(PEM_write_X509(f, xs[i]), 1);
	ck_assert_int_eq(fclose(f), 0);
}

static void
setup(void)
{
	struct testpki_spec ca = {"sceau test root", 1, NULL, 0, 30, NULL};
	struct testpki_spec sub = {"sceau test issuing", 1, NULL, 0, 30, NULL};
	struct testpki_spec tsu = {"sceau test TSA", 0, "critical,timeStamping",
	    0, 30, NULL};
	char ra[80], ia[80], *url;
	struct sc_err err;

	testenv_config(&cfg);
	sc_err_clear(&err);
	hsm = sc_hsm_open(&cfg, &err);
	ck_assert_msg(hsm != NULL, "hsm: %s", err.msg);
	url = sc_config_db_url(&cfg, &err);
	ck_assert_msg(url != NULL, "%s", err.msg);
	db = sc_db_open(url, 8, &err);
	sc_secret_free(url);
	ck_assert_msg(db != NULL, "%s", err.msg);
	ck_assert_msg(sc_db_migrate(db, SCEAU_SOURCE_DIR "/db/migrations", NULL,
			  &err) == 0,
	    "migrate: %s %s", err.msg, err.detail);

	testpki_alias("tsa-root", ra);
	testpki_alias("tsa-ica", ia);
	testpki_alias("tsa-unit", unit_alias);
	root = testpki_issue(hsm, ra, &ca, NULL, NULL);
	ica = testpki_issue(hsm, ia, &sub, root, ra);
	unit = testpki_issue(hsm, unit_alias, &tsu, ica, ia);
	unit_der = ica_der = root_der = NULL;
	unit_len = to_der(unit, &unit_der);
	ica_len = to_der(ica, &ica_der);
	root_len = to_der(root, &root_der);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_tsa.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(clockfile, sizeof(clockfile), "%s/clock", tmpdir);
}

static void
teardown(void)
{
	char cmd[128];

	X509_free(unit);
	X509_free(ica);
	X509_free(root);
	OPENSSL_free(unit_der);
	OPENSSL_free(ica_der);
	OPENSSL_free(root_der);
	sc_db_close(db);
	sc_hsm_close(hsm);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* A unit over the test hierarchy; clock check per @clock ("" = off). */
static struct sc_tsa *
mk_tsa(const char *clock, int record)
{
	struct sc_tsa_der chain[2] = {{ica_der, ica_len}, {root_der, root_len}};
	struct sc_tsa_opts o = {POLICY, 1000, clock[0] != '\0',
	    clock[0] != '\0' ? clock : "adjtimex"};
	struct sc_err err;
	struct sc_tsa *tsa;

	sc_err_clear(&err);
	tsa =
	    sc_tsa_new(hsm, unit_alias, unit_der, unit_len, chain, 2, &o, &err);
	ck_assert_msg(tsa != NULL, "sc_tsa_new: %s (%s)", err.msg, err.detail);
	if (record)
		ck_assert_msg(sc_tsa_record_start(tsa, db, &err) == 0, "%s",
		    err.msg);
	return tsa;
}

struct reqopt {
	const EVP_MD *md;
	int nonce;
	int cert_req;
	const char *policy;
	int ext;
	int bad_len; /* imprint one byte short */
};

/* A TimeStampReq built with OpenSSL (DER, OPENSSL_free). */
static uint8_t *
mk_req(const struct reqopt *o, size_t *len, uint8_t digest[64],
    ASN1_INTEGER **nonce_out)
{
	TS_REQ *q = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	uint8_t *der = NULL;
	int dl = EVP_MD_get_size(o->md), n;

	ck_assert_int_eq(RAND_bytes(digest, dl), 1);
	ck_assert_int_eq(TS_REQ_set_version(q, 1), 1);
	ck_assert_int_eq(X509_ALGOR_set0(alg,
			     OBJ_nid2obj(EVP_MD_get_type(o->md)), V_ASN1_NULL,
			     NULL),
	    1);
	ck_assert_int_eq(TS_MSG_IMPRINT_set_algo(mi, alg), 1);
	ck_assert_int_eq(TS_MSG_IMPRINT_set_msg(mi, digest,
			     o->bad_len ? dl - 1 : dl),
	    1);
	ck_assert_int_eq(TS_REQ_set_msg_imprint(q, mi), 1);
	if (o->nonce) {
		uint8_t nb[8];
		BIGNUM *bn;
		ASN1_INTEGER *a;

		ck_assert_int_eq(RAND_bytes(nb, sizeof(nb)), 1);
		nb[0] = (uint8_t)((nb[0] & 0x7f) | 1);
		bn = BN_bin2bn(nb, sizeof(nb), NULL);
		a = BN_to_ASN1_INTEGER(bn, NULL);
		BN_free(bn);
		ck_assert_int_eq(TS_REQ_set_nonce(q, a), 1);
		if (nonce_out != NULL)
			*nonce_out = a;
		else
			ASN1_INTEGER_free(a);
	}
	if (o->cert_req)
		ck_assert_int_eq(TS_REQ_set_cert_req(q, 1), 1);
	if (o->policy != NULL) {
		ASN1_OBJECT *p = OBJ_txt2obj(o->policy, 1);

		ck_assert_int_eq(TS_REQ_set_policy_id(q, p), 1);
		ASN1_OBJECT_free(p);
	}
	if (o->ext) {
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
		ASN1_OBJECT *eo = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
		X509_EXTENSION *e;

		ck_assert_int_eq(ASN1_OCTET_STRING_set(v,
				     (const unsigned char *)"\x05\x00", 2),
		    1);
		e = X509_EXTENSION_create_by_OBJ(NULL, eo, 0, v);
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(TS_REQ_add_ext(q, e, -1), 1);
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(eo);
		ASN1_OCTET_STRING_free(v);
	}
	n = i2d_TS_REQ(q, &der);
	ck_assert_int_gt(n, 0);
	*len = (size_t)n;
	TS_REQ_free(q);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	return der;
}

static TS_RESP *
decode(const struct sc_tsa_resp *r)
{
	const unsigned char *p = r->der;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)r->len);

	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_eq(p, r->der + r->len);
	return resp;
}

/* Asks @tsa and checks the status and failure bit of the reply. */
static void
expect(struct sc_tsa *tsa, const uint8_t *req, size_t len, int status,
    unsigned failure, struct sc_tsa_resp *out)
{
	struct sc_err err;
	TS_RESP *resp;
	const ASN1_BIT_STRING *fi;
	long st;

	sc_err_clear(&err);
	ck_assert_msg(sc_tsa_respond(tsa, req, len, out, &err) == 0, "%s",
	    err.msg);
	ck_assert_int_eq(out->status, status);
	ck_assert_uint_eq(out->failure, failure);
	/* the DER says the same, decoded by OpenSSL */
	resp = decode(out);
	st = ASN1_INTEGER_get(
	    TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)));
	ck_assert_int_eq(st, status);
	fi = TS_STATUS_INFO_get0_failure_info(TS_RESP_get_status_info(resp));
	for (int b = 0; b <= 25; b++)
		ck_assert_int_eq(fi != NULL && ASN1_BIT_STRING_get_bit(fi, b),
		    (failure >> b) & 1);
	if (status == SC_TSA_GRANTED)
		ck_assert_ptr_nonnull(TS_RESP_get_token(resp));
	else
		ck_assert_ptr_null(TS_RESP_get_token(resp));
	TS_RESP_free(resp);
}

static unsigned long long
rows_recorded(struct sc_tsa *tsa)
{
	struct sc_tsa_stats st;

	sc_tsa_stats(tsa, &st);
	return st.rows;
}

START_TEST(test_granted_fields)
{
	struct reqopt o = {EVP_sha256(), 1, 1, NULL, 0, 0};
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_resp r;
	struct sc_db_tsa_token rec;
	struct sc_err err;
	ASN1_INTEGER *nonce = NULL;
	uint8_t dg[64];
	size_t len;
	uint8_t *req = mk_req(&o, &len, dg, &nonce);
	TS_RESP *resp;
	TS_TST_INFO *tst;
	PKCS7 *tok;
	PKCS7_SIGNER_INFO *si;
	const TS_ACCURACY *acc;
	char buf[80];
	const ASN1_INTEGER *serial;
	struct sc_time now = sc_time_now();
	struct tm tm;

	expect(tsa, req, len, SC_TSA_GRANTED, 0, &r);
	resp = decode(&r);
	tst = TS_RESP_get_tst_info(resp);
	/* policy: ours */
	OBJ_obj2txt(buf, sizeof(buf), TS_TST_INFO_get_policy_id(tst), 1);
	ck_assert_str_eq(buf, POLICY);
	/* nonce echoed */
	ck_assert_int_eq(ASN1_INTEGER_cmp(TS_TST_INFO_get_nonce(tst), nonce),
	    0);
	/* imprint echoed */
	ck_assert_int_eq(ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(
			     TS_TST_INFO_get_msg_imprint(tst))),
	    32);
	ck_assert_mem_eq(ASN1_STRING_get0_data(TS_MSG_IMPRINT_get_msg(
			     TS_TST_INFO_get_msg_imprint(tst))),
	    dg, 32);
	/* accuracy 1 s; ordering false; version 1 */
	acc = TS_TST_INFO_get_accuracy(tst);
	ck_assert_ptr_nonnull(acc);
	ck_assert_int_eq(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(acc)), 1);
	ck_assert_int_eq(TS_TST_INFO_get_ordering(tst), 0);
	ck_assert_int_eq(TS_TST_INFO_get_version(tst), 1);
	/* genTime: GeneralizedTime in UTC ("Z"), within a second of now */
	ck_assert_int_eq(ASN1_STRING_type(TS_TST_INFO_get_time(tst)),
	    V_ASN1_GENERALIZEDTIME);
	ck_assert_int_eq(ASN1_STRING_get0_data(TS_TST_INFO_get_time(tst))
			     [ASN1_STRING_length(TS_TST_INFO_get_time(tst)) -
				 1],
	    'Z');
	ck_assert_int_eq(ASN1_TIME_to_tm(TS_TST_INFO_get_time(tst), &tm), 1);
	ck_assert_int_le(llabs((long long)timegm(&tm) - (long long)now.sec), 2);
	ck_assert_int_eq(r.gen_time[strlen(r.gen_time) - 1], 'Z');
	/* serial: positive, at least 64 bits, as reported */
	serial = TS_TST_INFO_get_serial(tst);
	ck_assert_int_eq(ASN1_STRING_type(serial), V_ASN1_INTEGER);
	ck_assert_int_ge(ASN1_STRING_length(serial), 8);
	ck_assert_uint_ge(strlen(r.serial), 16);
	/* certReq: the unit's certificate is in the token */
	tok = TS_RESP_get_token(resp);
	ck_assert_int_ge(sk_X509_num(tok->d.sign->cert), 1);
	ck_assert_int_eq(X509_cmp(sk_X509_value(tok->d.sign->cert, 0), unit),
	    0);
	/* RFC 5816: signingCertificateV2, and not the v1 attribute */
	si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(tok), 0);
	ck_assert_ptr_nonnull(si);
	ck_assert_ptr_nonnull(PKCS7_get_signed_attribute(si,
	    NID_id_smime_aa_signingCertificateV2));
	ck_assert_ptr_null(
	    PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificate));
	/* recorded before the reply, with what the token says */
	sc_err_clear(&err);
	ck_assert_int_eq(sc_db_tsa_token_get(db, r.serial, &rec, &err),
	    SC_DB_ONE);
	ck_assert_str_eq(rec.hash_alg, "sha256");
	ck_assert_uint_eq(rec.imprint_len, 32);
	ck_assert_mem_eq(rec.imprint, dg, 32);
	ck_assert_str_eq(rec.policy, POLICY);
	ck_assert_uint_eq(rows_recorded(tsa), 1);

	ASN1_INTEGER_free(nonce);
	TS_RESP_free(resp);
	sc_tsa_resp_free(&r);
	OPENSSL_free(req);
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_sha384_sha512_no_certreq)
{
	const EVP_MD *mds[2] = {EVP_sha384(), EVP_sha512()};
	struct sc_tsa *tsa = mk_tsa("", 0);

	for (int i = 0; i < 2; i++) {
		struct reqopt o = {mds[i], 0, 0, NULL, 0, 0};
		struct sc_tsa_resp r;
		uint8_t dg[64];
		size_t len;
		uint8_t *req = mk_req(&o, &len, dg, NULL);
		TS_RESP *resp;
		PKCS7 *tok;

		expect(tsa, req, len, SC_TSA_GRANTED, 0, &r);
		resp = decode(&r);
		tok = TS_RESP_get_token(resp);
		/* no certReq: no certificate in the token */
		ck_assert_int_le(sk_X509_num(tok->d.sign->cert), 0);
		ck_assert_ptr_null(
		    TS_TST_INFO_get_nonce(TS_RESP_get_tst_info(resp)));
		TS_RESP_free(resp);
		sc_tsa_resp_free(&r);
		OPENSSL_free(req);
	}
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_bad_alg)
{
	const EVP_MD *mds[2] = {EVP_sha1(), EVP_md5()};
	struct sc_tsa *tsa = mk_tsa("", 1);

	for (int i = 0; i < 2; i++) {
		struct reqopt o = {mds[i], 1, 1, NULL, 0, 0};
		struct sc_tsa_resp r;
		uint8_t dg[64];
		size_t len;
		uint8_t *req = mk_req(&o, &len, dg, NULL);

		expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_BAD_ALG,
		    &r);
		ck_assert_str_eq(sc_tsa_failure_name(r.failure), "badAlg");
		sc_tsa_resp_free(&r);
		OPENSSL_free(req);
	}
	ck_assert_uint_eq(rows_recorded(tsa), 0);
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_bad_data_format)
{
	struct reqopt o = {EVP_sha256(), 1, 1, NULL, 0, 0};
	struct reqopt shortd = {EVP_sha256(), 1, 1, NULL, 0, 1};
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_resp r;
	uint8_t dg[64], *req, *trail;
	size_t len;
	static const uint8_t garbage[] = "this is not DER at all";
	static const uint8_t seq[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	expect(tsa, garbage, sizeof(garbage), SC_TSA_REJECTION,
	    SC_TSA_FAIL_BAD_DATA_FORMAT, &r);
	sc_tsa_resp_free(&r);
	expect(tsa, garbage, 0, SC_TSA_REJECTION, SC_TSA_FAIL_BAD_DATA_FORMAT,
	    &r);
	sc_tsa_resp_free(&r);
	expect(tsa, seq, sizeof(seq), SC_TSA_REJECTION,
	    SC_TSA_FAIL_BAD_DATA_FORMAT, &r);
	sc_tsa_resp_free(&r);
	/* a good request followed by one more byte (STYLE.md rule 12) */
	req = mk_req(&o, &len, dg, NULL);
	trail = malloc(len + 1);
	ck_assert_ptr_nonnull(trail);
	memcpy(trail, req, len);
	trail[len] = 0;
	expect(tsa, trail, len + 1, SC_TSA_REJECTION,
	    SC_TSA_FAIL_BAD_DATA_FORMAT, &r);
	sc_tsa_resp_free(&r);
	free(trail);
	OPENSSL_free(req);
	/* imprint of the wrong length for SHA-256 */
	req = mk_req(&shortd, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_BAD_DATA_FORMAT,
	    &r);
	sc_tsa_resp_free(&r);
	OPENSSL_free(req);
	ck_assert_uint_eq(rows_recorded(tsa), 0);
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_policy)
{
	struct reqopt ours = {EVP_sha256(), 1, 0, POLICY, 0, 0};
	struct reqopt other = {EVP_sha256(), 1, 0, "1.2.3.4.5", 0, 0};
	struct reqopt etsi = {EVP_sha256(), 1, 0, "0.4.0.2023.1.1", 0, 0};
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_resp r;
	uint8_t dg[64], *req;
	size_t len;

	req = mk_req(&ours, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_GRANTED, 0, &r);
	sc_tsa_resp_free(&r);
	OPENSSL_free(req);
	req = mk_req(&other, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_UNACCEPTED_POLICY,
	    &r);
	sc_tsa_resp_free(&r);
	OPENSSL_free(req);
	req = mk_req(&etsi, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_UNACCEPTED_POLICY,
	    &r);
	sc_tsa_resp_free(&r);
	OPENSSL_free(req);
	ck_assert_uint_eq(rows_recorded(tsa), 1);
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_extension)
{
	struct reqopt o = {EVP_sha256(), 1, 1, NULL, 1, 0};
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_resp r;
	uint8_t dg[64], *req;
	size_t len;

	req = mk_req(&o, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_REJECTION,
	    SC_TSA_FAIL_UNACCEPTED_EXTENSION, &r);
	sc_tsa_resp_free(&r);
	OPENSSL_free(req);
	ck_assert_uint_eq(rows_recorded(tsa), 0);
	sc_tsa_free(tsa);
}
END_TEST

static void
write_clock(const char *word)
{
	FILE *f = fopen(clockfile, "w");

	ck_assert_ptr_nonnull(f);
	fputs(word, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_clock)
{
	struct reqopt o = {EVP_sha256(), 1, 1, NULL, 0, 0};
	char src[160], why[128];
	struct sc_tsa *tsa;
	struct sc_tsa_resp r;
	uint8_t dg[64], *req;
	size_t len;

	snprintf(src, sizeof(src), "file:%s", clockfile);
	write_clock("unsynced\n");
	tsa = mk_tsa(src, 1);
	req = mk_req(&o, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_TIME_NOT_AVAILABLE,
	    &r);
	sc_tsa_resp_free(&r);
	ck_assert_int_eq(sc_tsa_ready(tsa, why, sizeof(why)), 0);
	write_clock("synced\n");
	expect(tsa, req, len, SC_TSA_GRANTED, 0, &r);
	sc_tsa_resp_free(&r);
	ck_assert_int_eq(sc_tsa_ready(tsa, why, sizeof(why)), 1);
	/* a source that cannot tell counts as unsynchronised */
	write_clock("maybe\n");
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_TIME_NOT_AVAILABLE,
	    &r);
	sc_tsa_resp_free(&r);
	ck_assert_int_eq(unlink(clockfile), 0);
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_TIME_NOT_AVAILABLE,
	    &r);
	sc_tsa_resp_free(&r);
	ck_assert_uint_eq(rows_recorded(tsa), 1);
	OPENSSL_free(req);
	sc_tsa_free(tsa);
	/* the kernel source answers one way or the other */
	ck_assert_int_ge(sc_tsa_clock_synced("adjtimex", 1000, why,
			     sizeof(why)),
	    0);
	ck_assert_int_eq(sc_tsa_clock_synced("ntp", 1000, NULL, 0), -1);
}
END_TEST

static struct sc_time
clock_in_40_days(void)
{
	struct sc_time t = {0, 0};

	t.sec = (int64_t)time(NULL) + 40 * 86400;
	return t;
}

/* EN 319 421 §7.6: no token once the unit's certificate (30 days) has
 * expired, even while the server keeps running. */
START_TEST(test_expired_unit)
{
	struct reqopt o = {EVP_sha256(), 1, 1, NULL, 0, 0};
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_resp r;
	uint8_t dg[64], *req;
	size_t len;

	req = mk_req(&o, &len, dg, NULL);
	expect(tsa, req, len, SC_TSA_GRANTED, 0, &r);
	sc_tsa_resp_free(&r);
	sc_time_set_source(clock_in_40_days);
	expect(tsa, req, len, SC_TSA_REJECTION, SC_TSA_FAIL_SYSTEM_FAILURE, &r);
	sc_time_set_source(NULL);
	sc_tsa_resp_free(&r);
	ck_assert_uint_eq(rows_recorded(tsa), 1);
	OPENSSL_free(req);
	sc_tsa_free(tsa);
}
END_TEST

static int
cmp_serial(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_serials_unique)
{
	enum { N = 300 };
	struct reqopt o = {EVP_sha256(), 0, 0, NULL, 0, 0};
	struct sc_tsa *tsa = mk_tsa("", 0);
	static char serials[N][41];
	uint8_t dg[64], *req;
	size_t len;

	req = mk_req(&o, &len, dg, NULL);
	for (int i = 0; i < N; i++) {
		struct sc_tsa_resp r;

		expect(tsa, req, len, SC_TSA_GRANTED, 0, &r);
		/* 16 octets: 126 random bits */
		ck_assert_uint_eq(strlen(r.serial), 32);
		memcpy(serials[i], r.serial, sizeof(serials[i]));
		sc_tsa_resp_free(&r);
	}
	qsort(serials, N, sizeof(serials[0]), cmp_serial);
	for (int i = 1; i < N; i++)
		ck_assert_str_ne(serials[i - 1], serials[i]);
	OPENSSL_free(req);
	sc_tsa_free(tsa);
}
END_TEST

enum { NTHREADS = 8, PER_THREAD = 40 };

struct worker {
	struct sc_tsa *tsa;
	int granted;
	int failed;
	char serials[PER_THREAD][41];
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct reqopt o = {EVP_sha256(), 1, 1, NULL, 0, 0};

	for (int i = 0; i < PER_THREAD; i++) {
		struct sc_tsa_resp r;
		struct sc_err err;
		uint8_t dg[64], *req;
		size_t len;

		req = mk_req(&o, &len, dg, NULL);
		sc_err_clear(&err);
		if (sc_tsa_respond(w->tsa, req, len, &r, &err) == 0 &&
		    r.status == SC_TSA_GRANTED) {
			memcpy(w->serials[w->granted], r.serial, 41);
			w->granted++;
		} else {
			w->failed++;
		}
		sc_tsa_resp_free(&r);
		OPENSSL_free(req);
	}
	return NULL;
}

START_TEST(test_threads)
{
	static struct worker w[NTHREADS];
	static char all[NTHREADS * PER_THREAD][41];
	pthread_t th[NTHREADS];
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_stats st;
	int n = 0;

	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].tsa = tsa;
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run,
				     &w[i]),
		    0);
	}
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		ck_assert_int_eq(w[i].failed, 0);
		ck_assert_int_eq(w[i].granted, PER_THREAD);
		for (int k = 0; k < PER_THREAD; k++)
			memcpy(all[n++], w[i].serials[k], 41);
	}
	qsort(all, (size_t)n, sizeof(all[0]), cmp_serial);
	for (int i = 1; i < n; i++)
		ck_assert_str_ne(all[i - 1], all[i]);
	sc_tsa_stats(tsa, &st);
	ck_assert_uint_eq(st.granted, NTHREADS * PER_THREAD);
	ck_assert_uint_eq(st.rows, NTHREADS * PER_THREAD);
	/* one context per concurrent caller, never more */
	ck_assert_uint_le(st.contexts, NTHREADS);
	ck_assert_uint_ge(st.contexts, 1);
	/* every token is in the database */
	for (int i = 0; i < n; i += 37) {
		struct sc_db_tsa_token rec;
		struct sc_err err;

		sc_err_clear(&err);
		ck_assert_int_eq(sc_db_tsa_token_get(db, all[i], &rec, &err),
		    SC_DB_ONE);
	}
	fprintf(stderr,
	    "threads: %llu rows in %llu commits (largest %llu), "
	    "%u contexts\n",
	    st.rows, st.batches, st.max_batch, st.contexts);
	sc_tsa_free(tsa);
}
END_TEST

static int run(const char *fmt, ...) SC_ATTR_PRINTF(1, 2);

static int
run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

/* The acceptance check of the issue, at unit level: openssl ts. */
START_TEST(test_openssl_interop)
{
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_resp r;
	struct sc_buf q;
	struct sc_err err;
	X509 *chain[1] = {ica};
	X509 *roots[1] = {root};
	char path[256];
	FILE *f;

	pem_write("root.pem", roots, 1);
	pem_write("chain.pem", chain, 1);
	snprintf(path, sizeof(path), "%s/data.txt", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("Décision n° 2026-001 du ministère\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(run("cd %s && openssl ts -query -sha256 -cert "
			     "-data data.txt -out q.tsq 2>/dev/null",
			     tmpdir),
	    0);
	snprintf(path, sizeof(path), "%s/q.tsq", tmpdir);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_file_read(path, 65536, &q, &err), 0);
	expect(tsa, q.p, q.len, SC_TSA_GRANTED, 0, &r);
	snprintf(path, sizeof(path), "%s/reply.tsr", tmpdir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(r.der, 1, r.len, f), r.len);
	ck_assert_int_eq(fclose(f), 0);
	/* openssl verifies the reply against the data and the chain */
	ck_assert_int_eq(run("cd %s && openssl ts -verify -data data.txt "
			     "-in reply.tsr -CAfile root.pem -untrusted "
			     "chain.pem >verify.out 2>&1 && grep -q "
			     "'Verification: OK' verify.out",
			     tmpdir),
	    0);
	/* ... and against the query (nonce, imprint) */
	ck_assert_int_eq(run("cd %s && openssl ts -verify -queryfile q.tsq "
			     "-in reply.tsr -CAfile root.pem -untrusted "
			     "chain.pem >/dev/null 2>&1",
			     tmpdir),
	    0);
	/* the text shows our policy OID and the request's nonce */
	ck_assert_int_eq(run("cd %s && openssl ts -reply -in reply.tsr -text "
			     ">reply.txt 2>&1 && grep -q 'Policy OID: %s' "
			     "reply.txt && grep -q 'Status: Granted' reply.txt",
			     tmpdir, POLICY),
	    0);
	ck_assert_int_eq(run("cd %s && openssl ts -query -in q.tsq -text | "
			     "sed -n 's/^Nonce: //p' >nonce.q && "
			     "sed -n 's/^Nonce: //p' reply.txt >nonce.r && "
			     "test -s nonce.q && cmp -s nonce.q nonce.r",
			     tmpdir),
	    0);
	/* RFC 5816: ESSCertIDv2 (…9.16.2.47) present, ESSCertID v1
	 * (…9.16.2.12) absent, decoded by openssl asn1parse */
	ck_assert_int_eq(run("cd %s && openssl asn1parse -inform DER -in "
			     "reply.tsr >asn1.txt 2>&1 && grep -q "
			     "'signingCertificateV2\\|1.2.840.113549.1.9.16.2."
			     "47'"
			     " asn1.txt && ! grep -q "
			     "':S/MIME Signing Certificate\\|:id-smime-aa-"
			     "signingCertificate$\\|1.2.840.113549.1.9.16.2.12'"
			     " asn1.txt",
			     tmpdir),
	    0);
	/* tampering is caught: other data does not verify */
	ck_assert_int_ne(run("cd %s && echo other >other.txt && openssl ts "
			     "-verify -data other.txt -in reply.tsr -CAfile "
			     "root.pem -untrusted chain.pem >/dev/null 2>&1",
			     tmpdir),
	    0);
	sc_buf_free(&q);
	sc_tsa_resp_free(&r);
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_client_local)
{
	struct sc_tsa *tsa = mk_tsa("", 1);
	struct sc_tsa_der trust[1] = {{root_der, root_len}};
	struct sc_tsa_der inter[1] = {{ica_der, ica_len}};
	struct sc_tsa_der wrong[1] = {{ica_der, ica_len}};
	struct sc_tsa_client c;
	struct sc_tsa_token t;
	struct sc_err err;
	uint8_t d[32];
	struct testpki_spec other = {"other root", 1, NULL, 0, 30, NULL};
	char oa[80];
	X509 *oroot;
	uint8_t *oder = NULL;
	size_t olen;

	sc_sha256("hello", 5, d);
	memset(&c, 0, sizeof(c));
	c.local = tsa;
	c.trust = trust;
	c.ntrust = 1;
	c.untrusted = inter;
	c.nuntrusted = 1;
	sc_err_clear(&err);
	ck_assert_msg(sc_tsa_timestamp(&c, SC_TSA_SHA256, d, 32, &t, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_str_eq(t.policy, POLICY);
	ck_assert_uint_eq(strlen(t.serial), 32);
	ck_assert_ptr_nonnull(strstr(t.tsa_subject, "CN=sceau test TSA"));
	ck_assert_uint_gt(t.token_len, 100);
	sc_tsa_token_free(&t);

	/* the policy asked for is ours: granted; another: refused */
	c.policy_oid = POLICY;
	ck_assert_int_eq(sc_tsa_timestamp(&c, SC_TSA_SHA256, d, 32, &t, &err),
	    0);
	sc_tsa_token_free(&t);
	c.policy_oid = "1.2.3.4";
	sc_err_clear(&err);
	ck_assert_int_eq(sc_tsa_timestamp(&c, SC_TSA_SHA256, d, 32, &t, &err),
	    -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "unacceptedPolicy"));
	c.policy_oid = NULL;

	/* an anchor that is not the TSA's root: the chain does not verify */
	testpki_alias("tsa-other", oa);
	oroot = testpki_issue(hsm, oa, &other, NULL, NULL);
	olen = to_der(oroot, &oder);
	wrong[0].p = oder;
	wrong[0].len = olen;
	c.trust = wrong;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_tsa_timestamp(&c, SC_TSA_SHA256, d, 32, &t, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_CRYPTO);
	/* no anchor at all */
	c.ntrust = 0;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_tsa_timestamp(&c, SC_TSA_SHA256, d, 32, &t, &err),
	    -1);
	/* wrong digest length */
	c.trust = trust;
	c.ntrust = 1;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_tsa_timestamp(&c, SC_TSA_SHA384, d, 32, &t, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_USAGE);
	OPENSSL_free(oder);
	X509_free(oroot);
	sc_tsa_free(tsa);
}
END_TEST

START_TEST(test_unit_checks)
{
	struct testpki_spec soft = {"soft eku", 0, "timeStamping", 0, 30, NULL};
	struct testpki_spec two = {"two ekus", 0,
	    "critical,timeStamping,serverAuth", 0, 30, NULL};
	struct sc_tsa_der chain[2] = {{ica_der, ica_len}, {root_der, root_len}};
	struct sc_tsa_der onlyroot[1] = {{root_der, root_len}};
	struct sc_tsa_opts o = {POLICY, 1000, 0, "adjtimex"};
	struct sc_tsa_opts badpol = {"not an oid", 1000, 0, "adjtimex"};
	struct sc_tsa_opts badclk = {POLICY, 1000, 1, "ntp"};
	const struct testpki_spec *specs[2] = {&soft, &two};
	struct sc_err err;
	char a[80], ia[80];
	uint8_t *der;
	size_t len;

	/* extendedKeyUsage not critical, or not alone: refused */
	snprintf(ia, sizeof(ia), "%s", unit_alias);
	for (int i = 0; i < 2; i++) {
		X509 *x;

		testpki_alias("tsa-bad", a);
		/* issued by the unit's own issuer: we need its alias; use
		 * self-signed leaves instead, the EKU check comes first */
		x = testpki_issue(hsm, a, specs[i], NULL, NULL);
		der = NULL;
		len = to_der(x, &der);
		sc_err_clear(&err);
		ck_assert_ptr_null(
		    sc_tsa_new(hsm, a, der, len, chain, 2, &o, &err));
		ck_assert_int_eq(err.code, SC_E_CONFIG);
		ck_assert_ptr_nonnull(strstr(err.msg, "RFC 3161"));
		OPENSSL_free(der);
		X509_free(x);
	}
	/* the unit's certificate with a key that is not its own */
	sc_err_clear(&err);
	ck_assert_ptr_null(
	    sc_tsa_new(hsm, a, unit_der, unit_len, chain, 2, &o, &err));
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	/* a chain that misses the issuing CA */
	sc_err_clear(&err);
	ck_assert_ptr_null(
	    sc_tsa_new(hsm, ia, unit_der, unit_len, onlyroot, 1, &o, &err));
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	/* options */
	sc_err_clear(&err);
	ck_assert_ptr_null(
	    sc_tsa_new(hsm, ia, unit_der, unit_len, chain, 2, &badpol, &err));
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	sc_err_clear(&err);
	ck_assert_ptr_null(
	    sc_tsa_new(hsm, ia, unit_der, unit_len, chain, 2, &badclk, &err));
	ck_assert_int_eq(err.code, SC_E_CONFIG);
}
END_TEST

START_TEST(test_system_failure_reply)
{
	struct sc_tsa_resp r;
	struct sc_err err;
	TS_RESP *resp;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_tsa_resp_system_failure(&r, &err), 0);
	resp = decode(&r);
	ck_assert_int_eq(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
			     TS_RESP_get_status_info(resp))),
	    SC_TSA_REJECTION);
	ck_assert_int_eq(
	    ASN1_BIT_STRING_get_bit(TS_STATUS_INFO_get0_failure_info(
					TS_RESP_get_status_info(resp)),
		TS_INFO_SYSTEM_FAILURE),
	    1);
	ck_assert_str_eq(sc_tsa_failure_name(r.failure), "systemFailure");
	TS_RESP_free(resp);
	sc_tsa_resp_free(&r);
}
END_TEST

START_TEST(test_open_db_none)
{
	struct sc_err err;
	struct sc_tsa *tsa;

	/* Whether the shared test database has a unit or not, the call
	 * either succeeds or says "not found"; it never crashes. */
	sc_err_clear(&err);
	tsa = sc_tsa_open_db(&cfg, db, hsm, &err);
	if (tsa == NULL)
		ck_assert_msg(err.code == SC_E_NOT_FOUND ||
			err.code == SC_E_KEY_NOT_FOUND ||
			err.code == SC_E_CONFIG,
		    "%s", err.msg);
	sc_tsa_free(tsa);
}
END_TEST

static Suite *
tsa_suite(void)
{
	Suite *s = suite_create("tsa");
	TCase *tc;

	tc = tcase_create("respond");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_granted_fields);
	tcase_add_test(tc, test_sha384_sha512_no_certreq);
	tcase_add_test(tc, test_bad_alg);
	tcase_add_test(tc, test_bad_data_format);
	tcase_add_test(tc, test_policy);
	tcase_add_test(tc, test_extension);
	tcase_add_test(tc, test_clock);
	tcase_add_test(tc, test_expired_unit);
	tcase_add_test(tc, test_serials_unique);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_unit_checks);
	tcase_add_test(tc, test_system_failure_reply);
	tcase_add_test(tc, test_open_db_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("interop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_openssl_interop);
	tcase_add_test(tc, test_client_local);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(tsa_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
