/*
 * api_xades.c: POST /api/v1/sign/xades (CONTRACT.md). Thin: checks the
 * media type, the size, the key binding of the signer token, maps the
 * query to options, hands the body to sc_xades_sign_op() (which audits)
 * and answers the signed XML.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sceau/xades.h"

#include "api_int.h"

static const char *
arg(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

static int
is_xml(const char *ct)
{
	static const char *const want[] = {"application/xml", "text/xml"};

	for (size_t i = 0; ct != NULL && i < 2; i++) {
		size_t n = strlen(want[i]);

		if (strncasecmp(ct, want[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return 1;
	}
	return 0;
}

/* A query value of at most @max characters, or the default. */
static int
opt_str(struct api_req *r, const char *name, size_t max, const char **out,
    struct sc_err *err)
{
	const char *v = arg(r, name);

	if (v != NULL && (v[0] == '\0' || strlen(v) > max))
		return sc_err_set(err, SC_E_BAD_REQUEST,
		    "?%s must be 1 to %zu characters", name, max);
	if (v != NULL)
		*out = v;
	return 0;
}

int
h_sign_xades(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_actor who = {r->actor, r->role};
	struct sc_xades_detached det;
	struct sc_xades_info info;
	struct sc_xades_opts o;
	const char *key = arg(r, "key"), *v, *role = NULL;
	const char *roles[1];
	uint8_t *signed_xml = NULL, h[32];
	size_t slen = 0;
	char hex[65];
	int rc = -1;

	memset(&o, 0, sizeof(o));
	memset(&det, 0, sizeof(det));
	if (key == NULL || key[0] == '\0')
		return sc_err_set(err, SC_E_BAD_REQUEST,
		    "?key=ALIAS is required");
	/* The signer token is bound to one key; no other may be used. */
	if (strcmp(r->key_alias, key) != 0)
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "this token may not sign with the key \"%.64s\"", key);
	if ((v = arg(r, "level")) != NULL &&
	    sc_xades_level_parse(v, &o.level, err) != 0)
		goto bad;
	if ((v = arg(r, "packaging")) != NULL &&
	    sc_xades_packaging_parse(v, &o.packaging, err) != 0)
		goto bad;
	if ((v = arg(r, "digest")) != NULL &&
	    sc_xades_digest_parse(v, &o.digest, err) != 0)
		goto bad;
	if ((v = arg(r, "c14n")) != NULL) {
		if (strcmp(v, "inclusive") == 0)
			o.inclusive_c14n = 1;
		else if (strcmp(v, "exclusive") != 0) {
			sc_err_set(err, SC_E_BAD_REQUEST,
			    "?c14n is exclusive or inclusive");
			goto bad;
		}
	}
	if (opt_str(r, "role", 256, &role, err) != 0 ||
	    opt_str(r, "commitment", 256, &o.commitment, err) != 0 ||
	    opt_str(r, "mime", 128, &o.mime, err) != 0)
		return -1;
	if (role != NULL) {
		roles[0] = role;
		o.roles = roles;
		o.nroles = 1;
	}
	if (o.packaging == SC_XADES_DETACHED) {
		det.uri = "document";
		det.mime = o.mime;
		if (opt_str(r, "uri", 256, &det.uri, err) != 0)
			return -1;
		if (det.uri[0] == '#' || strchr(det.uri, '/') != NULL)
			return sc_err_set(err, SC_E_BAD_REQUEST,
			    "?uri is a plain name (no '#', no '/')");
		det.data = r->body.p;
		det.len = r->body.len;
		o.detached = &det;
		o.ndetached = 1;
	} else if (!is_xml(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		       MHD_HTTP_HEADER_CONTENT_TYPE))) {
		return sc_err_set(err, SC_E_UNSUPPORTED_MEDIA,
		    "the body must be application/xml or text/xml");
	}
	if (r->body.len == 0)
		return sc_err_set(err, SC_E_BAD_REQUEST, "the body is empty");
	if (r->body.len > api->cfg->max_document)
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "the document is larger than the %llu bytes allowed",
		    (unsigned long long)api->cfg->max_document);
	o.max_input = (size_t)api->cfg->max_document;
	if (sc_xades_sign_op(api->cfg, api->hsm, api->db, &who, key, r->body.p,
		r->body.len, &o, &signed_xml, &slen, &info, err) != 0)
		goto out;
	out->status = 200;
	out->content_type = "application/xml";
	if (sc_buf_append(&out->body, signed_xml, slen, err) != 0)
		goto out;
	sc_sha256(signed_xml, slen, h);
	sc_hex_encode(h, sizeof(h), hex);
	out->extra[0].name = "X-Sceau-Signed-SHA256";
	snprintf(out->extra[0].value, sizeof(out->extra[0].value), "%s", hex);
	out->extra[1].name = "X-Sceau-Signature-Id";
	snprintf(out->extra[1].value, sizeof(out->extra[1].value), "%s",
	    info.id);
	rc = 0;
out:
	free(signed_xml);
	return rc;
bad:
	err->code = SC_E_BAD_REQUEST;
	return -1;
}
