/*
 * verify_online.c: revocation data fetched at validation time, for a
 * certificate whose document carries none (B-B, B-T): the OCSP
 * responder named in its authorityInfoAccess (RFC 6960 §4.1, request
 * over HTTP POST as in appendix A.1), else the CRL named in its
 * cRLDistributionPoints (RFC 5280 §4.2.1.13). EN 319 102-1 §5.2.5
 * (validation context initialisation) lets the validator gather this
 * "from any source". Missing CA certificates come the same way, from the
 * caIssuers URL of the authorityInfoAccess (RFC 5280 §4.2.2.1).
 *
 * What is fetched is only material: ver_x509_eval() checks every
 * response's signature and freshness as it does for embedded data.
 * Bounds: http:// only, VER_MAX_FETCH exchanges per validation, 1 MiB
 * per OCSP response and 16 MiB per CRL, the caller's allow-list.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "verify_int.h"

#define OCSP_MAX ((size_t)1 << 20)
#define CRL_MAX ((size_t)16 << 20)

static int
allowed(const struct ver_ctx *c, const char *url)
{
	const struct sc_ver_opts *o = c->o;

	if (strncmp(url, "http://", 7) != 0)
		return 0;
	if (o->fetch_allow == NULL)
		return 1;
	for (size_t i = 0; i < o->nfetch_allow; i++)
		if (o->fetch_allow[i] != NULL &&
		    strncmp(url, o->fetch_allow[i],
			strlen(o->fetch_allow[i])) == 0)
			return 1;
	return 0;
}

/* One exchange through the caller's fetcher or sc_http_fetch(). */
static int
exchange(struct ver_ctx *c, const char *url, const char *ctype,
    const uint8_t *body, size_t len, size_t max, uint8_t **out, size_t *outlen,
    struct sc_err *err)
{
	const struct sc_ver_opts *o = c->o;
	int rc;

	c->nfetch++;
	if (o->fetch != NULL && o->fetch->fn != NULL) {
		rc = o->fetch->fn(o->fetch->arg, url, ctype, body, len, out,
		    outlen, err);
		if (rc == 0 && *outlen > max) {
			free(*out);
			*out = NULL;
			return sc_err_set(err, SC_E_TOO_LARGE,
			    "reply over %zu bytes", max);
		}
		return rc;
	}
	return sc_http_fetch(url, ctype, body, len, o->fetch_timeout_s, max,
	    out, outlen, err);
}

static int
net_init(struct ver_ctx *c)
{
	if (c->net != NULL)
		return 0;
	if ((c->net = calloc(1, sizeof(*c->net))) == NULL)
		return -1;
	if (ver_mat_init(c->net) != 0) {
		ver_mat_free(c->net);
		free(c->net);
		c->net = NULL;
		return -1;
	}
	return 0;
}

/*
 * RFC 5280 §4.2.2.1: caIssuers names a DER certificate or a "certs-only"
 * CMS SignedData (.p7c); servers also hand out PEM. Adds what it finds.
 */
static int
add_issuer_certs(struct ver_material *m, const uint8_t *p, size_t n)
{
	const unsigned char *q = p;
	X509 *x;
	int before = sk_X509_num(m->certs);

	if ((x = d2i_X509(NULL, &q, (long)n)) != NULL && q == p + n) {
		ver_mat_add_cert(m, p, n);
	} else {
		BIO *b = BIO_new_mem_buf(p, (int)n);
		PKCS7 *p7 = NULL;
		X509 *y;

		q = p;
		if ((p7 = d2i_PKCS7(NULL, &q, (long)n)) != NULL &&
		    PKCS7_type_is_signed(p7) && p7->d.sign != NULL) {
			STACK_OF(X509) *cs = p7->d.sign->cert;

			for (int i = 0; i < sk_X509_num(cs) && i < 8; i++) {
				unsigned char *der = NULL;
				int l = i2d_X509(sk_X509_value(cs, i), &der);

				if (l > 0)
					ver_mat_add_cert(m, der, (size_t)l);
				OPENSSL_free(der);
			}
		} else if (b != NULL) {
			for (int i = 0; i < 8 &&
			     (y = PEM_read_bio_X509(b, NULL, NULL, NULL)) !=
				 NULL;
			     i++) {
				unsigned char *der = NULL;
				int l = i2d_X509(y, &der);

				if (l > 0)
					ver_mat_add_cert(m, der, (size_t)l);
				OPENSSL_free(der);
				X509_free(y);
			}
		}
		PKCS7_free(p7);
		BIO_free(b);
	}
	X509_free(x);
	ERR_clear_error();
	return sk_X509_num(m->certs) > before;
}

int
ver_net_issuer(struct ver_ctx *c, X509 *x, struct ver_sig *sig)
{
	char *url;
	uint8_t *resp = NULL;
	size_t resplen = 0;
	struct sc_err e;
	int added = 0;

	if (c->o->offline || (url = sc_http_issuer_url(x)) == NULL)
		return 0;
	sc_err_clear(&e);
	for (size_t i = 0; i < c->ndead; i++)
		if (strcmp(c->dead[i], url) == 0) {
			free(url);
			return 0; /* failed already in this validation */
		}
	if (!allowed(c, url))
		ver_sig_reason(sig,
		    "CA certificate %.200s not fetched: not an allowed "
		    "source",
		    url);
	else if (c->nfetch >= VER_MAX_FETCH || net_init(c) != 0)
		;
	else if (exchange(c, url, NULL, NULL, 0, OCSP_MAX, &resp, &resplen,
		     &e) != 0) {
		ver_sig_reason(sig, "CA certificate %.200s: %s", url, e.msg);
		if (c->ndead < VER_MAX_FETCH)
			c->dead[c->ndead++] = url, url = NULL;
	}
	else if (!(added = add_issuer_certs(c->net, resp, resplen)))
		ver_sig_reason(sig, "CA certificate %.200s: no certificate",
		    url);
	free(resp);
	free(url);
	return added;
}

/* RFC 6960 §4.1.1: a request for one CertID (SHA-1, as RFC 5019 §2.1.1
 * asks of clients of high-volume responders), DER. */
static int
ocsp_request(X509 *x, X509 *issuer, uint8_t **der, size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, x, issuer);
	unsigned char *p = NULL;
	int n = -1;

	if (req != NULL && id != NULL && OCSP_request_add0_id(req, id) != NULL) {
		id = NULL; /* now the request's */
		n = i2d_OCSP_REQUEST(req, &p);
	}
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	if (n <= 0)
		return -1;
	*der = p;
	*len = (size_t)n;
	return 0;
}

int
ver_net_fetch(struct ver_ctx *c, X509 *x, X509 *issuer, int ocsp,
    struct ver_sig *sig)
{
	char *url = ocsp ? sc_http_ocsp_url(x) : sc_http_crl_url(x);
	uint8_t *req = NULL, *resp = NULL;
	size_t reqlen = 0, resplen = 0;
	struct sc_err e;
	int added = 0;

	sc_err_clear(&e);
	if (c->o->offline || url == NULL)
		goto out;
	if (!allowed(c, url)) {
		ver_sig_reason(sig,
		    "%s %.200s not fetched: not an allowed source",
		    ocsp ? "OCSP responder" : "CRL", url);
		goto out;
	}
	if (!ocsp)
		for (size_t i = 0; i < c->ncrl_urls; i++)
			if (strcmp(c->crl_urls[i], url) == 0)
				goto out; /* fetched already: nothing new */
	for (size_t i = 0; i < c->ndead; i++)
		if (strcmp(c->dead[i], url) == 0)
			goto out; /* failed already in this validation */
	if (c->nfetch >= VER_MAX_FETCH) {
		ver_sig_reason(sig,
		    "revocation sources not fetched: this document "
		    "already needed %d online exchanges",
		    VER_MAX_FETCH);
		goto out;
	}
	if (net_init(c) != 0)
		goto out;
	if (ocsp) {
		if (ocsp_request(x, issuer, &req, &reqlen) != 0)
			goto out;
		if (exchange(c, url, "application/ocsp-request", req, reqlen,
			OCSP_MAX, &resp, &resplen, &e) != 0)
			goto fail;
		ver_mat_add_ocsp(c->net, resp, resplen);
		added = 1;
	} else {
		if (exchange(c, url, NULL, NULL, 0, CRL_MAX, &resp, &resplen,
			&e) != 0)
			goto fail;
		ver_mat_add_crl(c->net, resp, resplen);
		if (c->ncrl_urls < VER_MAX_FETCH)
			c->crl_urls[c->ncrl_urls++] = url, url = NULL;
		added = 1;
	}
	goto out;
fail:
	ver_sig_reason(sig, "%s %.200s: %s", ocsp ? "OCSP responder" : "CRL",
	    url, e.msg);
	if (c->ndead < VER_MAX_FETCH)
		c->dead[c->ndead++] = url, url = NULL;
out:
	OPENSSL_free(req);
	free(resp);
	free(url);
	return added;
}

void
ver_net_free(struct ver_ctx *c)
{
	if (c->net != NULL) {
		ver_mat_free(c->net);
		free(c->net);
		c->net = NULL;
	}
	for (size_t i = 0; i < c->ncrl_urls; i++)
		free(c->crl_urls[i]);
	c->ncrl_urls = 0;
	for (size_t i = 0; i < c->ndead; i++)
		free(c->dead[i]);
	c->ndead = 0;
}
