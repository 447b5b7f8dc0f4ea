/*
 * api_pades.c: POST /api/v1/sign/pades (CONTRACT.md). Thin: checks the
 * media type, the size, the key binding of the signer token, hands the
 * body to sc_pades_sign_op() (which audits), and answers the input with
 * the appended bytes.
 */
#include <string.h>
#include <strings.h>

#include "sceau/pades.h"

#include "api_int.h"

static const char *
arg(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

static int
is_pdf(const char *ct)
{
	static const char want[] = "application/pdf";
	size_t n = sizeof(want) - 1;

	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int
h_sign_pades(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_actor who = {r->actor, r->role};
	struct sc_pades_visible vis;
	struct sc_pades_result res;
	struct sc_pades_doc doc;
	struct sc_pades_opts o;
	struct sc_buf tail;
	const char *key = arg(r, "key"), *level = arg(r, "level");
	const char *visible = arg(r, "visible"), *certify = arg(r, "certify");
	char url[300], hex[65];
	int rc = -1;

	memset(&o, 0, sizeof(o));
	if (!is_pdf(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE)))
		return sc_err_set(err, SC_E_UNSUPPORTED_MEDIA,
		    "the body must be application/pdf");
	if (key == NULL || key[0] == '\0')
		return sc_err_set(err, SC_E_BAD_REQUEST,
		    "?key=ALIAS is required");
	/* The signer token is bound to one key; no other may be used. */
	if (strcmp(r->key_alias, key) != 0)
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "this token may not sign with the key \"%s\"", key);
	if (sc_pades_level_parse(level != NULL ? level : "B-B", &o.level,
		err) != 0) {
		err->code = SC_E_BAD_REQUEST;
		return -1;
	}
	if (visible != NULL) {
		if (sc_pades_visible_parse(visible, &vis, err) != 0) {
			err->code = SC_E_BAD_REQUEST;
			return -1;
		}
		o.visible = &vis;
	}
	if (certify != NULL) {
		uint64_t p;

		if (sc_parse_u64(certify, 1, 3, &p, "certify", err) != 0) {
			err->code = SC_E_BAD_REQUEST;
			return -1;
		}
		o.docmdp = (int)p;
	}
	if (r->body.len > api->cfg->max_document)
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "the PDF is larger than the %llu bytes allowed",
		    (unsigned long long)api->cfg->max_document);
	o.reason = arg(r, "reason");
	o.location = arg(r, "location");
	o.max_document = (size_t)api->cfg->max_document;
	snprintf(url, sizeof(url), "%s/verifier", api->cfg->public_url);
	o.verify_url = url;
	sc_buf_init(&tail, SIZE_MAX / 2);
	doc.p = r->body.p;
	doc.fd = -1;
	doc.len = r->body.len;
	if (doc.p == NULL)
		return sc_err_set(err, SC_E_INVALID_PDF, "the body is empty");
	if (sc_pades_sign_op(api->cfg, api->hsm, api->db, &who, key, &doc,
		&o, &tail, &res, err) != 0)
		goto out;
	out->status = 200;
	out->content_type = "application/pdf";
	if (sc_buf_append(&out->body, r->body.p, r->body.len, err) != 0 ||
	    sc_buf_append(&out->body, tail.p, tail.len, err) != 0)
		goto out;
	sc_hex_encode(res.out_sha256, sizeof(res.out_sha256), hex);
	out->extra[0].name = "X-Sceau-Signed-SHA256";
	snprintf(out->extra[0].value, sizeof(out->extra[0].value), "%s", hex);
	rc = 0;
out:
	sc_buf_free(&tail);
	return rc;
}
