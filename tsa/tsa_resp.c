/*
 * tsa_resp.c: the RFC 3161 responder of one TSA unit.
 *
 * OpenSSL's TS_RESP_create_response() does the protocol: it decodes the
 * request, checks it (RFC 3161 §2.4.1: version 1, a digest we accept with
 * absent or NULL parameters and of the right length, a policy we serve,
 * no extension), and signs the TSTInfo with signingCertificateV2 (RFC
 * 5816 §2.2.1, ESSCertIDv2 with SHA-256) as its signed attribute. Our
 * callbacks give it the serial number (128 bits from the CSPRNG) and the
 * time (refused while the clock is not synchronised, EN 319 421 §7.7.2).
 *
 * A TS_RESP_CTX is not thread-safe: each caller takes one from a pool
 * (made on demand, so the pool grows to the peak number of concurrent
 * callers, i.e. the server's threads) and puts it back.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sceau/hsm.h"

#include "tsa_int.h"

/*
 * TimeStampResp { status { rejection, failInfo systemFailure } } (RFC
 * 3161 §2.4.2): BIT STRING with bit 25 set, 6 unused bits. Used when no
 * token may leave: no TSA unit, or the token could not be recorded.
 */
static const uint8_t sysfail_der[] = {0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x02,
    0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40};

static const struct {
	unsigned bit;
	const char *name;
} fail_names[] = {
    {TS_INFO_BAD_ALG, "badAlg"},
    {TS_INFO_BAD_REQUEST, "badRequest"},
    {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
    {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
    {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
    {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
    {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
    {TS_INFO_SYSTEM_FAILURE, "systemFailure"},
};

const char *
sc_tsa_failure_name(unsigned failure)
{
	for (size_t i = 0; i < sizeof(fail_names) / sizeof(fail_names[0]); i++)
		if (failure & (1u << fail_names[i].bit))
			return fail_names[i].name;
	return "";
}

void
sc_tsa_opts_from_config(const struct sc_config *cfg, struct sc_tsa_opts *o)
{
	o->policy_oid = cfg->tsa_policy_oid;
	o->accuracy_ms = cfg->tsa_accuracy_ms;
	o->clock_check = cfg->tsa_clock_check != 0;
	o->clock_source = cfg->tsa_clock_source;
}

int
tsa_serial_hex(const ASN1_INTEGER *a, char *out, size_t outlen)
{
	const unsigned char *p;
	int n;

	if (a == NULL || ASN1_STRING_type(a) != V_ASN1_INTEGER)
		return -1; /* negative serials are not ours */
	p = ASN1_STRING_get0_data(a);
	n = ASN1_STRING_length(a);
	while (n > 1 && p[0] == 0) {
		p++;
		n--;
	}
	if (n < 1 || n > 20 || outlen < 2 * (size_t)n + 1)
		return -1;
	sc_hex_encode(p, (size_t)n, out);
	return 0;
}

int
tsa_gentime_rfc3339(const ASN1_GENERALIZEDTIME *t, char *out, size_t outlen)
{
	const unsigned char *s;
	char frac[16] = "";
	int n, i;

	if (t == NULL || ASN1_STRING_type(t) != V_ASN1_GENERALIZEDTIME)
		return -1;
	s = ASN1_STRING_get0_data(t);
	n = ASN1_STRING_length(t);
	/* YYYYMMDDhhmmss[.f{1,9}]Z (RFC 3161 §2.4.2: UTC, no trailing 0) */
	if (n < 15 || n > 25 || s[n - 1] != 'Z')
		return -1;
	for (i = 0; i < 14; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	if (n > 15) {
		if (s[14] != '.' || n - 16 < 1 || n - 16 > 9)
			return -1;
		for (i = 15; i < n - 1; i++)
			if (s[i] < '0' || s[i] > '9')
				return -1;
		memcpy(frac, s + 14, (size_t)(n - 15));
		frac[n - 15] = '\0';
	}
	if (snprintf(out, outlen, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%sZ",
		(const char *)s, (const char *)s + 4, (const char *)s + 6,
		(const char *)s + 8, (const char *)s + 10, (const char *)s + 12,
		frac) >= (int)outlen)
		return -1;
	return 0;
}

/* TSTInfo.serialNumber: 128 bits, positive, 16 octets (RFC 3161 §2.4.2). */
static ASN1_INTEGER *
serial_cb(TS_RESP_CTX *ctx, void *data)
{
	uint8_t b[16];
	ASN1_INTEGER *a = NULL;
	BIGNUM *bn = NULL;
	(void)data;

	if (RAND_bytes(b, sizeof(b)) != 1)
		goto fail;
	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40); /* 126 random bits */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		goto fail;
	a = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	if (a == NULL)
		goto fail;
	return a;
fail:
	TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION,
	    "Error during serial number generation.");
	TS_RESP_CTX_add_failure_info(ctx, TS_INFO_SYSTEM_FAILURE);
	return NULL;
}

/*
 * genTime: sceau's clock (sc_time_now, a test seam), refused while the
 * clock source says unsynchronised; OpenSSL then answers rejection with
 * timeNotAvailable.
 */
static int
time_cb(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
	struct sc_tsa *tsa = data;
	struct sc_time t;

	if (tsa->clock_check &&
	    sc_tsa_clock_synced(tsa->clock_source, tsa->accuracy_ms, NULL, 0) !=
		1) {
		/* as OpenSSL's own time callback does on failure */
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION,
		    "Time is not available: the clock is not synchronised.");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_TIME_NOT_AVAILABLE);
		return 0;
	}
	t = sc_time_now();
	/* EN 319 421 §7.6: no token once the unit's certificate expired */
	if (t.sec >= tsa->not_after) {
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION,
		    "The TSA certificate has expired.");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_SYSTEM_FAILURE);
		return 0;
	}
	*sec = (long)t.sec;
	*usec = (long)t.usec;
	return 1;
}

static TS_RESP_CTX *
ctx_make(struct sc_tsa *tsa, struct sc_err *err)
{
	TS_RESP_CTX *c;

	if ((c = TS_RESP_CTX_new()) == NULL) {
		sc_err_crypto(err, SC_E_NOMEM, "TS_RESP_CTX_new");
		return NULL;
	}
	if (TS_RESP_CTX_set_signer_cert(c, tsa->cert) != 1 ||
	    TS_RESP_CTX_set_signer_key(c, tsa->key) != 1 ||
	    TS_RESP_CTX_set_signer_digest(c, tsa->sign_md) != 1 ||
	    /* RFC 5816: signingCertificateV2 with SHA-256, not v1. */
	    TS_RESP_CTX_set_ess_cert_id_digest(c, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_def_policy(c, tsa->policy) != 1 ||
	    TS_RESP_CTX_add_md(c, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_add_md(c, EVP_sha384()) != 1 ||
	    TS_RESP_CTX_add_md(c, EVP_sha512()) != 1 ||
	    TS_RESP_CTX_set_accuracy(c, (int)(tsa->accuracy_ms / 1000),
		(int)(tsa->accuracy_ms % 1000), 0) != 1 ||
	    TS_RESP_CTX_set_clock_precision_digits(c, 3) != 1 ||
	    (tsa->extra != NULL && TS_RESP_CTX_set_certs(c, tsa->extra) != 1)) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot set up the TSA context");
		TS_RESP_CTX_free(c);
		return NULL;
	}
	TS_RESP_CTX_set_serial_cb(c, serial_cb, tsa);
	TS_RESP_CTX_set_time_cb(c, time_cb, tsa);
	/* ordering stays false (RFC 3161 §2.4.2); the default extension
	 * callback answers unacceptedExtension to any extension. */
	return c;
}

static struct tsa_ctx *
ctx_get(struct sc_tsa *tsa, struct sc_err *err)
{
	struct tsa_ctx *c;

	pthread_mutex_lock(&tsa->pool_mu);
	c = tsa->free_list;
	if (c != NULL)
		tsa->free_list = c->next;
	pthread_mutex_unlock(&tsa->pool_mu);
	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	c->tsa = tsa;
	if ((c->ctx = ctx_make(tsa, err)) == NULL) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&tsa->pool_mu);
	c->all = tsa->all;
	tsa->all = c;
	tsa->ncontexts++;
	pthread_mutex_unlock(&tsa->pool_mu);
	return c;
}

static void
ctx_put(struct sc_tsa *tsa, struct tsa_ctx *c)
{
	pthread_mutex_lock(&tsa->pool_mu);
	c->next = tsa->free_list;
	tsa->free_list = c;
	pthread_mutex_unlock(&tsa->pool_mu);
}

/* RFC 3161 §2.3: the only extendedKeyUsage is id-kp-timeStamping, and it
 * is critical. */
static int
check_eku(X509 *x, struct sc_err *err)
{
	EXTENDED_KEY_USAGE *eku;
	int crit = -1, ok;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	ok = eku != NULL && crit == 1 && sk_ASN1_OBJECT_num(eku) == 1 &&
	    OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_time_stamp;
	EXTENDED_KEY_USAGE_free(eku);
	if (!ok)
		return sc_err_set(err, SC_E_CONFIG,
		    "RFC 3161 §2.3: the TSA certificate must have a critical "
		    "extendedKeyUsage with id-kp-timeStamping only");
	return 0;
}

static X509 *
der_x509(const uint8_t *p, size_t len, struct sc_err *err)
{
	const unsigned char *q = p;
	X509 *x;

	if (len == 0 || len > 64 * 1024) {
		sc_err_set(err, SC_E_CONFIG, "certificate of %zu bytes", len);
		return NULL;
	}
	x = d2i_X509(NULL, &q, (long)len);
	if (x == NULL || q != p + len) {
		X509_free(x);
		sc_err_crypto(err, SC_E_CONFIG, "not a DER certificate");
		return NULL;
	}
	return x;
}

/* The unit's certificate chains to the root for time-stamping, now. */
static int
check_chain(X509 *cert, STACK_OF(X509) *all, struct sc_err *err)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	int n = sk_X509_num(all), rc = -1;

	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, sk_X509_value(all, n - 1)) != 1 ||
	    (vctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(vctx, store, cert, all) != 1 ||
	    X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_TIMESTAMP_SIGN) !=
		1) {
		sc_err_crypto(err, SC_E_NOMEM, "X509_STORE");
		goto out;
	}
	if (X509_verify_cert(vctx) != 1) {
		sc_err_set(err, SC_E_CONFIG,
		    "the TSA certificate does not chain to its root: %s",
		    X509_verify_cert_error_string(
			X509_STORE_CTX_get_error(vctx)));
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	return rc;
}

static int
opts_check(const struct sc_tsa_opts *o, struct sc_err *err)
{
	if (o->policy_oid == NULL || o->policy_oid[0] == '\0' ||
	    strlen(o->policy_oid) > 63)
		return sc_err_set(err, SC_E_CONFIG,
		    "tsa.policy_oid is not set");
	if (o->accuracy_ms < 1 || o->accuracy_ms > 60000)
		return sc_err_set(err, SC_E_CONFIG,
		    "tsa.accuracy_ms: 1 to 60000");
	if (o->clock_source == NULL ||
	    (strcmp(o->clock_source, "adjtimex") != 0 &&
		(strncmp(o->clock_source, "file:", 5) != 0 ||
		    o->clock_source[5] == '\0')))
		return sc_err_set(err, SC_E_CONFIG,
		    "tsa.clock_source: adjtimex or file:PATH");
	if (strlen(o->clock_source) >= SC_CONFIG_PATH_MAX)
		return sc_err_set(err, SC_E_CONFIG,
		    "tsa.clock_source too long");
	return 0;
}

struct sc_tsa *
sc_tsa_new(struct sc_hsm *hsm, const char *key_alias, const uint8_t *cert,
    size_t cert_len, const struct sc_tsa_der *chain, size_t nchain,
    const struct sc_tsa_opts *opts, struct sc_err *err)
{
	struct sc_tsa *tsa = NULL, *ret = NULL;
	STACK_OF(X509) *all = NULL;
	X509 *x = NULL;
	int mu_ok = 0;

	if (opts_check(opts, err) != 0)
		goto out;
	if (nchain < 1 || nchain > SC_DB_TSA_CHAIN_MAX) {
		sc_err_set(err, SC_E_CONFIG, "TSA chain: 1 to %d certificates",
		    SC_DB_TSA_CHAIN_MAX);
		goto out;
	}
	if ((tsa = calloc(1, sizeof(*tsa))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (pthread_mutex_init(&tsa->pool_mu, NULL) != 0) {
		sc_err_set(err, SC_E_INTERNAL, "pthread_mutex_init");
		goto out;
	}
	mu_ok = 1;
	tsa->accuracy_ms = opts->accuracy_ms;
	tsa->clock_check = opts->clock_check;
	snprintf(tsa->clock_source, sizeof(tsa->clock_source), "%s",
	    opts->clock_source);
	snprintf(tsa->policy_txt, sizeof(tsa->policy_txt), "%s",
	    opts->policy_oid);
	if ((tsa->policy = OBJ_txt2obj(opts->policy_oid, 1)) == NULL) {
		sc_err_crypto(err, SC_E_CONFIG,
		    "tsa.policy_oid: \"%s\" is not a dotted OID",
		    opts->policy_oid);
		goto out;
	}
	if ((tsa->cert = der_x509(cert, cert_len, err)) == NULL)
		goto out;
	if (check_eku(tsa->cert, err) != 0)
		goto out;
	if (X509_cmp_current_time(X509_get0_notBefore(tsa->cert)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(tsa->cert)) <= 0) {
		sc_err_set(err, SC_E_CONFIG,
		    "EN 319 421 §7.6: the TSA certificate is not valid now");
		goto out;
	}
	{
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(tsa->cert), &tm) != 1) {
			sc_err_set(err, SC_E_CONFIG,
			    "TSA certificate notAfter");
			goto out;
		}
		tsa->not_after = (int64_t)timegm(&tm);
	}
	if (tsa_serial_hex(X509_get0_serialNumber(tsa->cert), tsa->cert_serial,
		sizeof(tsa->cert_serial)) != 0) {
		sc_err_set(err, SC_E_CONFIG, "TSA certificate serial");
		goto out;
	}
	if ((all = sk_X509_new_null()) == NULL ||
	    (tsa->extra = sk_X509_new_null()) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nchain; i++) {
		if ((x = der_x509(chain[i].p, chain[i].len, err)) == NULL)
			goto out;
		if (sk_X509_push(all, x) <= 0) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		x = NULL; /* now all's */
		if (i + 1 < nchain) {
			X509 *c = sk_X509_value(all, (int)i);

			if (X509_up_ref(c) != 1 ||
			    sk_X509_push(tsa->extra, c) <= 0) {
				sc_err_set(err, SC_E_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (check_chain(tsa->cert, all, err) != 0)
		goto out;
	if ((tsa->key = sc_hsm_key_get1(hsm, key_alias, err)) == NULL)
		goto out;
	if (X509_check_private_key(tsa->cert, tsa->key) != 1) {
		sc_err_crypto(err, SC_E_CONFIG,
		    "HSM key %s is not the TSA certificate's key", key_alias);
		goto out;
	}
	tsa->sign_md = EVP_PKEY_get_id(tsa->key) == EVP_PKEY_EC &&
		EVP_PKEY_get_bits(tsa->key) > 256
	    ? EVP_sha384()
	    : EVP_sha256();
	ret = tsa; /* the caller frees it with sc_tsa_free() */
	tsa = NULL;
out:
	X509_free(x);
	sk_X509_pop_free(all, X509_free);
	if (tsa != NULL) {
		if (!mu_ok) {
			free(tsa);
		} else {
			sc_tsa_free(tsa);
		}
	}
	return ret;
}

int
sc_tsa_record_start(struct sc_tsa *tsa, struct sc_db *db, struct sc_err *err)
{
	if (tsa->log != NULL)
		return 0;
	return tsa_log_start(&tsa->log, db, TSA_WRITERS, err);
}

void
sc_tsa_free(struct sc_tsa *tsa)
{
	struct tsa_ctx *c, *next;

	if (tsa == NULL)
		return;
	tsa_log_stop(tsa->log);
	for (c = tsa->all; c != NULL; c = next) {
		next = c->all;
		TS_RESP_CTX_free(c->ctx);
		free(c);
	}
	X509_free(tsa->cert);
	sk_X509_pop_free(tsa->extra, X509_free);
	EVP_PKEY_free(tsa->key);
	ASN1_OBJECT_free(tsa->policy);
	pthread_mutex_destroy(&tsa->pool_mu);
	free(tsa);
}

int
sc_tsa_resp_system_failure(struct sc_tsa_resp *out, struct sc_err *err)
{
	memset(out, 0, sizeof(*out));
	if ((out->der = OPENSSL_malloc(sizeof(sysfail_der))) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(out->der, sysfail_der, sizeof(sysfail_der));
	out->len = sizeof(sysfail_der);
	out->status = SC_TSA_REJECTION;
	out->failure = SC_TSA_FAIL_SYSTEM_FAILURE;
	return 0;
}

void
sc_tsa_resp_free(struct sc_tsa_resp *r)
{
	if (r == NULL)
		return;
	OPENSSL_free(r->der);
	memset(r, 0, sizeof(*r));
}

/* The record of a granted token, from its TSTInfo. */
static int
record_fill(struct sc_tsa *tsa, TS_RESP *resp, struct sc_db_tsa_token *rec,
    struct sc_err *err)
{
	TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
	TS_MSG_IMPRINT *mi;
	const ASN1_OBJECT *alg;
	ASN1_OCTET_STRING *msg;
	int nid, n;

	memset(rec, 0, sizeof(*rec));
	if (tst == NULL || (mi = TS_TST_INFO_get_msg_imprint(tst)) == NULL ||
	    (msg = TS_MSG_IMPRINT_get_msg(mi)) == NULL)
		return sc_err_set(err, SC_E_INTERNAL,
		    "granted without TSTInfo");
	if (tsa_serial_hex(TS_TST_INFO_get_serial(tst), rec->serial,
		sizeof(rec->serial)) != 0 ||
	    tsa_gentime_rfc3339(TS_TST_INFO_get_time(tst), rec->gen_time,
		sizeof(rec->gen_time)) != 0)
		return sc_err_set(err, SC_E_INTERNAL, "TSTInfo serial or time");
	X509_ALGOR_get0(&alg, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
	nid = OBJ_obj2nid(alg);
	snprintf(rec->hash_alg, sizeof(rec->hash_alg), "%s",
	    nid == NID_sha256       ? "sha256"
		: nid == NID_sha384 ? "sha384"
		: nid == NID_sha512 ? "sha512"
				    : "");
	n = ASN1_STRING_length(msg);
	if (rec->hash_alg[0] == '\0' || n < 1 ||
	    (size_t)n > sizeof(rec->imprint))
		return sc_err_set(err, SC_E_INTERNAL, "TSTInfo imprint");
	memcpy(rec->imprint, ASN1_STRING_get0_data(msg), (size_t)n);
	rec->imprint_len = (size_t)n;
	if (OBJ_obj2txt(rec->policy, sizeof(rec->policy),
		TS_TST_INFO_get_policy_id(tst), 1) <= 0)
		return sc_err_set(err, SC_E_INTERNAL, "TSTInfo policy");
	snprintf(rec->tsa_serial, sizeof(rec->tsa_serial), "%s",
	    tsa->cert_serial);
	return 0;
}

int
sc_tsa_respond(struct sc_tsa *tsa, const uint8_t *req, size_t len,
    struct sc_tsa_resp *out, struct sc_err *err)
{
	static const uint8_t empty[1] = {0};
	struct tsa_pending pend;
	struct tsa_ctx *c = NULL;
	const unsigned char *p = req;
	const ASN1_BIT_STRING *fi;
	TS_STATUS_INFO *si;
	TS_RESP *resp = NULL;
	struct sc_err e;
	unsigned char *der = NULL;
	BIO *bio = NULL;
	int n, exact = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	sc_err_clear(&e);
	/*
	 * STYLE.md rule 12: one DER SEQUENCE and nothing after it (its
	 * header, read by ASN1_get_object, must span the whole body); OpenSSL
	 * then decodes it once. Any other input goes to OpenSSL as an empty
	 * request, which it answers with badDataFormat, as for what it
	 * cannot decode.
	 */
	if (len > 0 && len <= TSA_REQ_MAX) {
		long clen = 0;
		int tag = 0, xclass = 0;
		int r = ASN1_get_object(&p, &clen, &tag, &xclass, (long)len);

		exact = r == V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE &&
		    xclass == V_ASN1_UNIVERSAL && clen >= 0 &&
		    (size_t)(p - req) + (size_t)clen == len;
	}
	bio =
	    exact ? BIO_new_mem_buf(req, (int)len) : BIO_new_mem_buf(empty, 0);
	if (bio == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if ((c = ctx_get(tsa, &e)) == NULL)
		goto sysfail;
	resp = TS_RESP_create_response(c->ctx, bio);
	ctx_put(tsa, c);
	if (resp == NULL) {
		sc_err_crypto(&e, SC_E_CRYPTO, "TS_RESP_create_response");
		goto sysfail;
	}
	si = TS_RESP_get_status_info(resp);
	out->status = (int)ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if ((fi = TS_STATUS_INFO_get0_failure_info(si)) != NULL)
		for (unsigned b = 0; b <= 25; b++)
			if (ASN1_BIT_STRING_get_bit(fi, (int)b) == 1)
				out->failure |= 1u << b;
	if (out->status == SC_TSA_GRANTED) {
		if (record_fill(tsa, resp, &pend.rec, &e) != 0)
			goto sysfail;
		/* The row is durable before the token leaves (docs/tsa.md). */
		if (tsa->log != NULL &&
		    tsa_log_commit(tsa->log, &pend, &e) != 0)
			goto sysfail;
		memcpy(out->serial, pend.rec.serial, sizeof(out->serial));
		memcpy(out->gen_time, pend.rec.gen_time, sizeof(out->gen_time));
		atomic_fetch_add(&tsa->granted, 1);
	} else {
		if (out->failure & SC_TSA_FAIL_SYSTEM_FAILURE) {
			sc_err_crypto(&e, SC_E_HSM,
			    "TSA: systemFailure (signature, serial or expired "
			    "certificate)");
			sc_log_err("tsa", &e);
		}
		atomic_fetch_add(&tsa->rejected, 1);
		ERR_clear_error(); /* the request's faults, not ours */
	}
	/* one encoding pass, into a buffer OpenSSL allocates */
	if ((n = i2d_TS_RESP(resp, &der)) <= 0) {
		sc_err_crypto(&e, SC_E_NOMEM, "i2d_TS_RESP");
		goto sysfail;
	}
	out->der = der; /* freed by sc_tsa_resp_free() */
	out->len = (size_t)n;
	rc = 0;
	goto out;
sysfail:
	/* No token may leave: rejection, systemFailure (RFC 3161 §2.4.2). */
	sc_log_err("tsa: systemFailure", &e);
	atomic_fetch_add(&tsa->rejected, 1);
	rc = sc_tsa_resp_system_failure(out, err);
out:
	TS_RESP_free(resp);
	BIO_free(bio);
	return rc;
}

int
sc_tsa_ready(struct sc_tsa *tsa, char *why, size_t whylen)
{
	if (!tsa->clock_check) {
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "clock check off");
		return 1;
	}
	return sc_tsa_clock_synced(tsa->clock_source, tsa->accuracy_ms, why,
		   whylen) == 1;
}

void
sc_tsa_stats(struct sc_tsa *tsa, struct sc_tsa_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->granted = atomic_load(&tsa->granted);
	st->rejected = atomic_load(&tsa->rejected);
	pthread_mutex_lock(&tsa->pool_mu);
	st->contexts = tsa->ncontexts;
	pthread_mutex_unlock(&tsa->pool_mu);
	if (tsa->log != NULL)
		tsa_log_stats(tsa->log, &st->batches, &st->rows,
		    &st->max_batch);
}
