/*
 * check_core.c: unit tests of core/ (errors, buffers, encodings, numbers,
 * configuration, time).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/core.h"

START_TEST(err_first_wins)
{
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_int_eq(err.code, SC_E_OK);
	ck_assert_int_eq(sc_err_set(&err, SC_E_INVALID_CSR, "inner %d", 1), -1);
	sc_err_set(&err, SC_E_INTERNAL, "outer");
	ck_assert_int_eq(err.code, SC_E_INVALID_CSR);
	ck_assert_str_eq(err.msg, "inner 1");
	ck_assert_int_eq(sc_err_set(NULL, SC_E_IO, "dropped"), -1);
}
END_TEST

START_TEST(codes_registry)
{
	ck_assert_str_eq(sc_code_name(SC_E_TOO_LARGE), "payload_too_large");
	ck_assert_int_eq(sc_code_http(SC_E_TOO_LARGE), 413);
	ck_assert_str_eq(sc_code_name(SC_E_INVALID_CSR), "invalid_csr");
	ck_assert_int_eq(sc_code_exit(SC_E_INVALID_CSR), 65);
	ck_assert_int_eq(sc_code_exit(SC_E_USAGE), 64);
	ck_assert_int_eq(sc_code_http(SC_E_UNAVAILABLE), 503);
	ck_assert_str_eq(sc_code_title(SC_E_NOT_FOUND, "en"),
	    "Resource not found");
	ck_assert_str_eq(sc_code_title(SC_E_NOT_FOUND, NULL),
	    "Ressource introuvable");
	/* Out-of-range codes fall back to internal_error, never crash. */
	ck_assert_str_eq(sc_code_name((enum sc_code)9999), "internal_error");
	/* Every code has a distinct machine name. */
	for (int a = 0; a < SC_E__COUNT; a++)
		for (int b = a + 1; b < SC_E__COUNT; b++)
			ck_assert_str_ne(sc_code_name((enum sc_code)a),
			    sc_code_name((enum sc_code)b));
}
END_TEST

START_TEST(buf_limit)
{
	struct sc_buf b;
	struct sc_err err;

	sc_err_clear(&err);
	sc_buf_init(&b, 10);
	ck_assert_int_eq(sc_buf_append(&b, "0123456789", 10, &err), 0);
	ck_assert_int_eq(b.len, 10);
	ck_assert_int_eq(b.p[10], 0);
	ck_assert_int_eq(sc_buf_append(&b, "x", 1, &err), -1);
	ck_assert_int_eq(err.code, SC_E_TOO_LARGE);
	ck_assert_int_eq(b.len, 10);
	sc_buf_free(&b);
	sc_err_clear(&err);
	sc_buf_init(&b, 1 << 20);
	ck_assert_int_eq(sc_buf_printf(&b, &err, "%s-%d", "abc", 42), 0);
	ck_assert_str_eq((char *)b.p, "abc-42");
	sc_buf_free(&b);
}
END_TEST

START_TEST(hex_roundtrip)
{
	uint8_t in[4] = {0x00, 0xab, 0x10, 0xff}, out[4];
	char hex[9];

	sc_hex_encode(in, 4, hex);
	ck_assert_str_eq(hex, "00ab10ff");
	ck_assert_int_eq(sc_hex_decode("00AB10ff", out, 4), 0);
	ck_assert_mem_eq(in, out, 4);
	ck_assert_int_eq(sc_hex_decode("00ab10f", out, 4), -1);
	ck_assert_int_eq(sc_hex_decode("00ab10fg", out, 4), -1);
}
END_TEST

START_TEST(b64_roundtrip)
{
	const char *vec[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
	    "Zm9vYmE=", "Zm9vYmFy"};
	struct sc_err err;
	uint8_t *out;
	size_t outlen;

	/* RFC 4648 §10 test vectors. */
	for (size_t i = 0; i < 7; i++) {
		char *e = sc_b64_encode((const uint8_t *)vec[i],
		    strlen(vec[i]), 0);
		ck_assert_str_eq(e, std[i]);
		sc_err_clear(&err);
		ck_assert_int_eq(sc_b64_decode(e, strlen(e), &out, &outlen,
				     &err), 0);
		ck_assert_uint_eq(outlen, strlen(vec[i]));
		ck_assert_mem_eq(out, vec[i], outlen);
		free(out);
		free(e);
	}
	{
		uint8_t bin[3] = {0xfb, 0xff, 0xfe};
		char *e = sc_b64_encode(bin, 3, 1);

		ck_assert_str_eq(e, "-__-");
		free(e);
	}
	sc_err_clear(&err);
	ck_assert_int_eq(sc_b64_decode("Zm9v!", 5, &out, &outlen, &err), -1);
	ck_assert_int_eq(err.code, SC_E_BAD_REQUEST);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_b64_decode("Z", 1, &out, &outlen, &err), -1);
	sc_err_clear(&err);
	/* non-zero leftover bits (RFC 4648 §3.5) */
	ck_assert_int_eq(sc_b64_decode("Zh==", 4, &out, &outlen, &err), -1);
}
END_TEST

START_TEST(parse_numbers)
{
	struct sc_err err;
	uint64_t v;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_parse_u64("8080", 1, 65535, &v, "port", &err), 0);
	ck_assert_uint_eq(v, 8080);
	ck_assert_int_eq(sc_parse_u64("0", 1, 65535, &v, "port", &err), -1);
	ck_assert_int_eq(err.code, SC_E_USAGE);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_parse_u64("-1", 0, 10, &v, "n", &err), -1);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_parse_u64("12a", 0, 100, &v, "n", &err), -1);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_parse_u64("99999999999999999999999", 0,
			     UINT64_MAX, &v, "n", &err), -1);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_parse_u64("", 0, 1, &v, "n", &err), -1);
}
END_TEST

START_TEST(config_good)
{
	const char *t = "# comment\n[server]\nport = 9090\n listen=127.0.0.2 \n"
			"[hsm]\ntoken = t1\nsessions = 4\n[log]\nlevel = debug\n"
			"[database]\nurl = host=/tmp dbname=x\n";
	struct sc_config cfg;
	struct sc_err err;

	sc_err_clear(&err);
	sc_config_defaults(&cfg);
	ck_assert_int_eq(sc_config_parse(&cfg, t, strlen(t), "t", &err), 0);
	ck_assert_uint_eq(cfg.port, 9090);
	ck_assert_str_eq(cfg.listen, "127.0.0.2");
	ck_assert_str_eq(cfg.hsm_token, "t1");
	ck_assert_uint_eq(cfg.hsm_sessions, 4);
	ck_assert_int_eq(cfg.log_level, SC_LOG_DEBUG);
	ck_assert_str_eq(cfg.db_url, "host=/tmp dbname=x");
	/* defaults kept */
	ck_assert_uint_eq(cfg.threads, 8);
}
END_TEST

static void
config_bad(const char *t, const char *needle)
{
	struct sc_config cfg;
	struct sc_err err;

	sc_err_clear(&err);
	sc_config_defaults(&cfg);
	ck_assert_int_eq(sc_config_parse(&cfg, t, strlen(t), "f", &err), -1);
	ck_assert_int_eq(err.code, SC_E_CONFIG);
	ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\" lacks \"%s\"",
	    err.msg, needle);
}

START_TEST(config_errors)
{
	config_bad("[server]\nprot = 1\n", "unknown key \"prot\"");
	config_bad("[serveur]\n", "unknown section");
	config_bad("[server]\nport = 70000\n", "f:2: server.port");
	config_bad("[server]\nport = abc\n", "not a whole number");
	config_bad("port = 1\n", "outside of a [section]");
	config_bad("[server]\njust words\n", "key = value");
	config_bad("[log]\nlevel = loud\n", "not one of");
	config_bad("[server\n", "malformed section");
	{
		char big[200];

		memset(big, 'a', sizeof(big));
		big[sizeof(big) - 1] = '\0';
		char t[300];
		snprintf(t, sizeof(t), "[hsm]\ntoken = %s\n", big);
		config_bad(t, "longer than");
	}
	{
		/* a NUL inside the text */
		struct sc_config cfg;
		struct sc_err err;

		sc_err_clear(&err);
		ck_assert_int_eq(sc_config_parse(&cfg, "[log]\0x", 7, "f",
				     &err), -1);
	}
}
END_TEST

static struct sc_time
fixed_clock(void)
{
	struct sc_time t = {1795756572, 123456}; /* 2026-11-27T05:16:12Z */
	return t;
}

START_TEST(time_seam)
{
	char s[32];

	sc_time_set_source(fixed_clock);
	sc_time_fmt(sc_time_now(), 0, s);
	ck_assert_str_eq(s, "2026-11-27T05:16:12Z");
	sc_time_fmt(sc_time_now(), 1, s);
	ck_assert_str_eq(s, "2026-11-27T05:16:12.123456Z");
	sc_time_set_source(NULL);
	ck_assert_int_gt(sc_time_now().sec, 1700000000);
}
END_TEST

START_TEST(crypto_helpers)
{
	static const uint8_t abc_sha256[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f,
	    0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
	    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff,
	    0x61, 0xf2, 0x00, 0x15, 0xad};
	uint8_t h[32], r1[16], r2[16];
	struct sc_err err;
	char id[17];

	sc_sha256("abc", 3, h);
	ck_assert_mem_eq(h, abc_sha256, 32);
	ck_assert_int_eq(sc_ct_equal(h, abc_sha256, 32), 1);
	h[31] ^= 1;
	ck_assert_int_eq(sc_ct_equal(h, abc_sha256, 32), 0);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_rand_bytes(r1, 16, &err), 0);
	ck_assert_int_eq(sc_rand_bytes(r2, 16, &err), 0);
	ck_assert_int_ne(memcmp(r1, r2, 16), 0);
	sc_request_id(id);
	ck_assert_uint_eq(strlen(id), 16);
}
END_TEST

static Suite *
core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc;

	tc = tcase_create("errors");
	tcase_add_test(tc, err_first_wins);
	tcase_add_test(tc, codes_registry);
	suite_add_tcase(s, tc);
	tc = tcase_create("buffers");
	tcase_add_test(tc, buf_limit);
	tcase_add_test(tc, hex_roundtrip);
	tcase_add_test(tc, b64_roundtrip);
	tcase_add_test(tc, parse_numbers);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_add_test(tc, config_good);
	tcase_add_test(tc, config_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("time_crypto");
	tcase_add_test(tc, time_seam);
	tcase_add_test(tc, crypto_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(core_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
