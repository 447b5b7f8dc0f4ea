/*
 * sceau ca, certificate status: revocation (Law 2016-012 Art. 147), CRLs
 * (RFC 5280 §5) and the OCSP responder (RFC 6960, RFC 5019 / RFC 9919).
 * docs/pki.md describes the policy choices (CRL cadence, OCSP validity,
 * caching, holder revocation).
 *
 * Every function may be called from any thread.
 */
#ifndef SCEAU_CA_STATUS_H
#define SCEAU_CA_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/core.h"

struct sc_db;
struct sc_hsm;

/* ------------------------------------------------------------------ */
/* Revocation                                                          */

/* RFC 5280 §5.3.1 CRLReason; 7 is unused and removeFromCRL is refused. */
#define SC_CA_REASON_UNSPECIFIED 0
#define SC_CA_REASON_KEY_COMPROMISE 1
#define SC_CA_REASON_REMOVE_FROM_CRL 8

/**
 * Parses an RFC 5280 §5.3.1 reason name ("keyCompromise", ...).
 * @return 0 with *code set, or -1 (SC_E_INVALID_INPUT; removeFromCRL is
 *         refused: a revocation is final).
 */
int sc_ca_reason_parse(const char *name, int *code, struct sc_err *err);
/** @return the RFC 5280 name of @code, or NULL if it is not one. */
const char *sc_ca_reason_name(int code);

/* What a revocation did. */
struct sc_ca_revocation {
	char serial[41];
	char ca_name[48];
	int reason;
	int64_t revoked_at;   /* epoch seconds, as the database recorded */
	int64_t invalidity;   /* -1: none */
	int crl_issued;	      /* a new CRL was issued synchronously */
	int64_t crl_number;   /* its cRLNumber, when crl_issued */
};

/**
 * Revokes certificate @serial (lower-case hex as in the certificates
 * table; upper case is accepted) at once (Law 2016-012 Art. 147): one
 * transaction marks the row and appends the audit event "cert.revoke";
 * then, when @hsm is not NULL, a new CRL of the certificate's CA is
 * issued before returning (otherwise sceaud's CRL worker issues it
 * within SC_CA_CRL_WORKER_TICK seconds). It returns no sooner than
 * SC_CA_OCSP_LEASE_MS + SC_CA_OCSP_LEASE_MARGIN_MS after the commit: from
 * then on every OCSP responder of every node answers "revoked".
 * @param who the actor; roles ca_admin, ra_officer and operator (the
 *        local CLI) may revoke, any other gets SC_E_FORBIDDEN.
 * @param reason an RFC 5280 name (sc_ca_reason_parse()).
 * @param invalidity_date RFC 3339 UTC ("2026-11-27T05:06:12Z"), not in
 *        the future, or NULL.
 * @param[out] out filled on success; may be NULL.
 * @return 0; -1 with SC_E_NOT_FOUND (no issued certificate has this
 *         serial), SC_E_CONFLICT (already revoked), SC_E_INVALID_INPUT,
 *         SC_E_FORBIDDEN, SC_E_DB/SC_E_UNAVAILABLE. A failure to issue the
 *         CRL after the commit is logged, not returned: the revocation
 *         stands and the worker reissues.
 */
int sc_ca_cert_revoke(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_actor *who, const char *serial, const char *reason,
    const char *invalidity_date, struct sc_ca_revocation *out,
    struct sc_err *err);

/* The domain-separation prefix of a holder's revocation request. */
#define SC_CA_HOLDER_REVOKE_PREFIX "sceau revoke-by-holder v1"
/* How far the request's time may be from the server's clock, seconds. */
#define SC_CA_HOLDER_REVOKE_SKEW 300

/**
 * Revocation at the holder's request (Law 2016-012 Art. 147), proved by
 * possession of the certificate's private key (as ACME, RFC 8555 §7.6):
 * @sig is a signature with SHA-256 (ECDSA, or RSA PKCS#1 v1.5) over the
 * UTF-8 text
 *     SC_CA_HOLDER_REVOKE_PREFIX "\n" serial "\n" reason "\n" time
 * where serial is lower-case hex, reason an RFC 5280 name and time the
 * request's RFC 3339 UTC time, within SC_CA_HOLDER_REVOKE_SKEW seconds
 * of now. The signature is checked with the public key of the issued
 * certificate itself. A replay can only repeat the same revocation
 * (SC_E_CONFLICT). Audited as "cert.revoke" by actor "holder:<serial>".
 * @return as sc_ca_cert_revoke(); SC_E_FORBIDDEN when the signature does
 *         not verify or the time is out of the window.
 */
int sc_ca_cert_revoke_by_holder(struct sc_db *db, struct sc_hsm *hsm,
    const char *serial, const char *reason, const char *time_rfc3339,
    const uint8_t *sig, size_t sig_len, struct sc_ca_revocation *out,
    struct sc_err *err);

/**
 * Parses "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, UTC, optional fraction).
 * @return 0, or -1 (SC_E_INVALID_INPUT naming @what).
 */
int sc_ca_time_parse(const char *s, int64_t *out, const char *what,
    struct sc_err *err);

/* ------------------------------------------------------------------ */
/* CRLs                                                                */

#define SC_CA_CRL_NEXT_UPDATE_DEFAULT (7 * 86400) /* and maximum */
#define SC_CA_CRL_MAX_AGE (24 * 3600) /* reissued when older */
#define SC_CA_CRL_WORKER_TICK 20      /* seconds between worker checks */

struct sc_ca_crl_opts {
	int64_t next_update; /* seconds after thisUpdate; 0: default */
};

struct sc_ca_crl_info {
	char ca_name[48];
	int64_t number;
	int64_t this_update;
	int64_t next_update;
	int entries;
};

/**
 * Issues a new CRL of CA @ca_name (RFC 5280 §5): v2, signed in the HSM
 * with the CA's key, authorityKeyIdentifier, cRLNumber from the
 * database (strictly increasing across nodes), thisUpdate now,
 * nextUpdate after opts->next_update, every revoked certificate of the
 * CA with its reasonCode (absent for unspecified, §5.3.1) and
 * invalidityDate, expired ones included, as the expiredCertsOnCRL
 * extension (2.5.29.60, X.509 (2019) §9.6.2.6) states. Stored in table
 * crls and audited ("crl.issue") in the same transaction.
 * @param opts may be NULL (defaults).
 * @param[out] der, len the CRL (malloc'd, free()); both may be NULL.
 * @param[out] info may be NULL.
 * @return 0, or -1 (SC_E_NOT_FOUND for an unknown CA, SC_E_HSM, ...).
 */
int sc_ca_crl_issue(struct sc_db *db, struct sc_hsm *hsm,
    const char *ca_name, const struct sc_ca_crl_opts *opts, uint8_t **der,
    size_t *len, struct sc_ca_crl_info *info, struct sc_err *err);

/**
 * The latest CRL of @ca_name; issues one first when there is none yet
 * (with @hsm not NULL).
 * @param[out] der malloc'd (free()).
 * @return 0, or -1 (SC_E_NOT_FOUND: unknown CA, or no CRL and no @hsm).
 */
int sc_ca_crl_latest(struct sc_db *db, struct sc_hsm *hsm,
    const char *ca_name, uint8_t **der, size_t *len,
    struct sc_ca_crl_info *info, struct sc_err *err);

/**
 * One pass of the CRL schedule: issues a CRL for every active CA whose
 * latest one is missing, older than SC_CA_CRL_MAX_AGE, within a quarter
 * of its validity of nextUpdate, or older than the CA's last
 * revocation.
 * @param[out] issued CRLs issued now (may be NULL).
 * @return 0, or -1 with the first error (the pass goes on past it).
 */
int sc_ca_crl_refresh(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_ca_crl_opts *opts, int *issued, struct sc_err *err);

struct sc_ca_crl_worker; /* opaque */

/**
 * Starts a thread that runs sc_ca_crl_refresh() every
 * SC_CA_CRL_WORKER_TICK seconds (the first pass at once).
 * @return the worker, to stop with sc_ca_crl_worker_stop(), or NULL.
 */
struct sc_ca_crl_worker *sc_ca_crl_worker_start(struct sc_db *db,
    struct sc_hsm *hsm, const struct sc_ca_crl_opts *opts,
    struct sc_err *err);
/** Stops and joins the worker; NULL is ignored. */
void sc_ca_crl_worker_stop(struct sc_ca_crl_worker *w);

/* ------------------------------------------------------------------ */
/* OCSP responder                                                      */

#define SC_CA_OCSP_VALIDITY_DEFAULT (12 * 3600) /* nextUpdate - thisUpdate */
#define SC_CA_OCSP_REFRESH_DEFAULT 3600	/* re-sign cached answers after */
#define SC_CA_OCSP_CACHE_DEFAULT 100000	/* cached responses at most */
#define SC_CA_OCSP_REQUEST_MAX 16384	/* request bytes */
/*
 * The revocation-epoch lease (docs/pki.md): a responder serves a cached
 * answer without reading the database only while its last read of the
 * epoch started less than SC_CA_OCSP_LEASE_MS ago; it reads it every
 * SC_CA_OCSP_EPOCH_TICK_MS. sc_ca_cert_revoke() returns no sooner than
 * SC_CA_OCSP_LEASE_MS + SC_CA_OCSP_LEASE_MARGIN_MS after its commit, so
 * from then on every responder of every node answers "revoked".
 */
#define SC_CA_OCSP_LEASE_MS 500
#define SC_CA_OCSP_LEASE_MARGIN_MS 200
#define SC_CA_OCSP_EPOCH_TICK_MS 100

struct sc_ca_ocsp_opts {
	int64_t validity;  /* 0: default */
	int64_t refresh;   /* 0: default */
	size_t cache_max;  /* 0: default */
};

struct sc_ca_ocsp; /* opaque: the responder of one process */

/**
 * A responder over the CAs of the database. CAs and responder
 * certificates are reloaded every minute, and at most once a second
 * when a request names an issuer that is not (yet) known.
 * @return a responder to free with sc_ca_ocsp_free(), or NULL.
 */
struct sc_ca_ocsp *sc_ca_ocsp_new(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_ca_ocsp_opts *opts, struct sc_err *err);
void sc_ca_ocsp_free(struct sc_ca_ocsp *o);

/* One OCSP answer. */
struct sc_ca_ocsp_resp {
	uint8_t *der;	     /* OCSPResponse, malloc'd (free()) */
	size_t len;
	int status;	     /* OCSPResponseStatus (RFC 6960 §4.2.1) */
	int cacheable;	     /* no nonce: HTTP caches may keep it */
	int from_cache;	     /* served from the in-memory cache */
	int64_t this_update; /* of the (first) single response */
	int64_t next_update;
	char etag[40];	     /* quoted hex of 16 bytes of its SHA-256 */
};

/* OCSPResponseStatus values (RFC 6960 §4.2.1). */
#define SC_CA_OCSP_SUCCESSFUL 0
#define SC_CA_OCSP_MALFORMED 1
#define SC_CA_OCSP_INTERNAL 2
#define SC_CA_OCSP_TRY_LATER 3
#define SC_CA_OCSP_UNAUTHORIZED 6

/**
 * Answers the DER OCSPRequest @req: always an OCSPResponse, whose status
 * says malformedRequest (not one DER OCSPRequest, or more than 16
 * requests), unauthorized (an issuer that is not one of our CAs, or a
 * CertID hash other than SHA-1 or SHA-256), tryLater (database down) or
 * internalError. Successful responses are signed by the CA's delegated
 * responder (service_certs kind 'ocsp'; the CA key if there is none),
 * responderID byKey, one SingleResponse per request: good or revoked
 * (time, reason, invalidityDate) for issued certificates, unknown for
 * any other serial; archiveCutoff (RFC 6960 §4.4.4) in each. A nonce
 * is echoed (then signed live); without one, responses are cached in
 * memory and reused only while the certificate's row is unchanged: under
 * the revocation-epoch lease without reading it, else after reading it
 * (docs/pki.md, "Caching without staleness").
 * @return 0 with @out filled, or -1 (SC_E_NOMEM) when not even an error
 *         response could be encoded.
 */
int sc_ca_ocsp_respond(struct sc_ca_ocsp *o, const uint8_t *req,
    size_t len, struct sc_ca_ocsp_resp *out, struct sc_err *err);

/** Frees out->der and clears @out. */
void sc_ca_ocsp_resp_clear(struct sc_ca_ocsp_resp *out);

#endif
