/*
 * api_policies.c: the documents that certificates point to — the CPS URI
 * of certificatePolicies (RFC 5280 §4.2.1.4) and the QcPDS URLs (ETSI EN
 * 319 412-5 §4.3.4) — served from policies/ beside the profiles folder.
 */
#include <string.h>

#include "sceau/ca.h"

#include "api_int.h"

/* Serves @name from the policies folder (the profiles folder's parent). */
static int
serve(struct sc_api *api, const char *name, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ca_env env;
	struct sc_buf b;
	char path[1200];
	char *slash;
	int rc;

	if (sc_ca_env_init(&env, api->cfg, api->db, api->hsm, err) != 0)
		return -1;
	slash = strrchr(env.profiles_dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(env.profiles_dir, sizeof(env.profiles_dir), ".");
	snprintf(path, sizeof(path), "%s/%s", env.profiles_dir, name);
	if (sc_file_read(path, 1u << 20, &b, err) != 0) {
		sc_err_clear(err);
		return sc_err_set(err, SC_E_NOT_FOUND, "document not published");
	}
	out->status = 200;
	out->content_type = "text/markdown; charset=utf-8";
	out->cache_control = "public, max-age=3600";
	rc = sc_buf_append(&out->body, b.p, b.len, err);
	sc_buf_free(&b);
	return rc;
}

int
h_pki_cps(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	(void)r;
	return serve(api, "pc-dpc.md", out, err);
}

int
h_pki_pds(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	if (strcmp(r->params[0], "fr") == 0)
		return serve(api, "pds-fr.md", out, err);
	if (strcmp(r->params[0], "en") == 0)
		return serve(api, "pds-en.md", out, err);
	return sc_err_set(err, SC_E_NOT_FOUND, "PDS languages: fr, en");
}
