/*
 * api_routes.c: the route table (Taler's dispatch table), the handlers of
 * the foundation routes, and the OpenAPI 3 document generated from the
 * table so that it stays true as routes are added.
 */
#include <stdlib.h>
#include <string.h>

#include "sceau/ca.h"
#include "sceau/db.h"
#include "sceau/hsm.h"

#include "api_int.h"

/* ------------------------------------------------------------------ */
/* Handlers                                                            */

int
h_healthz(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	(void)api;
	(void)r;
	return api_reply_json(out, 200, json_pack("{s:s}", "status", "ok"),
	    err);
}

/* 200 only when both PostgreSQL and the HSM answer now. */
int
h_readyz(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_err dberr, hsmerr;
	int db_ok, hsm_ok;
	(void)r;

	sc_err_clear(&dberr);
	sc_err_clear(&hsmerr);
	db_ok = sc_db_ping(api->db, &dberr) == 0;
	hsm_ok = sc_hsm_ping(api->hsm, &hsmerr) == 0;
	if (!db_ok)
		sc_log_err("readyz: database", &dberr);
	if (!hsm_ok)
		sc_log_err("readyz: hsm", &hsmerr);
	if (!db_ok || !hsm_ok)
		return sc_err_set(err, SC_E_UNAVAILABLE,
		    "not ready: database %s, HSM %s", db_ok ? "ok" : "down",
		    hsm_ok ? "ok" : "down");
	{
		json_t *j = json_pack("{s:s, s:s, s:s}", "status", "ready",
		    "database", "ok", "hsm", "ok");

#if SCEAU_HAVE_TSA
		if (j != NULL)
			api_tsa_readyz(api, j);
#endif
		return api_reply_json(out, 200, j, err);
	}
}

int
h_metrics(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	(void)r;
	out->status = 200;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return api_metrics_render(api, &out->body, err);
}

int
h_openapi(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	char *doc = sc_api_openapi_json(api->cfg->public_url);
	int rc;
	(void)r;

	if (doc == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	out->status = 200;
	out->content_type = "application/json";
	rc = sc_buf_append_str(&out->body, doc, err);
	free(doc);
	return rc;
}

int
h_whoami(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	(void)api;
	return api_reply_json(out, 200,
	    json_pack("{s:s, s:s, s:s?}", "name", r->actor, "role", r->role,
		"key_alias", r->key_alias[0] != '\0' ? r->key_alias : NULL),
	    err);
}

int
h_keys_create(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_actor who = {r->actor, r->role};
	const char *alias, *type;
	char *pem = NULL;
	json_t *j;
	int rc = -1;

	j = api_json_body(r, err);
	if (j == NULL)
		return -1;
	if (api_json_str(j, "alias", 1, 64, &alias, err) != 0 ||
	    api_json_str(j, "type", 1, 16, &type, err) != 0)
		goto out;
	if (sc_ca_key_generate(api->hsm, api->db, &who, alias, type, &pem,
		err) != 0)
		goto out;
	snprintf(out->location, sizeof(out->location), "/api/v1/keys/%s",
	    alias);
	rc = api_reply_json(out, 201,
	    json_pack("{s:s, s:s, s:s, s:b, s:b}", "alias", alias, "type",
		type, "public_key_pem", pem, "sensitive", 1, "extractable", 0),
	    err);
out:
	free(pem);
	json_decref(j);
	return rc;
}

int
h_audit_verify(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_audit_report rep;
	char head[65];
	(void)r;

	if (sc_db_audit_verify(api->db, &rep, err) != 0)
		return -1;
	sc_hex_encode(rep.head, sizeof(rep.head), head);
	return api_reply_json(out, 200,
	    json_pack("{s:b, s:I, s:o, s:s, s:s}", "intact",
		rep.first_bad_id < 0, "rows", (json_int_t)rep.rows,
		"first_bad_id",
		rep.first_bad_id < 0 ? json_null()
				     : json_integer(rep.first_bad_id),
		"reason", rep.reason, "head_sha256", head),
	    err);
}

/* ------------------------------------------------------------------ */
/* The table, gathered from routes/AREA.def (api_int.h)                */

const struct api_route api_routes[] = {
#define API_ROUTE(m, p, r, b, h, sum, rt, rs, ot, os, met)                   \
	{m, p, r, b, h, sum, rt, rs, ot, os, met},
#include "routes/all.def"
#undef API_ROUTE
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

/*
 * Matches @url against @tmpl segment by segment; "{x}" takes one
 * non-empty segment of at most 127 bytes.
 */
static int
path_match(const char *tmpl, const char *url, struct api_req *r)
{
	size_t np = 0;

	while (*tmpl != '\0' && *url != '\0') {
		if (*tmpl == '{') {
			const char *close = strchr(tmpl, '}');
			size_t n;

			/*
			 * "{name*}" ending the template takes the rest of the
			 * URL, '/' included (RFC 5019 GET /ocsp/{base64}:
			 * libmicrohttpd has already decoded %2F); the handler
			 * reads it from r->url.
			 */
			if (close != NULL && close > tmpl + 1 && close[-1] == '*' &&
			    close[1] == '\0') {
				if (np < API_MAX_PARAMS)
					r->params[np][0] = '\0';
				return 1;
			}
			n = strcspn(url, "/");

			if (n == 0 || n >= sizeof(r->params[0]) ||
			    np >= API_MAX_PARAMS)
				return 0;
			memcpy(r->params[np], url, n);
			r->params[np][n] = '\0';
			np++;
			url += n;
			tmpl = strchr(tmpl, '}');
			if (tmpl == NULL)
				return 0;
			tmpl++;
			continue;
		}
		if (*tmpl != *url)
			return 0;
		tmpl++;
		url++;
	}
	return *tmpl == '\0' && *url == '\0';
}

const struct api_route *
api_route_match(const char *method, const char *url, struct api_req *r,
    int *path_known)
{
	struct api_req scratch;

	*path_known = 0;
	for (size_t i = 0; i < api_nroutes; i++) {
		if (!path_match(api_routes[i].path, url, &scratch))
			continue;
		if (strcmp(api_routes[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 &&
			strcmp(api_routes[i].method, "GET") == 0)) {
			memcpy(r->params, scratch.params, sizeof(r->params));
			return &api_routes[i];
		}
		*path_known = 1;
	}
	return NULL;
}

void
api_route_allow(const char *url, char *out, size_t outlen)
{
	struct api_req scratch;
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < api_nroutes && used < outlen; i++) {
		int n;

		if (!path_match(api_routes[i].path, url, &scratch))
			continue;
		n = snprintf(out + used, outlen - used, "%s%s",
		    used > 0 ? ", " : "", api_routes[i].method);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* ------------------------------------------------------------------ */
/* OpenAPI 3.0 document                                                */

static json_t *
role_list(unsigned roles)
{
	static const char *const names[] = {"ca_admin", "ra_officer",
	    "auditor", "signer"};
	json_t *a = json_array();

	for (unsigned i = 0; i < 4; i++)
		if (roles & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *
problem_ref(const char *desc)
{
	return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", desc,
	    "content", "application/problem+json", "schema", "$ref",
	    "#/components/schemas/Problem");
}

char *
sc_api_openapi_json(const char *public_url)
{
	json_t *doc, *paths;
	char *txt;

	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}]}", "openapi",
	    "3.0.3", "info", "title", "sceau", "version", "1",
	    "description",
	    "PKI et signature électronique — Law 2016-012 (Mali). Errors are "
	    "application/problem+json (RFC 9457) with a stable \"code\".",
	    "servers", "url", public_url);
	if (doc == NULL)
		return NULL;
	paths = json_object();
	json_object_set_new(doc, "paths", paths);
	json_object_set_new(doc, "components",
	    json_pack("{s:{s:{s:s, s:s}}, s:{s:{s:s, s:{s:{s:s}, s:{s:s}, "
		      "s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}}",
		"securitySchemes", "bearer", "type", "http", "scheme",
		"bearer", "schemas", "Problem", "type", "object",
		"properties", "type", "type", "string", "title", "type",
		"string", "status", "type", "integer", "detail", "type",
		"string", "code", "type", "string", "request_id", "type",
		"string"));
	for (size_t i = 0; i < api_nroutes; i++) {
		const struct api_route *rt = &api_routes[i];
		char path[160];
		json_t *item;

		/* OpenAPI has no wildcard parameter: "{request*}" is shown
		 * as "{request}". */
		snprintf(path, sizeof(path), "%s", rt->path);
		{
			char *star = strstr(path, "*}");

			if (star != NULL)
				memmove(star, star + 1, strlen(star + 1) + 1);
		}
		item = json_object_get(paths, path);
		json_t *op, *resp;
		char lower[8], status[8];
		size_t k;

		if (item == NULL) {
			item = json_object();
			json_object_set_new(paths, path, item);
		}
		for (k = 0; rt->method[k] != '\0' && k < sizeof(lower) - 1;
		     k++)
			lower[k] = (char)(rt->method[k] | 0x20);
		lower[k] = '\0';
		op = json_pack("{s:s, s:s}", "summary", rt->summary,
		    "operationId", rt->metric);
		resp = json_object();
		snprintf(status, sizeof(status), "%u", rt->resp_status);
		json_object_set_new(resp, status,
		    json_pack("{s:s, s:{s:{}}}", "description", "success",
			"content", rt->resp_type));
		json_object_set_new(resp, "400", problem_ref("bad request"));
		if (rt->roles != ROLE_NONE) {
			json_object_set_new(op, "security",
			    json_pack("[{s:[]}]", "bearer"));
			json_object_set_new(op, "x-sceau-roles",
			    role_list(rt->roles));
			json_object_set_new(resp, "401",
			    problem_ref("missing or unknown token"));
			json_object_set_new(resp, "403",
			    problem_ref("role not allowed"));
		}
		if (rt->req_type != NULL) {
			json_t *schema = rt->req_schema != NULL
			    ? json_loads(rt->req_schema, 0, NULL)
			    : json_object();

			json_object_set_new(op, "requestBody",
			    json_pack("{s:b, s:{s:{s:o}}}", "required", 1,
				"content", rt->req_type, "schema", schema));
			json_object_set_new(resp, "413",
			    problem_ref("body over the limit"));
		}
		json_object_set_new(resp, "503",
		    problem_ref("database or HSM unavailable"));
		json_object_set_new(op, "responses", resp);
		json_object_set_new(item, lower, op);
	}
	txt = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	return txt;
}
