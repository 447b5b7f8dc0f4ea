/*
 * fuzz_revocation: libFuzzer harness for what the validator reads from
 * the network (verify_online.c): OCSP responses (RFC 6960), CRLs (RFC
 * 5280 §5) and caIssuers answers (DER, certs-only CMS or PEM, RFC 5280
 * §4.2.2.1). A test CA and a CAdES signature by a leaf that names
 * http:// URLs of every kind are made once; each run validates that
 * signature online with a fetcher that answers every request with the
 * input. The first byte picks the path: even, the CA certificate is in
 * the signature (the input is read as an OCSP response, then as a CRL);
 * odd, it is not (the input is first read as the CA certificate).
 * Build with -DSCEAU_FUZZ=ON; links sceau_verify.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sceau/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *docs[2];
static size_t doc_len[2];
static char *anchor;

struct input {
	const uint8_t *p;
	size_t n;
};

static int
fetch(void *arg, const char *url, const char *ctype, const uint8_t *body,
    size_t len, uint8_t **out, size_t *outlen, struct sc_err *err)
{
	const struct input *in = arg;
	(void)url;
	(void)ctype;
	(void)body;
	(void)len;

	if ((*out = malloc(in->n > 0 ? in->n : 1)) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(*out, in->p, in->n);
	*outlen = in->n;
	return 0;
}

static void
ext(X509 *x, X509 *issuer, int nid, const char *v)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, v)) != NULL) {
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
}

static X509 *
cert(const char *cn, EVP_PKEY *k, X509 *issuer, EVP_PKEY *ik, int ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
					       : n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400L);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	ext(x, issuer != NULL ? issuer : x, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign" : "critical,nonRepudiation");
	if (!ca) {
		ext(x, issuer, NID_crl_distribution_points,
		    "URI:http://pki.example.ml/pki/crl/ca.crl");
		ext(x, issuer, NID_info_access,
		    "OCSP;URI:http://pki.example.ml/ocsp,"
		    "caIssuers;URI:http://pki.example.ml/pki/ca/ca.crt");
	}
	X509_sign(x, ik, EVP_sha256());
	return x;
}

/* The test CA, the leaf, and the two signatures; once per process. */
static int
setup(void)
{
	static const char msg[] = "fuzz_revocation";
	EVP_PKEY *ck = EVP_EC_gen("P-256"), *lk = EVP_EC_gen("P-256");
	X509 *ca = NULL, *leaf = NULL;
	BIO *b = NULL;
	int ok = 0;

	if (ck == NULL || lk == NULL)
		goto out;
	ca = cert("Fuzz CA", ck, NULL, ck, 1);
	leaf = cert("Fuzz Signer", lk, ca, ck, 0);
	for (int i = 0; i < 2; i++) {
		STACK_OF(X509) *extra = sk_X509_new_null();
		BIO *in = BIO_new_mem_buf(msg, (int)sizeof(msg) - 1);
		CMS_ContentInfo *cms;
		unsigned char *der = NULL;
		int n;

		if (i == 0)
			sk_X509_push(extra, ca);
		cms = CMS_sign(leaf, lk, extra, in, CMS_BINARY | CMS_CADES);
		n = cms != NULL ? i2d_CMS_ContentInfo(cms, &der) : -1;
		CMS_ContentInfo_free(cms);
		sk_X509_free(extra);
		BIO_free(in);
		if (n <= 0)
			goto out;
		docs[i] = der;
		doc_len[i] = (size_t)n;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, ca) != 1)
		goto out;
	{
		char *p;
		long n = BIO_get_mem_data(b, &p);

		if ((anchor = malloc((size_t)n + 1)) == NULL)
			goto out;
		memcpy(anchor, p, (size_t)n);
		anchor[n] = '\0';
	}
	ok = 1;
out:
	BIO_free(b);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(lk);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready = -1;
	struct input in;
	struct sc_http_fetcher f = {fetch, &in};
	struct sc_ver_opts o = {0};
	struct sc_ver_report *r = NULL;
	struct sc_err err;
	int k;

	if (ready < 0)
		ready = setup();
	if (!ready || size < 1 || size > 1024 * 1024)
		return 0;
	k = data[0] & 1;
	in.p = data + 1;
	in.n = size - 1;
	o.trust_pem = anchor;
	o.fetch = &f;
	sc_err_clear(&err);
	if (sc_ver_document(docs[k], doc_len[k], &o, &r, &err) == 0) {
		char *j = sc_ver_report_json(r);

		free(j);
		sc_ver_report_free(r);
	}
	return 0;
}
