/*
 * check_hsm: the hsm/ module against the SoftHSM2 token of the test
 * environment (SCEAU_TEST_ENV, see testenv.h). Keys are token objects,
 * so every alias carries a per-run prefix.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "sceau/hsm.h"
#include "testenv.h"

static struct sc_config cfg;
static char prefix[24];    /* per run: "t<time>-<pid>" */
static struct sc_hsm *hsm; /* opened by the fixture */

static const unsigned char msg[] = "sceau: a document to sign";

static void
alias_make(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s-%s", prefix, name);
}

static void
hsm_setup(void)
{
	struct sc_err err;

	sc_err_clear(&err);
	hsm = sc_hsm_open(&cfg, &err);
	ck_assert_msg(hsm != NULL, "sc_hsm_open: %s (%s)", err.msg, err.detail);
}

static void
hsm_teardown(void)
{
	sc_hsm_close(hsm);
	hsm = NULL;
}

static EVP_PKEY *
gen_get(const char *name, enum sc_hsm_keytype type, EVP_PKEY **pub)
{
	char alias[80];
	struct sc_err err;
	EVP_PKEY *k;

	alias_make(alias, sizeof(alias), name);
	sc_err_clear(&err);
	ck_assert_msg(sc_hsm_key_generate(hsm, alias, type, &err) == 0,
	    "generate %s: %s (%s)", alias, err.msg, err.detail);
	k = sc_hsm_key_get1(hsm, alias, &err);
	ck_assert_msg(k != NULL, "get1 %s: %s (%s)", alias, err.msg,
	    err.detail);
	if (pub != NULL) {
		*pub = sc_hsm_pubkey_get1(hsm, alias, &err);
		ck_assert_msg(*pub != NULL, "pubkey %s: %s", alias, err.msg);
		ck_assert_int_eq(EVP_PKEY_eq(k, *pub), 1);
	}
	return k;
}

/* Signs msg with @priv, verifies with @pub. @return 1 if both work. */
static int
sign_verify(EVP_PKEY *priv, EVP_PKEY *pub, const EVP_MD *md, int pss)
{
	EVP_MD_CTX *mc = NULL;
	EVP_PKEY_CTX *pc = NULL;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	int ok = 0;

	if ((mc = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestSignInit(mc, &pc, md, NULL, priv) != 1)
		goto out;
	if (pss &&
	    (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) !=
		    1))
		goto out;
	if (EVP_DigestSign(mc, sig, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	EVP_MD_CTX_free(mc);
	if ((mc = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(mc, &pc, md, NULL, pub) != 1)
		goto out;
	if (pss &&
	    (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) !=
		    1))
		goto out;
	ok = EVP_DigestVerify(mc, sig, siglen, msg, sizeof(msg)) == 1;
	/* PKCS#1 v1.5 must not verify as PSS and the other way round */
	if (ok && pub != NULL && EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
		EVP_MD_CTX_free(mc);
		if ((mc = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestVerifyInit(mc, &pc, md, NULL, pub) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(pc,
			pss ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING) != 1) {
			ok = 0;
			goto out;
		}
		if (EVP_DigestVerify(mc, sig, siglen, msg, sizeof(msg)) == 1)
			ok = 0;
	}
out:
	EVP_MD_CTX_free(mc);
	return ok;
}

/* ------------------------------------------------------------------ */

START_TEST(keytype_parse)
{
	static const char *names[] = {"ec-p256", "ec-p384", "rsa-2048",
	    "rsa-3072", "rsa-4096"};
	static const char *bad[] = {"", "ec-p521", "RSA-2048", "rsa-1024",
	    "rsa-2048 ", "ed25519"};
	enum sc_hsm_keytype t;
	struct sc_err err;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		sc_err_clear(&err);
		ck_assert_int_eq(sc_hsm_keytype_parse(names[i], &t, &err), 0);
		ck_assert_str_eq(sc_hsm_keytype_name(t), names[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sc_err_clear(&err);
		ck_assert_int_eq(sc_hsm_keytype_parse(bad[i], &t, &err), -1);
		ck_assert_int_eq(err.code, SC_E_UNKNOWN_KEY_TYPE);
	}
}
END_TEST

START_TEST(open_ping_stats)
{
	struct sc_hsm_stats st;
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_hsm_ping(hsm, &err), 0);
	sc_hsm_stats(hsm, &st);
	ck_assert_uint_eq(st.sessions_max, cfg.hsm_sessions);
	ck_assert_uint_eq(st.sessions_busy, 0);
	ck_assert(st.sign_ops == 0);
}
END_TEST

START_TEST(generate_each_type)
{
	static const struct {
		enum sc_hsm_keytype t;
		const char *name;
		const char *md;
	} types[] = {
	    {SC_HSM_EC_P256, "gen-p256", "SHA256"},
	    {SC_HSM_EC_P384, "gen-p384", "SHA384"},
	    {SC_HSM_RSA_2048, "gen-r2048", "SHA256"},
	    {SC_HSM_RSA_3072, "gen-r3072", "SHA384"},
	    {SC_HSM_RSA_4096, "gen-r4096", "SHA512"},
	};
	static const int bits[] = {256, 384, 2048, 3072, 4096};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		EVP_PKEY *pub = NULL,
			 *k = gen_get(types[i].name, types[i].t, &pub);

		ck_assert_int_eq(EVP_PKEY_get_bits(pub), bits[i]);
		ck_assert_msg(sign_verify(k, pub,
				  EVP_get_digestbyname(types[i].md), 0),
		    "sign/verify with %s", types[i].name);
		EVP_PKEY_free(k);
		EVP_PKEY_free(pub);
	}
}
END_TEST

START_TEST(duplicate_alias)
{
	char alias[80];
	struct sc_err err;
	EVP_PKEY *k;

	k = gen_get("dup", SC_HSM_EC_P256, NULL);
	EVP_PKEY_free(k);
	alias_make(alias, sizeof(alias), "dup");
	sc_err_clear(&err);
	ck_assert_int_eq(sc_hsm_key_generate(hsm, alias, SC_HSM_RSA_2048, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_KEY_EXISTS);
}
END_TEST

START_TEST(bad_alias)
{
	char long65[66], long64[65];
	const char *bad[] = {"", "a b", "a/b", "../etc", "caf\xc3\xa9", "x;y",
	    "tab\t", long65};
	struct sc_hsm_key_info info;
	struct sc_err err;
	size_t i;

	memset(long65, 'a', 65);
	long65[65] = '\0';
	memset(long64, 'a', 64);
	long64[64] = '\0';
	/* 64 characters are allowed (the key does not exist) */
	sc_err_clear(&err);
	ck_assert_int_eq(sc_hsm_key_info(hsm, long64, &info, &err), 0);
	ck_assert_int_eq(info.found, 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sc_err_clear(&err);
		ck_assert_int_eq(sc_hsm_key_generate(hsm, bad[i],
				     SC_HSM_EC_P256, &err),
		    -1);
		ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
		sc_err_clear(&err);
		ck_assert_ptr_null(sc_hsm_key_get1(hsm, bad[i], &err));
		ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
		sc_err_clear(&err);
		ck_assert_int_eq(sc_hsm_key_info(hsm, bad[i], &info, &err), -1);
	}
	sc_err_clear(&err);
	ck_assert_int_eq(sc_hsm_key_generate(hsm, NULL, SC_HSM_EC_P256, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
}
END_TEST

START_TEST(key_info_flags)
{
	char alias[80];
	struct sc_hsm_key_info info;
	struct sc_err err;
	EVP_PKEY *k;

	k = gen_get("info", SC_HSM_EC_P256, NULL);
	EVP_PKEY_free(k);
	alias_make(alias, sizeof(alias), "info");
	sc_err_clear(&err);
	ck_assert_int_eq(sc_hsm_key_info(hsm, alias, &info, &err), 0);
	ck_assert_int_eq(info.found, 1);
	ck_assert_int_eq(info.sensitive, 1);
	ck_assert_int_eq(info.extractable, 0);
	ck_assert_int_eq(info.always_sensitive, 1);
	ck_assert_int_eq(info.never_extractable, 1);
	alias_make(alias, sizeof(alias), "info-missing");
	ck_assert_int_eq(sc_hsm_key_info(hsm, alias, &info, &err), 0);
	ck_assert_int_eq(info.found, 0);
}
END_TEST

START_TEST(sign_ec)
{
	EVP_PKEY *pub = NULL, *k = gen_get("ec", SC_HSM_EC_P256, &pub);
	struct sc_hsm_stats st;

	ck_assert(sign_verify(k, pub, EVP_sha256(), 0));
	ck_assert(sign_verify(k, pub, EVP_sha384(), 0));
	sc_hsm_stats(hsm, &st);
	ck_assert(st.sign_ops == 2);
	ck_assert_uint_eq(st.sessions_busy, 0);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pub);
}
END_TEST

START_TEST(sign_rsa_pkcs1_pss)
{
	EVP_PKEY *pub = NULL, *k = gen_get("rsa", SC_HSM_RSA_2048, &pub);
	struct sc_hsm_stats st;

	ck_assert_msg(sign_verify(k, pub, EVP_sha256(), 0), "PKCS#1 v1.5");
	ck_assert_msg(sign_verify(k, pub, EVP_sha256(), 1), "PSS");
	ck_assert_msg(sign_verify(k, pub, EVP_sha512(), 1), "PSS SHA-512");
	sc_hsm_stats(hsm, &st);
	ck_assert(st.sign_ops == 3);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pub);
}
END_TEST

START_TEST(missing_then_generated)
{
	char alias[80];
	struct sc_err err;
	EVP_PKEY *k1, *k2, *k3, *pub1 = NULL;

	alias_make(alias, sizeof(alias), "late");
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_hsm_key_get1(hsm, alias, &err));
	ck_assert_int_eq(err.code, SC_E_KEY_NOT_FOUND);
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_hsm_pubkey_get1(hsm, alias, &err));
	ck_assert_int_eq(err.code, SC_E_KEY_NOT_FOUND);

	/* a cached handle must survive later enumerations */
	k1 = gen_get("early", SC_HSM_RSA_2048, &pub1);
	k2 = gen_get("late", SC_HSM_EC_P256, NULL);
	k3 = sc_hsm_key_get1(hsm, alias, &err);
	ck_assert_ptr_eq(k2, k3); /* the cache hands out the same key */
	ck_assert(sign_verify(k1, pub1, EVP_sha256(), 0));
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
	EVP_PKEY_free(pub1);
}
END_TEST

struct worker {
	EVP_PKEY *k, *pub;
	int n, ok, busy_over;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct sc_hsm_stats st;
	int i;

	for (i = 0; i < w->n; i++) {
		if (sign_verify(w->k, w->pub, EVP_sha256(),
			i % 2 == 1 &&
			    EVP_PKEY_get_base_id(w->pub) == EVP_PKEY_RSA))
			w->ok++;
		sc_hsm_stats(hsm, &st);
		if (st.sessions_busy > st.sessions_max)
			w->busy_over++;
	}
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * @return seconds taken by @nthr threads of @per signatures each; when
 * @churn, the main thread meanwhile makes and loads new keys, so that
 * libp11 enumerates the token while the others sign.
 */
static double
run_threads(EVP_PKEY *ec, EVP_PKEY *ecpub, EVP_PKEY *rsa, EVP_PKEY *rsapub,
    int nthr, int per, int churn)
{
	pthread_t th[16];
	struct worker w[16];
	double t0 = now_s();
	int i;

	ck_assert_int_le(nthr, 16);
	for (i = 0; i < nthr; i++) {
		w[i] = (struct worker){i % 2 ? rsa : ec, i % 2 ? rsapub : ecpub,
		    per, 0, 0};
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run,
				     &w[i]),
		    0);
	}
	for (i = 0; i < churn; i++) {
		char name[32];

		snprintf(name, sizeof(name), "churn-%d", i);
		EVP_PKEY_free(gen_get(name, SC_HSM_EC_P256, NULL));
	}
	for (i = 0; i < nthr; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(w[i].ok, per);
		ck_assert_int_eq(w[i].busy_over, 0);
	}
	return now_s() - t0;
}

START_TEST(threaded_signing)
{
	EVP_PKEY *ecpub = NULL, *rsapub = NULL;
	EVP_PKEY *ec = gen_get("thr-ec", SC_HSM_EC_P256, &ecpub);
	EVP_PKEY *rsa = gen_get("thr-rsa", SC_HSM_RSA_2048, &rsapub);
	struct sc_hsm_stats st;
	double t1, t8;

	t1 = run_threads(ec, ecpub, rsa, rsapub, 2, 50, 0);
	t8 = run_threads(ec, ecpub, rsa, rsapub, 8, 50, 0);
	(void)run_threads(ec, ecpub, rsa, rsapub, 8, 50, 4);
	sc_hsm_stats(hsm, &st);
	ck_assert(st.sign_ops == 100 + 400 + 400);
	ck_assert_uint_eq(st.sessions_busy, 0);
	/* information only: SoftHSM2 serialises C_Sign (no speed-up) */
	fprintf(stderr, "check_hsm: 100 signatures on 2 threads: %.3fs\n", t1);
	fprintf(stderr, "check_hsm: 400 signatures on 8 threads: %.3fs\n", t8);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ecpub);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsapub);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Without the fixture: one sc_hsm per process at a time.              */

START_TEST(wrong_pin)
{
	struct sc_config c = cfg;
	struct sc_err err;
	char path[] = "/tmp/check_hsm_pin.XXXXXX";
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "000000-wrong\n", 13), 13);
	close(fd);
	snprintf(c.hsm_pin_file, sizeof(c.hsm_pin_file), "%s", path);
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_hsm_open(&c, &err));
	unlink(path);
	ck_assert_int_eq(err.code, SC_E_HSM);
	ck_assert_msg(strstr(err.msg, "PIN refused") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.detail, "PIN") != NULL, "%s", err.detail);
	ck_assert_ptr_null(strstr(err.detail, "000000-wrong"));
}
END_TEST

START_TEST(pin_from_env)
{
	struct sc_config c = cfg;
	struct sc_err err;
	struct sc_hsm *h;
	char *pin;

	sc_err_clear(&err);
	pin = sc_secret_read_file(cfg.hsm_pin_file, &err);
	ck_assert_ptr_nonnull(pin);
	setenv("CHECK_HSM_PIN", pin, 1);
	sc_secret_free(pin);
	c.hsm_pin_file[0] = '\0';
	snprintf(c.hsm_pin_env, sizeof(c.hsm_pin_env), "CHECK_HSM_PIN");
	h = sc_hsm_open(&c, &err);
	ck_assert_msg(h != NULL, "%s (%s)", err.msg, err.detail);
	sc_hsm_close(h);

	/* neither source: a configuration error */
	c.hsm_pin_env[0] = '\0';
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_hsm_open(&c, &err));
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	unsetenv("CHECK_HSM_PIN");
}
END_TEST

START_TEST(bad_token)
{
	struct sc_config c = cfg;
	struct sc_err err;

	snprintf(c.hsm_token, sizeof(c.hsm_token), "no-such-token");
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_hsm_open(&c, &err));
	ck_assert_int_eq(err.code, SC_E_HSM);
	c = cfg;
	snprintf(c.hsm_module, sizeof(c.hsm_module), "/nonexistent/p11.so");
	sc_err_clear(&err);
	ck_assert_ptr_null(sc_hsm_open(&c, &err));
	ck_assert_int_eq(err.code, SC_E_HSM);
}
END_TEST

static Suite *
hsm_suite(void)
{
	Suite *s = suite_create("hsm");
	TCase *tc;

	tc = tcase_create("keytype");
	tcase_add_test(tc, keytype_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_test(tc, wrong_pin);
	tcase_add_test(tc, pin_from_env);
	tcase_add_test(tc, bad_token);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, hsm_setup, hsm_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, open_ping_stats);
	tcase_add_test(tc, generate_each_type);
	tcase_add_test(tc, duplicate_alias);
	tcase_add_test(tc, bad_alias);
	tcase_add_test(tc, key_info_flags);
	tcase_add_test(tc, missing_then_generated);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_checked_fixture(tc, hsm_setup, hsm_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, sign_ec);
	tcase_add_test(tc, sign_rsa_pkcs1_pss);
	tcase_add_test(tc, threaded_signing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	testenv_config(&cfg);
	snprintf(prefix, sizeof(prefix), "t%lld-%d", (long long)time(NULL),
	    (int)getpid());
	sr = srunner_create(hsm_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
