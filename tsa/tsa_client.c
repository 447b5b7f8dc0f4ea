/*
 * tsa_client.c: asks a TSA for a time-stamp and checks the answer
 * (RFC 3161 §2.4, §3.4 over HTTP), for `sceau timestamp` and for the
 * signer's B-T level. The TSA is this process's own unit (in-process) or
 * any RFC 3161 server reached with an HTTP POST.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>

#include "tsa_int.h"

#define TSA_REPLY_MAX (1024 * 1024)

int
sc_tsa_hash_parse(const char *s, enum sc_tsa_hash *out, struct sc_err *err)
{
	if (s != NULL && strcmp(s, "sha256") == 0)
		*out = SC_TSA_SHA256;
	else if (s != NULL && strcmp(s, "sha384") == 0)
		*out = SC_TSA_SHA384;
	else if (s != NULL && strcmp(s, "sha512") == 0)
		*out = SC_TSA_SHA512;
	else
		return sc_err_set(err, SC_E_USAGE,
		    "hash: sha256, sha384 or sha512");
	return 0;
}

static const EVP_MD *
hash_md(enum sc_tsa_hash h)
{
	switch (h) {
	case SC_TSA_SHA256:
		return EVP_sha256();
	case SC_TSA_SHA384:
		return EVP_sha384();
	case SC_TSA_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

int
sc_tsa_file_digest(const char *path, enum sc_tsa_hash h, uint8_t *out,
    size_t *outlen, struct sc_err *err)
{
	EVP_MD_CTX *md = NULL;
	unsigned char buf[65536];
	unsigned int n = 0;
	FILE *f = NULL;
	size_t r;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL)
		return sc_err_set(err, SC_E_IO, "cannot open %s", path);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, hash_md(h), NULL) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "digest");
		goto out;
	}
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		if (EVP_DigestUpdate(md, buf, r) != 1) {
			sc_err_crypto(err, SC_E_CRYPTO, "digest");
			goto out;
		}
	if (ferror(f)) {
		sc_err_set(err, SC_E_IO, "cannot read %s", path);
		goto out;
	}
	if (EVP_DigestFinal_ex(md, out, &n) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "digest");
		goto out;
	}
	*outlen = n;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	fclose(f);
	return rc;
}

/* TimeStampReq v1: imprint, 64-bit nonce, certReq, optional policy. */
static TS_REQ *
query_build(enum sc_tsa_hash h, const uint8_t *d, size_t dlen,
    const char *policy, struct sc_err *err)
{
	TS_REQ *q = NULL, *ret = NULL;
	TS_MSG_IMPRINT *mi = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_INTEGER *nonce = NULL;
	ASN1_OBJECT *pol = NULL;
	BIGNUM *bn = NULL;
	uint8_t nb[8];
	const EVP_MD *md = hash_md(h);

	if (md == NULL || dlen != (size_t)EVP_MD_get_size(md)) {
		sc_err_set(err, SC_E_USAGE, "digest of the wrong length");
		goto out;
	}
	if (RAND_bytes(nb, sizeof(nb)) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "RAND_bytes");
		goto out;
	}
	nb[0] = (uint8_t)((nb[0] & 0x7f) | 0x01);
	if ((q = TS_REQ_new()) == NULL || TS_REQ_set_version(q, 1) != 1 ||
	    (mi = TS_MSG_IMPRINT_new()) == NULL ||
	    (alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL,
		NULL) != 1 ||
	    TS_MSG_IMPRINT_set_algo(mi, alg) != 1 ||
	    TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)(uintptr_t)d,
		(int)dlen) != 1 ||
	    TS_REQ_set_msg_imprint(q, mi) != 1 ||
	    (bn = BN_bin2bn(nb, sizeof(nb), NULL)) == NULL ||
	    (nonce = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    TS_REQ_set_nonce(q, nonce) != 1 || TS_REQ_set_cert_req(q, 1) != 1) {
		sc_err_crypto(err, SC_E_NOMEM, "cannot build the request");
		goto out;
	}
	if (policy != NULL) {
		if ((pol = OBJ_txt2obj(policy, 1)) == NULL) {
			sc_err_set(err, SC_E_USAGE, "policy: not a dotted OID");
			goto out;
		}
		if (TS_REQ_set_policy_id(q, pol) != 1) {
			sc_err_crypto(err, SC_E_NOMEM, "TS_REQ_set_policy_id");
			goto out;
		}
	}
	ret = q; /* the caller frees it */
	q = NULL;
out:
	TS_REQ_free(q);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	ASN1_INTEGER_free(nonce);
	ASN1_OBJECT_free(pol);
	BN_free(bn);
	return ret;
}

/* POST @req to @url; the body of a 2xx application/timestamp-reply. */
static int
http_post(const char *url, unsigned timeout_s, const uint8_t *req,
    size_t reqlen, uint8_t **out, size_t *outlen, struct sc_err *err)
{
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	char *user = NULL, *frag = NULL, *fullpath = NULL;
	BIO *rq = NULL, *rsp = NULL;
	struct sc_buf b;
	int ssl = 0, portnum = 0, n, rc = -1;
	char chunk[4096];

	sc_buf_init(&b, TSA_REPLY_MAX);
	if (OSSL_HTTP_parse_url(url, &ssl, &user, &host, &port, &portnum, &path,
		&query, &frag) != 1) {
		sc_err_crypto(err, SC_E_USAGE, "not an http URL: %s", url);
		goto out;
	}
	if (ssl) {
		sc_err_set(err, SC_E_USAGE,
		    "https TSA URLs are not supported yet; use http (the "
		    "reply is signed and checked)");
		goto out;
	}
	if (query != NULL && query[0] != '\0') {
		size_t l = strlen(path) + strlen(query) + 2;

		if ((fullpath = malloc(l)) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		snprintf(fullpath, l, "%s?%s", path, query);
	}
	if (reqlen > INT32_MAX ||
	    (rq = BIO_new_mem_buf(req, (int)reqlen)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	rsp = OSSL_HTTP_transfer(NULL, host, port,
	    fullpath != NULL ? fullpath : path, 0, NULL, NULL, NULL, NULL, NULL,
	    NULL, 0, NULL, "application/timestamp-query", rq,
	    "application/timestamp-reply", 1, TSA_REPLY_MAX,
	    (int)(timeout_s > 0 ? timeout_s : 30), 0);
	if (rsp == NULL) {
		sc_err_crypto(err, SC_E_UNAVAILABLE,
		    "no RFC 3161 reply from %s", url);
		goto out;
	}
	while ((n = BIO_read(rsp, chunk, sizeof(chunk))) > 0)
		if (sc_buf_append(&b, chunk, (size_t)n, err) != 0)
			goto out;
	*out = sc_buf_steal(&b, outlen);
	rc = 0;
out:
	sc_buf_free(&b);
	BIO_free_all(rsp);
	BIO_free(rq);
	free(fullpath);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	OPENSSL_free(query);
	OPENSSL_free(user);
	OPENSSL_free(frag);
	return rc;
}

static int
der_add(STACK_OF(X509) *sk, X509_STORE *store, const struct sc_tsa_der *d,
    struct sc_err *err)
{
	const unsigned char *p = d->p;
	X509 *x;
	int ok;

	x = d2i_X509(NULL, &p, (long)d->len);
	if (x == NULL || p != d->p + d->len) {
		X509_free(x);
		return sc_err_crypto(err, SC_E_USAGE, "not a DER certificate");
	}
	ok = store != NULL ? X509_STORE_add_cert(store, x) == 1
			   : sk_X509_push(sk, x) > 0;
	if (store != NULL || !ok)
		X509_free(x);
	if (!ok)
		return sc_err_crypto(err, SC_E_NOMEM, "certificate store");
	return 0;
}

static int
trust_file_add(X509_STORE *store, const char *path, int *count,
    struct sc_err *err)
{
	BIO *in;
	X509 *x;

	if ((in = BIO_new_file(path, "r")) == NULL)
		return sc_err_crypto(err, SC_E_IO, "cannot open %s", path);
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		int ok = X509_STORE_add_cert(store, x) == 1;

		X509_free(x);
		if (!ok) {
			BIO_free(in);
			return sc_err_crypto(err, SC_E_NOMEM, "trust store");
		}
		(*count)++;
	}
	BIO_free(in);
	ERR_clear_error(); /* the end of the PEM stream */
	if (*count == 0)
		return sc_err_set(err, SC_E_USAGE, "%s: no PEM certificate",
		    path);
	return 0;
}

static void
subject_of(PKCS7 *tok, STACK_OF(X509) *certs, char *out, size_t outlen)
{
	STACK_OF(X509) *signers;
	BIO *m;
	long n;
	char *p;

	out[0] = '\0';
	signers = PKCS7_get0_signers(tok, certs, 0);
	if (signers == NULL || sk_X509_num(signers) != 1 ||
	    (m = BIO_new(BIO_s_mem())) == NULL) {
		sk_X509_free(signers);
		ERR_clear_error();
		return;
	}
	X509_NAME_print_ex(m, X509_get_subject_name(sk_X509_value(signers, 0)),
	    0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(m, &p);
	if (n > 0)
		snprintf(out, outlen, "%.*s", (int)(n < 255 ? n : 255), p);
	BIO_free(m);
	sk_X509_free(signers);
}

int
sc_tsa_timestamp(const struct sc_tsa_client *c, enum sc_tsa_hash h,
    const uint8_t *d, size_t dlen, struct sc_tsa_token *out, struct sc_err *err)
{
	TS_REQ *q = NULL;
	TS_RESP *resp = NULL;
	TS_VERIFY_CTX *vctx = NULL;
	X509_STORE *store = NULL;
	STACK_OF(X509) *untrusted = NULL, *ucerts;
	struct sc_tsa_resp lr;
	TS_TST_INFO *tst;
	uint8_t *qder = NULL, *reply = NULL, *w;
	const unsigned char *p;
	size_t reply_len = 0;
	int qlen, n, ntrust = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&lr, 0, sizeof(lr));
	if ((q = query_build(h, d, dlen, c->policy_oid, err)) == NULL)
		goto out;
	if ((qlen = i2d_TS_REQ(q, &qder)) <= 0) {
		sc_err_crypto(err, SC_E_NOMEM, "i2d_TS_REQ");
		goto out;
	}
	/* send */
	if (c->local != NULL) {
		if (sc_tsa_respond(c->local, qder, (size_t)qlen, &lr, err) != 0)
			goto out;
		if ((reply = malloc(lr.len)) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(reply, lr.der, lr.len);
		reply_len = lr.len;
	} else if (c->url != NULL) {
		if (http_post(c->url, c->timeout_s, qder, (size_t)qlen, &reply,
			&reply_len, err) != 0)
			goto out;
	} else {
		sc_err_set(err, SC_E_USAGE, "no TSA: neither local nor URL");
		goto out;
	}
	/* decode: one TimeStampResp, nothing after it */
	p = reply;
	if (reply_len > TSA_REPLY_MAX ||
	    (resp = d2i_TS_RESP(NULL, &p, (long)reply_len)) == NULL ||
	    p != reply + reply_len) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "RFC 3161 §2.4.2: the reply is not a TimeStampResp");
		goto out;
	}
	{
		TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
		long st = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
		const ASN1_BIT_STRING *fi =
		    TS_STATUS_INFO_get0_failure_info(si);
		unsigned fail = 0;

		if (fi != NULL)
			for (unsigned b = 0; b <= 25; b++)
				if (ASN1_BIT_STRING_get_bit(fi, (int)b) == 1)
					fail |= 1u << b;
		if (st != SC_TSA_GRANTED && st != SC_TSA_GRANTED_WITH_MODS) {
			sc_err_set(err, SC_E_CRYPTO,
			    "the TSA refused: status %ld%s%s", st,
			    fail != 0 ? ", " : "", sc_tsa_failure_name(fail));
			goto out;
		}
	}
	/* trust */
	if ((store = X509_STORE_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (c->trust_file != NULL &&
	    trust_file_add(store, c->trust_file, &ntrust, err) != 0)
		goto out;
	for (size_t i = 0; i < c->ntrust; i++, ntrust++)
		if (der_add(NULL, store, &c->trust[i], err) != 0)
			goto out;
	for (size_t i = 0; i < c->nuntrusted; i++)
		if (der_add(untrusted, NULL, &c->untrusted[i], err) != 0)
			goto out;
	if (ntrust == 0) {
		sc_err_set(err, SC_E_USAGE,
		    "no trust anchor to check the TSA certificate");
		goto out;
	}
	/* check: status, version, policy (if asked), imprint, nonce,
	 * signature, ESS signing certificate, chain (RFC 3161 §2.4.2) */
	if ((vctx = TS_REQ_to_TS_VERIFY_CTX(q, NULL)) == NULL) {
		sc_err_crypto(err, SC_E_NOMEM, "TS_REQ_to_TS_VERIFY_CTX");
		goto out;
	}
	TS_VERIFY_CTX_add_flags(vctx, TS_VFY_SIGNATURE);
	TS_VERIFY_CTX_set_store(vctx, store); /* vctx owns it now */
	store = NULL;
	TS_VERIFY_CTX_set_certs(vctx, untrusted); /* vctx owns it now */
	ucerts = untrusted;
	untrusted = NULL;
	if (TS_RESP_verify_response(vctx, resp) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "RFC 3161: the time-stamp reply does not verify");
		goto out;
	}
	/* report */
	tst = TS_RESP_get_tst_info(resp);
	if (tsa_serial_hex(TS_TST_INFO_get_serial(tst), out->serial,
		sizeof(out->serial)) != 0 ||
	    tsa_gentime_rfc3339(TS_TST_INFO_get_time(tst), out->gen_time,
		sizeof(out->gen_time)) != 0 ||
	    OBJ_obj2txt(out->policy, sizeof(out->policy),
		TS_TST_INFO_get_policy_id(tst), 1) <= 0) {
		sc_err_set(err, SC_E_CRYPTO, "TSTInfo not understood");
		goto out;
	}
	subject_of(TS_RESP_get_token(resp), ucerts, out->tsa_subject,
	    sizeof(out->tsa_subject));
	if ((n = i2d_PKCS7(TS_RESP_get_token(resp), NULL)) <= 0 ||
	    (out->token = malloc((size_t)n)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	w = out->token;
	if (i2d_PKCS7(TS_RESP_get_token(resp), &w) != n) {
		sc_err_crypto(err, SC_E_CRYPTO, "i2d_PKCS7");
		goto out;
	}
	out->token_len = (size_t)n;
	out->reply = reply; /* the caller frees it with sc_tsa_token_free() */
	out->reply_len = reply_len;
	reply = NULL;
	rc = 0;
out:
	if (rc != 0)
		sc_tsa_token_free(out);
	TS_VERIFY_CTX_free(vctx);
	X509_STORE_free(store);
	sk_X509_pop_free(untrusted, X509_free);
	TS_RESP_free(resp);
	TS_REQ_free(q);
	OPENSSL_free(qder);
	free(reply);
	sc_tsa_resp_free(&lr);
	return rc;
}

void
sc_tsa_token_free(struct sc_tsa_token *t)
{
	if (t == NULL)
		return;
	free(t->reply);
	free(t->token);
	memset(t, 0, sizeof(*t));
}
