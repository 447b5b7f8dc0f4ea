/*
 * api_ca.c: the CA's routes (routes/ca.def): CA certificates, the
 * registration workflow and certificates. Thin: parse, call ca/, render.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/ca.h"

#include "api_int.h"

static int
env_of(struct sc_api *api, struct sc_ca_env *env, struct sc_err *err)
{
	return sc_ca_env_init(env, api->cfg, api->db, api->hsm, err);
}

static struct sc_actor
actor_of(const struct api_req *r)
{
	struct sc_actor who = {r->actor, r->role};

	return who;
}

/* The {id} path segment as a request id (404 when malformed). */
static int
req_id(const struct api_req *r, int64_t *id, struct sc_err *err)
{
	struct sc_err e;
	uint64_t v;

	sc_err_clear(&e);
	if (sc_parse_u64(r->params[0], 1, INT64_MAX, &v, "id", &e) != 0)
		return sc_err_set(err, SC_E_NOT_FOUND, "no such request");
	*id = (int64_t)v;
	return 0;
}

static json_t *
state_json(const struct sc_ca_request_state *st)
{
	json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:i, s:s}", "id",
	    (json_int_t)st->id, "status", st->status, "profile", st->profile,
	    "approvals", (int)st->approvals, "approvals_needed",
	    (int)st->approvals_needed, "submitted_by", st->submitted_by);

	if (j != NULL && st->serial[0] != '\0')
		json_object_set_new(j, "serial", json_string(st->serial));
	if (j != NULL && st->reason[0] != '\0')
		json_object_set_new(j, "reason", json_string(st->reason));
	return j;
}

int
h_pki_ca(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ca_env env;
	char name[64];
	const char *f = r->params[0], *dot = strrchr(f, '.');
	uint8_t *der = NULL;
	size_t len = 0, n;
	int pem, rc;

	if (dot == NULL || (n = (size_t)(dot - f)) == 0 || n >= sizeof(name))
		return sc_err_set(err, SC_E_NOT_FOUND,
		    "no such CA certificate (NAME.crt or NAME.pem)");
	if (strcmp(dot, ".crt") == 0)
		pem = 0;
	else if (strcmp(dot, ".pem") == 0)
		pem = 1;
	else
		return sc_err_set(err, SC_E_NOT_FOUND,
		    "no such CA certificate (NAME.crt or NAME.pem)");
	memcpy(name, f, n);
	name[n] = '\0';
	if (env_of(api, &env, err) != 0 ||
	    sc_ca_cert_get(&env, name, pem, &der, &len, err) != 0)
		return -1;
	out->status = 200;
	out->content_type = pem ? "application/x-pem-file"
				: "application/pkix-cert";
	out->cache_control = "public, max-age=3600";
	rc = sc_buf_append(&out->body, der, len, err);
	free(der);
	return rc;
}

int
api_ca_cert_der(struct sc_api *api, const char *name, uint8_t **der,
    size_t *len, struct sc_err *err)
{
	struct sc_ca_env env;

	if (env_of(api, &env, err) != 0)
		return -1;
	return sc_ca_cert_get(&env, name, 0, der, len, err);
}

int
h_ca_list(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ca_env env;
	struct sc_ca_info *v = NULL;
	size_t n = 0;
	json_t *a;
	(void)r;

	if (env_of(api, &env, err) != 0 || sc_ca_list(&env, &v, &n, err) != 0)
		return -1;
	a = json_array();
	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s?, s:s, s:s}", "name", v[i].name,
			"kind", v[i].kind, "parent",
			v[i].parent[0] != '\0' ? v[i].parent : NULL,
			"subject", v[i].subject, "key_alias", v[i].key_alias));
	free(v);
	return api_reply_json(out, 200, json_pack("{s:o}", "ca", a), err);
}

int
h_requests_create(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	static const char *const known[] = {"profile", "csr", "key_alias",
	    "subject", "evidence", NULL};
	struct sc_actor who = actor_of(r);
	struct sc_ca_submit in;
	struct sc_ca_env env;
	const char *key, *csr = NULL;
	json_t *j, *v, *subj;
	char *subj_txt = NULL;
	int64_t id = 0;
	int rc = -1;

	if ((j = api_json_body(r, err)) == NULL)
		return -1;
	memset(&in, 0, sizeof(in));
	json_object_foreach(j, key, v) {
		size_t k;

		for (k = 0; known[k] != NULL; k++)
			if (strcmp(key, known[k]) == 0)
				break;
		if (known[k] == NULL) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "unknown member \"%.40s\" (profile, csr, key_alias, "
			    "subject, evidence)",
			    key);
			goto out;
		}
	}
	if (api_json_str(j, "profile", 1, 64, &in.profile, err) != 0 ||
	    api_json_str(j, "csr", 0, 256 * 1024, &csr, err) != 0 ||
	    api_json_str(j, "key_alias", 0, 64, &in.key_alias, err) != 0 ||
	    api_json_str(j, "evidence", 0, 255, &in.evidence, err) != 0)
		goto out;
	subj = json_object_get(j, "subject");
	if (subj == NULL || !json_is_object(subj)) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the member \"subject\" must be an object");
		goto out;
	}
	if ((subj_txt = json_dumps(subj, JSON_COMPACT)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (csr != NULL) {
		in.csr = (const uint8_t *)csr;
		in.csr_len = strlen(csr);
	}
	in.subject_json = subj_txt;
	in.subject_len = strlen(subj_txt);
	if (env_of(api, &env, err) != 0 ||
	    sc_ca_request_submit(&env, &who, &in, &id, err) != 0)
		goto out;
	snprintf(out->location, sizeof(out->location),
	    "/api/v1/requests/%" PRId64, id);
	rc = api_reply_json(out, 201,
	    json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "pending"),
	    err);
out:
	free(subj_txt);
	json_decref(j);
	return rc;
}

int
h_requests_get(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ca_request_state st;
	struct sc_ca_env env;
	int64_t id = 0;

	if (req_id(r, &id, err) != 0 || env_of(api, &env, err) != 0 ||
	    sc_ca_request_get(&env, id, &st, err) != 0)
		return -1;
	return api_reply_json(out, 200, state_json(&st), err);
}

int
h_requests_approve(struct sc_api *api, struct api_req *r,
    struct api_resp *out, struct sc_err *err)
{
	struct sc_actor who = actor_of(r);
	struct sc_ca_request_state st;
	struct sc_ca_env env;
	int64_t id = 0;

	struct sc_ca_cert_info ci;
	struct sc_err e;
	json_t *j;

	if (req_id(r, &id, err) != 0 || env_of(api, &env, err) != 0 ||
	    sc_ca_request_approve(&env, &who, id, &st, err) != 0)
		return -1;
	j = state_json(&st);
	sc_err_clear(&e);
	/* Once issued, the certificate itself (as GET .../certificates). */
	if (j != NULL && st.serial[0] != '\0' &&
	    sc_ca_cert_show(&env, st.serial, &ci, &e) == 0) {
		if (ci.pem != NULL)
			json_object_set_new(j, "pem", json_string(ci.pem));
		free(ci.pem);
	}
	return api_reply_json(out, 200, j, err);
}

int
h_requests_reject(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_actor who = actor_of(r);
	struct sc_ca_request_state st;
	struct sc_ca_env env;
	const char *reason;
	int64_t id = 0;
	json_t *j;
	int rc = -1;

	if (req_id(r, &id, err) != 0 || (j = api_json_body(r, err)) == NULL)
		return -1;
	if (api_json_str(j, "reason", 1, 255, &reason, err) != 0 ||
	    env_of(api, &env, err) != 0 ||
	    sc_ca_request_reject(&env, &who, id, reason, &st, err) != 0)
		goto out;
	rc = api_reply_json(out, 200, state_json(&st), err);
out:
	json_decref(j);
	return rc;
}

int
h_certificates_get(struct sc_api *api, struct api_req *r,
    struct api_resp *out, struct sc_err *err)
{
	struct sc_ca_cert_info ci;
	struct sc_ca_env env;
	json_t *j;

	if (env_of(api, &env, err) != 0 ||
	    sc_ca_cert_show(&env, r->params[0], &ci, err) != 0)
		return -1;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:b, s:s?}",
	    "serial", ci.serial, "ca", ci.ca_name, "profile", ci.profile,
	    "status", ci.status, "subject", ci.subject, "not_before",
	    ci.not_before[0] != '\0' ? ci.not_before : NULL, "not_after",
	    ci.not_after[0] != '\0' ? ci.not_after : NULL, "revoked",
	    ci.revoked_at[0] != '\0', "pem", ci.pem);
	free(ci.pem);
	return api_reply_json(out, 200, j, err);
}
