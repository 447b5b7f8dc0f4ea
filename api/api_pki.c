/*
 * api_pki.c: revocation, CRL download and the OCSP responder over HTTP
 * (routes/pki.def). Thin: each handler parses, calls one function of
 * sceau/ca_status.h and renders. docs/pki.md has the HTTP details.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sceau/ca_status.h"

#include "api_int.h"

/* What this area keeps per process (struct sc_api's pki member). */
struct api_pki {
	struct sc_ca_ocsp *ocsp;
	struct sc_ca_crl_worker *crl_worker;
};

int
api_pki_start(struct sc_api *api, struct sc_err *err)
{
	struct api_pki *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	if ((p->ocsp = sc_ca_ocsp_new(api->db, api->hsm, NULL, err)) == NULL) {
		free(p);
		return -1;
	}
	/* CRLs at least every 24 h, and within a minute of a revocation
	 * that did not get its CRL synchronously (docs/pki.md). */
	if ((p->crl_worker = sc_ca_crl_worker_start(api->db, api->hsm, NULL,
		 err)) == NULL) {
		sc_ca_ocsp_free(p->ocsp);
		free(p);
		return -1;
	}
	api->pki = p;
	return 0;
}

void
api_pki_stop(struct sc_api *api)
{
	struct api_pki *p = api->pki;

	if (p == NULL)
		return;
	sc_ca_crl_worker_stop(p->crl_worker);
	sc_ca_ocsp_free(p->ocsp);
	free(p);
	api->pki = NULL;
}

/* RFC 9110 §5.6.7 IMF-fixdate. */
static void
http_date(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void
set_extra(struct api_resp *out, size_t i, const char *name,
    const char *value)
{
	out->extra[i].name = name;
	snprintf(out->extra[i].value, sizeof(out->extra[i].value), "%s",
	    value);
}

static json_t *
revocation_json(const struct sc_ca_revocation *rv)
{
	char at[32], inv[32];

	sc_time_fmt((struct sc_time){rv->revoked_at, 0}, 0, at);
	inv[0] = '\0';
	if (rv->invalidity >= 0)
		sc_time_fmt((struct sc_time){rv->invalidity, 0}, 0, inv);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o}", "serial",
	    rv->serial, "status", "revoked", "ca", rv->ca_name, "reason",
	    sc_ca_reason_name(rv->reason), "revoked_at", at,
	    "invalidity_date", inv[0] != '\0' ? inv : NULL, "crl_number",
	    rv->crl_issued ? json_integer(rv->crl_number) : json_null());
}

int
h_cert_revoke(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_actor who = {r->actor, r->role};
	struct sc_ca_revocation rv;
	const char *reason, *inv;
	json_t *j;
	int rc = -1;

	if ((j = api_json_body(r, err)) == NULL)
		return -1;
	if (api_json_str(j, "reason", 1, 32, &reason, err) != 0 ||
	    api_json_str(j, "invalidity_date", 0, 40, &inv, err) != 0)
		goto out;
	if (sc_ca_cert_revoke(api->db, api->hsm, &who, r->params[0], reason,
		inv, &rv, err) != 0)
		goto out;
	rc = api_reply_json(out, 200, revocation_json(&rv), err);
out:
	json_decref(j);
	return rc;
}

int
h_cert_revoke_holder(struct sc_api *api, struct api_req *r,
    struct api_resp *out, struct sc_err *err)
{
	struct sc_ca_revocation rv;
	const char *reason, *t, *sig64;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	json_t *j;
	int rc = -1;

	if ((j = api_json_body(r, err)) == NULL)
		return -1;
	if (api_json_str(j, "reason", 1, 32, &reason, err) != 0 ||
	    api_json_str(j, "time", 1, 40, &t, err) != 0 ||
	    api_json_str(j, "signature", 1, 4096, &sig64, err) != 0 ||
	    sc_b64_decode(sig64, strlen(sig64), &sig, &siglen, err) != 0)
		goto out;
	if (sc_ca_cert_revoke_by_holder(api->db, api->hsm, r->params[0],
		reason, t, sig, siglen, &rv, err) != 0)
		goto out;
	rc = api_reply_json(out, 200, revocation_json(&rv), err);
out:
	free(sig);
	json_decref(j);
	return rc;
}

/*
 * "NAME.ext" with NAME a CA name ([a-z0-9-], as table ca allows) into
 * @name. @return 0, or -1 for anything else.
 */
static int
file_stem(const char *file, const char *ext, char *name, size_t len)
{
	size_t n = strlen(file), el = strlen(ext);

	if (n <= el || n - el >= len || strcmp(file + n - el, ext) != 0)
		return -1;
	for (size_t i = 0; i < n - el; i++)
		if (!((file[i] >= 'a' && file[i] <= 'z') ||
			(file[i] >= '0' && file[i] <= '9') || file[i] == '-'))
			return -1;
	memcpy(name, file, n - el);
	name[n - el] = '\0';
	return 0;
}

int
h_crl_get(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ca_crl_info info;
	char name[48], date[40], etag[80];
	const char *file = r->params[0];
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (file_stem(file, ".crl", name, sizeof(name)) != 0)
		return sc_err_set(err, SC_E_NOT_FOUND, "no such CRL (NAME.crl)");
	if (sc_ca_crl_latest(api->db, api->hsm, name, &der, &len, &info,
		err) != 0)
		return -1;
	out->status = 200;
	out->content_type = "application/pkix-crl";
	/* Short: a revocation makes a new CRL within the minute. */
	out->cache_control = "public, max-age=60, no-transform";
	http_date(info.this_update, date, sizeof(date));
	set_extra(out, 0, "Last-Modified", date);
	snprintf(etag, sizeof(etag), "\"%s-%lld\"", name,
	    (long long)info.number);
	set_extra(out, 1, "ETag", etag);
	if (sc_buf_append(&out->body, der, len, err) != 0)
		goto out;
	rc = 0;
out:
	free(der);
	return rc;
}

/*
 * RFC 6960 §2.3 errors travel as OCSP responses with HTTP 200
 * (malformedRequest, unauthorized) as clients expect; tryLater and
 * internalError with 503 and 500 so that load balancers see them.
 */
static int
ocsp_answer(struct sc_api *api, const uint8_t *req, size_t len, int get,
    struct api_resp *out, struct sc_err *err)
{
	struct api_pki *p = api->pki;
	struct sc_ca_ocsp_resp resp;
	char date[40];
	int64_t now, age;
	int rc;

	if (sc_ca_ocsp_respond(p->ocsp, req, len, &resp, err) != 0)
		return -1;
	out->status = resp.status == SC_CA_OCSP_TRY_LATER ? 503
	    : resp.status == SC_CA_OCSP_INTERNAL	      ? 500
							      : 200;
	out->content_type = "application/ocsp-response";
	if (get && resp.status == SC_CA_OCSP_SUCCESSFUL && resp.cacheable) {
		/* RFC 5019 §6.2 */
		now = sc_time_now().sec;
		age = resp.next_update - now;
		if (age < 0)
			age = 0;
		/* extra[3] (name NULL, so not sent twice) holds the text */
		snprintf(out->extra[3].value, sizeof(out->extra[3].value),
		    "max-age=%lld, public, no-transform, must-revalidate",
		    (long long)age);
		out->cache_control = out->extra[3].value;
		http_date(resp.this_update, date, sizeof(date));
		set_extra(out, 0, "Last-Modified", date);
		http_date(resp.next_update, date, sizeof(date));
		set_extra(out, 1, "Expires", date);
		set_extra(out, 2, "ETag", resp.etag);
	}
	rc = sc_buf_append(&out->body, resp.der, resp.len, err);
	sc_ca_ocsp_resp_clear(&resp);
	return rc;
}

int
h_ocsp_post(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	return ocsp_answer(api, r->body.p, r->body.len, 0, out, err);
}

/*
 * RFC 5019 §5: GET {url}/{url-encoding of base64 of the DER request}.
 * libmicrohttpd has already percent-decoded the path, so the base64
 * (which may hold '/') is the rest of r->url, read here rather than
 * from the 127-byte path parameter.
 */
int
h_ocsp_get(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	static const char prefix[] = "/ocsp/";
	const char *b64 = r->url + strlen(prefix);
	uint8_t *der = NULL;
	size_t len = 0, n;
	struct sc_err e;
	int rc;

	if (strncmp(r->url, prefix, strlen(prefix)) != 0)
		return sc_err_set(err, SC_E_NOT_FOUND, "no such resource");
	n = strlen(b64);
	sc_err_clear(&e);
	/* Bad base64 or too long: answered as malformedRequest. */
	if (n > 2 * SC_CA_OCSP_REQUEST_MAX ||
	    sc_b64_decode(b64, n, &der, &len, &e) != 0) {
		free(der);
		der = NULL;
		len = 0;
	}
	rc = ocsp_answer(api, der, len, 1, out, err);
	free(der);
	return rc;
}

int
api_pki_fetch(void *arg, const char *url, const char *ctype,
    const uint8_t *body, size_t len, uint8_t **out, size_t *outlen,
    struct sc_err *err)
{
	struct sc_api *api = arg;
	struct api_pki *p = api->pki;
	const char *base = api->cfg->public_url;
	size_t bl = strlen(base);
	struct sc_ca_crl_info info;
	struct sc_ca_ocsp_resp resp;
	const char *rest;
	char name[48];
	(void)ctype;

	*out = NULL;
	*outlen = 0;
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (p == NULL || bl == 0 || strncmp(url, base, bl) != 0)
		return sc_err_set(err, SC_E_UNAVAILABLE, "not this service");
	rest = url + bl;
	if (body != NULL && strcmp(rest, "/ocsp") == 0) {
		if (sc_ca_ocsp_respond(p->ocsp, body, len, &resp, err) != 0)
			return -1;
		if (resp.status != SC_CA_OCSP_SUCCESSFUL) {
			sc_ca_ocsp_resp_clear(&resp);
			return sc_err_set(err, SC_E_UNAVAILABLE,
			    "the OCSP responder cannot answer now");
		}
		*out = resp.der;
		*outlen = resp.len;
		resp.der = NULL;
		sc_ca_ocsp_resp_clear(&resp);
		return 0;
	}
	if (body == NULL && strncmp(rest, "/pki/crl/", 9) == 0) {
		if (file_stem(rest + 9, ".crl", name, sizeof(name)) != 0)
			return sc_err_set(err, SC_E_UNAVAILABLE, "no such CRL");
		return sc_ca_crl_latest(api->db, api->hsm, name, out, outlen,
		    &info, err);
	}
	if (body == NULL && strncmp(rest, "/pki/ca/", 8) == 0) {
		if (file_stem(rest + 8, ".crt", name, sizeof(name)) != 0)
			return sc_err_set(err, SC_E_UNAVAILABLE,
			    "no such CA certificate");
		return api_ca_cert_der(api, name, out, outlen, err);
	}
	return sc_err_set(err, SC_E_UNAVAILABLE, "not this service's");
}
