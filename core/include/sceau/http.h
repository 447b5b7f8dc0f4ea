/*
 * sceau http: a small, bounded HTTP/1.1 client for revocation data
 * (OCSP, RFC 6960 appendix A.1; CRLs, RFC 5280 §4.2.1.13) and the TSA
 * (RFC 3161 §3.4). Used by the signer (B-LT material) and the validator
 * (online revocation checks). Plain http:// only: revocation data is
 * signed, so transport security adds nothing to its integrity.
 */
#ifndef SCEAU_HTTP_H
#define SCEAU_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sceau/core.h"

/*
 * An HTTP exchange a caller may supply instead of sc_http_fetch(): GET
 * when @body is NULL, else POST of @body with Content-Type @ctype.
 * @param[out] out malloc'd (free()). @return 0 or -1 with @err set.
 */
struct sc_http_fetcher {
	int (*fn)(void *arg, const char *url, const char *ctype,
	    const uint8_t *body, size_t len, uint8_t **out, size_t *outlen,
	    struct sc_err *err);
	void *arg;
};

/**
 * One plain HTTP/1.1 exchange with "http://host[:port]/path" (no TLS, no
 * redirects, Connection: close; Content-Length, chunked or close-
 * delimited replies). Only status 200 is success.
 * @param timeout_s over the whole exchange; 0: 10 s.
 * @param max the largest body accepted; 0: 16 MiB.
 * @param[out] out the body, malloc'd (free()); at most @max bytes.
 * @return 0, or -1 with SC_E_UNAVAILABLE (cannot connect, timeout, not
 *         200), SC_E_TOO_LARGE, SC_E_INVALID_INPUT (not an http:// URL).
 */
int sc_http_fetch(const char *url, const char *ctype, const uint8_t *body,
    size_t len, unsigned timeout_s, size_t max, uint8_t **out,
    size_t *outlen, struct sc_err *err);

/*
 * The http:// URLs a certificate names (first of each kind; other
 * schemes, and names with a NUL inside, are skipped). @return malloc'd
 * text (free()), or NULL when there is none.
 */
/** RFC 5280 §4.2.1.13: the first cRLDistributionPoints full name. */
char *sc_http_crl_url(X509 *x);
/** RFC 5280 §4.2.2.1 / RFC 6960: the first OCSP responder of the AIA. */
char *sc_http_ocsp_url(X509 *x);
/** RFC 5280 §4.2.2.1: the first caIssuers location of the AIA. */
char *sc_http_issuer_url(X509 *x);

#endif
