/*
 * check_verify: the validator on small documents made here with OpenSSL
 * and software keys (fine for testing a verifier, which never signs):
 * CMS attached and detached, tampered content and signature values,
 * trust anchors and embedded CRLs, a minimal signed PDF with its
 * ByteRange attacks, garbage input and size limits.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/rand.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "sceau/verify.h"

/* A small PKI: root CA -> leaf, plus a self-signed signer. */
static EVP_PKEY *ca_key, *leaf_key, *self_key;
static X509 *ca_cert, *leaf_cert, *self_cert;
static X509_CRL *ca_crl;

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	ck_assert_ptr_nonnull(k);
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *
new_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
    long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"ML", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x,
	    issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), -30L * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign"
	       : "critical,digitalSignature,nonRepudiation");
	add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier,
	    "hash");
	ck_assert_int_gt(X509_sign(x, ikey, EVP_sha256()), 0);
	return x;
}

static void
pki_setup(void)
{
	X509_CRL *crl;

	ca_key = new_key();
	leaf_key = new_key();
	self_key = new_key();
	ca_cert = new_cert("Test Root CA", ca_key, NULL, ca_key, 1, 1);
	leaf_cert = new_cert("Awa Diarra", leaf_key, ca_cert, ca_key, 0, 2);
	self_cert = new_cert("Self Signer", self_key, NULL, self_key, 0, 3);
	/* An empty CRL from the root: nothing revoked. */
	crl = X509_CRL_new();
	ck_assert_ptr_nonnull(crl);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert));
	{
		ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), -1, 0);
		ASN1_TIME *u = ASN1_TIME_adj(NULL, time(NULL), 7, 0);

		X509_CRL_set1_lastUpdate(crl, t);
		X509_CRL_set1_nextUpdate(crl, u);
		ASN1_TIME_free(t);
		ASN1_TIME_free(u);
	}
	ck_assert_int_gt(X509_CRL_sign(crl, ca_key, EVP_sha256()), 0);
	ca_crl = crl;
}

static void
pki_teardown(void)
{
	X509_CRL_free(ca_crl);
	X509_free(ca_cert);
	X509_free(leaf_cert);
	X509_free(self_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(self_key);
}

/* PEM text of a certificate (malloc'd). */
static char *
pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	ck_assert_int_eq(PEM_write_bio_X509(b, x), 1);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

/* A CAdES-style CMS over @data (CMS_CADES adds signingCertificateV2). */
static uint8_t *
cms_make(X509 *cert, EVP_PKEY *key, const void *data, size_t len, int detached,
    int with_ca, int with_crl, size_t *outlen)
{
	BIO *in = BIO_new_mem_buf(data, (int)len);
	STACK_OF(X509) *extra = sk_X509_new_null();
	CMS_ContentInfo *cms;
	unsigned int flags = CMS_BINARY | CMS_CADES;
	unsigned char *der = NULL;
	int n;

	if (with_ca)
		sk_X509_push(extra, ca_cert);
	if (detached)
		flags |= CMS_DETACHED;
	cms = CMS_sign(cert, key, extra, in, flags);
	ck_assert_ptr_nonnull(cms);
	if (with_crl)
		ck_assert_int_eq(CMS_add1_crl(cms, ca_crl), 1);
	n = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_gt(n, 0);
	*outlen = (size_t)n;
	CMS_ContentInfo_free(cms);
	sk_X509_free(extra);
	BIO_free(in);
	return der;
}

static struct sc_ver_report *
run(const uint8_t *doc, size_t len, const struct sc_ver_opts *o)
{
	struct sc_ver_report *r = NULL;
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_msg(sc_ver_document(doc, len, o, &r, &err) == 0,
	    "sc_ver_document: %s", err.msg);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void
sig0(const struct sc_ver_report *r, struct sc_ver_sig_summary *s)
{
	ck_assert_int_eq(sc_ver_report_sig(r, 0, s), 0);
}

static const char msg[] = "Décision n° 2026-042 du ministère";

/* ------------------------------------------------------------------ */

START_TEST(cms_attached_intact)
{
	size_t n;
	uint8_t *der =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &n);
	struct sc_ver_opts o = {.offline = 1};
	struct sc_ver_report *r = run(der, n, &o);
	struct sc_ver_sig_summary s;

	ck_assert_str_eq(sc_ver_report_format(r), "CAdES");
	ck_assert_uint_eq(sc_ver_report_count(r), 1);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_str_eq(s.level, "B-B");
	/* No anchor: EN 319 102-1 says INDETERMINATE, not PASSED. */
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	ck_assert_int_eq(sc_ver_report_exit(r), 2);
	sc_ver_report_free(r);
	OPENSSL_free(der);
}
END_TEST

START_TEST(cms_tampered_content)
{
	size_t n;
	uint8_t *der =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &n);
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	uint8_t *p = memmem(der, n, "minist", 6);

	ck_assert_ptr_nonnull(p);
	p[0] ^= 0x01; /* 'm' -> 'l': the content changes */
	r = run(der, n, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "HASH_FAILURE");
	ck_assert_int_eq(sc_ver_report_exit(r), 1);
	sc_ver_report_free(r);
	OPENSSL_free(der);
}
END_TEST

START_TEST(cms_tampered_signature)
{
	size_t n;
	uint8_t *der =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &n);
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;

	/* The signature value is the last element of the SignerInfo. */
	der[n - 3] ^= 0x01;
	r = run(der, n, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "SIG_CRYPTO_FAILURE");
	sc_ver_report_free(r);
	OPENSSL_free(der);
}
END_TEST

START_TEST(cms_detached)
{
	size_t n;
	uint8_t *der =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 1, 1, 0, &n);
	struct sc_ver_opts o = {.offline = 1};
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	char other[sizeof(msg)];

	/* Without the data: the digest cannot be checked. */
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_str_eq(s.subindication, "SIGNED_DATA_NOT_FOUND");
	sc_ver_report_free(r);

	o.detached = (const uint8_t *)msg;
	o.detached_len = sizeof(msg);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	sc_ver_report_free(r);

	memcpy(other, msg, sizeof(msg));
	other[0] = 'X';
	o.detached = (const uint8_t *)other;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_str_eq(s.subindication, "HASH_FAILURE");
	sc_ver_report_free(r);
	OPENSSL_free(der);
}
END_TEST

START_TEST(cms_trusted_chain)
{
	size_t n;
	uint8_t *der;
	char *pem = pem_of(ca_cert);
	struct sc_ver_opts o = {.offline = 1, .trust_pem = pem};
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;

	/* Chain to the anchor, but no revocation data: TRY_LATER. */
	der = cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &n);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "TRY_LATER");
	sc_ver_report_free(r);
	OPENSSL_free(der);

	/* With the CA's CRL embedded: TOTAL-PASSED. */
	der = cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 1, &n);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_PASSED);
	ck_assert_ptr_null(s.subindication);
	ck_assert_int_eq(sc_ver_report_exit(r), 0);
	sc_ver_report_free(r);
	OPENSSL_free(der);

	/* Another anchor: no chain. */
	free(pem);
	pem = pem_of(self_cert);
	o.trust_pem = pem;
	der = cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 1, &n);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	sc_ver_report_free(r);
	OPENSSL_free(der);

	/* The signer is itself the anchor: no revocation needed. */
	der = cms_make(self_cert, self_key, msg, sizeof(msg), 0, 0, 0, &n);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_PASSED);
	sc_ver_report_free(r);
	OPENSSL_free(der);
	free(pem);
}
END_TEST

/* A CMS whose signer's status comes from an OCSP response in the
 * RevocationValues attribute (RFC 5126 §6.3.4), signed by the CA. */
static uint8_t *
cms_with_ocsp(int status, size_t *outlen)
{
	BIO *in = BIO_new_mem_buf(msg, sizeof(msg));
	STACK_OF(X509) *extra = sk_X509_new_null();
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf_cert, ca_cert);
	/* Revoked a minute ago; the response itself is from now, after
	 * the signature (or it would not be fresh). */
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	ASN1_TIME *upd = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
	unsigned char *b = NULL, *der = NULL;
	uint8_t attr[4096];
	int bl, n;
	size_t al = 0;

	sk_X509_push(extra, ca_cert);
	cms = CMS_sign(leaf_cert, leaf_key, extra, in, CMS_BINARY | CMS_CADES);
	ck_assert_ptr_nonnull(cms);
	ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status,
	    status == V_OCSP_CERTSTATUS_REVOKED
		? OCSP_REVOKED_STATUS_KEYCOMPROMISE
		: -1,
	    status == V_OCSP_CERTSTATUS_REVOKED ? now : NULL, upd, next));
	ck_assert_int_eq(OCSP_basic_sign(bs, ca_cert, ca_key, EVP_sha256(),
			     NULL, 0),
	    1);
	bl = i2d_OCSP_BASICRESP(bs, &b);
	ck_assert_int_gt(bl, 0);
	ck_assert_int_lt(bl, 4000);
	/* SEQUENCE { [1] { SEQUENCE OF { basic } } }, lengths < 64 KiB. */
	attr[al++] = 0x30;
	attr[al++] = 0x82;
	attr[al++] = (uint8_t)((bl + 8) >> 8);
	attr[al++] = (uint8_t)(bl + 8);
	attr[al++] = 0xa1;
	attr[al++] = 0x82;
	attr[al++] = (uint8_t)((bl + 4) >> 8);
	attr[al++] = (uint8_t)(bl + 4);
	attr[al++] = 0x30;
	attr[al++] = 0x82;
	attr[al++] = (uint8_t)(bl >> 8);
	attr[al++] = (uint8_t)bl;
	memcpy(attr + al, b, (size_t)bl);
	al += (size_t)bl;
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	ck_assert_int_eq(CMS_unsigned_add1_attr_by_txt(si,
			     "1.2.840.113549.1.9.16.2.24", V_ASN1_SEQUENCE,
			     attr, (int)al),
	    1);
	n = i2d_CMS_ContentInfo(cms, &der);
	ck_assert_int_gt(n, 0);
	*outlen = (size_t)n;
	OPENSSL_free(b);
	ASN1_TIME_free(now);
	ASN1_TIME_free(upd);
	ASN1_TIME_free(next);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	CMS_ContentInfo_free(cms);
	sk_X509_free(extra);
	BIO_free(in);
	return der;
}

START_TEST(cms_ocsp_revocation)
{
	char *pem = pem_of(ca_cert), *text;
	struct sc_ver_opts o = {.offline = 1, .trust_pem = pem};
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	size_t n;
	uint8_t *der;

	der = cms_with_ocsp(V_OCSP_CERTSTATUS_GOOD, &n);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_PASSED);
	text = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(strstr(text, "\"status\": \"good\""));
	free(text);
	sc_ver_report_free(r);
	OPENSSL_free(der);

	der = cms_with_ocsp(V_OCSP_CERTSTATUS_REVOKED, &n);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "REVOKED_NO_POE");
	sc_ver_report_free(r);
	OPENSSL_free(der);
	free(pem);
}
END_TEST

/* A stand-in for the network: records the URLs asked, answers @crl. */
struct fake_net {
	const uint8_t *crl;
	size_t crl_len;
	int calls;
	char last[256];
};

static int
fake_fetch(void *arg, const char *url, const char *ctype, const uint8_t *body,
    size_t len, uint8_t **out, size_t *outlen, struct sc_err *err)
{
	struct fake_net *f = arg;
	(void)ctype;
	(void)len;

	f->calls++;
	snprintf(f->last, sizeof(f->last), "%s", url);
	if (body != NULL || f->crl == NULL)
		return sc_err_set(err, SC_E_UNAVAILABLE, "no answer");
	*out = malloc(f->crl_len);
	ck_assert_ptr_nonnull(*out);
	memcpy(*out, f->crl, f->crl_len);
	*outlen = f->crl_len;
	return 0;
}

/* A CRL of the test root revoking serial @revoked (0: none) at @when. */
static uint8_t *
crl_der(long revoked, time_t when, size_t *outlen)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	ASN1_TIME *u = ASN1_TIME_adj(NULL, time(NULL), 7, 0);
	unsigned char *der = NULL;
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca_cert));
	X509_CRL_set1_lastUpdate(crl, t);
	X509_CRL_set1_nextUpdate(crl, u);
	if (revoked != 0) {
		X509_REVOKED *rv = X509_REVOKED_new();
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		ASN1_TIME *rt = ASN1_TIME_set(NULL, when);

		ASN1_INTEGER_set(sn, revoked);
		X509_REVOKED_set_serialNumber(rv, sn);
		X509_REVOKED_set_revocationDate(rv, rt);
		X509_CRL_add0_revoked(crl, rv);
		ASN1_INTEGER_free(sn);
		ASN1_TIME_free(rt);
	}
	ck_assert_int_gt(X509_CRL_sign(crl, ca_key, EVP_sha256()), 0);
	n = i2d_X509_CRL(crl, &der);
	ck_assert_int_gt(n, 0);
	*outlen = (size_t)n;
	ASN1_TIME_free(t);
	ASN1_TIME_free(u);
	X509_CRL_free(crl);
	return der;
}

/*
 * Online revocation (EN 319 102-1 §5.2.5, RFC 5280 §4.2.1.13): a leaf
 * naming a CRL URL, no revocation data in the CMS; the validator fetches
 * the CRL through the caller's fetcher, only from allowed URLs, never
 * when offline.
 */
START_TEST(online_crl)
{
	char *pem = pem_of(ca_cert);
	EVP_PKEY *k = new_key();
	X509 *leaf = new_cert("Oumar Sidibe", k, ca_cert, ca_key, 0, 21);
	struct fake_net net = {0};
	struct sc_http_fetcher f = {fake_fetch, &net};
	const char *allow[] = {"http://pki.example.ml/"};
	struct sc_ver_opts o = {.trust_pem = pem, .fetch = &f};
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	uint8_t *der, *crl;
	size_t n, crl_len;
	char *json;

	add_ext(leaf, ca_cert, NID_crl_distribution_points,
	    "URI:http://pki.example.ml/pki/crl/root.crl");
	ck_assert_int_gt(X509_sign(leaf, ca_key, EVP_sha256()), 0);
	der = cms_make(leaf, k, msg, sizeof(msg), 0, 1, 0, &n);

	/* Not revoked: TOTAL-PASSED, from the fetched CRL. */
	crl = crl_der(0, 0, &crl_len);
	net.crl = crl;
	net.crl_len = crl_len;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_PASSED);
	ck_assert_int_eq(net.calls, 1);
	ck_assert_str_eq(net.last, "http://pki.example.ml/pki/crl/root.crl");
	json = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(strstr(json, "\"source\": \"online\""));
	free(json);
	sc_ver_report_free(r);
	OPENSSL_free(crl);

	/* Revoked an hour ago, signed now: no proof the signature came
	 * first, INDETERMINATE REVOKED_NO_POE (EN 319 102-1 §5.2.6.4). */
	crl = crl_der(21, time(NULL) - 3600, &crl_len);
	net.crl = crl;
	net.crl_len = crl_len;
	net.calls = 0;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "REVOKED_NO_POE");
	json = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(strstr(json, "\"revoked_at\""));
	free(json);
	sc_ver_report_free(r);

	/* The allow-list admits the URL: same answer. */
	o.fetch_allow = allow;
	o.nfetch_allow = 1;
	net.calls = 0;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "REVOKED_NO_POE");
	ck_assert_int_eq(net.calls, 1);
	sc_ver_report_free(r);

	/* An allow-list without it: nothing fetched, TRY_LATER. */
	allow[0] = "http://elsewhere.example/";
	net.calls = 0;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "TRY_LATER");
	ck_assert_int_eq(net.calls, 0);
	sc_ver_report_free(r);

	/* Offline: nothing fetched. */
	o.fetch_allow = NULL;
	o.offline = 1;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "TRY_LATER");
	ck_assert_int_eq(net.calls, 0);
	sc_ver_report_free(r);

	/* A source that does not answer: TRY_LATER, the reason says why. */
	o.offline = 0;
	net.crl = NULL;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "TRY_LATER");
	ck_assert_int_eq(net.calls, 1);
	json = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(strstr(json, "no answer"));
	free(json);
	sc_ver_report_free(r);

	/* A source that answers garbage: nothing usable, TRY_LATER. */
	net.crl = (const uint8_t *)"<html>not a CRL</html>";
	net.crl_len = 22;
	net.calls = 0;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "TRY_LATER");
	ck_assert_int_eq(net.calls, 1);
	sc_ver_report_free(r);
	net.crl = NULL;

	/* Two signatures naming the same dead source: asked once per
	 * validation, both TRY_LATER. */
	{
		BIO *in = BIO_new_mem_buf(msg, (int)sizeof(msg));
		CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, in,
		    CMS_BINARY | CMS_PARTIAL | CMS_CADES);
		EVP_PKEY *k2 = new_key();
		X509 *leaf2 = new_cert("Awa Keita", k2, ca_cert, ca_key, 0, 22);
		unsigned char *d2 = NULL;
		int l2;

		add_ext(leaf2, ca_cert, NID_crl_distribution_points,
		    "URI:http://pki.example.ml/pki/crl/root.crl");
		ck_assert_int_gt(X509_sign(leaf2, ca_key, EVP_sha256()), 0);
		ck_assert_ptr_nonnull(cms);
		ck_assert_ptr_nonnull(CMS_add1_signer(cms, leaf, k, EVP_sha256(),
		    CMS_BINARY | CMS_CADES));
		ck_assert_ptr_nonnull(CMS_add1_signer(cms, leaf2, k2,
		    EVP_sha256(), CMS_BINARY | CMS_CADES));
		ck_assert_int_eq(CMS_add1_cert(cms, ca_cert), 1);
		BIO_reset(in);
		ck_assert_int_eq(CMS_final(cms, in, NULL, CMS_BINARY), 1);
		l2 = i2d_CMS_ContentInfo(cms, &d2);
		ck_assert_int_gt(l2, 0);
		net.calls = 0;
		r = run(d2, (size_t)l2, &o);
		ck_assert_uint_eq(sc_ver_report_count(r), 2);
		ck_assert_int_eq(sc_ver_report_sig(r, 1, &s), 0);
		ck_assert_str_eq(s.subindication, "TRY_LATER");
		ck_assert_int_eq(net.calls, 1);
		sc_ver_report_free(r);
		OPENSSL_free(d2);
		CMS_ContentInfo_free(cms);
		BIO_free(in);
		X509_free(leaf2);
		EVP_PKEY_free(k2);
	}

	OPENSSL_free(crl);
	OPENSSL_free(der);
	X509_free(leaf);
	EVP_PKEY_free(k);
	free(pem);
}
END_TEST

/* An RFC 3161 TimeStampResp over @data, from a TSA under the test CA. */
/* TSA clock @data seconds in the past (TS_time_cb). */
static int
past_time(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
	(void)ctx;
	*sec = (long)time(NULL) - *(const long *)data;
	*usec = 0;
	return 1;
}

/* A TimeStampResp (or, with @token_only, the token) over @data, made
 * @back seconds ago. */
static uint8_t *
tsr_make_at(const void *data, size_t len, size_t *outlen, long back,
    int token_only)
{
	EVP_PKEY *k = new_key();
	X509 *tsa = new_cert("Test TSA", k, ca_cert, ca_key, 0, 7);
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	ASN1_OBJECT *pol = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	BIO *rb = BIO_new(BIO_s_mem());
	TS_RESP *resp;
	uint8_t h[32];
	unsigned char *der = NULL;
	int n;

	add_ext(tsa, ca_cert, NID_ext_key_usage, "critical,timeStamping");
	ck_assert_int_gt(X509_sign(tsa, ca_key, EVP_sha256()), 0);
	sc_sha256(data, len, h);
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL);
	TS_MSG_IMPRINT_set_algo(mi, alg);
	TS_MSG_IMPRINT_set_msg(mi, h, sizeof(h));
	TS_REQ_set_version(req, 1);
	TS_REQ_set_msg_imprint(req, mi);
	TS_REQ_set_cert_req(req, 1);
	ck_assert_int_eq(i2d_TS_REQ_bio(rb, req), 1);
	ck_assert_int_eq(TS_RESP_CTX_set_signer_cert(ctx, tsa), 1);
	ck_assert_int_eq(TS_RESP_CTX_set_signer_key(ctx, k), 1);
	ck_assert_int_eq(TS_RESP_CTX_set_def_policy(ctx, pol), 1);
	ck_assert_int_eq(TS_RESP_CTX_add_md(ctx, EVP_sha256()), 1);
	if (back != 0)
		TS_RESP_CTX_set_time_cb(ctx, past_time, &back);
	resp = TS_RESP_create_response(ctx, rb);
	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_nonnull(TS_RESP_get_token(resp));
	n = token_only ? i2d_PKCS7(TS_RESP_get_token(resp), &der)
		       : i2d_TS_RESP(resp, &der);
	ck_assert_int_gt(n, 0);
	*outlen = (size_t)n;
	TS_RESP_free(resp);
	BIO_free(rb);
	ASN1_OBJECT_free(pol);
	TS_RESP_CTX_free(ctx);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	TS_REQ_free(req);
	X509_free(tsa);
	EVP_PKEY_free(k);
	return der;
}

static uint8_t *
tsr_make(const void *data, size_t len, size_t *outlen)
{
	return tsr_make_at(data, len, outlen, 0, 0);
}

/* RevocationValues with one OCSP response about @x from the CA, issued
 * @back seconds ago (RFC 5126 §6.3.4). */
static void
add_ocsp_values(CMS_SignerInfo *si, X509 *x, long back)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, x, ca_cert);
	ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL) - back, 0, 0);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
	unsigned char *b = NULL;
	uint8_t attr[4096];
	int bl;
	size_t al = 0;

	ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id,
	    V_OCSP_CERTSTATUS_GOOD, -1, NULL, t, next));
	ck_assert_int_eq(OCSP_basic_sign(bs, ca_cert, ca_key, EVP_sha256(),
			     NULL, 0),
	    1);
	bl = i2d_OCSP_BASICRESP(bs, &b);
	ck_assert_int_gt(bl, 0);
	ck_assert_int_lt(bl, 4000);
	attr[al++] = 0x30;
	attr[al++] = 0x82;
	attr[al++] = (uint8_t)((bl + 8) >> 8);
	attr[al++] = (uint8_t)(bl + 8);
	attr[al++] = 0xa1;
	attr[al++] = 0x82;
	attr[al++] = (uint8_t)((bl + 4) >> 8);
	attr[al++] = (uint8_t)(bl + 4);
	attr[al++] = 0x30;
	attr[al++] = 0x82;
	attr[al++] = (uint8_t)(bl >> 8);
	attr[al++] = (uint8_t)bl;
	memcpy(attr + al, b, (size_t)bl);
	al += (size_t)bl;
	ck_assert_int_eq(CMS_unsigned_add1_attr_by_txt(si,
			     "1.2.840.113549.1.9.16.2.24", V_ASN1_SEQUENCE,
			     attr, (int)al),
	    1);
	OPENSSL_free(b);
	ASN1_TIME_free(t);
	ASN1_TIME_free(next);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
}

/*
 * EN 319 102-1 §5.6.2.4 (simplified): a certificate expired now, but a
 * signature time-stamp proves the signature existed while it was valid,
 * and an OCSP response from then says it was good.
 */
START_TEST(expired_with_poe)
{
	EVP_PKEY *k = new_key();
	X509 *x = new_cert("Expired Signer", k, ca_cert, ca_key, 0, 21);
	char *pem = pem_of(ca_cert);
	struct sc_ver_opts o = {.offline = 1, .trust_pem = pem};
	STACK_OF(X509) *extra = sk_X509_new_null();
	BIO *in = BIO_new_mem_buf(msg, sizeof(msg));
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	const ASN1_OCTET_STRING *sv;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	unsigned char *der = NULL;
	uint8_t *tok;
	size_t tl;
	int n;

	/* Valid from 20 days ago to 5 days ago. */
	X509_gmtime_adj(X509_getm_notBefore(x), -20L * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), -5L * 86400);
	ck_assert_int_gt(X509_sign(x, ca_key, EVP_sha256()), 0);
	sk_X509_push(extra, ca_cert);
	cms = CMS_sign(x, k, extra, in, CMS_BINARY | CMS_CADES);
	ck_assert_ptr_nonnull(cms);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	add_ocsp_values(si, x, 6L * 86400);

	/* Without a time-stamp: expired, no proof of existence. */
	n = i2d_CMS_ContentInfo(cms, &der);
	r = run(der, (size_t)n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_str_eq(s.subindication, "OUT_OF_BOUNDS_NO_POE");
	sc_ver_report_free(r);
	OPENSSL_free(der);
	der = NULL;

	/* With a signature time-stamp from 7 days ago. */
	sv = CMS_SignerInfo_get0_signature(si);
	tok = tsr_make_at(ASN1_STRING_get0_data(sv),
	    (size_t)ASN1_STRING_length(sv), &tl, 7L * 86400, 1);
	ck_assert_int_eq(CMS_unsigned_add1_attr_by_NID(si,
			     NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
			     tok, (int)tl),
	    1);
	n = i2d_CMS_ContentInfo(cms, &der);
	r = run(der, (size_t)n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_str_eq(s.level, "B-LT");
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_PASSED);
	sc_ver_report_free(r);

	OPENSSL_free(der);
	OPENSSL_free(tok);
	CMS_ContentInfo_free(cms);

	/* An OCSP response older than the proof of existence is not fresh
	 * (EN 319 102-1 §5.2.5): the status stays unknown. */
	(void)BIO_reset(in);
	cms = CMS_sign(x, k, extra, in, CMS_BINARY | CMS_CADES);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	add_ocsp_values(si, x, 8L * 86400);
	sv = CMS_SignerInfo_get0_signature(si);
	tok = tsr_make_at(ASN1_STRING_get0_data(sv),
	    (size_t)ASN1_STRING_length(sv), &tl, 7L * 86400, 1);
	ck_assert_int_eq(CMS_unsigned_add1_attr_by_NID(si,
			     NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
			     tok, (int)tl),
	    1);
	der = NULL;
	n = i2d_CMS_ContentInfo(cms, &der);
	r = run(der, (size_t)n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "TRY_LATER");
	sc_ver_report_free(r);

	OPENSSL_free(der);
	OPENSSL_free(tok);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	sk_X509_free(extra);
	free(pem);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(tst_response)
{
	size_t n;
	uint8_t *der = tsr_make(msg, sizeof(msg), &n);
	struct sc_ver_opts o = {.offline = 1};
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	char other[sizeof(msg)];

	/* Without the data: the token itself verifies. */
	r = run(der, n, &o);
	ck_assert_str_eq(sc_ver_report_format(r), "TST");
	ck_assert_uint_eq(sc_ver_report_count(r), 1);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_ptr_null(s.level);
	sc_ver_report_free(r);

	/* With the time-stamped data: imprint matches. */
	o.detached = (const uint8_t *)msg;
	o.detached_len = sizeof(msg);
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	sc_ver_report_free(r);

	/* Other data: RFC 3161 §2.4.2 imprint mismatch. */
	memcpy(other, msg, sizeof(msg));
	other[3] ^= 1;
	o.detached = (const uint8_t *)other;
	r = run(der, n, &o);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "HASH_FAILURE");
	sc_ver_report_free(r);
	OPENSSL_free(der);
}
END_TEST

/* Law 2016-012 grading from EN 319 412-5 QCStatements. */
START_TEST(cms_qualified_grading)
{
	static const uint8_t qcs[] = {0x30, 0x24, 0x30, 0x08, 0x06, 0x06, 0x04,
	    0x00, 0x8e, 0x46, 0x01, 0x01, 0x30, 0x08, 0x06, 0x06, 0x04, 0x00,
	    0x8e, 0x46, 0x01, 0x04, 0x30, 0x0e, 0x06, 0x06, 0x04, 0x00, 0x8e,
	    0x46, 0x01, 0x07, 0x30, 0x04, 0x13, 0x02, 'M', 'L'};
	EVP_PKEY *k = new_key();
	X509 *x = new_cert("Qualified Signer", k, ca_cert, ca_key, 0, 9);
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.3", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;
	char *pem = pem_of(ca_cert), *text;
	struct sc_ver_opts o = {.offline = 1, .trust_pem = pem};
	struct sc_ver_report *r;
	uint8_t *der;
	size_t n;
	json_t *root, *sig, *law;

	ck_assert_int_eq(ASN1_OCTET_STRING_set(os, qcs, sizeof(qcs)), 1);
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	ck_assert_int_eq(X509_add_ext(x, ext, -1), 1);
	ck_assert_int_gt(X509_sign(x, ca_key, EVP_sha256()), 0);
	der = cms_make(x, k, msg, sizeof(msg), 0, 1, 1, &n);
	r = run(der, n, &o);
	ck_assert_int_eq(sc_ver_report_indication(r), SC_VER_TOTAL_PASSED);
	text = sc_ver_report_json(r);
	root = json_loads(text, 0, NULL);
	sig = json_array_get(json_object_get(root, "signatures"), 0);
	ck_assert(json_is_true(
	    json_object_get(json_object_get(sig, "signer"), "qualified")));
	ck_assert_str_eq(json_string_value(
			     json_object_get(json_object_get(sig, "signer"),
				 "qc_legislation")),
	    "ML");
	law = json_object_get(sig, "law_2016_012");
	ck_assert(json_is_true(json_object_get(law, "advanced")));
	ck_assert(json_is_true(json_object_get(law, "qualified_certificate")));
	ck_assert(json_is_true(json_object_get(law, "secure_device")));
	ck_assert(json_is_true(json_object_get(law, "qualified")));
	json_decref(root);
	free(text);
	sc_ver_report_free(r);
	OPENSSL_free(der);

	/* The plain leaf: advanced, not qualified (art. 111). */
	der = cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 1, &n);
	r = run(der, n, &o);
	text = sc_ver_report_json(r);
	root = json_loads(text, 0, NULL);
	law =
	    json_object_get(json_array_get(json_object_get(root, "signatures"),
				0),
		"law_2016_012");
	ck_assert(json_is_true(json_object_get(law, "advanced")));
	ck_assert(json_is_false(json_object_get(law, "qualified")));
	json_decref(root);
	free(text);
	sc_ver_report_free(r);
	OPENSSL_free(der);
	free(pem);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(cms_no_signer_cert)
{
	BIO *in = BIO_new_mem_buf(msg, sizeof(msg));
	CMS_ContentInfo *cms =
	    CMS_sign(leaf_cert, leaf_key, NULL, in, CMS_BINARY | CMS_NOCERTS);
	unsigned char *der = NULL;
	int n = i2d_CMS_ContentInfo(cms, &der);
	struct sc_ver_report *r = run(der, (size_t)n, NULL);
	struct sc_ver_sig_summary s;

	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "NO_SIGNING_CERTIFICATE_FOUND");
	sc_ver_report_free(r);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
}
END_TEST

START_TEST(report_json)
{
	size_t n;
	uint8_t *der =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &n);
	struct sc_ver_report *r = run(der, n, NULL);
	char *text = sc_ver_report_json(r);
	json_error_t je;
	json_t *root, *sig, *doc;

	ck_assert_ptr_nonnull(text);
	root = json_loads(text, 0, &je);
	ck_assert_ptr_nonnull(root);
	doc = json_object_get(root, "document");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "format")),
	    "CAdES");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "size")),
	    (json_int_t)n);
	ck_assert_uint_eq(strlen(json_string_value(
			      json_object_get(doc, "sha256"))),
	    64);
	ck_assert_str_eq(json_string_value(json_object_get(root, "indication")),
	    "INDETERMINATE");
	sig = json_array_get(json_object_get(root, "signatures"), 0);
	ck_assert_ptr_nonnull(sig);
	ck_assert(json_is_true(json_object_get(sig, "crypto_intact")));
	ck_assert_str_eq(json_string_value(json_object_get(sig, "level")),
	    "B-B");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(
		       json_object_get(json_object_get(sig, "signer"),
			   "subject")),
		"CN=Awa Diarra"));
	ck_assert(json_is_array(json_object_get(sig, "timestamps")));
	ck_assert(json_is_array(json_object_get(sig, "chain")));
	ck_assert(json_is_object(json_object_get(sig, "revocation")));
	ck_assert(
	    json_is_false(json_object_get(json_object_get(sig, "law_2016_012"),
		"qualified")));
	ck_assert_ptr_nonnull(json_object_get(sig, "signing_time"));
	ck_assert_ptr_nonnull(json_object_get(sig, "modifications"));
	json_decref(root);
	free(text);
	sc_ver_report_free(r);
	OPENSSL_free(der);
}
END_TEST

/* A certificate name with bytes that are not UTF-8 still gives JSON. */
START_TEST(report_json_bad_utf8)
{
	static const unsigned char cn[] = "Bad \xff\xfe \xc3";
	EVP_PKEY *k = new_key();
	X509 *x = new_cert("x", k, NULL, k, 0, 11);
	X509_NAME *n = X509_NAME_new();
	struct sc_ver_report *r;
	uint8_t *der;
	size_t len;
	char *text;

	ck_assert_int_eq(X509_NAME_add_entry_by_NID(n, NID_commonName,
			     V_ASN1_UTF8STRING, cn, (int)sizeof(cn) - 1, -1, 0),
	    1);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	der = cms_make(x, k, msg, sizeof(msg), 0, 0, 0, &len);
	r = run(der, len, NULL);
	text = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(text);
	free(text);
	sc_ver_report_free(r);
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A minimal signed PDF (ISO 32000-1 §12.8.1), built here.             */

#define SIG_HEX 8192

struct pdf {
	char *p;
	size_t len;
	size_t xref; /* offset of the first revision's xref table */
};

static void
pdf_add(struct pdf *d, const char *s, size_t n)
{
	d->p = realloc(d->p, d->len + n + 1);
	ck_assert_ptr_nonnull(d->p);
	memcpy(d->p + d->len, s, n);
	d->len += n;
	d->p[d->len] = '\0';
}

static void
pdf_str(struct pdf *d, const char *s)
{
	pdf_add(d, s, strlen(s));
}

/* Builds and signs; @gap_extra puts a byte outside the hex in the gap. */
static void
pdf_make_mdp(struct pdf *d, int docmdp)
{
	size_t off[6], xref, b1, c2, dlen;
	char buf[512], *ctp, *brp;
	BIO *in;
	CMS_ContentInfo *cms;
	unsigned char *der = NULL;
	int n;

	memset(d, 0, sizeof(*d));
	pdf_str(d, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
	off[1] = d->len;
	pdf_str(d,
	    "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm "
	    "<< /Fields [4 0 R] /SigFlags 3 >> >>\nendobj\n");
	off[2] = d->len;
	pdf_str(d,
	    "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n"
	    "endobj\n");
	off[3] = d->len;
	pdf_str(d,
	    "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox "
	    "[0 0 200 200] /Annots [4 0 R] >>\nendobj\n");
	off[4] = d->len;
	pdf_str(d,
	    "4 0 obj\n<< /FT /Sig /T (Signature1) /Type /Annot "
	    "/Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /V 5 0 R >>\n"
	    "endobj\n");
	off[5] = d->len;
	pdf_str(d,
	    "5 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite "
	    "/SubFilter /ETSI.CAdES.detached /M (D:20261127051000Z) ");
	if (docmdp > 0) {
		/* A certification signature (ISO 32000-1 §12.8.2.2). */
		snprintf(buf, sizeof(buf),
		    "/Reference [<< /Type /SigRef /TransformMethod /DocMDP "
		    "/TransformParams << /Type /TransformParams /P %d "
		    "/V /1.2 >> >>] ",
		    docmdp);
		pdf_str(d, buf);
	}
	pdf_str(d,
	    "/ByteRange [0 0000000000 0000000000 0000000000] "
	    "/Contents <");
	b1 = d->len - 1;
	for (int i = 0; i < SIG_HEX / 64; i++)
		pdf_str(d,
		    "000000000000000000000000000000000000000000000000"
		    "0000000000000000");
	pdf_str(d, ">");
	c2 = d->len;
	pdf_str(d, " >>\nendobj\n");
	xref = d->len;
	d->xref = xref;
	pdf_str(d, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 1; i <= 5; i++) {
		snprintf(buf, sizeof(buf), "%010zu 00000 n \n", off[i]);
		pdf_str(d, buf);
	}
	snprintf(buf, sizeof(buf),
	    "trailer\n<< /Size 6 /Root 1 0 R >>\n"
	    "startxref\n%zu\n%%%%EOF\n",
	    xref);
	pdf_str(d, buf);
	dlen = d->len - c2;
	/* Fill in /ByteRange [0 b1 c2 dlen] in place (same width). */
	brp = strstr(d->p, "/ByteRange [0 ");
	ck_assert_ptr_nonnull(brp);
	snprintf(buf, sizeof(buf), "/ByteRange [0 %010zu %010zu %010zu]", b1,
	    c2, dlen);
	memcpy(brp, buf, strlen(buf));
	/* Sign the two ranges, detached. */
	{
		char *tbs = malloc(b1 + dlen);

		memcpy(tbs, d->p, b1);
		memcpy(tbs + b1, d->p + c2, dlen);
		in = BIO_new_mem_buf(tbs, (int)(b1 + dlen));
		cms = CMS_sign(leaf_cert, leaf_key, NULL, in,
		    CMS_BINARY | CMS_DETACHED | CMS_CADES);
		ck_assert_ptr_nonnull(cms);
		n = i2d_CMS_ContentInfo(cms, &der);
		ck_assert_int_gt(n, 0);
		ck_assert_int_lt(2 * n, SIG_HEX);
		ctp = d->p + b1 + 1;
		for (int i = 0; i < n; i++) {
			static const char hx[] = "0123456789abcdef";

			ctp[2 * i] = hx[der[i] >> 4];
			ctp[2 * i + 1] = hx[der[i] & 15];
		}
		OPENSSL_free(der);
		CMS_ContentInfo_free(cms);
		BIO_free(in);
		free(tbs);
	}
}

static void
pdf_make(struct pdf *d)
{
	pdf_make_mdp(d, 0);
}

START_TEST(pdf_intact)
{
	struct pdf d;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	char *j;

	pdf_make(&d);
	r = run((const uint8_t *)d.p, d.len, NULL);
	ck_assert_str_eq(sc_ver_report_format(r), "PAdES");
	ck_assert_uint_eq(sc_ver_report_count(r), 1);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_str_eq(s.level, "B-B");
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	j = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(strstr(j, "\"coverage\": \"whole-document\""));
	ck_assert_ptr_nonnull(strstr(j, "\"field\": \"Signature1\""));
	ck_assert_ptr_nonnull(strstr(j, "\"revision\": 1,"));
	ck_assert_ptr_nonnull(strstr(j, "\"revisions\": 1"));
	/* CMS_sign adds a signingTime attribute; it wins over /M. */
	ck_assert_ptr_nonnull(strstr(j, "\"signing_time\": \"20"));
	free(j);
	sc_ver_report_free(r);
	free(d.p);
}
END_TEST

START_TEST(pdf_tampered_byte)
{
	struct pdf d;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	char *p;

	pdf_make(&d);
	p = strstr(d.p, "/MediaBox [0 0 200 200]");
	ck_assert_ptr_nonnull(p);
	p[15] = '9'; /* 200 -> 900 inside the signed range */
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "HASH_FAILURE");
	ck_assert_int_eq(sc_ver_report_exit(r), 1);
	sc_ver_report_free(r);
	free(d.p);
}
END_TEST

/* Does signature 0 list modification @kind with @allowed? */
static int
has_mod(const struct sc_ver_report *r, const char *kind, int allowed)
{
	char *text = sc_ver_report_json(r);
	json_t *root = json_loads(text, 0, NULL), *mods, *m;
	size_t i;
	int found = 0;

	mods =
	    json_object_get(json_array_get(json_object_get(root, "signatures"),
				0),
		"modifications");
	json_array_foreach(mods, i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "kind")),
			kind) == 0 &&
		    json_is_true(json_object_get(m, "allowed")) == allowed)
			found = 1;
	}
	json_decref(root);
	free(text);
	return found;
}

/* Appends an incremental update that rewrites object @num. */
static void
pdf_update(struct pdf *d, int num, const char *body)
{
	char buf[512];
	size_t off = d->len, xref;

	snprintf(buf, sizeof(buf), "%d 0 obj\n%s\nendobj\n", num, body);
	pdf_str(d, buf);
	xref = d->len;
	snprintf(buf, sizeof(buf),
	    "xref\n0 1\n0000000000 65535 f \n"
	    "%d 1\n%010zu 00000 n \ntrailer\n<< /Size 7 "
	    "/Root 1 0 R%s /Prev %zu >>\n"
	    "startxref\n%zu\n%%%%EOF\n",
	    num, off, strstr(body, "/Producer") != NULL ? " /Info 6 0 R" : "",
	    d->xref, xref);
	pdf_str(d, buf);
	d->xref = xref;
}

START_TEST(pdf_incremental_update)
{
	struct pdf d;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	char *j;

	/* A later revision that only adds document information: allowed. */
	pdf_make(&d);
	pdf_update(&d, 6, "<< /Producer (later) >>");
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	j = sc_ver_report_json(r);
	ck_assert_ptr_nonnull(strstr(j, "\"coverage\": \"partial\""));
	free(j);
	ck_assert(has_mod(r, "metadata", 1));
	sc_ver_report_free(r);
	free(d.p);

	/* Bytes after the last %%EOF (an ISA variant): reported. */
	pdf_make(&d);
	pdf_str(&d, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
	r = run((const uint8_t *)d.p, d.len, NULL);
	ck_assert(has_mod(r, "trailing-data", 0));
	sc_ver_report_free(r);
	free(d.p);

	/* A later revision that changes the signed page: not allowed. */
	pdf_make(&d);
	pdf_update(&d, 3,
	    "<< /Type /Page /Parent 2 0 R /MediaBox "
	    "[0 0 900 900] /Annots [4 0 R] >>");
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "FORMAT_FAILURE");
	ck_assert(has_mod(r, "page", 0));
	sc_ver_report_free(r);
	free(d.p);
}
END_TEST

START_TEST(pdf_docmdp)
{
	static const char page[] = "<< /Type /Page /Parent 2 0 R /MediaBox "
				   "[0 0 200 200] /Annots [4 0 R 6 0 R] >>";
	static const char note[] = "<< /Type /Annot /Subtype /Text "
				   "/Rect [10 10 20 20] /Contents (vu) >>";
	struct pdf d;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;

	/* An approval signature: an added annotation is allowed. */
	pdf_make(&d);
	pdf_update(&d, 6, note);
	pdf_update(&d, 3, page);
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	ck_assert(has_mod(r, "annotation", 1));
	sc_ver_report_free(r);
	free(d.p);

	/* Certified with P=1: the same annotation breaks it. */
	pdf_make_mdp(&d, 1);
	pdf_update(&d, 6, note);
	pdf_update(&d, 3, page);
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "FORMAT_FAILURE");
	ck_assert(has_mod(r, "annotation", 0));
	sc_ver_report_free(r);
	free(d.p);

	/* P=3 allows annotations. */
	pdf_make_mdp(&d, 3);
	pdf_update(&d, 6, note);
	pdf_update(&d, 3, page);
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	sc_ver_report_free(r);
	free(d.p);
}
END_TEST

START_TEST(pdf_byterange_attacks)
{
	struct pdf d;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	char *br;

	/* The gap holds something besides the hex /Contents (SWA). */
	pdf_make(&d);
	br = strstr(d.p, "/Contents <");
	ck_assert_ptr_nonnull(br);
	br[11 + SIG_HEX - 2] = 'Z';
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	sc_ver_report_free(r);
	free(d.p);

	/* A ByteRange pointing past the end of the file. */
	pdf_make(&d);
	br = strstr(d.p, "/ByteRange [0 ");
	br[14 + 11 + 11] = '9';
	r = run((const uint8_t *)d.p, d.len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "FORMAT_FAILURE");
	sc_ver_report_free(r);
	free(d.p);
}
END_TEST

/* ------------------------------------------------------------------ */
/* XML-DSig, signed here with xmlsec (enveloped, exc-c14n, ECDSA).      */

/* The validator initialises libxml2 and xmlsec once; run it first so
 * that the tests can use xmlsec to sign. */
static void
xml_setup(void)
{
	static const char doc[] = "<a/>";
	struct sc_ver_report *r = NULL;
	struct sc_err err;

	pki_setup();
	sc_err_clear(&err);
	ck_assert_int_eq(sc_ver_document((const uint8_t *)doc, sizeof(doc) - 1,
			     NULL, &r, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_UNSUPPORTED_DOCUMENT);
}

/* Signs <decision Id="data"> inside @xml; returns the serialised doc. */
static char *
xml_sign(const char *xml, int *outlen)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
	    XML_PARSE_NONET);
	xmlNodePtr sig, ref, ki, xd, xc;
	xmlSecDSigCtxPtr ctx;
	xmlSecKeyPtr key;
	xmlSecKeyDataPtr kd;
	unsigned char *der = NULL;
	int n;
	char *b64;
	xmlChar *out = NULL;

	ck_assert_ptr_nonnull(doc);
	xmlAddID(NULL, doc, (const xmlChar *)"data",
	    xmlHasProp(xmlDocGetRootElement(doc)->children,
		(const xmlChar *)"Id"));
	sig = xmlSecTmplSignatureCreate(doc, xmlSecTransformExclC14NId,
	    xmlSecTransformEcdsaSha256Id, (const xmlChar *)"sig1");
	ck_assert_ptr_nonnull(sig);
	xmlAddChild(xmlDocGetRootElement(doc), sig);
	ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id,
	    NULL, (const xmlChar *)"#data", NULL);
	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(
	    xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId));
	ctx = xmlSecDSigCtxCreate(NULL);
	ck_assert_int_eq(EVP_PKEY_up_ref(leaf_key), 1);
	kd = xmlSecOpenSSLEvpKeyAdopt(leaf_key);
	key = xmlSecKeyCreate();
	ck_assert_int_eq(xmlSecKeySetValue(key, kd), 0);
	ctx->signKey = key;
	ck_assert_int_eq(xmlSecDSigCtxSign(ctx, sig), 0);
	xmlSecDSigCtxDestroy(ctx);
	/* KeyInfo after signing (it is not signed here): the cert. */
	ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
	xd = xmlSecTmplKeyInfoAddX509Data(ki);
	xc = xmlSecTmplX509DataAddCertificate(xd);
	n = i2d_X509(leaf_cert, &der);
	b64 = sc_b64_encode(der, (size_t)n, 0);
	xmlNodeSetContent(xc, (const xmlChar *)b64);
	free(b64);
	OPENSSL_free(der);
	xmlDocDumpMemory(doc, &out, outlen);
	xmlFreeDoc(doc);
	return (char *)out;
}

static const char xml_doc[] = "<root><decision Id=\"data\">Arrêté n° 12"
			      "</decision></root>";

START_TEST(xml_intact_and_tampered)
{
	int n = 0;
	char *x = xml_sign(xml_doc, &n), *p;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;

	r = run((const uint8_t *)x, (size_t)n, NULL);
	ck_assert_str_eq(sc_ver_report_format(r), "XAdES");
	ck_assert_uint_eq(sc_ver_report_count(r), 1);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 1);
	ck_assert_ptr_null(s.level); /* plain XML-DSig: not ETSI */
	ck_assert_str_eq(s.subindication, "NO_CERTIFICATE_CHAIN_FOUND");
	sc_ver_report_free(r);

	p = strstr(x, "12</decision>");
	ck_assert_ptr_nonnull(p);
	p[0] = '7';
	r = run((const uint8_t *)x, (size_t)n, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_str_eq(s.subindication, "HASH_FAILURE");
	sc_ver_report_free(r);
	xmlFree(x);
}
END_TEST

START_TEST(xml_duplicate_id)
{
	int n = 0;
	char *x = xml_sign(xml_doc, &n), *y, *p;
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;
	static const char evil[] = "<decision Id=\"data\">Arrêté n° 99"
				   "</decision>";

	/* Wrapping: a second element with the signed Id. First in the
	 * document, it is what the Id resolves to: the digest fails. */
	p = strstr(x, "<root>");
	ck_assert_ptr_nonnull(p);
	p += 6;
	y = malloc((size_t)n + sizeof(evil));
	memcpy(y, x, (size_t)(p - x));
	memcpy(y + (p - x), evil, sizeof(evil) - 1);
	memcpy(y + (p - x) + sizeof(evil) - 1, p, (size_t)n - (size_t)(p - x));
	r = run((const uint8_t *)y, (size_t)n + sizeof(evil) - 1, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	sc_ver_report_free(r);
	free(y);

	/* Last in the document: the digest holds, the duplicate does not. */
	p = strstr(x, "</root>");
	ck_assert_ptr_nonnull(p);
	y = malloc((size_t)n + sizeof(evil));
	memcpy(y, x, (size_t)(p - x));
	memcpy(y + (p - x), evil, sizeof(evil) - 1);
	memcpy(y + (p - x) + sizeof(evil) - 1, p, (size_t)n - (size_t)(p - x));
	r = run((const uint8_t *)y, (size_t)n + sizeof(evil) - 1, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.indication, SC_VER_INDETERMINATE);
	ck_assert_str_eq(s.subindication, "SIGNED_DATA_NOT_FOUND");
	sc_ver_report_free(r);
	free(y);
	xmlFree(x);
}
END_TEST

START_TEST(xml_hostile)
{
	static const char *bad[] = {
	    "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><a>&x;</a>",
	    "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
	    "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">"
	    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">]><l>&d;</l>",
	    "<a><b></a>",
	};
	struct sc_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sc_ver_report *r = NULL;

		sc_err_clear(&err);
		ck_assert_int_eq(sc_ver_document((const uint8_t *)bad[i],
				     strlen(bad[i]), NULL, &r, &err),
		    -1);
		ck_assert_int_eq(err.code, SC_E_INVALID_XML);
		ck_assert_ptr_null(r);
	}
}
END_TEST

/* A base64 transform over non-base64 content is refused before xmlsec
 * (xmlsec1 1.2.37 leaks on that path; found by fuzz_verify). */
START_TEST(xml_bad_base64_reference)
{
	static const char head[] =
	    "<root><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/"
	    "xmldsig#\" Id=\"s\"><ds:SignedInfo><ds:CanonicalizationMethod "
	    "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
	    "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/"
	    "xmldsig-more#ecdsa-sha256\"/><ds:Reference URI=\"#o\">"
	    "<ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/"
	    "09/xmldsig#base64\"/></ds:Transforms><ds:DigestMethod "
	    "Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
	    "<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>"
	    "</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue>"
	    "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>";
	static const char tail[] =
	    "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
	    "<ds:Object Id=\"o\">QUJD=RE*</ds:Object></ds:Signature></root>";
	unsigned char *der = NULL;
	int n = i2d_X509(leaf_cert, &der);
	char *b64 = sc_b64_encode(der, (size_t)n, 0), *doc;
	size_t len = strlen(head) + strlen(b64) + strlen(tail);
	struct sc_ver_report *r;
	struct sc_ver_sig_summary s;

	doc = malloc(len + 1);
	snprintf(doc, len + 1, "%s%s%s", head, b64, tail);
	r = run((const uint8_t *)doc, len, NULL);
	sig0(r, &s);
	ck_assert_int_eq(s.crypto_intact, 0);
	ck_assert_int_eq(s.indication, SC_VER_TOTAL_FAILED);
	ck_assert_str_eq(s.subindication, "FORMAT_FAILURE");
	sc_ver_report_free(r);
	free(doc);
	free(b64);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Spot checks on corpus/dss files for facts MANIFEST.tsv does not hold
 * (time-stamp imprints, PDF modifications); skipped without the corpus. */

static json_t *
corpus_json(const char *rel)
{
	char path[1024];
	const char *root = getenv("SCEAU_CORPUS");
	struct sc_buf b;
	struct sc_err err;
	struct sc_ver_report *r = NULL;
	struct sc_ver_opts o = {.offline = 1};
	char *text;
	json_t *j;

	snprintf(path, sizeof(path), "%s/dss/%s",
	    root != NULL ? root : SCEAU_SOURCE_DIR "/../shared/corpus", rel);
	sc_err_clear(&err);
	if (sc_file_read(path, (size_t)64 * 1024 * 1024, &b, &err) != 0)
		return NULL;
	ck_assert_int_eq(sc_ver_document(b.p, b.len, &o, &r, &err), 0);
	text = sc_ver_report_json(r);
	j = json_loads(text, 0, NULL);
	free(text);
	sc_ver_report_free(r);
	sc_buf_free(&b);
	return j;
}

/* The imprint of the first time-stamp of @type of signature @i. */
static const char *
ts_imprint(json_t *root, size_t i, const char *type)
{
	json_t *ts =
	    json_object_get(json_array_get(json_object_get(root, "signatures"),
				i),
		"timestamps");
	size_t k;
	json_t *t;

	json_array_foreach(ts, k, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "type")),
			type) == 0)
			return json_string_value(json_object_get(t, "imprint"));
	}
	return "absent";
}

/* The "valid" flag of the first time-stamp of @type of signature @i. */
static int
ts_valid(json_t *root, size_t i, const char *type)
{
	json_t *ts =
	    json_object_get(json_array_get(json_object_get(root, "signatures"),
				i),
		"timestamps");
	size_t k;
	json_t *t;

	json_array_foreach(ts, k, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "type")),
			type) == 0)
			return json_is_true(json_object_get(t, "valid"));
	}
	return -1;
}

START_TEST(corpus_spot_checks)
{
	static const struct {
		const char *file, *type, *imprint;
	} tab[] = {
	    /* EN 319 122-1 §5.5.3 archive-time-stamp-v3 */
	    {"cades/CAdESDoubleLTA.p7m", "archive", "match"},
	    {"cades/Signature-C-HU_POL-3.p7m", "archive", "match"},
	    {"cades/CAdES-BpLTA_modified_ats_hash_element.p7m", "archive",
		"mismatch"},
	    {"cades/cades-lta-copied-atst.p7m", "archive", "mismatch"},
	    /* signature time-stamps, CAdES and XAdES (§5.3) */
	    {"cades/Signature-C-DE_CRY-3.p7m", "signature", "match"},
	    {"cades/cades-t-copied-sigtst.p7m", "signature", "mismatch"},
	    {"xades/xades-extended-t.xml", "signature", "match"},
	    {"xades/xades-t-copied-sigtst.xml", "signature", "mismatch"},
	    /* XAdES archive time-stamps (EN 319 132-1 §5.5.2.2; the 1.3.2
	     * namespace as TS 101 903 v1.3.2 §7.7.1) */
	    {"xades/xades-lta-valid.xml", "archive", "match"},
	    {"xades/dss1987-enveloped-baseline-lta.xml", "archive", "match"},
	    {"xades/Signature-X-HU_POL-3.xml", "archive", "match"},
	    {"xades/dss3732-enveloped-arcTst132.xml", "archive", "match"},
	    {"xades/dss3732-enveloping-arcTst132.xml", "archive", "match"},
	    {"xades/xades-lta-copied-atst.xml", "archive", "mismatch"},
	};
	json_t *j;

	if ((j = corpus_json(tab[0].file)) == NULL)
		return; /* no corpus here */
	json_decref(j);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		j = corpus_json(tab[i].file);
		ck_assert_msg(j != NULL, "%s", tab[i].file);
		ck_assert_msg(strcmp(ts_imprint(j, 0, tab[i].type),
				  tab[i].imprint) == 0,
		    "%s: %s imprint %s, expected %s", tab[i].file, tab[i].type,
		    ts_imprint(j, 0, tab[i].type), tab[i].imprint);
		json_decref(j);
	}
	/* ats-hash-index-v3 entries (EN 319 122-1 §5.5.2): present in the
	 * counter-signed file, not in the one DSS also rejects. */
	j = corpus_json("cades/counterSignedLTA.p7s");
	ck_assert_int_eq(ts_valid(j, 0, "archive"), 1);
	json_decref(j);
	j = corpus_json("cades/cades-broken-sig-tst-and-ats-v3.cms");
	ck_assert_int_eq(ts_valid(j, 0, "archive"), 0);
	json_decref(j);
	/* PDF: pages added or removed after signing fail (DSS too). */
	j = corpus_json("pades/pdf-signed-added-page.pdf");
	ck_assert_str_eq(json_string_value(
			     json_object_get(json_array_get(json_object_get(j,
								"signatures"),
						 0),
				 "subindication")),
	    "FORMAT_FAILURE");
	json_decref(j);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Several threads at once (sceaud validates in its worker threads).   */

struct mt_job {
	const uint8_t *doc;
	size_t len;
	int intact; /* results, checked by the main thread */
	int runs;
};

static void *
mt_run(void *arg)
{
	struct mt_job *j = arg;

	for (int i = 0; i < 8; i++) {
		struct sc_ver_report *r = NULL;
		struct sc_err err;
		struct sc_ver_sig_summary s;
		char *text;

		sc_err_clear(&err);
		if (sc_ver_document(j->doc, j->len, NULL, &r, &err) != 0)
			continue;
		if (sc_ver_report_sig(r, 0, &s) == 0 && s.crypto_intact)
			j->intact++;
		text = sc_ver_report_json(r);
		free(text);
		sc_ver_report_free(r);
		j->runs++;
	}
	return NULL;
}

START_TEST(threads)
{
	struct pdf d;
	size_t cn;
	int xn = 0;
	uint8_t *cms =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &cn);
	char *xml = xml_sign(xml_doc, &xn);
	struct mt_job jobs[6];
	pthread_t t[6];

	pdf_make(&d);
	for (int i = 0; i < 6; i++) {
		jobs[i] = (struct mt_job){0};
		if (i % 3 == 0) {
			jobs[i].doc = cms;
			jobs[i].len = cn;
		} else if (i % 3 == 1) {
			jobs[i].doc = (const uint8_t *)d.p;
			jobs[i].len = d.len;
		} else {
			jobs[i].doc = (const uint8_t *)xml;
			jobs[i].len = (size_t)xn;
		}
		ck_assert_int_eq(pthread_create(&t[i], NULL, mt_run, &jobs[i]),
		    0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(jobs[i].runs, 8);
		ck_assert_int_eq(jobs[i].intact, 8);
	}
	xmlFree(xml);
	free(d.p);
	OPENSSL_free(cms);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(garbage_rejected)
{
	static const char *inputs[] = {"hello world", "%PDF-1.7\ngarbage",
	    "<?xml version=\"1.0\"?><a/>", "\x30\x03\x02\x01\x01",
	    "\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"};
	uint8_t rnd[4096];
	struct sc_err err;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct sc_ver_report *r = NULL;

		sc_err_clear(&err);
		ck_assert_int_eq(sc_ver_document((const uint8_t *)inputs[i],
				     strlen(inputs[i]), NULL, &r, &err),
		    -1);
		ck_assert_ptr_null(r);
		ck_assert(err.code == SC_E_UNSUPPORTED_DOCUMENT ||
		    err.code == SC_E_INVALID_PDF);
	}
	/* Random bytes after each format's magic: never a crash. */
	for (int k = 0; k < 300; k++) {
		struct sc_ver_report *r = NULL;
		uint16_t pick = 0;
		size_t n;

		ck_assert_int_eq(RAND_bytes((unsigned char *)&pick,
				     sizeof(pick)), 1);
		n = (size_t)pick % sizeof(rnd) + 1;
		ck_assert_int_eq(RAND_bytes(rnd, (int)n), 1);
		if (k % 3 == 0)
			rnd[0] = 0x30;
		else if (k % 3 == 1 && n > 5)
			memcpy(rnd, "%PDF-", 5);
		sc_err_clear(&err);
		if (sc_ver_document(rnd, n, NULL, &r, &err) == 0)
			sc_ver_report_free(r);
	}
}
END_TEST

START_TEST(size_limit)
{
	size_t n;
	uint8_t *der =
	    cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 0, &n);
	struct sc_ver_opts o = {.max_document = 100};
	struct sc_ver_report *r = NULL;
	struct sc_err err;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_ver_document(der, n, &o, &r, &err), -1);
	ck_assert_int_eq(err.code, SC_E_TOO_LARGE);
	ck_assert_ptr_null(r);
	OPENSSL_free(der);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Text and ETSI TS 119 102-2 renderings                               */

#define ETSI_NS "http://uri.etsi.org/19102/v1.2.1#"

/* Number of elements named @name in the ETSI namespace under @n. */
static size_t
count_etsi(xmlNodePtr n, const char *name)
{
	size_t c = 0;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcmp(n->name, (const xmlChar *)name) == 0 &&
		    n->ns != NULL &&
		    xmlStrcmp(n->ns->href, (const xmlChar *)ETSI_NS) == 0)
			c++;
		c += count_etsi(n->children, name);
	}
	return c;
}

/*
 * Checks the ETSI report of @r: well-formed (libxml2, no network, no
 * entities), the ETSI namespace on the root, one
 * SignatureValidationReport per signature, and @main as the first
 * MainIndication.
 */
static void
check_etsi(const struct sc_ver_report *r, const char *main)
{
	char *x = sc_ver_report_etsi_xml(r);
	xmlDocPtr d;
	xmlNodePtr root;

	ck_assert_ptr_nonnull(x);
	d = xmlReadMemory(x, (int)strlen(x), "etsi.xml", NULL, XML_PARSE_NONET);
	ck_assert_msg(d != NULL, "not well-formed: %s", x);
	root = xmlDocGetRootElement(d);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq((const char *)root->name, "ValidationReport");
	ck_assert_ptr_nonnull(root->ns);
	ck_assert_str_eq((const char *)root->ns->href, ETSI_NS);
	ck_assert_uint_eq(count_etsi(root, "SignatureValidationReport"),
	    sc_ver_report_count(r));
	ck_assert_uint_eq(count_etsi(root, "MainIndication"),
	    sc_ver_report_count(r));
	ck_assert_ptr_nonnull(strstr(x,
	    "<SignatureValidationProcessID>urn:etsi:019102:"
	    "validationprocess:"));
	ck_assert_msg(strstr(x, main) != NULL, "%s not in %s", main, x);
	xmlFreeDoc(d);
	free(x);
}

/* Does the text of @r in @lang hold every string of @want? */
static void
check_text(const struct sc_ver_report *r, const char *lang,
    const char *const *want)
{
	char *t = sc_ver_report_text(r, lang);

	ck_assert_ptr_nonnull(t);
	for (; *want != NULL; want++)
		ck_assert_msg(strstr(t, *want) != NULL, "\"%s\" not in:\n%s",
		    *want, t);
	free(t);
}

START_TEST(report_text_etsi_cms)
{
	static const char *const fr_ok[] = {"Signature valide :",
	    "Signé par : Awa Diarra", "inchangé", "AVANCÉE", "loi 2016-012",
	    NULL};
	static const char *const en_ok[] = {"Valid signature:",
	    "Signed by: Awa Diarra", "unchanged", "ADVANCED", NULL};
	static const char *const fr_bad[] = {"Signature invalide :", "MODIFIÉ",
	    "copie authentique", NULL};
	static const char *const en_bad[] = {"Invalid signature:", "CHANGED",
	    "genuine copy", NULL};
	static const char *const fr_ind[] = {"Vérification incomplète", NULL};
	static const char *const en_ind[] = {"Incomplete check", NULL};
	char *pem = pem_of(ca_cert);
	struct sc_ver_opts o = {.offline = 1, .trust_pem = pem};
	struct sc_ver_report *r;
	uint8_t *der, *p;
	size_t n;

	/* Intact, chained to an anchor, with a CRL: TOTAL-PASSED. */
	der = cms_make(leaf_cert, leaf_key, msg, sizeof(msg), 0, 1, 1, &n);
	r = run(der, n, &o);
	ck_assert_int_eq(sc_ver_report_indication(r), SC_VER_TOTAL_PASSED);
	check_text(r, "fr", fr_ok);
	check_text(r, NULL, fr_ok); /* the report's language: French */
	check_text(r, "en", en_ok);
	check_etsi(r, "urn:etsi:019102:mainindication:total-passed");
	{
		char *x = sc_ver_report_etsi_xml(r);

		ck_assert_ptr_nonnull(strstr(x,
		    "urn:sceau:law-2016-012:"
		    "advanced"));
		ck_assert_ptr_nonnull(strstr(x, "<Signer>CN=Awa Diarra"));
		free(x);
	}
	sc_ver_report_free(r);

	/* Intact without an anchor: INDETERMINATE. */
	r = run(der, n, NULL);
	check_text(r, "fr", fr_ind);
	check_text(r, "en", en_ind);
	check_etsi(r,
	    "<SubIndication>urn:etsi:019102:subindication:"
	    "NO_CERTIFICATE_CHAIN_FOUND</SubIndication>");
	sc_ver_report_free(r);

	/* Tampered content: TOTAL-FAILED / HASH_FAILURE. */
	p = memmem(der, n, "minist", 6);
	ck_assert_ptr_nonnull(p);
	p[0] ^= 0x01;
	r = run(der, n, &o);
	ck_assert_int_eq(sc_ver_report_indication(r), SC_VER_TOTAL_FAILED);
	check_text(r, "fr", fr_bad);
	check_text(r, "en", en_bad);
	check_etsi(r,
	    "<MainIndication>urn:etsi:019102:mainindication:"
	    "total-failed</MainIndication>");
	check_etsi(r, "urn:etsi:019102:subindication:HASH_FAILURE");
	sc_ver_report_free(r);
	OPENSSL_free(der);
	free(pem);
}
END_TEST

/* Control characters and bad UTF-8 in a name: clean text, valid XML. */
START_TEST(report_text_etsi_hostile_name)
{
	EVP_PKEY *k = new_key();
	X509 *x = new_cert("Evil\x1b[2J <&> \x01\x7f", k, NULL, k, 0, 12);
	struct sc_ver_report *r;
	uint8_t *der;
	size_t len;
	char *t;

	der = cms_make(x, k, msg, sizeof(msg), 0, 0, 0, &len);
	r = run(der, len, NULL);
	t = sc_ver_report_text(r, "en");
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(strchr(t, 0x1b));
	ck_assert_ptr_null(strchr(t, 0x01));
	ck_assert_ptr_null(strchr(t, 0x7f));
	ck_assert_msg(strstr(t, "Signed by: Evil") != NULL, "%s", t);
	free(t);
	check_etsi(r, "urn:etsi:019102:mainindication:indeterminate");
	sc_ver_report_free(r);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(report_text_etsi_pdf)
{
	static const char *const fr_ok[] = {"Signature 1 (PAdES B-B)",
	    "inchangé depuis la signature", NULL};
	static const char *const en_bad[] = {"Invalid signature:",
	    "CHANGED after it was signed", NULL};
	struct pdf d;
	struct sc_ver_report *r;
	char *p;

	pdf_make(&d);
	r = run((const uint8_t *)d.p, d.len, NULL);
	check_text(r, "fr", fr_ok);
	check_etsi(r, "urn:etsi:019102:mainindication:indeterminate");
	sc_ver_report_free(r);
	p = strstr(d.p, "/MediaBox [0 0 200 200]");
	ck_assert_ptr_nonnull(p);
	p[15] = '9';
	r = run((const uint8_t *)d.p, d.len, NULL);
	check_text(r, "en", en_bad);
	check_etsi(r, "urn:etsi:019102:mainindication:total-failed");
	sc_ver_report_free(r);
	free(d.p);
}
END_TEST

static Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc;

	tc = tcase_create("cms");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, cms_attached_intact);
	tcase_add_test(tc, cms_tampered_content);
	tcase_add_test(tc, cms_tampered_signature);
	tcase_add_test(tc, cms_detached);
	tcase_add_test(tc, cms_trusted_chain);
	tcase_add_test(tc, cms_no_signer_cert);
	tcase_add_test(tc, cms_qualified_grading);
	tcase_add_test(tc, cms_ocsp_revocation);
	tcase_add_test(tc, online_crl);
	tcase_add_test(tc, tst_response);
	tcase_add_test(tc, expired_with_poe);
	tcase_add_test(tc, report_json);
	tcase_add_test(tc, report_json_bad_utf8);
	tcase_add_test(tc, report_text_etsi_cms);
	tcase_add_test(tc, report_text_etsi_hostile_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, pdf_intact);
	tcase_add_test(tc, pdf_tampered_byte);
	tcase_add_test(tc, pdf_incremental_update);
	tcase_add_test(tc, pdf_byterange_attacks);
	tcase_add_test(tc, pdf_docmdp);
	tcase_add_test(tc, report_text_etsi_pdf);
	suite_add_tcase(s, tc);

	tc = tcase_create("xml");
	tcase_add_unchecked_fixture(tc, xml_setup, pki_teardown);
	tcase_add_test(tc, xml_intact_and_tampered);
	tcase_add_test(tc, xml_duplicate_id);
	tcase_add_test(tc, xml_hostile);
	tcase_add_test(tc, xml_bad_base64_reference);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_unchecked_fixture(tc, pki_setup, pki_teardown);
	tcase_add_test(tc, garbage_rejected);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, corpus_spot_checks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(verify_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
