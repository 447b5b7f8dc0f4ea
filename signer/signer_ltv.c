/*
 * signer_ltv.c: certificates and revocation data for long-term
 * validation (ETSI EN 319 142-1 §5.4.2 for PAdES; generic, see
 * sceau/ltv.h). For each certificate with an issuer in the set: an OCSP
 * response (RFC 6960) from the responder named in its
 * authorityInfoAccess (RFC 5280 §4.2.2.1), else the CRL named in its
 * cRLDistributionPoints (§4.2.1.13). Each piece is checked (status,
 * issuer, signature) before it goes in: a store of bad data would make
 * the document fail later, off-line, when nothing can be fixed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/ltv.h"

int
sc_ltv_list_add(struct sc_ltv_list *l, const uint8_t *p, size_t len,
    struct sc_err *err)
{
	struct sc_ltv_der *nv;
	uint8_t *c;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].len == len && memcmp(l->v[i].p, p, len) == 0)
			return 0;
	c = malloc(len > 0 ? len : 1);
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (c == NULL || nv == NULL) {
		free(c);
		if (nv != NULL)
			l->v = nv;
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	memcpy(c, p, len);
	l->v = nv;
	l->v[l->n].p = c;
	l->v[l->n].len = len;
	l->n++;
	return 0;
}

static void
list_free(struct sc_ltv_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].p);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
sc_ltv_free(struct sc_ltv *l)
{
	if (l == NULL)
		return;
	list_free(&l->certs);
	list_free(&l->ocsps);
	list_free(&l->crls);
}

static int
add_x509(struct sc_ltv_list *l, X509 *x, struct sc_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der), rc;

	if (n <= 0)
		return sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot encode a certificate");
	rc = sc_ltv_list_add(l, der, (size_t)n, err);
	OPENSSL_free(der);
	return rc;
}

static int
fetch(const struct sc_ltv_opts *o, const char *url, const char *ctype,
    const uint8_t *body, size_t len, uint8_t **out, size_t *outlen,
    struct sc_err *err)
{
	if (o != NULL && o->allow != NULL) {
		size_t i;

		for (i = 0; i < o->nallow; i++)
			if (strncmp(url, o->allow[i], strlen(o->allow[i])) == 0)
				break;
		if (i == o->nallow)
			return sc_err_set(err, SC_E_UNAVAILABLE,
			    "revocation source %.200s is not an allowed URL",
			    url);
	}
	if (o != NULL && o->fetch != NULL && o->fetch->fn != NULL)
		return o->fetch->fn(o->fetch->arg, url, ctype, body, len, out,
		    outlen, err);
	return sc_http_fetch(url, ctype, body, len,
	    o != NULL ? o->timeout_s : 0, o != NULL ? o->max_response : 0,
	    out, outlen, err);
}

static int
is_self_signed(X509 *x)
{
	return X509_self_signed(x, 1) == 1;
}

/* A store trusting the self-signed certificates of @certs and @issuer
 * (partial chains allowed: @issuer may be an intermediate). */
static X509_STORE *
mk_store(X509 *const *certs, size_t n, X509 *issuer)
{
	X509_STORE *st = X509_STORE_new();

	if (st == NULL)
		return NULL;
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_STORE_add_cert(st, issuer) != 1)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (certs[i] != issuer && is_self_signed(certs[i]))
			(void)X509_STORE_add_cert(st, certs[i]);
	return st;
fail:
	X509_STORE_free(st);
	return NULL;
}

/*
 * OCSP for @x. @return 0 done, 1 no http:// responder named, -1 error.
 */
static int
ocsp_for(X509 *x, X509 *issuer, X509 *const *certs, size_t n,
    const struct sc_ltv_opts *o, struct sc_ltv *out, struct sc_err *err)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(x);
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL, *id2 = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE *st = NULL;
	const char *url = NULL;
	unsigned char *rq = NULL;
	uint8_t *body = NULL;
	size_t blen = 0;
	int rql, status = -1, reason = -1, rc = -1;

	for (int i = 0; urls != NULL && i < sk_OPENSSL_STRING_num(urls); i++)
		if (strncasecmp(sk_OPENSSL_STRING_value(urls, i), "http://",
			7) == 0) {
			url = sk_OPENSSL_STRING_value(urls, i);
			break;
		}
	if (url == NULL) {
		rc = 1;
		goto out;
	}
	req = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(NULL, x, issuer);
	id2 = id != NULL ? OCSP_CERTID_dup(id) : NULL;
	if (req == NULL || id2 == NULL || OCSP_request_add0_id(req, id) == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot build an OCSP request");
		goto out;
	}
	id = NULL; /* owned by req */
	rql = i2d_OCSP_REQUEST(req, &rq);
	if (rql <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode the OCSP request");
		goto out;
	}
	if (fetch(o, url, "application/ocsp-request", rq, (size_t)rql, &body,
		&blen, err) != 0)
		goto out;
	{
		const unsigned char *p = body;

		resp = d2i_OCSP_RESPONSE(NULL, &p, (long)blen);
		if (resp == NULL || p != body + blen) {
			sc_err_crypto(err, SC_E_UNAVAILABLE,
			    "RFC 6960 §4.2.1: %s did not answer an "
			    "OCSPResponse", url);
			goto out;
		}
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(resp)) == NULL) {
		sc_err_set(err, SC_E_UNAVAILABLE,
		    "RFC 6960 §4.2.1: %s answered status %d", url,
		    OCSP_response_status(resp));
		goto out;
	}
	if (OCSP_resp_find_status(bs, id2, &status, &reason, NULL, NULL,
		NULL) != 1 ||
	    status == V_OCSP_CERTSTATUS_UNKNOWN) {
		sc_err_set(err, SC_E_UNAVAILABLE,
		    "RFC 6960 §4.2.2.3: %s does not know the certificate", url);
		goto out;
	}
	untrusted = sk_X509_new_null();
	for (size_t i = 0; untrusted != NULL && i < n; i++)
		if (sk_X509_push(untrusted, certs[i]) <= 0)
			break;
	st = mk_store(certs, n, issuer);
	if (untrusted == NULL || st == NULL ||
	    OCSP_basic_verify(bs, untrusted, st, 0) != 1) {
		sc_err_crypto(err, SC_E_UNAVAILABLE,
		    "RFC 6960 §3.2: the OCSP response from %s does not verify",
		    url);
		goto out;
	}
	if (sc_ltv_list_add(&out->ocsps, body, blen, err) != 0)
		goto out;
	{
		const STACK_OF(X509) *rc_certs = OCSP_resp_get0_certs(bs);

		for (int i = 0; i < sk_X509_num(rc_certs); i++)
			if (add_x509(&out->certs, sk_X509_value(rc_certs, i),
				err) != 0)
				goto out;
	}
	rc = 0;
out:
	X509_email_free(urls);
	OPENSSL_free(rq);
	free(body);
	OCSP_CERTID_free(id);
	OCSP_CERTID_free(id2);
	OCSP_REQUEST_free(req);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	sk_X509_free(untrusted);
	X509_STORE_free(st);
	return rc;
}

/* The CRL of @issuer named by @x. @return 0, 1 none named, -1 error. */
static int
crl_for(X509 *x, X509 *issuer, const struct sc_ltv_opts *o,
    struct sc_ltv *out, struct sc_err *err)
{
	char *url = sc_http_crl_url(x);
	X509_CRL *crl = NULL;
	uint8_t *body = NULL;
	unsigned char *der = NULL;
	size_t blen = 0;
	int rc = -1, dl;

	if (url == NULL) {
		rc = 1;
		goto out;
	}
	if (fetch(o, url, NULL, NULL, 0, &body, &blen, err) != 0)
		goto out;
	{
		const unsigned char *p = body;

		crl = d2i_X509_CRL(NULL, &p, (long)blen);
		if (crl == NULL) {
			BIO *b = BIO_new_mem_buf(body, (int)blen);

			crl = b != NULL ? PEM_read_bio_X509_CRL(b, NULL, NULL,
					      NULL)
					: NULL;
			BIO_free(b);
		}
	}
	if (crl == NULL) {
		sc_err_crypto(err, SC_E_UNAVAILABLE,
		    "RFC 5280 §5: %s is not a CRL", url);
		goto out;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
		X509_get_subject_name(issuer)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
		sc_err_crypto(err, SC_E_UNAVAILABLE,
		    "RFC 5280 §6.3.3: the CRL from %s is not the issuer's",
		    url);
		goto out;
	}
	dl = i2d_X509_CRL(crl, &der);
	if (dl <= 0 ||
	    sc_ltv_list_add(&out->crls, der, (size_t)dl, err) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_free(der);
	free(body);
	X509_CRL_free(crl);
	free(url);
	return rc;
}

int
sc_ltv_collect(X509 *const *certs, size_t n, const struct sc_ltv_opts *o,
    struct sc_ltv *out, struct sc_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (add_x509(&out->certs, certs[i], err) != 0)
			return -1;
	for (size_t i = 0; i < n; i++) {
		X509 *x = certs[i], *issuer = NULL;
		char name[256] = "";
		int r = 1;

		if (is_self_signed(x) ||
		    X509_get_ext_by_NID(x, NID_id_pkix_OCSP_noCheck, -1) >= 0)
			continue;
		for (size_t j = 0; j < n && issuer == NULL; j++)
			if (j != i && X509_check_issued(certs[j], x) == X509_V_OK)
				issuer = certs[j];
		X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
		if (issuer == NULL) {
			sc_log(SC_LOG_WARNING, "ltv: %s: issuer not at hand, no "
			    "revocation data", name);
			continue;
		}
		if (o == NULL || !o->prefer_crl)
			r = ocsp_for(x, issuer, certs, n, o, out, err);
		if (r == 1)
			r = crl_for(x, issuer, o, out, err);
		if (r == 1 && o != NULL && o->prefer_crl)
			r = ocsp_for(x, issuer, certs, n, o, out, err);
		if (r < 0)
			return -1;
		if (r == 1)
			sc_log(SC_LOG_WARNING, "ltv: %s names no http:// OCSP "
			    "responder or CRL", name);
	}
	return 0;
}
