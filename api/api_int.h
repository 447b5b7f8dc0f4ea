/*
 * api_int.h: what the files of api/ share. Not installed.
 */
#ifndef SCEAU_API_INT_H
#define SCEAU_API_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "sceau/api.h"
#include "sceau/core.h"

#define API_MAX_PARAMS 2
#define API_BODY_DOCUMENT ((size_t)-1)
#define API_AUTH_HEADER_MAX 512

/* Roles of CONTRACT.md, as bits. */
enum api_role {
	ROLE_NONE = 0, /* public route */
	ROLE_CA_ADMIN = 1 << 0,
	ROLE_RA_OFFICER = 1 << 1,
	ROLE_AUDITOR = 1 << 2,
	ROLE_SIGNER = 1 << 3
};

/* One request being served. */
struct api_req {
	const struct api_route *route;
	const char *method;
	const char *url;
	char params[API_MAX_PARAMS][128]; /* {id}-style path segments */
	struct sc_buf body;
	int too_large;		/* the body went past the route's limit */
	int answered;		/* a response is already queued */
	size_t discarded;	/* bytes dropped after too_large */
	char id[17];		/* request id, for logs and problem+json */
	char lang[3];		/* "fr" or "en", from Accept-Language */
	struct timespec start;
	struct MHD_Connection *conn;
	/* the authenticated caller, when the route needs one */
	char actor[128];
	char role[32];
	char key_alias[80];
};

/* What a handler answers, unless it fails (then problem+json). */
struct api_resp {
	unsigned status;
	const char *content_type;
	struct sc_buf body;
	char location[256]; /* Location header, if any */
	const char *cache_control;
	/* More headers (RFC 5019 §6.2 caching); unused while name is NULL. */
	struct {
		const char *name;
		char value[80];
	} extra[4];
};

struct api_route {
	const char *method;
	const char *path; /* OpenAPI template, "/api/v1/keys/{alias}" */
	unsigned roles;	  /* ROLE_* bits allowed; 0: public */
	size_t body_max;  /* 0: server.max_body; API_BODY_DOCUMENT:
			     server.max_document */
	int (*handler)(struct sc_api *api, struct api_req *r,
	    struct api_resp *out, struct sc_err *err);
	/* for the OpenAPI document */
	const char *summary;
	const char *req_type;	/* request media type, or NULL */
	const char *req_schema; /* JSON schema text, or NULL */
	const char *resp_type;	/* success media type */
	unsigned resp_status;	/* success status */
	const char *metric;	/* label for /metrics */
};

#define API_LAT_BUCKETS 12

struct api_metrics {
	/* [route index + 1 for "unmatched"][status slot] */
	atomic_ullong *requests;
	atomic_ullong lat_bucket[API_LAT_BUCKETS + 1];
	atomic_ullong lat_sum_us;
	atomic_ullong lat_count;
	atomic_uint in_flight;
};

struct sc_api {
	const struct sc_config *cfg;
	struct sc_db *db;
	struct sc_hsm *hsm;
	struct MHD_Daemon *daemon;
	struct api_metrics metrics;
	void *pki; /* api_pki.c: OCSP responder and CRL worker */
};

#define ANY_ROLE (ROLE_CA_ADMIN | ROLE_RA_OFFICER | ROLE_AUDITOR | ROLE_SIGNER)

/* Every handler, declared from the route files. */
#define API_ROUTE(m, p, r, b, h, sum, rt, rs, ot, os, met)                   \
	int h(struct sc_api *api, struct api_req *req, struct api_resp *out,  \
	    struct sc_err *err);
#include "routes/all.def"
#undef API_ROUTE

/* api_routes.c */
extern const struct api_route api_routes[];
extern const size_t api_nroutes;
/**
 * Finds the route for @method and @url; fills r->params.
 * @return the route; NULL with *path_known set when the path exists
 *         under another method (405), else NULL (404).
 */
const struct api_route *api_route_match(const char *method, const char *url,
    struct api_req *r, int *path_known);
/** Comma-separated methods allowed on @url, for the Allow header. */
void api_route_allow(const char *url, char *out, size_t outlen);

/* api_json.c */
/** Parses the request body as one JSON object (SC_E_INVALID_JSON). */
json_t *api_json_body(const struct api_req *r, struct sc_err *err);
/** A string member, or NULL; SC_E_INVALID_INPUT if present but not one. */
int api_json_str(json_t *obj, const char *key, int required,
    size_t maxlen, const char **out, struct sc_err *err);
/** Renders @j (stolen) as the response body with @status. */
int api_reply_json(struct api_resp *out, unsigned status, json_t *j,
    struct sc_err *err);

/* api_auth.c */
/**
 * Authenticates the bearer token and checks the route's roles.
 * @return 0, or -1 with SC_E_UNAUTHORIZED / SC_E_FORBIDDEN /
 *         SC_E_UNAVAILABLE.
 */
int api_authenticate(struct sc_api *api, struct api_req *r,
    struct sc_err *err);
unsigned api_role_bit(const char *role);
/**
 * Extracts the token of "Bearer <token68>" (RFC 6750 §2.1): bounded to
 * API_AUTH_HEADER_MAX, scheme case-insensitive, token68 characters only.
 * @return a pointer into @h and its length, or NULL if malformed.
 */
const char *api_bearer_parse(const char *h, size_t *len);

/* api_pki.c: per-process state, started before and stopped after MHD. */
int api_pki_start(struct sc_api *api, struct sc_err *err);
void api_pki_stop(struct sc_api *api);
/**
 * A revocation "fetcher" for the validator (struct sc_http_fetcher,
 * @arg the struct sc_api): answers requests for this service's own
 * OCSP responder (POST {public_url}/ocsp), CRLs (GET
 * {public_url}/pki/crl/NAME.crl) and CA certificates (GET
 * {public_url}/pki/ca/NAME.crt) from the database and the HSM, without
 * the network; any other URL is unavailable.
 */
/** The DER certificate of CA @name (GET /pki/ca/NAME.crt). */
int api_ca_cert_der(struct sc_api *api, const char *name, uint8_t **der,
    size_t *len, struct sc_err *err);
int api_pki_fetch(void *arg, const char *url, const char *ctype,
    const uint8_t *body, size_t len, uint8_t **out, size_t *outlen,
    struct sc_err *err);

/* api_tsa.c (when the TSA module is built): readiness, metrics, stop. */
#if SCEAU_HAVE_TSA
void api_tsa_readyz(struct sc_api *api, json_t *obj);
int api_tsa_metrics(struct sc_api *api, struct sc_buf *b, struct sc_err *err);
void api_tsa_stop(struct sc_api *api);
#endif

/* api_metrics.c */
int api_metrics_init(struct api_metrics *m);
void api_metrics_free(struct api_metrics *m);
void api_metrics_record(struct api_metrics *m, const struct api_route *route,
    unsigned status, uint64_t usec);
int api_metrics_render(struct sc_api *api, struct sc_buf *b,
    struct sc_err *err);

#endif
