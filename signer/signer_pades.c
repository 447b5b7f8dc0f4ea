/*
 * signer_pades.c: PAdES baseline signatures (ETSI EN 319 142-1) as
 * incremental updates: the signature (B-B, B-T), then a /DSS (B-LT),
 * then a document time-stamp (B-LTA); and the extension of documents
 * signed elsewhere.
 *
 * The input is hashed once, streamed from the caller's bytes or file:
 * the SHA-256 state after the input is kept and copied for every
 * /ByteRange digest, since each one covers the input and then part of
 * what we appended.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sceau/hsm.h"
#include "sceau/pades.h"

#include "pades_int.h"

#define BR_WIDTH 64	       /* bytes kept for "[0 a b c]" */
#define MAX_PAGES_TOUCHED 4
#define MAX_SIGS 256	       /* signatures read from one input */

struct page {
	int idx; /* 0-based */
	struct pdf_dict dict;
	struct pdf_arr annots;
};

/* A signature (or document time-stamp) already in the input. */
struct oldsig {
	uint8_t *contents; /* the /Contents string, padding included */
	size_t len;
	int doc_ts;	   /* /SubFilter /ETSI.RFC3161 */
	int has_tst;	   /* a CMS with a signature time-stamp */
	size_t end;	   /* br[2] + br[3] */
};

struct pades {
	struct pdf_doc d;
	struct pdf_upd u;
	const struct sc_pades_opts *o;
	EVP_MD_CTX *pre; /* SHA-256 state after the input; borrowed */
	struct pdf_dict cat;
	struct pdf_dict acro; /* num 0 while direct or new */
	int has_acro;
	struct pdf_arr fields;
	struct page pages[MAX_PAGES_TOUCHED];
	size_t npages;
	char **names; /* top-level field names */
	size_t nnames;
	int docmdp_p;  /* the input's certification level, 0: none */
	struct oldsig sigs[MAX_SIGS];
	size_t nsigs;
	struct pdf_dict dss;
	int has_dss;
};

/* A /Contents placeholder in the tail. */
struct gap {
	size_t br_off;	/* tail offset of the ByteRange region */
	size_t c_off;	/* tail offset of '<' */
	size_t c_end;	/* tail offset after '>' */
	size_t reserve; /* bytes of DER that fit */
};

int
sc_pades_level_parse(const char *s, enum sc_pades_level *out,
    struct sc_err *err)
{
	static const char *const n[] = {"B-B", "B-T", "B-LT", "B-LTA"};

	for (int i = 0; i < 4; i++)
		if (s != NULL && strcmp(s, n[i]) == 0) {
			*out = (enum sc_pades_level)i;
			return 0;
		}
	return sc_err_set(err, SC_E_USAGE,
	    "unknown PAdES level \"%s\" (B-B, B-T, B-LT, B-LTA)",
	    s != NULL ? s : "");
}

const char *
sc_pades_level_name(enum sc_pades_level l)
{
	switch (l) {
	case SC_PADES_B_B:
		return "B-B";
	case SC_PADES_B_T:
		return "B-T";
	case SC_PADES_B_LT:
		return "B-LT";
	case SC_PADES_B_LTA:
		return "B-LTA";
	}
	return "?";
}

int
sc_pades_visible_parse(const char *s, struct sc_pades_visible *v,
    struct sc_err *err)
{
	char *end;
	double f[5];
	const char *p = s;

	for (int i = 0; i < 5; i++) {
		f[i] = strtod(p, &end);
		if (end == p || (i < 4 && *end != ',') ||
		    (i == 4 && *end != '\0') || f[i] < 0 || f[i] > 14400)
			return sc_err_set(err, SC_E_USAGE,
			    "--visible wants PAGE,X,Y,W,H (points, page from "
			    "1)");
		p = end + 1;
	}
	if (f[0] < 1 || f[0] != (double)(unsigned)f[0] || f[3] < 10 ||
	    f[4] < 10)
		return sc_err_set(err, SC_E_USAGE,
		    "--visible: PAGE is a whole number from 1, and W, H are "
		    "at least 10 points");
	v->page = (unsigned)f[0];
	v->x = f[1];
	v->y = f[2];
	v->w = f[3];
	v->h = f[4];
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading what the update will touch                                  */

static void
pades_free(struct pades *p)
{
	pdf_dict_free(&p->cat);
	pdf_dict_free(&p->acro);
	pdf_arr_free(&p->fields);
	pdf_dict_free(&p->dss);
	for (size_t i = 0; i < p->npages; i++) {
		pdf_dict_free(&p->pages[i].dict);
		pdf_arr_free(&p->pages[i].annots);
	}
	for (size_t i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->names);
	for (size_t i = 0; i < p->nsigs; i++)
		free(p->sigs[i].contents);
	pdf_upd_free(&p->u);
	pdf_close(&p->d);
	memset(p, 0, sizeof(*p));
}

static int
add_name(struct pades *p, const char *s, size_t len, struct sc_err *err)
{
	char **nv = realloc(p->names, (p->nnames + 1) * sizeof(*nv));

	if (nv == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	p->names = nv;
	nv[p->nnames] = strndup(s, len);
	if (nv[p->nnames] == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	p->nnames++;
	return 0;
}

/* Records the signature dictionary @v of a /Sig field. */
static int
read_sig(struct pades *p, qpdf_oh v, struct sc_err *err)
{
	qpdf_data q = p->d.q;
	qpdf_oh c = qpdf_oh_get_key(q, v, "/Contents");
	qpdf_oh br = qpdf_oh_get_key(q, v, "/ByteRange");
	struct oldsig *s;
	const char *cs;
	size_t cl = 0;

	if (!qpdf_oh_is_string(q, c) || !qpdf_oh_is_array(q, br) ||
	    qpdf_oh_get_array_n_items(q, br) != 4)
		return 0; /* an unsigned or malformed one: not ours to judge */
	if (p->nsigs >= MAX_SIGS)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "too many signatures in the document");
	s = &p->sigs[p->nsigs];
	memset(s, 0, sizeof(*s));
	cs = qpdf_oh_get_binary_string_value(q, c, &cl);
	if (cs == NULL || cl == 0)
		return 0;
	s->contents = malloc(cl);
	if (s->contents == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(s->contents, cs, cl);
	s->len = cl;
	s->doc_ts = qpdf_oh_is_name_and_equals(q,
	    qpdf_oh_get_key(q, v, "/SubFilter"), "/ETSI.RFC3161");
	s->end = (size_t)qpdf_oh_get_int_value(q,
		     qpdf_oh_get_array_item(q, br, 2)) +
	    (size_t)qpdf_oh_get_int_value(q, qpdf_oh_get_array_item(q, br, 3));
	p->nsigs++;
	return 0;
}

/* Walks the field tree (ISO 32000-1 §12.7.3.1). */
static int
walk_fields(struct pades *p, qpdf_oh arr, int depth, size_t *count,
    struct sc_err *err)
{
	qpdf_data q = p->d.q;
	int n = qpdf_oh_get_array_n_items(q, arr);

	if (depth > PDF_MAX_FIELD_DEPTH)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §12.7.3.1: the field tree is too deep");
	for (int i = 0; i < n; i++) {
		qpdf_oh f = qpdf_oh_get_array_item(q, arr, i), t, kids, v;

		if (++*count > PDF_MAX_FIELDS)
			return sc_err_set(err, SC_E_INVALID_PDF,
			    "the form has too many fields");
		if (!qpdf_oh_is_dictionary(q, f))
			continue;
		t = qpdf_oh_get_key(q, f, "/T");
		if (depth == 0 && qpdf_oh_is_string(q, t)) {
			size_t l = 0;
			const char *s = qpdf_oh_get_binary_string_value(q, t,
			    &l);

			if (s != NULL && add_name(p, s, l, err) != 0)
				return -1;
		}
		v = qpdf_oh_get_key(q, f, "/V");
		if (qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, f, "/FT"),
			"/Sig") &&
		    qpdf_oh_is_dictionary(q, v) && read_sig(p, v, err) != 0)
			return -1;
		kids = qpdf_oh_get_key(q, f, "/Kids");
		if (qpdf_oh_is_array(q, kids) &&
		    walk_fields(p, kids, depth + 1, count, err) != 0)
			return -1;
	}
	return 0;
}

/* The input's DocMDP level (ISO 32000-1 §12.8.2.2), 0 if none. */
static int
read_docmdp(struct pades *p)
{
	qpdf_data q = p->d.q;
	qpdf_oh perms = qpdf_oh_get_key(q, qpdf_get_root(q), "/Perms");
	qpdf_oh sig = qpdf_oh_get_key(q, perms, "/DocMDP");
	qpdf_oh ref = qpdf_oh_get_key(q, sig, "/Reference");
	int n = qpdf_oh_is_array(q, ref) ? qpdf_oh_get_array_n_items(q, ref)
					 : 0;

	if (!qpdf_oh_is_dictionary(q, sig))
		return 0;
	for (int i = 0; i < n; i++) {
		qpdf_oh r = qpdf_oh_get_array_item(q, ref, i);
		qpdf_oh pp;

		if (!qpdf_oh_is_name_and_equals(q,
			qpdf_oh_get_key(q, r, "/TransformMethod"), "/DocMDP"))
			continue;
		pp = qpdf_oh_get_key(q, qpdf_oh_get_key(q, r,
					    "/TransformParams"), "/P");
		if (qpdf_oh_is_integer(q, pp)) {
			long long v = qpdf_oh_get_int_value(q, pp);

			return v >= 1 && v <= 3 ? (int)v : 2;
		}
		return 2; /* §12.8.2.2 table 254: default 2 */
	}
	return 2;
}

static int
pades_load(struct pades *p, const struct sc_pades_doc *doc,
    const struct sc_pades_opts *o, EVP_MD_CTX *pre, struct sc_buf *tail,
    struct sc_err *err)
{
	qpdf_data q;
	qpdf_oh root, acro, fields, dss;
	size_t count = 0;

	memset(p, 0, sizeof(*p));
	p->o = o;
	p->pre = pre;
	if (pdf_open(&p->d, doc->p, doc->fd, doc->len, err) != 0)
		return -1;
	q = p->d.q;
	root = qpdf_get_root(q);
	if (pdf_dict_load(&p->d, root, &p->cat, err) != 0)
		return -1;
	acro = qpdf_oh_get_key(q, root, "/AcroForm");
	if (qpdf_oh_is_dictionary(q, acro)) {
		if (pdf_dict_load(&p->d, acro, &p->acro, err) != 0)
			return -1;
		p->has_acro = 1;
		fields = qpdf_oh_get_key(q, acro, "/Fields");
		if (pdf_arr_load(&p->d, fields, &p->fields, err) != 0)
			return -1;
		if (qpdf_oh_is_array(q, fields) &&
		    walk_fields(p, fields, 0, &count, err) != 0)
			return -1;
	} else {
		sc_buf_init(&p->fields.items, PDF_MAX_OBJ_TEXT);
	}
	dss = qpdf_oh_get_key(q, root, "/DSS");
	if (qpdf_oh_is_dictionary(q, dss)) {
		if (pdf_dict_load(&p->d, dss, &p->dss, err) != 0)
			return -1;
		p->has_dss = 1;
	}
	p->docmdp_p = read_docmdp(p);
	if (qpdf_has_error(q))
		return pdf_qpdf_err(&p->d, SC_E_INVALID_PDF,
		    "the document's form cannot be read", err);
	return pdf_upd_init(&p->u, &p->d, tail, err);
}

static struct page *
get_page(struct pades *p, int idx, struct sc_err *err)
{
	qpdf_data q = p->d.q;
	struct page *pg;
	qpdf_oh h;

	for (size_t i = 0; i < p->npages; i++)
		if (p->pages[i].idx == idx)
			return &p->pages[i];
	if (p->npages >= MAX_PAGES_TOUCHED) {
		sc_err_set(err, SC_E_INTERNAL, "too many pages touched");
		return NULL;
	}
	if (idx < 0 || idx >= qpdf_get_num_pages(q)) {
		if (qpdf_has_error(q))
			pdf_qpdf_err(&p->d, SC_E_INVALID_PDF,
			    "ISO 32000-1 §7.7.3: the page tree cannot be read",
			    err);
		else
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "the document has no page %d", idx + 1);
		return NULL;
	}
	h = qpdf_get_page_n(q, (size_t)idx);
	pg = &p->pages[p->npages];
	memset(pg, 0, sizeof(*pg));
	pg->idx = idx;
	if (!qpdf_oh_is_indirect(q, h)) {
		sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.7.3.3: a page is not an indirect object");
		return NULL;
	}
	if (pdf_dict_load(&p->d, h, &pg->dict, err) != 0)
		return NULL;
	if (pdf_arr_load(&p->d, qpdf_oh_get_key(q, h, "/Annots"), &pg->annots,
		err) != 0) {
		pdf_dict_free(&pg->dict);
		return NULL;
	}
	p->npages++;
	return pg;
}

static int
name_taken(const struct pades *p, const char *n)
{
	for (size_t i = 0; i < p->nnames; i++)
		if (strcmp(p->names[i], n) == 0)
			return 1;
	return 0;
}

/* A fresh top-level field name "PREFIXn". */
static int
new_field_name(struct pades *p, const char *prefix, char *out, size_t outlen,
    struct sc_err *err)
{
	for (unsigned i = 1; i < 100000; i++) {
		snprintf(out, outlen, "%s%u", prefix, i);
		if (!name_taken(p, out))
			return add_name(p, out, strlen(out), err);
	}
	return sc_err_set(err, SC_E_INVALID_PDF, "no free field name");
}

/* ------------------------------------------------------------------ */
/* One update: field, widget, form, page, and the dirty objects        */

/* Registers the field @field_num on the form and its widget on page
 * @pg (ISO 32000-1 §12.7.2, §12.5.2; SigFlags §12.7.2 table 219). */
static int
attach_field(struct pades *p, struct page *pg, int field_num,
    struct sc_err *err)
{
	struct sc_buf t;
	char ref[40];
	int rc = -1;

	sc_buf_init(&t, PDF_MAX_OBJ_TEXT);
	snprintf(ref, sizeof(ref), "%d 0 R", field_num);
	if (pdf_arr_add(&p->fields, ref, err) != 0 ||
	    pdf_arr_add(&pg->annots, ref, err) != 0)
		goto out;
	if (p->acro.num == 0) {
		/* A new or direct AcroForm becomes an object of its own. */
		p->acro.num = pdf_upd_new_num(&p->u);
		p->acro.gen = 0;
		snprintf(ref, sizeof(ref), "%d 0 R", p->acro.num);
		if (pdf_dict_set(&p->cat, "/AcroForm", ref, err) != 0)
			goto out;
	}
	if (pdf_dict_set(&p->acro, "/SigFlags", "3", err) != 0)
		goto out;
	pdf_dict_del(&p->acro, "/NeedAppearances");
	if (p->fields.num == 0) {
		if (pdf_arr_text(&p->fields, &t, err) != 0 ||
		    sc_buf_append(&t, "", 1, err) != 0 ||
		    pdf_dict_set(&p->acro, "/Fields", (char *)t.p, err) != 0)
			goto out;
		t.len = 0;
	}
	if (pg->annots.num == 0) {
		if (pdf_arr_text(&pg->annots, &t, err) != 0 ||
		    sc_buf_append(&t, "", 1, err) != 0 ||
		    pdf_dict_set(&pg->dict, "/Annots", (char *)t.p, err) != 0)
			goto out;
	}
	rc = 0;
out:
	sc_buf_free(&t);
	return rc;
}

static int
write_dirty(struct pades *p, struct sc_err *err)
{
	if (pdf_upd_dict(&p->u, &p->cat, err) != 0 ||
	    pdf_upd_dict(&p->u, &p->acro, err) != 0 ||
	    pdf_upd_arr(&p->u, &p->fields, err) != 0 ||
	    pdf_upd_dict(&p->u, &p->dss, err) != 0)
		return -1;
	for (size_t i = 0; i < p->npages; i++)
		if (pdf_upd_dict(&p->u, &p->pages[i].dict, err) != 0 ||
		    pdf_upd_arr(&p->u, &p->pages[i].annots, err) != 0)
			return -1;
	return 0;
}

/* Writes "/ByteRange <region> /Contents <00...>" and records where. */
static int
write_gap(struct pades *p, size_t reserve, struct gap *g, struct sc_err *err)
{
	struct sc_buf *t = p->u.tail;
	static const char zeros[64] = "0000000000000000000000000000000000000"
				      "000000000000000000000000000";

	if (sc_buf_append_str(t, " /ByteRange ", err) != 0)
		return -1;
	g->br_off = t->len;
	if (sc_buf_printf(t, err, "%-*s", BR_WIDTH, "[0 0 0 0]") != 0 ||
	    sc_buf_append_str(t, " /Contents ", err) != 0)
		return -1;
	g->c_off = t->len;
	if (sc_buf_append(t, "<", 1, err) != 0)
		return -1;
	for (size_t n = 2 * reserve; n > 0;) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		if (sc_buf_append(t, zeros, k, err) != 0)
			return -1;
		n -= k;
	}
	if (sc_buf_append(t, ">", 1, err) != 0)
		return -1;
	g->c_end = t->len;
	g->reserve = reserve;
	return 0;
}

/* Patches /ByteRange (whole file but the gap, EN 319 142-1 §5.2) and
 * gives the SHA-256 of the covered bytes. Call after pdf_upd_finish. */
static int
close_gap(struct pades *p, const struct gap *g, uint8_t md[32],
    struct sc_err *err)
{
	struct sc_buf *t = p->u.tail;
	size_t base = p->d.len;
	size_t a = base + g->c_off, b = base + g->c_end, end = base + t->len;
	char br[BR_WIDTH + 1];
	EVP_MD_CTX *c = NULL;
	unsigned int ml = 0;
	int n, rc = -1;

	n = snprintf(br, sizeof(br), "[0 %zu %zu %zu]", a, b, end - b);
	if (n < 0 || n > BR_WIDTH)
		return sc_err_set(err, SC_E_INTERNAL, "ByteRange too wide");
	memset(br + n, ' ', (size_t)(BR_WIDTH - n));
	memcpy(t->p + g->br_off, br, BR_WIDTH);
	c = EVP_MD_CTX_new();
	if (c == NULL || EVP_MD_CTX_copy_ex(c, p->pre) != 1 ||
	    EVP_DigestUpdate(c, t->p, g->c_off) != 1 ||
	    EVP_DigestUpdate(c, t->p + g->c_end, t->len - g->c_end) != 1 ||
	    EVP_DigestFinal_ex(c, md, &ml) != 1 || ml != 32) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot hash the byte range");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(c);
	return rc;
}

/* Writes @der as upper-case hex into the gap; the rest stays zeros. */
static int
fill_gap(struct pades *p, const struct gap *g, const uint8_t *der,
    size_t len, struct sc_err *err)
{
	static const char hx[] = "0123456789ABCDEF";
	uint8_t *o = p->u.tail->p + g->c_off + 1;

	if (len > g->reserve)
		return sc_err_set(err, SC_E_INTERNAL,
		    "the signature (%zu bytes) does not fit the %zu bytes "
		    "reserved in /Contents",
		    len, g->reserve);
	for (size_t i = 0; i < len; i++) {
		o[2 * i] = (uint8_t)hx[der[i] >> 4];
		o[2 * i + 1] = (uint8_t)hx[der[i] & 15];
	}
	return 0;
}

/* The /Contents bytes as a reader sees them: DER then zero padding. */
static int
gap_bytes(const struct pades *p, const struct gap *g, const uint8_t *der,
    size_t len, uint8_t **out, struct sc_err *err)
{
	(void)p;
	*out = calloc(1, g->reserve);
	if (*out == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(*out, der, len);
	return 0;
}

/* "D:YYYYMMDDHHmmSS+00'00'" (ISO 32000-1 §7.9.4). */
static void
pdf_date(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (strftime(out, 32, "D:%Y%m%d%H%M%S+00'00'", &tm) == 0)
		out[0] = '\0';
}

/* Appends " /Key (text)" when @val is set. */
static int
opt_text(struct sc_buf *t, const char *key, const char *val,
    struct sc_err *err)
{
	if (val == NULL || val[0] == '\0')
		return 0;
	if (strlen(val) > 1024)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "%s is longer than 1024 bytes", key + 1);
	if (sc_buf_printf(t, err, " %s ", key) != 0)
		return -1;
	return pdf_text_string(t, val, err);
}

/* The widget annotation merged with its field (§12.7.4.5, §12.5.6.19). */
static int
write_field(struct pades *p, int field_num, int value_num, const char *name,
    const struct page *pg, const double *rect, int ap_num,
    struct sc_err *err)
{
	struct sc_buf *t = p->u.tail;

	if (pdf_upd_obj_begin(&p->u, field_num, 0, err) != 0 ||
	    sc_buf_append_str(t, "<< /FT /Sig /T ", err) != 0 ||
	    pdf_text_string(t, name, err) != 0 ||
	    sc_buf_printf(t, err, " /V %d 0 R /Type /Annot /Subtype /Widget "
		"/Rect [%.2f %.2f %.2f %.2f] /F 132 /P %d %d R", value_num,
		rect[0], rect[1], rect[2], rect[3], pg->dict.num,
		pg->dict.gen) != 0)
		return -1;
	if (ap_num > 0 &&
	    sc_buf_printf(t, err, " /AP << /N %d 0 R >>", ap_num) != 0)
		return -1;
	if (sc_buf_append_str(t, " >>", err) != 0)
		return -1;
	return pdf_upd_obj_end(&p->u, err);
}

/* ------------------------------------------------------------------ */
/* The signature update (B-B, B-T)                                     */

struct sig_out {
	uint8_t *der; /* the CMS */
	size_t len;
	uint8_t *contents; /* /Contents bytes with padding (VRI key) */
	size_t clen;
	char field[64];
};

static void
sig_out_free(struct sig_out *s)
{
	free(s->der);
	free(s->contents);
	memset(s, 0, sizeof(*s));
}

/*
 * Writes the signature update with @reserve bytes for the CMS and signs.
 * @return 0 done; 1 when the CMS came out larger than @reserve (the
 *         caller starts again with more room: never truncate); -1 with
 *         err.
 */
static int
sign_update(struct pades *p, const struct sc_cms_signer *cs, size_t reserve,
    struct sig_out *so, struct sc_err *err)
{
	const struct sc_pades_opts *o = p->o;
	const struct sc_pades_visible *vis = o->visible;
	struct sc_buf *t = p->u.tail;
	struct page *pg;
	struct gap g;
	char date[32], cn[256] = "", title[256] = "", qr[512];
	double rect[4] = {0, 0, 0, 0};
	int sig_num, field_num, ap_num = 0;
	uint8_t md[32];
	int64_t now = o->signing_time != 0 ? o->signing_time
					   : sc_time_now().sec;

	if (p->docmdp_p == 1)
		return sc_err_set(err, SC_E_CONFLICT,
		    "ISO 32000-1 §12.8.2.2: the document is certified with "
		    "no changes allowed (DocMDP P=1)");
	if (p->docmdp_p == 2 && vis != NULL)
		return sc_err_set(err, SC_E_CONFLICT,
		    "ISO 32000-1 §12.8.2.2: the document is certified (DocMDP "
		    "P=2): only invisible signatures may be added");
	if (o->docmdp != 0 && (p->nsigs > 0 || p->docmdp_p != 0))
		return sc_err_set(err, SC_E_CONFLICT,
		    "ISO 32000-1 §12.8.2.2: only the first signature may be a "
		    "certification signature");
	if (o->docmdp < 0 || o->docmdp > 3)
		return sc_err_set(err, SC_E_USAGE, "DocMDP P is 1, 2 or 3");
	pg = get_page(p, vis != NULL ? (int)vis->page - 1 : 0, err);
	if (pg == NULL)
		return -1;
	if (new_field_name(p, "Signature", so->field, sizeof(so->field),
		err) != 0)
		return -1;
	pdf_date(now, date);
	sig_num = pdf_upd_new_num(&p->u);
	field_num = pdf_upd_new_num(&p->u);
	X509_NAME_get_text_by_NID(X509_get_subject_name(cs->cert),
	    NID_commonName, cn, sizeof(cn));
	if (vis != NULL) {
		char d10[20];
		char dhex[65];
		uint8_t dd[32];
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		unsigned int ml = 0;

		/* The document's reference in the QR code: the SHA-256 of
		 * the document as it was before this signature. */
		if (c == NULL || EVP_MD_CTX_copy_ex(c, p->pre) != 1 ||
		    EVP_DigestFinal_ex(c, dd, &ml) != 1) {
			EVP_MD_CTX_free(c);
			return sc_err_crypto(err, SC_E_CRYPTO, "digest");
		}
		EVP_MD_CTX_free(c);
		sc_hex_encode(dd, sizeof(dd), dhex);
		snprintf(d10, sizeof(d10), "%.4s-%.2s-%.2s %.2s:%.2s",
		    date + 2, date + 6, date + 8, date + 10, date + 12);
		snprintf(qr, sizeof(qr), "%s?doc=%s",
		    o->verify_url != NULL ? o->verify_url
					  : "http://127.0.0.1:8080/verifier",
		    dhex);
		ap_num = pdf_upd_new_num(&p->u);
		rect[0] = vis->x;
		rect[1] = vis->y;
		rect[2] = vis->x + vis->w;
		rect[3] = vis->y + vis->h;
		/* Art. 115 §3: the capacity, else the certificate's title. */
		if (o->capacity == NULL)
			X509_NAME_get_text_by_NID(X509_get_subject_name(cs->cert),
			    NID_title, title, sizeof(title));
		if (pades_appearance(&p->u, ap_num,
			o->name != NULL ? o->name : cn,
			o->capacity != NULL ? o->capacity : title, d10, qr,
			vis->w, vis->h, err) != 0)
			return -1;
	}
	/* The signature dictionary (§12.8.1 table 252; EN 319 142-1
	 * §5.2.1: /SubFilter /ETSI.CAdES.detached, /M, no /Cert). */
	if (pdf_upd_obj_begin(&p->u, sig_num, 0, err) != 0 ||
	    sc_buf_append_str(t, "<< /Type /Sig /Filter /Adobe.PPKLite "
		"/SubFilter /ETSI.CAdES.detached", err) != 0 ||
	    write_gap(p, reserve, &g, err) != 0 ||
	    sc_buf_printf(t, err, " /M (%s)", date) != 0 ||
	    opt_text(t, "/Name", o->name, err) != 0 ||
	    opt_text(t, "/Reason", o->reason, err) != 0 ||
	    opt_text(t, "/Location", o->location, err) != 0 ||
	    opt_text(t, "/ContactInfo", o->contact, err) != 0)
		return -1;
	if (o->docmdp != 0 &&
	    sc_buf_printf(t, err, " /Reference [ << /Type /SigRef "
		"/TransformMethod /DocMDP /TransformParams << /Type "
		"/TransformParams /P %d /V /1.2 >> >> ]", o->docmdp) != 0)
		return -1;
	if (sc_buf_append_str(t, " >>", err) != 0 ||
	    pdf_upd_obj_end(&p->u, err) != 0)
		return -1;
	if (write_field(p, field_num, sig_num, so->field, pg, rect, ap_num,
		err) != 0 ||
	    attach_field(p, pg, field_num, err) != 0)
		return -1;
	if (o->docmdp != 0) {
		char perms[64];

		snprintf(perms, sizeof(perms), "<< /DocMDP %d 0 R >>", sig_num);
		if (pdf_dict_set(&p->cat, "/Perms", perms, err) != 0)
			return -1;
	}
	/* EN 319 142-1 §5.1 (PDF < 2.0): the ESIC extension. */
	if (strncmp(p->d.version, "2.", 2) != 0 &&
	    pdf_dict_get(&p->cat, "/Extensions") == NULL &&
	    pdf_dict_set(&p->cat, "/Extensions", "<< /ESIC << /BaseVersion "
		"/1.7 /ExtensionLevel 1 >> >>", err) != 0)
		return -1;
	if (write_dirty(p, err) != 0 || pdf_upd_finish(&p->u, err) != 0 ||
	    close_gap(p, &g, md, err) != 0)
		return -1;
	if (sc_cms_sign_digest(cs, md,
		o->level >= SC_PADES_B_T ? o->tsa : NULL, &so->der, &so->len,
		err) != 0)
		return -1;
	if (so->len > g.reserve)
		return 1; /* too small: the caller retries with more room */
	if (fill_gap(p, &g, so->der, so->len, err) != 0 ||
	    gap_bytes(p, &g, so->der, so->len, &so->contents, err) != 0)
		return -1;
	so->clen = g.reserve;
	return 0;
}

/* ------------------------------------------------------------------ */
/* B-LT: the Document Security Store (EN 319 142-1 §5.4.2)             */

/* Adds @l's entries as new streams; *refs gets "n 0 R " each. */
static int
dss_streams(struct pades *p, const struct sc_ltv_list *l, struct sc_buf *refs,
    struct sc_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		int num = pdf_upd_new_num(&p->u);

		if (pdf_upd_stream(&p->u, num, NULL, l->v[i].p, l->v[i].len,
			err) != 0 ||
		    sc_buf_printf(refs, err, "%d 0 R ", num) != 0)
			return -1;
	}
	return 0;
}

/* The items of the existing DSS array @key, as text. */
static int
dss_old_items(struct pades *p, const char *key, struct sc_buf *out,
    struct sc_err *err)
{
	qpdf_data q = p->d.q;
	qpdf_oh dss = qpdf_oh_get_key(q, qpdf_get_root(q), "/DSS");
	struct pdf_arr a;

	if (!p->has_dss)
		return 0;
	if (pdf_arr_load(&p->d, qpdf_oh_get_key(q, dss, key), &a, err) != 0)
		return -1;
	if (a.items.len > 0 &&
	    sc_buf_append(out, a.items.p, a.items.len, err) != 0) {
		pdf_arr_free(&a);
		return -1;
	}
	pdf_arr_free(&a);
	return 0;
}

/* An update with the /DSS; @vri: SHA-1 keys (40 hex) of signatures. */
static int
dss_update(struct pades *p, const struct sc_ltv *l, char (*vri)[41],
    size_t nvri, struct sc_err *err)
{
	static const char *const keys[3] = {"/Certs", "/OCSPs", "/CRLs"};
	static const char *const vkeys[3] = {"/Cert", "/OCSP", "/CRL"};
	const struct sc_ltv_list *lists[3] = {&l->certs, &l->ocsps, &l->crls};
	struct sc_buf refs[3], all, vt;
	qpdf_data q = p->d.q;
	int rc = -1;

	sc_buf_init(&all, PDF_MAX_OBJ_TEXT);
	sc_buf_init(&vt, PDF_MAX_OBJ_TEXT);
	for (int i = 0; i < 3; i++)
		sc_buf_init(&refs[i], PDF_MAX_OBJ_TEXT);
	if (!p->has_dss) {
		char ref[40];

		p->dss.num = pdf_upd_new_num(&p->u);
		if (pdf_dict_set(&p->dss, "/Type", "/DSS", err) != 0)
			goto out;
		snprintf(ref, sizeof(ref), "%d 0 R", p->dss.num);
		if (pdf_dict_set(&p->cat, "/DSS", ref, err) != 0)
			goto out;
		p->has_dss = 1;
	} else if (p->dss.num == 0) {
		char ref[40];

		/* A direct DSS becomes an object of its own. */
		p->dss.num = pdf_upd_new_num(&p->u);
		snprintf(ref, sizeof(ref), "%d 0 R", p->dss.num);
		if (pdf_dict_set(&p->cat, "/DSS", ref, err) != 0)
			goto out;
	}
	for (int i = 0; i < 3; i++) {
		if (dss_streams(p, lists[i], &refs[i], err) != 0)
			goto out;
		all.len = 0;
		if (sc_buf_append_str(&all, "[ ", err) != 0 ||
		    dss_old_items(p, keys[i], &all, err) != 0 ||
		    (refs[i].len > 0 &&
			sc_buf_append(&all, refs[i].p, refs[i].len, err) != 0) ||
		    sc_buf_append(&all, "]", 2, err) != 0)
			goto out;
		if (pdf_dict_set(&p->dss, keys[i], (char *)all.p, err) != 0)
			goto out;
	}
	/* /VRI (§5.4.2.2, optional): one entry per signature, keyed by
	 * the upper-case SHA-1 of its /Contents (padding included). */
	if (nvri > 0) {
		struct pdf_dict old;
		qpdf_oh v = qpdf_oh_get_key(q,
		    qpdf_oh_get_key(q, qpdf_get_root(q), "/DSS"), "/VRI");

		memset(&old, 0, sizeof(old));
		if (qpdf_oh_is_dictionary(q, v) &&
		    pdf_dict_load(&p->d, v, &old, err) != 0)
			goto out;
		for (size_t k = 0; k < nvri; k++) {
			vt.len = 0;
			if (sc_buf_append_str(&vt, "<< /Type /VRI", err) != 0)
				goto vout;
			for (int i = 0; i < 3; i++)
				if (refs[i].len > 0 &&
				    (sc_buf_printf(&vt, err, " %s [ ",
					 vkeys[i]) != 0 ||
					sc_buf_append(&vt, refs[i].p,
					    refs[i].len, err) != 0 ||
					sc_buf_append_str(&vt, "]", err) != 0))
					goto vout;
			if (sc_buf_append(&vt, " >>", 4, err) != 0)
				goto vout;
			{
				char key[42];

				snprintf(key, sizeof(key), "/%s", vri[k]);
				if (pdf_dict_get(&old, key) == NULL &&
				    pdf_dict_set(&old, key, (char *)vt.p,
					err) != 0)
					goto vout;
			}
		}
		all.len = 0;
		if (pdf_dict_text(&old, &all, err) != 0 ||
		    sc_buf_append(&all, "", 1, err) != 0 ||
		    pdf_dict_set(&p->dss, "/VRI", (char *)all.p, err) != 0)
			goto vout;
		pdf_dict_free(&old);
		goto vdone;
vout:
		pdf_dict_free(&old);
		goto out;
	}
vdone:
	p->dss.dirty = 1;
	if (write_dirty(p, err) != 0 || pdf_upd_finish(&p->u, err) != 0)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		sc_buf_free(&refs[i]);
	sc_buf_free(&all);
	sc_buf_free(&vt);
	return rc;
}

/* ------------------------------------------------------------------ */
/* B-LTA: the document time-stamp (EN 319 142-1 §5.4.3)                */

static int
doc_ts_update(struct pades *p, struct sig_out *so, struct sc_err *err)
{
	const struct sc_pades_opts *o = p->o;
	size_t reserve = o->tst_reserve != 0 ? o->tst_reserve
					     : SC_PADES_TST_RESERVE;
	struct sc_buf *t = p->u.tail;
	double rect[4] = {0, 0, 0, 0};
	struct page *pg;
	struct gap g;
	uint8_t md[32];
	int sig_num, field_num;

	if (o->tsa == NULL || o->tsa->fn == NULL)
		return sc_err_set(err, SC_E_USAGE,
		    "a document time-stamp needs a TSA");
	pg = get_page(p, 0, err);
	if (pg == NULL ||
	    new_field_name(p, "DocTimeStamp", so->field, sizeof(so->field),
		err) != 0)
		return -1;
	sig_num = pdf_upd_new_num(&p->u);
	field_num = pdf_upd_new_num(&p->u);
	/* No /M: the time is the token's (EN 319 142-1 §5.4.3). */
	if (pdf_upd_obj_begin(&p->u, sig_num, 0, err) != 0 ||
	    sc_buf_append_str(t, "<< /Type /DocTimeStamp /Filter "
		"/Adobe.PPKLite /SubFilter /ETSI.RFC3161", err) != 0 ||
	    write_gap(p, reserve, &g, err) != 0 ||
	    sc_buf_append_str(t, " >>", err) != 0 ||
	    pdf_upd_obj_end(&p->u, err) != 0 ||
	    write_field(p, field_num, sig_num, so->field, pg, rect, 0,
		err) != 0 ||
	    attach_field(p, pg, field_num, err) != 0 ||
	    write_dirty(p, err) != 0 || pdf_upd_finish(&p->u, err) != 0 ||
	    close_gap(p, &g, md, err) != 0)
		return -1;
	if (o->tsa->fn(o->tsa->arg, md, &so->der, &so->len, err) != 0)
		return -1;
	if (fill_gap(p, &g, so->der, so->len, err) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* LTV material of the signatures                                      */

struct bag {
	X509 **v;
	size_t n;
};

static void
bag_free(struct bag *b)
{
	for (size_t i = 0; i < b->n; i++)
		X509_free(b->v[i]);
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

static int
bag_add(struct bag *b, X509 *x, struct sc_err *err)
{
	X509 **nv;

	for (size_t i = 0; i < b->n; i++)
		if (X509_cmp(b->v[i], x) == 0)
			return 0;
	nv = realloc(b->v, (b->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	b->v = nv;
	if (X509_up_ref(x) != 1)
		return sc_err_set(err, SC_E_CRYPTO, "X509_up_ref");
	b->v[b->n++] = x;
	return 0;
}

/* The certificates of the CMS (or time-stamp token) @der. */
static int
bag_add_cms(struct bag *b, const uint8_t *der, size_t len, int *has_tst,
    struct sc_err *err)
{
	X509 **c = NULL;
	size_t n = 0;
	uint8_t *tst = NULL;
	size_t tl = 0;
	int rc = 0;

	if (sc_cms_certs(der, len, &c, &n, &tst, &tl, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && bag_add(b, c[i], err) != 0)
			rc = -1;
		X509_free(c[i]);
	}
	free(c);
	if (has_tst != NULL)
		*has_tst = tst != NULL;
	free(tst);
	return rc;
}

static int
collect_ltv(struct pades *p, struct bag *b, struct sc_ltv *l,
    struct sc_err *err)
{
	const struct sc_pades_opts *o = p->o;

	for (size_t i = 0; i < o->nltv_certs; i++)
		if (bag_add(b, o->ltv_certs[i], err) != 0)
			return -1;
	return sc_ltv_collect(b->v, b->n, o->ltv, l, err);
}

static void
vri_key(const uint8_t *contents, size_t len, char out[41])
{
	static const char hx[] = "0123456789ABCDEF";
	uint8_t h[20];

	/* EN 319 142-1 §5.4.2.2: SHA-1 of the /Contents bytes. */
	EVP_Digest(contents, len, h, NULL, EVP_sha1(), NULL);
	for (int i = 0; i < 20; i++) {
		out[2 * i] = hx[h[i] >> 4];
		out[2 * i + 1] = hx[h[i] & 15];
	}
	out[40] = '\0';
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */

/* Checks the size and hashes the whole input once, streaming: from
 * memory, or from the file in 4 MiB reads (the file is never loaded
 * whole, so the process stays small whatever the size). */
static EVP_MD_CTX *
hash_input(const struct sc_pades_doc *doc, const struct sc_pades_opts *o,
    uint8_t doc_sha256[32], struct sc_err *err)
{
	const size_t chunk = (size_t)4 << 20;
	size_t max = o->max_document != 0 ? o->max_document
					  : SC_PADES_MAX_DOCUMENT_DEFAULT;
	EVP_MD_CTX *c = NULL, *d = NULL;
	uint8_t *buf = NULL;
	unsigned int ml = 0;

	if (doc->len > max) {
		sc_err_set(err, SC_E_TOO_LARGE,
		    "the PDF (%zu bytes) is larger than the %zu bytes allowed",
		    doc->len, max);
		return NULL;
	}
	if (doc->p == NULL && doc->fd < 0) {
		sc_err_set(err, SC_E_INTERNAL, "no document");
		return NULL;
	}
	c = EVP_MD_CTX_new();
	d = EVP_MD_CTX_new();
	if (c == NULL || d == NULL ||
	    EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto fail;
	if (doc->p == NULL) {
		buf = malloc(chunk);
		if (buf == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		(void)posix_fadvise(doc->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	for (size_t off = 0; off < doc->len;) {
		size_t n = doc->len - off < chunk ? doc->len - off : chunk;

		if (doc->p != NULL) {
			if (EVP_DigestUpdate(c, doc->p + off, n) != 1)
				goto fail;
		} else {
			ssize_t r = pread(doc->fd, buf, n, (off_t)off);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				sc_err_set(err, SC_E_IO, "cannot read the "
				    "document: %s", r < 0 ? strerror(errno)
				    : "it got shorter");
				goto out;
			}
			n = (size_t)r;
			if (EVP_DigestUpdate(c, buf, n) != 1)
				goto fail;
		}
		off += n;
	}
	if (EVP_MD_CTX_copy_ex(d, c) != 1 ||
	    EVP_DigestFinal_ex(d, doc_sha256, &ml) != 1)
		goto fail;
	free(buf);
	EVP_MD_CTX_free(d);
	return c;
fail:
	sc_err_crypto(err, SC_E_CRYPTO, "cannot hash the document");
out:
	free(buf);
	EVP_MD_CTX_free(c);
	EVP_MD_CTX_free(d);
	return NULL;
}

static int
final_digest(EVP_MD_CTX *pre, const struct sc_buf *tail, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int ml = 0;
	int ok;

	ok = c != NULL && EVP_MD_CTX_copy_ex(c, pre) == 1 &&
	    EVP_DigestUpdate(c, tail->p, tail->len) == 1 &&
	    EVP_DigestFinal_ex(c, out, &ml) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/* B-LT and B-LTA after the signature or for an extension. */
static int
ltv_and_archive(struct pades *p, struct bag *b, char (*vri)[41], size_t nvri,
    int archive, struct sc_pades_result *res, struct sc_err *err)
{
	struct sc_ltv l;
	struct sig_out ts;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	memset(&ts, 0, sizeof(ts));
	if (collect_ltv(p, b, &l, err) != 0 ||
	    dss_update(p, &l, vri, nvri, err) != 0)
		goto out;
	if (archive && doc_ts_update(p, &ts, err) != 0)
		goto out;
	if (archive && res != NULL)
		snprintf(res->field, sizeof(res->field), "%s", ts.field);
	rc = 0;
out:
	sig_out_free(&ts);
	sc_ltv_free(&l);
	return rc;
}

int
sc_pades_sign(const struct sc_pades_signer *s, const struct sc_pades_doc *doc,
    const struct sc_pades_opts *o, struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err)
{
	struct sc_pades_result r;
	struct sc_cms_signer cs;
	struct pades p;
	struct sig_out so;
	struct bag b;
	EVP_MD_CTX *pre = NULL;
	EVP_PKEY *key = NULL, *pub = NULL;
	size_t reserve = 0;
	int rc = -1, tries;

	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	memset(&so, 0, sizeof(so));
	memset(&b, 0, sizeof(b));
	if (o->level >= SC_PADES_B_T && (o->tsa == NULL || o->tsa->fn == NULL))
		return sc_err_set(err, SC_E_USAGE,
		    "%s needs a time-stamping authority",
		    sc_pades_level_name(o->level));
	pre = hash_input(doc, o, r.doc_sha256, err);
	if (pre == NULL)
		goto out;
	key = sc_hsm_key_get1(s->hsm, s->key_alias, err);
	if (key == NULL)
		goto out;
	pub = sc_hsm_pubkey_get1(s->hsm, s->key_alias, err);
	if (pub == NULL)
		goto out;
	cs.key = key;
	cs.pub = pub;
	cs.cert = s->cert;
	cs.chain = s->chain;
	cs.nchain = s->nchain;
	cs.pss = s->pss;
	/* /Contents sized from the real CMS (a dry run, no HSM call) plus
	 * room for the signature time-stamp token. */
	if (sc_cms_size(&cs, &reserve, err) != 0)
		goto out;
	reserve += 64;
	if (o->level >= SC_PADES_B_T)
		reserve += o->tst_reserve != 0 ? o->tst_reserve
					       : SC_PADES_TST_RESERVE;
	for (tries = 0;; tries++) {
		int k;

		tail->len = 0;
		if (pades_load(&p, doc, o, pre, tail, err) != 0)
			goto out;
		k = sign_update(&p, &cs, reserve, &so, err);
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		if (tries >= 1) {
			sc_err_set(err, SC_E_INTERNAL,
			    "the signature (%zu bytes) does not fit the %zu "
			    "bytes reserved",
			    so.len, reserve);
			goto out;
		}
		/* The time-stamp was larger than foreseen: sign again in a
		 * larger placeholder (never truncate). */
		sc_log(SC_LOG_NOTICE, "pades: signature of %zu bytes over "
		    "the %zu reserved; signing again", so.len, reserve);
		reserve = so.len + 2048;
		sig_out_free(&so);
		pades_free(&p);
	}
	r.cms_len = so.len;
	r.reserved = so.clen;
	snprintf(r.field, sizeof(r.field), "%s", so.field);
	if (o->level >= SC_PADES_B_LT) {
		char vri[1][41];

		vri_key(so.contents, so.clen, vri[0]);
		if (bag_add(&b, s->cert, err) != 0)
			goto out;
		for (size_t i = 0; i < s->nchain; i++)
			if (bag_add(&b, s->chain[i], err) != 0)
				goto out;
		if (bag_add_cms(&b, so.der, so.len, NULL, err) != 0 ||
		    ltv_and_archive(&p, &b, vri, 1,
			o->level == SC_PADES_B_LTA, NULL, err) != 0)
			goto out;
	}
	r.revisions = p.u.revisions;
	if (final_digest(pre, tail, r.out_sha256) != 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "digest");
		goto out;
	}
	if (res != NULL)
		*res = r;
	rc = 0;
out:
	if (rc != 0)
		tail->len = 0; /* nothing to write */
	bag_free(&b);
	sig_out_free(&so);
	pades_free(&p);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	EVP_MD_CTX_free(pre);
	return rc;
}

int
sc_pades_extend(const struct sc_pades_doc *doc, const struct sc_pades_opts *o,
    struct sc_buf *tail, struct sc_pades_result *res, struct sc_err *err)
{
	struct sc_pades_result r;
	struct pades p;
	struct bag b;
	struct sig_out ts;
	char(*vri)[41] = NULL;
	EVP_MD_CTX *pre = NULL;
	size_t last = 0;
	int rc = -1, need_t = 0;

	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	memset(&b, 0, sizeof(b));
	memset(&ts, 0, sizeof(ts));
	if (o->level == SC_PADES_B_B)
		return sc_err_set(err, SC_E_USAGE,
		    "a signature is extended to B-T, B-LT or B-LTA");
	pre = hash_input(doc, o, r.doc_sha256, err);
	if (pre == NULL)
		goto out;
	tail->len = 0;
	if (pades_load(&p, doc, o, pre, tail, err) != 0)
		goto out;
	if (p.nsigs == 0) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the PDF holds no signature to extend");
		goto out;
	}
	vri = calloc(p.nsigs, sizeof(*vri));
	if (vri == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p.nsigs; i++) {
		struct oldsig *s = &p.sigs[i];

		if (bag_add_cms(&b, s->contents, s->len, &s->has_tst,
			err) != 0)
			goto out;
		vri_key(s->contents, s->len, vri[i]);
		if (s->end >= p.sigs[last].end)
			last = i;
	}
	/* B-T: the last signature needs a time-stamp, of its own or a
	 * document time-stamp over it (EN 319 142-1 §5.4.3). */
	need_t = !p.sigs[last].doc_ts && !p.sigs[last].has_tst;
	if (o->level == SC_PADES_B_T && !need_t) {
		sc_err_set(err, SC_E_CONFLICT,
		    "the signature already has a time-stamp (B-T)");
		goto out;
	}
	if (need_t && o->level < SC_PADES_B_LTA) {
		if (doc_ts_update(&p, &ts, err) != 0)
			goto out;
		snprintf(r.field, sizeof(r.field), "%s", ts.field);
		if (bag_add_cms(&b, ts.der, ts.len, NULL, err) != 0)
			goto out;
	}
	if (o->level >= SC_PADES_B_LT &&
	    ltv_and_archive(&p, &b, vri, p.nsigs, o->level == SC_PADES_B_LTA,
		&r, err) != 0)
		goto out;
	r.revisions = p.u.revisions;
	if (final_digest(pre, tail, r.out_sha256) != 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "digest");
		goto out;
	}
	if (res != NULL)
		*res = r;
	rc = 0;
out:
	if (rc != 0)
		tail->len = 0;
	free(vri);
	sig_out_free(&ts);
	bag_free(&b);
	pades_free(&p);
	EVP_MD_CTX_free(pre);
	return rc;
}
