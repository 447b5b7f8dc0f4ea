/*
 * sceau ltv: long-term validation material (ETSI EN 319 142-1 §5.4 and
 * §6.3 B-LT; EN 319 132-1 §5.5 for XAdES): the certificates of one or
 * more chains and, for each certificate that has an issuer, revocation
 * data fetched from the issuer's OCSP responder (RFC 6960, from the
 * authorityInfoAccess extension) or else its CRL (RFC 5280 §4.2.1.13,
 * cRLDistributionPoints). Generic: PAdES puts the result in a /DSS,
 * XAdES in xades:CertificateValues / RevocationValues.
 *
 * Fetching is plain HTTP/1.1 only (sceau's own service and configured
 * URLs), bounded in time and size; a caller may supply its own fetcher.
 */
#ifndef SCEAU_LTV_H
#define SCEAU_LTV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sceau/core.h"
#include "sceau/http.h"

/* A DER object owned by the list that holds it. */
struct sc_ltv_der {
	uint8_t *p;
	size_t len;
};

struct sc_ltv_list {
	struct sc_ltv_der *v;
	size_t n;
};

/* What sc_ltv_collect() gathers; zero-initialise, free with sc_ltv_free. */
struct sc_ltv {
	struct sc_ltv_list certs; /* every certificate, DER, no duplicate */
	struct sc_ltv_list ocsps; /* OCSPResponse (RFC 6960 §4.2.1), DER */
	struct sc_ltv_list crls;  /* CertificateList (RFC 5280 §5), DER */
};

struct sc_ltv_opts {
	unsigned timeout_s;		    /* per exchange; 0: 10 s */
	size_t max_response;		    /* 0: 16 MiB */
	const struct sc_http_fetcher *fetch; /* NULL: sc_http_fetch() */
	int prefer_crl;			    /* CRL before OCSP */
	const char *const *allow;	    /* URL prefixes that may be
					       fetched; NULL: any http://
					       URL. Set it when the
					       certificates come from an
					       outside document (SSRF). */
	size_t nallow;
};

/**
 * Adds the certificates @certs (in any order; duplicates ignored) to
 * @out and, for each one issued by another certificate of @certs,
 * revocation data: an OCSP response for it (status good or revoked,
 * signature checked against the issuer or a delegated responder whose
 * certificate is then added too), else the issuer's CRL (signature
 * checked). Self-signed certificates (trust anchors) and OCSP responders
 * with id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1) need none; a
 * certificate that names no http:// source gets none (logged).
 * @return 0, or -1 with err: SC_E_UNAVAILABLE when a named source does
 *         not answer usefully, SC_E_NOMEM.
 */
int sc_ltv_collect(X509 *const *certs, size_t n, const struct sc_ltv_opts *o,
    struct sc_ltv *out, struct sc_err *err);

/** Appends a copy of @p unless an equal entry is there. @return 0/-1. */
int sc_ltv_list_add(struct sc_ltv_list *l, const uint8_t *p, size_t len,
    struct sc_err *err);

/** Frees the lists and zeroes @l; NULL is ignored. */
void sc_ltv_free(struct sc_ltv *l);

#endif
