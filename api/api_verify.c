/*
 * api_verify.c: validation for everyone — POST /api/v1/verify (JSON or
 * the ETSI TS 119 102-2 XML report) and the citizens' page GET/POST
 * /verifier: plain HTML, no script, no outside font or style, so that it
 * works on a cheap phone over a slow link.
 *
 * The server never fetches the URLs that an uploaded document names
 * (that would let anyone make the service call any address). Revocation
 * comes from the data embedded in the document and, for certificates of
 * this service, from its own OCSP responder and CRLs, asked in-process
 * (api_pki_fetch); the trust anchors are sceau's own roots.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sceau/db_verify.h"
#include "sceau/verify.h"

#include "api_int.h"

/* The parts of a multipart/form-data upload that we read. */
struct upload {
	struct sc_buf document;
	struct sc_buf data;
	char lang[3];
	int failed;
};

static enum MHD_Result
upload_iter(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off, size_t size)
{
	struct upload *u = cls;
	struct sc_err e;
	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	(void)off;

	sc_err_clear(&e);
	if (strcmp(key, "document") == 0) {
		if (sc_buf_append(&u->document, data, size, &e) != 0)
			u->failed = 1;
	} else if (strcmp(key, "data") == 0) {
		if (sc_buf_append(&u->data, data, size, &e) != 0)
			u->failed = 1;
	} else if (strcmp(key, "lang") == 0 && size >= 2) {
		u->lang[0] = data[0];
		u->lang[1] = data[1];
		u->lang[2] = '\0';
	}
	return u->failed ? MHD_NO : MHD_YES;
}

static int
is_multipart(const struct api_req *r)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);

	return ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

/*
 * Reads the document (and detached data) from the body: multipart with
 * parts "document" and "data", or the raw body as the document.
 */
static int
read_upload(const struct api_req *r, struct upload *u, struct sc_err *err)
{
	struct MHD_PostProcessor *pp;

	sc_buf_init(&u->document, r->body.max);
	sc_buf_init(&u->data, r->body.max);
	u->lang[0] = '\0';
	u->failed = 0;
	if (!is_multipart(r)) {
		if (r->body.len == 0)
			return sc_err_set(err, SC_E_BAD_REQUEST,
			    "no document: send it as the body, or as the "
			    "\"document\" part of a multipart form");
		return sc_buf_append(&u->document, r->body.p, r->body.len,
		    err);
	}
	pp = MHD_create_post_processor(r->conn, 64 * 1024, upload_iter, u);
	if (pp == NULL)
		return sc_err_set(err, SC_E_BAD_REQUEST,
		    "malformed multipart/form-data body");
	if (MHD_post_process(pp, (const char *)r->body.p, r->body.len) !=
		MHD_YES ||
	    u->failed) {
		MHD_destroy_post_processor(pp);
		return sc_err_set(err, SC_E_BAD_REQUEST,
		    "malformed multipart/form-data body");
	}
	MHD_destroy_post_processor(pp);
	if (u->document.len == 0)
		return sc_err_set(err, SC_E_BAD_REQUEST,
		    "the form has no \"document\" file");
	return 0;
}

static void
upload_free(struct upload *u)
{
	sc_buf_free(&u->document);
	sc_buf_free(&u->data);
}

/* Validates @u against sceau's roots (see the head of this file). */
static int
validate(struct sc_api *api, struct upload *u, const char *lang,
    struct sc_ver_report **rep, struct sc_err *err)
{
	struct sc_http_fetcher own = {api_pki_fetch, api};
	const char *allow[1];
	struct sc_ver_opts o;
	struct sc_err dberr;
	char *roots = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	allow[0] = api->cfg->public_url;
	o.offline = 0;
	o.fetch = &own;
	o.fetch_allow = allow;
	o.nfetch_allow = 1;
	o.lang = lang;
	o.max_document = (size_t)api->cfg->max_document;
	if (u->data.len > 0) {
		o.detached = u->data.p;
		o.detached_len = u->data.len;
	}
	/* Without the database the anchors are unknown: chains end
	 * INDETERMINATE, which is the honest answer. */
	sc_err_clear(&dberr);
	if (sc_db_trust_roots_pem(api->db, &roots, &dberr) != 0)
		sc_log_err("verify: trust anchors", &dberr);
	o.trust_pem = roots;
	rc = sc_ver_document(u->document.p, u->document.len, &o, rep, err);
	free(roots);
	return rc;
}

/*
 * Does the client ask for the ETSI TS 119 102-2 XML report? Yes when
 * Accept names application/xml (or text/xml) before any JSON type and
 * without q=0 (RFC 9110 §12.5.1, simplified: order, not q-values,
 * breaks ties); JSON otherwise.
 */
static int
wants_xml(const struct api_req *r)
{
	const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT);

	while (a != NULL && *a != '\0') {
		size_t n = strcspn(a, ",");
		size_t t = strcspn(a, ",;");
		const char *q;

		while (t > 0 && (a[t - 1] == ' ' || a[t - 1] == '\t'))
			t--;
		q = memchr(a, ';', n);
		/* "q=0" (also "q=0.0") refuses the type. */
		if (q != NULL) {
			const char *qq = strstr(q, "q=0");

			if (qq != NULL && qq < a + n &&
			    strspn(qq + 3, ".0") == (size_t)(a + n - qq - 3)) {
				a += n;
				a += strspn(a, ", \t");
				continue;
			}
		}
		if ((t == 15 && strncasecmp(a, "application/xml", 15) == 0) ||
		    (t == 8 && strncasecmp(a, "text/xml", 8) == 0))
			return 1;
		if (t == 16 && strncasecmp(a, "application/json", 16) == 0)
			return 0;
		a += n;
		a += strspn(a, ", \t");
	}
	return 0;
}

int
h_verify(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ver_report *rep = NULL;
	struct upload u;
	char *text = NULL;
	int rc = -1, xml;

	if (read_upload(r, &u, err) != 0)
		goto out;
	if (validate(api, &u, r->lang, &rep, err) != 0)
		goto out;
	xml = wants_xml(r);
	text = xml ? sc_ver_report_etsi_xml(rep) : sc_ver_report_json(rep);
	if (text == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	out->status = 200;
	out->content_type = xml ? "application/xml" : "application/json";
	rc = sc_buf_append_str(&out->body, text, err);
out:
	free(text);
	sc_ver_report_free(rep);
	upload_free(&u);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The citizens' page                                                  */

static int
esc(struct sc_buf *b, const char *s, struct sc_err *err)
{
	for (; s != NULL && *s != '\0'; s++) {
		const char *rep = NULL;

		switch (*s) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			break;
		}
		if (rep != NULL ? sc_buf_append_str(b, rep, err)
				: sc_buf_append(b, s, 1, err))
			return -1;
	}
	return 0;
}

static const char page_head[] =
    "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    "<title>%s</title><style>"
    "body{font:16px/1.5 sans-serif;margin:0 auto;max-width:42em;"
    "padding:1em;color:#111}h1{font-size:1.4em}"
    ".ok{background:#e6f4ea;border-left:6px solid #1e7b34}"
    ".ko{background:#fdecea;border-left:6px solid #b3261e}"
    ".ind{background:#fff4e5;border-left:6px solid #b26a00}"
    ".v{padding:.6em 1em;margin:1em 0}dt{font-weight:bold}"
    "dd{margin:0 0 .5em 0}button{font-size:1em;padding:.4em 1em}"
    "small{color:#555}</style></head><body>";

static const char *
t(const char *lang, const char *fr, const char *en)
{
	return strcmp(lang, "en") == 0 ? en : fr;
}

static int
form(struct sc_buf *b, const char *lang, struct sc_err *err)
{
	return sc_buf_printf(b, err,
	    "<form method=\"post\" action=\"/verifier\" "
	    "enctype=\"multipart/form-data\">"
	    "<p><label>%s<br><input type=\"file\" name=\"document\" "
	    "required></label></p>"
	    "<p><label>%s<br><input type=\"file\" name=\"data\"></label></p>"
	    "<input type=\"hidden\" name=\"lang\" value=\"%s\">"
	    "<p><button type=\"submit\">%s</button></p></form>"
	    "<p><small>%s</small></p>",
	    t(lang, "Document signé (PDF, XML, .p7s, .p7m) :",
		"Signed document (PDF, XML, .p7s, .p7m):"),
	    t(lang, "Données signées, si la signature est détachée "
		    "(facultatif) :",
		"Signed data, if the signature is detached (optional):"),
	    lang, t(lang, "Vérifier", "Verify"),
	    t(lang,
		"Le document est vérifié puis oublié : il n'est pas "
		"conservé. <a href=\"/verifier?lang=en\">English</a>",
		"The document is checked and then forgotten: it is not "
		"kept. <a href=\"/verifier\">Français</a>"));
}

/*
 * The page speaks French first (the language of the administration);
 * English only when asked for with ?lang=en or the form's choice, not
 * from the browser's Accept-Language, which says little on a shared phone.
 */
static const char *
page_lang(const struct api_req *r, const char *form_lang)
{
	const char *q = MHD_lookup_connection_value(r->conn,
	    MHD_GET_ARGUMENT_KIND, "lang");

	if (form_lang != NULL)
		return strcmp(form_lang, "en") == 0 ? "en" : "fr";
	return q != NULL && strcmp(q, "en") == 0 ? "en" : "fr";
}

int
h_verifier_page(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	const char *lang = page_lang(r, NULL);
	const char *title = t(lang, "Vérifier un document signé",
	    "Check a signed document");
	(void)api;

	out->status = 200;
	out->content_type = "text/html; charset=utf-8";
	out->cache_control = "public, max-age=300";
	if (sc_buf_printf(&out->body, err, page_head, lang, title) != 0 ||
	    sc_buf_printf(&out->body, err, "<h1>%s</h1><p>%s</p>", title,
		t(lang,
		    "Déposez une décision, un certificat ou un diplôme signé "
		    "électroniquement pour savoir s'il est authentique, qui "
		    "l'a signé et s'il a été modifié depuis.",
		    "Upload an electronically signed decision, certificate or "
		    "diploma to learn whether it is genuine, who signed it "
		    "and whether it was changed since.")) != 0 ||
	    form(&out->body, lang, err) != 0 ||
	    sc_buf_append_str(&out->body, "</body></html>", err) != 0)
		return -1;
	return 0;
}

/*
 * Copies the value of attribute @key ("CN", "title") of an RFC 2253
 * string into @out, unescaped; "" when absent.
 */
static void
dn_attr(const char *dn, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), o = 0;
	const char *p = dn;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			for (p += kl + 1; *p != '\0' && *p != ','; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (o + 1 < outlen)
					out[o++] = *p;
			}
			out[o] = '\0';
			return;
		}
		/* next attribute: after an unescaped comma */
		for (; *p != '\0' && *p != ','; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p == ',')
			p++;
	}
}

/* The verdict in words a citizen understands (EN 319 102-1 §5.1.3). */
static int
render_verdict(struct sc_buf *b, const char *lang, json_t *rep,
    struct sc_err *err)
{
	const char *ind = json_string_value(json_object_get(rep, "indication"));
	json_t *sigs = json_object_get(rep, "signatures");
	const char *cls = "ind", *head;
	size_t i;
	json_t *s;

	if (ind == NULL)
		ind = "INDETERMINATE";
	if (strcmp(ind, "TOTAL-PASSED") == 0) {
		cls = "ok";
		head = t(lang, "Signature valide : le document est authentique "
			       "et n'a pas été modifié depuis sa signature.",
		    "Valid signature: the document is genuine and was not "
		    "changed since it was signed.");
	} else if (strcmp(ind, "TOTAL-FAILED") == 0) {
		cls = "ko";
		head = t(lang, "Signature invalide : ne vous fiez pas à ce "
			       "document. Demandez-en une copie authentique à "
			       "l'administration qui l'a émis.",
		    "Invalid signature: do not rely on this document. Ask the "
		    "administration that issued it for a genuine copy.");
	} else {
		head = t(lang, "Vérification incomplète : la signature n'a "
			       "pas pu être confirmée (certificat inconnu ou "
			       "information manquante). Renseignez-vous auprès "
			       "de l'administration qui a émis le document.",
		    "Incomplete check: the signature could not be confirmed "
		    "(unknown certificate or missing information). Ask the "
		    "administration that issued the document.");
	}
	if (sc_buf_printf(b, err, "<div class=\"v %s\"><strong>%s</strong>"
				  "</div>",
		cls, head) != 0)
		return -1;
	json_array_foreach(sigs, i, s)
	{
		json_t *signer = json_object_get(s, "signer");
		json_t *law = json_object_get(s, "law_2016_012");
		const char *sub = json_string_value(
		    json_object_get(s, "subindication"));
		const char *when = json_string_value(
		    json_object_get(s, "signing_time"));
		const char *cov = json_string_value(
		    json_object_get(s, "coverage"));
		int intact = json_is_true(json_object_get(s, "crypto_intact"));
		int qualified = json_is_true(json_object_get(law, "qualified"));
		const char *subject = json_string_value(
		    json_object_get(signer, "subject"));
		char who[300] = "", cn[128], title[128];

		if (subject != NULL) {
			dn_attr(subject, "CN", cn, sizeof(cn));
			dn_attr(subject, "title", title, sizeof(title));
			if (cn[0] != '\0')
				snprintf(who, sizeof(who), "%s%s%s", cn,
				    title[0] != '\0' ? " — " : "", title);
		}

		if (sc_buf_printf(b, err, "<h2>%s %zu</h2><dl><dt>%s</dt><dd>",
			t(lang, "Signature", "Signature"), i + 1,
			t(lang, "Signataire", "Signer")) != 0 ||
		    esc(b, who[0] != '\0' ? who
				       : (subject != NULL
						 ? subject
						 : t(lang, "inconnu",
						       "unknown")),
			err) != 0 ||
		    sc_buf_printf(b, err, "</dd><dt>%s</dt><dd>",
			t(lang, "Date de signature", "Signing time")) != 0 ||
		    esc(b, when != NULL ? when : t(lang, "non indiquée",
						     "not stated"),
			err) != 0 ||
		    sc_buf_printf(b, err,
			"</dd><dt>%s</dt><dd>%s</dd><dt>%s</dt><dd>%s</dd>"
			"<dt>%s</dt><dd>",
			t(lang, "Document depuis la signature",
			    "Document since signing"),
			intact ? (cov != NULL && strcmp(cov, "partial") == 0
					 ? t(lang,
					       "les parties signées sont "
					       "intactes, mais des ajouts "
					       "ont suivi",
					       "the signed parts are intact, "
					       "but additions followed")
					 : t(lang, "inchangé", "unchanged"))
			       : t(lang, "MODIFIÉ ou signature altérée",
				     "CHANGED or signature damaged"),
			t(lang, "Signature qualifiée (loi 2016-012)",
			    "Qualified signature (Law 2016-012)"),
			qualified ? t(lang, "oui", "yes")
				  : t(lang, "non", "no"),
			t(lang, "Résultat technique", "Technical result")) !=
			0 ||
		    esc(b, json_string_value(json_object_get(s, "indication")),
			err) != 0 ||
		    (sub != NULL &&
			(sc_buf_append_str(b, " / ", err) != 0 ||
			    esc(b, sub, err) != 0)) ||
		    sc_buf_append_str(b, "</dd></dl>", err) != 0)
			return -1;
	}
	return 0;
}

int
h_verifier_post(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_ver_report *rep = NULL;
	struct sc_err verr;
	const char *lang;
	struct upload u;
	json_t *j = NULL;
	char *json = NULL;
	int rc = -1;

	sc_err_clear(&verr);
	if (read_upload(r, &u, err) != 0)
		goto out;
	lang = page_lang(r, u.lang[0] != '\0' ? u.lang : NULL);
	out->status = 200;
	out->content_type = "text/html; charset=utf-8";
	if (sc_buf_printf(&out->body, err, page_head, lang,
		t(lang, "Résultat de la vérification",
		    "Verification result")) != 0 ||
	    sc_buf_printf(&out->body, err, "<h1>%s</h1>",
		t(lang, "Résultat de la vérification",
		    "Verification result")) != 0)
		goto out;
	if (validate(api, &u, lang, &rep, &verr) != 0) {
		/* Not a signed document: say so on the page, not as a 500. */
		if (verr.code == SC_E_NOMEM || verr.code == SC_E_INTERNAL) {
			sc_err_set(err, verr.code, "%s", verr.msg);
			goto out;
		}
		out->status = (unsigned)sc_code_http(verr.code);
		if (sc_buf_printf(&out->body, err,
			"<div class=\"v ko\"><strong>%s</strong></div>",
			t(lang,
			    "Ce fichier n'est pas un document signé que nous "
			    "savons lire (PDF, XML, .p7s, .p7m).",
			    "This file is not a signed document we can read "
			    "(PDF, XML, .p7s, .p7m).")) != 0)
			goto out;
	} else {
		json = sc_ver_report_json(rep);
		j = json != NULL ? json_loads(json, 0, NULL) : NULL;
		if (j == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		if (render_verdict(&out->body, lang, j, err) != 0)
			goto out;
	}
	if (sc_buf_printf(&out->body, err, "<h2>%s</h2>",
		t(lang, "Vérifier un autre document",
		    "Check another document")) != 0 ||
	    form(&out->body, lang, err) != 0 ||
	    sc_buf_append_str(&out->body, "</body></html>", err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(j);
	free(json);
	sc_ver_report_free(rep);
	upload_free(&u);
	return rc;
}
