/*
 * check_ca.c: unit tests of ca/ — profile parser, subject checks (NINA,
 * ISO 3166, RFC 5280 bounds, accents kept), hostile CSRs, QCStatements
 * encode/decode, the lint table against deliberately wrong certificates,
 * serials; and, with SCEAU_TEST_ENV, the hierarchy and one issuance in a
 * database of its own.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/ca.h"
#include "sceau/db.h"
#include "sceau/hsm.h"

#include "../../ca/ca_int.h"
#include "testenv.h"

#define PROFILES SCEAU_SOURCE_DIR "/policies/profiles"
#define ARC "2.16.466.1.1"

static const char good_profile[] =
    "[profile]\nkind = end-entity\nissuer = personnes\n"
    "key_types = ec-p256, rsa-2048\nvalidity_days = 365\napprovals = 2\n"
    "secure_device = no\npolicy = 1.1\nuser_notice = Texte à lire\n"
    "[subject]\nrequired = givenName, surname, commonName, nina\n"
    "optional = title\n"
    "[extensions]\nkey_usage = nonRepudiation\nextended_key_usage = none\n"
    "extended_key_usage_critical = no\nbasic_constraints = leaf\n"
    "ocsp_nocheck = no\ncrl_distribution_point = yes\n"
    "authority_info_access = yes\n"
    "[qc]\nenabled = yes\ntype = esign\nsscd = by-key\n"
    "limit_amount = 5000\nlimit_exponent = 0\nretention_years = 10\n"
    "semantics = natural\n";

static int
parse(const char *text, struct ca_profile *p, struct sc_err *err)
{
	sc_err_clear(err);
	return ca_profile_parse(p, "t", text, strlen(text), "t.conf", err);
}

/* good_profile with line @from replaced by @to. */
static char *
variant(const char *from, const char *to)
{
	const char *at = strstr(good_profile, from);
	char *out;

	ck_assert_ptr_nonnull(at);
	out = malloc(sizeof(good_profile) + strlen(to));
	ck_assert_ptr_nonnull(out);
	snprintf(out, sizeof(good_profile) + strlen(to), "%.*s%s%s",
	    (int)(at - good_profile), good_profile, to, at + strlen(from));
	return out;
}

START_TEST(profile_good)
{
	struct ca_profile p;
	struct sc_ca_env env;
	struct sc_err err;

	ck_assert_int_eq(parse(good_profile, &p, &err), 0);
	ck_assert_uint_eq(p.approvals, 2);
	ck_assert_uint_eq(p.key_usage, CA_KU_NONREP);
	ck_assert_int_eq(p.sscd, CA_SSCD_BY_KEY);
	ck_assert_uint_eq(p.limit_amount, 5000);
	ck_assert_str_eq(p.user_notice, "Texte à lire");
	/* every shipped profile loads */
	memset(&env, 0, sizeof(env));
	snprintf(env.profiles_dir, sizeof(env.profiles_dir), "%s", PROFILES);
	sc_err_clear(&err);
	ck_assert_msg(sc_ca_profiles_check(&env, &err) == 0, "%s", err.msg);
	for (const char *const *n = (const char *const[]){"root-ca",
		 "issuing-ca", "qualified-person", "qualified-seal", "person",
		 "tsa", "ocsp", NULL};
	     *n != NULL; n++) {
		sc_err_clear(&err);
		ck_assert_msg(ca_profile_load(PROFILES, *n, &p, &err) == 0,
		    "%s: %s", *n, err.msg);
	}
	ck_assert_int_eq(ca_profile_load(PROFILES, "qualified-person", &p,
			     &err),
	    0);
	ck_assert(p.qc && p.approvals == 2 && p.semantics == CA_SEM_NATURAL);
	sc_err_clear(&err);
	ck_assert_int_eq(ca_profile_load(PROFILES, "../etc/passwd", &p, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_UNKNOWN_PROFILE);
	sc_err_clear(&err);
	ck_assert_int_eq(ca_profile_load(PROFILES, "nope", &p, &err), -1);
	ck_assert_int_eq(err.code, SC_E_UNKNOWN_PROFILE);
}
END_TEST

START_TEST(profile_bad)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{"approvals = 2\n", "approvals = 2\ncolour = blue\n",
		    "t.conf:7: unknown key"},
		{"type = esign", "type = web", "t.conf:23: qc.type"},
		{"sscd = by-key", "sscd = maybe", "t.conf:24: qc.sscd"},
		{"key_types = ec-p256, rsa-2048", "key_types = ec-p256, dsa",
		    "t.conf:4: profile.key_types: unknown value"},
		{"approvals = 2", "approvals = 0", "t.conf:6:"},
		{"approvals = 2\n", "approvals = 2\napprovals = 3\n",
		    "given twice"},
		{"[qc]", "[quality]", "unknown section"},
		{"validity_days = 365\n", "", "missing key profile.validity_days"},
		{"optional = title", "optional = nina",
		    "both required and optional"},
		{"basic_constraints = leaf", "basic_constraints = ca",
		    "basic_constraints = leaf exactly"},
		{"required = givenName, surname, commonName, nina",
		    "required = givenName, surname, commonName",
		    "semantics = natural needs nina"},
		{"key_usage = nonRepudiation", "key_usage = keyCertSign",
		    "keyCertSign/cRLSign only in CA"},
		{"policy = 1.1", "policy = 1..1", "t.conf:8:"},
		{"kind = end-entity", "kind end-entity", "expected"},
	};
	struct ca_profile p;
	struct sc_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = variant(cases[i].from, cases[i].to);

		ck_assert_msg(parse(t, &p, &err) == -1, "case %zu accepted", i);
		ck_assert_int_eq(err.code, SC_E_CONFIG);
		ck_assert_msg(strstr(err.msg, cases[i].want) != NULL,
		    "case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
		free(t);
	}
}
END_TEST

/* ------------------------------------------------------------------ */

static struct ca_profile qp; /* qualified-person */

static void
load_qp(void)
{
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_msg(ca_profile_load(PROFILES, "qualified-person", &qp,
			  &err) == 0,
	    "%s", err.msg);
}

static int
subj(const char *json, struct ca_subject *s, struct sc_err *err)
{
	sc_err_clear(err);
	return ca_subject_parse(json, strlen(json), &qp, s, err);
}

START_TEST(subject_checks)
{
	static const char *const bad[] = {
		/* NINA: 14 digits and an uppercase letter */
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234a\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"1234567890123AA\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"123456789012345K\"}",
		/* unknown field, field not in the profile, missing field */
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234K\",\"nickname\":\"x\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234K\",\"organization\":\"x\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\","
		"\"nina\":\"12345678901234K\"}",
		/* ISO 3166 */
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234K\",\"country\":\"XX\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234K\",\"country\":\"ml\"}",
		/* ub-common-name 64 */
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"01234567"
		"89012345678901234567890123456789012345678901234567890123456789"
		"X\",\"nina\":\"12345678901234K\"}",
		/* not a string; control character; invalid UTF-8 */
		"{\"givenName\":1,\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234K\"}",
		"{\"givenName\":\"A\\u0001\",\"surname\":\"B\",\"commonName\":"
		"\"A B\",\"nina\":\"12345678901234K\"}",
		"{\"givenName\":\"A\",\"surname\":\"B\",\"commonName\":\"A B\","
		"\"nina\":\"12345678901234K\",\"email\":\"not-an-address\"}",
		"[1]",
	};
	/* 64 accented characters (128 bytes) fit ub-common-name */
	char long_ok[512], cn[200] = "";
	struct ca_subject s;
	struct sc_err err;
	X509_NAME *n;
	const ASN1_STRING *v;
	int i;

	load_qp();
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		ck_assert_msg(subj(bad[k], &s, &err) == -1, "accepted: %s",
		    bad[k]);
		ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	}
	ck_assert(ca_nina_valid("12345678901234Z"));
	ck_assert(!ca_nina_valid("1234567890123_Z"));
	ck_assert(ca_country_valid("ML") && ca_country_valid("SN") &&
	    !ca_country_valid("ZZ"));
	for (int k = 0; k < 64; k++)
		memcpy(cn + strlen(cn), "é", sizeof("é"));
	snprintf(long_ok, sizeof(long_ok),
	    "{\"givenName\":\"Aminata\",\"surname\":\"Doumbia-Diallo Traoré\","
	    "\"commonName\":\"%s\",\"nina\":\"12345678901234K\","
	    "\"title\":\"Directrice\"}",
	    cn);
	ck_assert_msg(subj(long_ok, &s, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(s.surname, "Doumbia-Diallo Traor\xc3\xa9");
	n = ca_subject_name(&s, &err);
	ck_assert_ptr_nonnull(n);
	/* byte-exact UTF8String, PrintableString serialNumber */
	i = X509_NAME_get_index_by_NID(n, NID_surname, -1);
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	ck_assert_int_eq(ASN1_STRING_type(v), V_ASN1_UTF8STRING);
	ck_assert_int_eq(ASN1_STRING_length(v), 22);
	ck_assert(memcmp(ASN1_STRING_get0_data(v), "Doumbia-Diallo Traor\xc3\xa9",
		      22) == 0);
	i = X509_NAME_get_index_by_NID(n, NID_serialNumber, -1);
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	ck_assert_int_eq(ASN1_STRING_type(v), V_ASN1_PRINTABLESTRING);
	ck_assert_int_eq(ASN1_STRING_length(v), 21);
	ck_assert(memcmp(ASN1_STRING_get0_data(v), "PNOML-12345678901234K", 21) ==
	    0);
	i = X509_NAME_get_index_by_NID(n, NID_countryName, -1);
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	ck_assert_int_eq(ASN1_STRING_type(v), V_ASN1_PRINTABLESTRING);
	X509_NAME_free(n);
}
END_TEST

/* ------------------------------------------------------------------ */
/* CSRs                                                                */

static EVP_PKEY *
keygen(const char *type, const char *param)
{
	EVP_PKEY *k;

	if (strcmp(type, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)(int)strtol(param, NULL, 10));
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	ck_assert_ptr_nonnull(k);
	return k;
}

/* A DER CSR for @k; @corrupt flips the signature's last bit. */
static unsigned char *
make_csr(EVP_PKEY *k, int corrupt, int *len)
{
	X509_REQ *r = X509_REQ_new();
	unsigned char *der = NULL;

	ck_assert_ptr_nonnull(r);
	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(r), "CN",
	    MBSTRING_UTF8, (const unsigned char *)"x", -1, -1, 0);
	ck_assert_int_eq(X509_REQ_set_pubkey(r, k), 1);
	ck_assert_int_gt(X509_REQ_sign(r, k, EVP_sha256()), 0);
	*len = i2d_X509_REQ(r, &der);
	ck_assert_int_gt(*len, 0);
	if (corrupt)
		der[*len - 1] ^= 1;
	X509_REQ_free(r);
	return der;
}

static void
expect_bad_csr(const uint8_t *p, size_t n, const char *want)
{
	struct sc_err err;
	EVP_PKEY *pk;

	sc_err_clear(&err);
	pk = ca_csr_parse(p, n, NULL, NULL, &err);
	ck_assert_ptr_null(pk);
	ck_assert_int_eq(err.code, SC_E_INVALID_CSR);
	ck_assert_msg(strstr(err.msg, want) != NULL, "\"%s\" lacks \"%s\"",
	    err.msg, want);
}

START_TEST(csr_checks)
{
	EVP_PKEY *k, *pk;
	unsigned char *der, *big;
	uint8_t *copy = NULL;
	size_t copylen = 0;
	struct sc_err err;
	BIO *b;
	char *pem;
	long pl;
	int n;

	/* good, DER and PEM */
	k = keygen("EC", "P-256");
	der = make_csr(k, 0, &n);
	sc_err_clear(&err);
	pk = ca_csr_parse(der, (size_t)n, &copy, &copylen, &err);
	ck_assert_msg(pk != NULL, "%s", err.msg);
	ck_assert_int_eq(EVP_PKEY_eq(pk, k), 1);
	ck_assert_uint_eq(copylen, (size_t)n);
	EVP_PKEY_free(pk);
	free(copy);
	b = BIO_new(BIO_s_mem());
	{
		const unsigned char *p = der;
		X509_REQ *r = d2i_X509_REQ(NULL, &p, n);

		PEM_write_bio_X509_REQ(b, r);
		X509_REQ_free(r);
	}
	pl = BIO_get_mem_data(b, &pem);
	pk = ca_csr_parse((const uint8_t *)pem, (size_t)pl, NULL, NULL, &err);
	ck_assert_ptr_nonnull(pk);
	EVP_PKEY_free(pk);
	/* PEM with trailing garbage */
	BIO_puts(b, "garbage\n");
	pl = BIO_get_mem_data(b, &pem);
	expect_bad_csr((const uint8_t *)pem, (size_t)pl, "trailing");
	BIO_free(b);
	/* DER with a trailing byte */
	big = malloc((size_t)n + 1);
	memcpy(big, der, (size_t)n);
	big[n] = 0;
	expect_bad_csr(big, (size_t)n + 1, "trailing");
	free(big);
	OPENSSL_free(der);
	/* broken self-signature */
	der = make_csr(k, 1, &n);
	expect_bad_csr(der, (size_t)n, "self-signature");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	/* weak or unsupported keys */
	k = keygen("RSA", "1024");
	der = make_csr(k, 0, &n);
	expect_bad_csr(der, (size_t)n, "at least 2048");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	k = keygen("EC", "secp256k1");
	der = make_csr(k, 0, &n);
	expect_bad_csr(der, (size_t)n, "unsupported curve");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	k = keygen("EC", "P-521");
	der = make_csr(k, 0, &n);
	expect_bad_csr(der, (size_t)n, "unsupported curve");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	/* oversized, garbage, empty */
	big = calloc(1, 70 * 1024);
	big[0] = 0x30;
	expect_bad_csr(big, 70 * 1024, "64 KiB");
	free(big);
	expect_bad_csr((const uint8_t *)"hello world", 11, "not a");
	expect_bad_csr((const uint8_t *)"\x30\x03\x02\x01\x00", 5, "not a DER");
	expect_bad_csr((const uint8_t *)"", 0, "empty");
	expect_bad_csr((const uint8_t *)"-----BEGIN CERTIFICATE-----\nAAAA\n"
					"-----END CERTIFICATE-----\n",
	    58, "PEM");
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(qc_roundtrip)
{
	struct ca_qc in, out;
	struct sc_err err;
	uint8_t *der = NULL, *bad;
	size_t len = 0;

	memset(&in, 0, sizeof(in));
	in.compliance = 1;
	snprintf(in.legislation, sizeof(in.legislation), "ML");
	in.type = CA_QC_ESEAL;
	in.sscd = 1;
	snprintf(in.pds_url[0], sizeof(in.pds_url[0]), "https://x.ml/pds/fr");
	snprintf(in.pds_lang[0], 3, "fr");
	snprintf(in.pds_url[1], sizeof(in.pds_url[1]), "https://x.ml/pds/en");
	snprintf(in.pds_lang[1], 3, "en");
	in.npds = 2;
	in.retention = 15;
	in.has_limit = 1;
	snprintf(in.limit_currency, 4, "XOF");
	in.limit_amount = 123456789;
	in.limit_exponent = 2;
	in.semantics = CA_SEM_LEGAL;
	sc_err_clear(&err);
	ck_assert_int_eq(ca_qc_encode(&in, &der, &len, &err), 0);
	ck_assert_int_eq(ca_qc_decode(der, len, &out, &err), 0);
	ck_assert(out.compliance && out.sscd);
	ck_assert_str_eq(out.legislation, "ML");
	ck_assert_int_eq(out.type, CA_QC_ESEAL);
	ck_assert_int_eq(out.npds, 2);
	ck_assert_str_eq(out.pds_url[1], "https://x.ml/pds/en");
	ck_assert_str_eq(out.pds_lang[0], "fr");
	ck_assert_int_eq(out.retention, 15);
	ck_assert(out.has_limit);
	ck_assert_str_eq(out.limit_currency, "XOF");
	ck_assert_uint_eq(out.limit_amount, 123456789);
	ck_assert_uint_eq(out.limit_exponent, 2);
	ck_assert_int_eq(out.semantics, CA_SEM_LEGAL);
	ck_assert_int_eq(out.unknown, 0);
	/* trailing byte, truncation */
	bad = malloc(len + 1);
	memcpy(bad, der, len);
	bad[len] = 0;
	sc_err_clear(&err);
	ck_assert_int_eq(ca_qc_decode(bad, len + 1, &out, &err), -1);
	sc_err_clear(&err);
	ck_assert_int_eq(ca_qc_decode(der, len - 3, &out, &err), -1);
	free(bad);
	free(der);
	/* a minimal set: no optional statements */
	memset(&in, 0, sizeof(in));
	in.compliance = 1;
	in.type = -1;
	in.retention = -1;
	in.semantics = -1;
	ck_assert_int_eq(ca_qc_encode(&in, &der, &len, &err), 0);
	ck_assert_int_eq(ca_qc_decode(der, len, &out, &err), 0);
	ck_assert(out.compliance && !out.sscd && !out.has_limit &&
	    out.type == -1 && out.semantics == -1 && out.npds == 0);
	free(der);
}
END_TEST

START_TEST(serials)
{
	uint8_t s[20];
	char hex[41], hex2[41], prev[41] = "";
	size_t len;
	struct sc_err err;

	for (int i = 0; i < 2000; i++) {
		BIGNUM *bn;
		ASN1_INTEGER *ai;

		sc_err_clear(&err);
		ck_assert_int_eq(ca_serial_new(s, &len, hex, &err), 0);
		ck_assert_uint_eq(len, 20);
		ck_assert(s[0] != 0 && s[0] < 0x80); /* positive, no pad */
		ck_assert_uint_eq(strlen(hex), 40);
		ck_assert_str_ne(hex, prev);
		bn = BN_bin2bn(s, 20, NULL);
		ck_assert_int_ge(BN_num_bits(bn), 64);
		ai = BN_to_ASN1_INTEGER(bn, NULL);
		ck_assert_int_eq(sc_ca_serial_hex(ai, hex2), 0);
		ck_assert_str_eq(hex, hex2);
		ASN1_INTEGER_free(ai);
		BN_free(bn);
		memcpy(prev, hex, sizeof(prev));
	}
	/* negative and zero serials are refused */
	{
		ASN1_INTEGER *ai = ASN1_INTEGER_new();

		ASN1_INTEGER_set(ai, -5);
		ck_assert_int_eq(sc_ca_serial_hex(ai, hex2), -1);
		ASN1_INTEGER_set(ai, 0);
		ck_assert_int_eq(sc_ca_serial_hex(ai, hex2), -1);
		ASN1_INTEGER_free(ai);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Lint: a software-keyed hierarchy built with ca_cert_build()         */

struct pair {
	X509 *x;
	EVP_PKEY *k;
};

static struct pair
build(const char *profile, struct ca_subject *s, X509 *issuer,
    EVP_PKEY *ikey, const char *iname)
{
	struct ca_profile p;
	struct ca_tbs_in in;
	struct sc_err err;
	struct pair r;
	uint8_t serial[20];
	size_t slen;
	char hex[41];

	sc_err_clear(&err);
	ck_assert_int_eq(ca_profile_load(PROFILES, profile, &p, &err), 0);
	r.k = keygen("EC", strcmp(profile, "root-ca") == 0 ||
			       strcmp(profile, "issuing-ca") == 0
			   ? "P-384"
			   : "P-256");
	ck_assert_int_eq(ca_serial_new(serial, &slen, hex, &err), 0);
	memset(&in, 0, sizeof(in));
	in.prof = &p;
	in.subj = s;
	in.pub = r.k;
	in.issuer = issuer;
	in.issuer_pub = issuer != NULL ? X509_get0_pubkey(issuer) : r.k;
	in.issuer_name = iname;
	in.serial = serial;
	in.serial_len = slen;
	in.public_url = "https://pki.example.ml";
	in.oid_arc = ARC;
	in.not_before = (int64_t)time(NULL);
	r.x = ca_cert_build(&in, &err);
	ck_assert_msg(r.x != NULL, "%s", err.msg);
	ck_assert_int_gt(X509_sign(r.x, issuer != NULL ? ikey : r.k,
			     EVP_sha384()),
	    0);
	return r;
}

static void
ca_subj(struct ca_subject *s, const char *cn)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cn, sizeof(s->cn), "%s", cn);
	snprintf(s->org, sizeof(s->org), "Service de test");
	snprintf(s->orgid, sizeof(s->orgid), "NTRML-TEST-1");
	s->present = CA_F_CN | CA_F_ORG | CA_F_ORGID;
}

static int
lint(X509 *x, const char *profile, X509 *issuer, char *f, size_t flen)
{
	struct ca_profile p;
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_int_eq(ca_profile_load(PROFILES, profile, &p, &err), 0);
	return ca_lint(x, &p, issuer, 0, ARC, f, flen, &err);
}

START_TEST(lint_table)
{
	struct ca_subject rs, is, es;
	struct pair root, ca, ee;
	struct sc_err err;
	char f[512];
	ASN1_INTEGER *neg;
	X509_EXTENSION *e;
	int i;

	load_qp();
	ca_subj(&rs, "Racine de test");
	ca_subj(&is, "AC de test");
	root = build("root-ca", &rs, NULL, NULL, "root");
	ck_assert_msg(lint(root.x, "root-ca", NULL, f, sizeof(f)) == 0, "%s",
	    f);
	ca = build("issuing-ca", &is, root.x, root.k, "root");
	ck_assert_msg(lint(ca.x, "issuing-ca", root.x, f, sizeof(f)) == 0,
	    "%s", f);
	ck_assert_int_eq(subj("{\"givenName\":\"Awa\",\"surname\":\"Traoré\","
			      "\"commonName\":\"Awa Traoré\","
			      "\"nina\":\"12345678901234K\"}",
			     &es, &err),
	    0);
	ee = build("qualified-person", &es, ca.x, ca.k, "personnes");
	ck_assert_msg(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)) == 0,
	    "%s", f);

	/* the same certificate against another profile */
	ck_assert_int_eq(lint(ee.x, "person", ca.x, f, sizeof(f)), 1);
	/* wrong issuer */
	ck_assert_int_eq(lint(ee.x, "qualified-person", root.x, f, sizeof(f)),
	    1);
	ck_assert_ptr_nonnull(strstr(f, "issuer"));

	/* qcStatements removed: Art. 115 (1) */
	i = X509_get_ext_by_NID(ee.x, NID_qcStatements, -1);
	e = X509_delete_ext(ee.x, i);
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_int_eq(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)),
	    1);
	ck_assert_ptr_nonnull(strstr(f, "Art. 115 (1)"));
	/* back, but critical */
	X509_EXTENSION_set_critical(e, 1);
	X509_add_ext(ee.x, e, -1);
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_int_eq(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)),
	    1);
	X509_EXTENSION_set_critical(e, 0);
	i = X509_get_ext_by_NID(ee.x, NID_qcStatements, -1);
	X509_EXTENSION_free(X509_delete_ext(ee.x, i));
	X509_add_ext(ee.x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_msg(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)) == 0,
	    "%s", f);

	/* negative serial */
	neg = ASN1_INTEGER_new();
	ASN1_INTEGER_set(neg, -12345);
	X509_set_serialNumber(ee.x, neg);
	ASN1_INTEGER_free(neg);
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_int_eq(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)),
	    1);
	ck_assert_ptr_nonnull(strstr(f, "4.1.2.2"));
	X509_free(ee.x);
	EVP_PKEY_free(ee.k);

	/* a 2051 notAfter encoded as UTCTime-range GeneralizedTime: the
	 * validity is also too long for the profile */
	ee = build("qualified-person", &es, ca.x, ca.k, "personnes");
	ASN1_TIME_set_string(X509_getm_notAfter(ee.x), "20510101000000Z");
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_int_eq(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)),
	    1);
	ck_assert_ptr_nonnull(strstr(f, "validity"));
	X509_free(ee.x);
	EVP_PKEY_free(ee.k);

	/* an unknown critical extension */
	ee = build("qualified-person", &es, ca.x, ca.k, "personnes");
	{
		ASN1_OBJECT *o = OBJ_txt2obj("1.2.3.4.5", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

		ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2);
		e = X509_EXTENSION_create_by_OBJ(NULL, o, 1, os);
		X509_add_ext(ee.x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(o);
		ASN1_OCTET_STRING_free(os);
	}
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_int_eq(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)),
	    1);
	X509_free(ee.x);
	EVP_PKEY_free(ee.k);

	/* keyUsage differs: digitalSignature added */
	ee = build("qualified-person", &es, ca.x, ca.k, "personnes");
	i = X509_get_ext_by_NID(ee.x, NID_key_usage, -1);
	X509_EXTENSION_free(X509_delete_ext(ee.x, i));
	{
		X509V3_CTX ctx;

		X509V3_set_ctx(&ctx, ca.x, ee.x, NULL, NULL, 0);
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
		    "critical,digitalSignature,nonRepudiation");
		X509_add_ext(ee.x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(ee.x, ca.k, EVP_sha384());
	ck_assert_int_eq(lint(ee.x, "qualified-person", ca.x, f, sizeof(f)),
	    1);
	ck_assert_ptr_nonnull(strstr(f, "keyUsage"));
	X509_free(ee.x);
	EVP_PKEY_free(ee.k);

	X509_free(ca.x);
	EVP_PKEY_free(ca.k);
	X509_free(root.x);
	EVP_PKEY_free(root.k);
}
END_TEST

/* ------------------------------------------------------------------ */
/* With the environment: hierarchy and issuance in a fresh database     */

static int
sh(const char *script)
{
	char cmd[2048];
	int st;

	setenv("SC_T_SCRIPT", script, 1);
	snprintf(cmd, sizeof(cmd),
	    "bash -c 'source %s/scripts/lib/env.sh && eval \"$SC_T_SCRIPT\"'",
	    SCEAU_SOURCE_DIR);
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

START_TEST(issue_cycle)
{
	struct sc_config cfg;
	struct sc_ca_env env;
	struct sc_ca_submit in;
	struct sc_ca_request_state st;
	struct sc_ca_cert_info ci;
	struct sc_actor a1 = {"officer-1", "ra_officer"};
	struct sc_actor a2 = {"officer-2", "ra_officer"};
	struct sc_db *db;
	struct sc_hsm *hsm;
	struct sc_err err;
	char dbname[64], conninfo[1400], script[512];
	unsigned char r[4], *der;
	const char *dir;
	EVP_PKEY *k;
	int64_t id;
	int n;

	testenv_config(&cfg);
	dir = getenv("SCEAU_TEST_ENV");
	RAND_bytes(r, sizeof(r));
	snprintf(dbname, sizeof(dbname), "t_check_ca_%02x%02x%02x%02x", r[0],
	    r[1], r[2], r[3]);
	snprintf(script, sizeof(script),
	    "\"$PGBIN/createdb\" -h %s/pgsock -U postgres %s", dir, dbname);
	ck_assert_int_eq(sh(script), 0);
	snprintf(conninfo, sizeof(conninfo),
	    "host=%s/pgsock port=5432 dbname=%s user=postgres", dir, dbname);
	sc_err_clear(&err);
	db = sc_db_open(conninfo, 4, &err);
	ck_assert_ptr_nonnull(db);
	ck_assert_msg(sc_db_migrate(db, cfg.migrations, NULL, &err) == 0, "%s",
	    err.msg);
	hsm = sc_hsm_open(&cfg, &err);
	ck_assert_msg(hsm != NULL, "%s", err.msg);
	ck_assert_int_eq(sc_ca_env_init(&env, &cfg, db, hsm, &err), 0);
	ck_assert_str_eq(env.profiles_dir, PROFILES);
	ck_assert_msg(sc_ca_init(&env, &a1, 1, NULL, 0, NULL, &err) == 0, "%s",
	    err.msg);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_init(&env, &a1, 1, NULL, 0, NULL, &err), -1);
	ck_assert_int_eq(err.code, SC_E_CONFLICT);

	k = keygen("EC", "P-384");
	der = make_csr(k, 0, &n);
	memset(&in, 0, sizeof(in));
	in.profile = "qualified-person";
	in.csr = der;
	in.csr_len = (size_t)n;
	in.subject_json = "{\"givenName\":\"Awa\",\"surname\":\"Traoré\","
			  "\"commonName\":\"Awa Traoré\","
			  "\"nina\":\"12345678901234K\"}";
	in.subject_len = strlen(in.subject_json);
	sc_err_clear(&err);
	ck_assert_msg(sc_ca_request_submit(&env, &a1, &in, &id, &err) == 0,
	    "%s", err.msg);
	/* four-eyes */
	ck_assert_int_eq(sc_ca_request_approve(&env, &a1, id, &st, &err), -1);
	ck_assert_int_eq(err.code, SC_E_FORBIDDEN);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_request_approve(&env, &a2, id, &st, &err), 0);
	ck_assert_str_eq(st.status, "pending");
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_request_approve(&env, &a2, id, &st, &err), -1);
	ck_assert_int_eq(err.code, SC_E_CONFLICT);
	/* one-step issuance refused for a two-approval profile */
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ca_cert_issue(&env, &a1, &in, &st, &err), -1);
	ck_assert_int_eq(err.code, SC_E_USAGE);
	/* one-approval profile */
	in.profile = "person";
	in.subject_json = "{\"givenName\":\"Awa\",\"surname\":\"Traoré\","
			  "\"commonName\":\"Awa Traoré\"}";
	in.subject_len = strlen(in.subject_json);
	sc_err_clear(&err);
	ck_assert_msg(sc_ca_cert_issue(&env, &a1, &in, &st, &err) == 0, "%s",
	    err.msg);
	ck_assert_str_eq(st.status, "issued");
	ck_assert_uint_eq(strlen(st.serial), 40);
	ck_assert_int_eq(sc_ca_cert_show(&env, st.serial, &ci, &err), 0);
	ck_assert_str_eq(ci.status, "issued");
	ck_assert_ptr_nonnull(ci.pem);
	ck_assert_ptr_nonnull(strstr(ci.subject, "Traoré"));
	free(ci.pem);
	OPENSSL_free(der);
	EVP_PKEY_free(k);

	sc_hsm_close(hsm);
	sc_db_close(db);
	snprintf(script, sizeof(script),
	    "\"$PGBIN/dropdb\" -h %s/pgsock -U postgres %s", dir, dbname);
	sh(script);
}
END_TEST

static Suite *
ca_suite(void)
{
	Suite *s = suite_create("ca");
	TCase *tc;

	tc = tcase_create("profile");
	tcase_add_test(tc, profile_good);
	tcase_add_test(tc, profile_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("subject");
	tcase_add_test(tc, subject_checks);
	suite_add_tcase(s, tc);
	tc = tcase_create("csr");
	tcase_add_test(tc, csr_checks);
	suite_add_tcase(s, tc);
	tc = tcase_create("qc");
	tcase_add_test(tc, qc_roundtrip);
	suite_add_tcase(s, tc);
	tc = tcase_create("serial");
	tcase_add_test(tc, serials);
	suite_add_tcase(s, tc);
	tc = tcase_create("lint");
	tcase_add_test(tc, lint_table);
	suite_add_tcase(s, tc);
	tc = tcase_create("issue");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, issue_cycle);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* Skip (77) early, as the other suites, when there is no
	 * environment: the issuance case needs it. */
	{
		struct sc_config cfg;

		testenv_config(&cfg);
	}
	sc_log_init(SC_LOG_WARNING, NULL);
	sr = srunner_create(ca_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
