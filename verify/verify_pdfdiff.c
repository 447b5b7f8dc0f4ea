/*
 * verify_pdfdiff.c: what an incremental update changed (first slice of
 * the difference analysis of pades-brief §3, after pyHanko's
 * StandardDiffPolicy and DSS's PdfModificationDetection).
 *
 * Two revisions (file prefixes ending at a %%EOF) are read with qpdf and
 * every object of the newer one is compared with the older one's. Each
 * changed or new object gets a kind:
 *   signature   signature dictionaries, /FT /Sig fields and their widgets
 *   dss         /DSS, /VRI and the streams they list (EN 319 142-1 §5.4)
 *   metadata    the Info dictionary, XMP metadata
 *   catalog     the catalog or AcroForm, with only exempt keys changed
 *   form-fill   a non-signature field's value or appearance
 *   annotation  a new or changed annotation other than a signature widget
 *   page        the page tree or a page (pages added or removed, content
 *               replaced), or a content stream, font or XObject the
 *               older revision's pages draw with, re-written in place:
 *               a visible change of the signed document
 *   undefined   anything else changed (shadow attacks land here)
 *   xref-mismatch  an xref entry of the update points at another object
 * New objects that are none of these (appearance streams, fonts) are
 * reachable only through a classified object, so they add nothing.
 *
 * Allowed: signature, dss, metadata, catalog, form-fill, annotation for an
 * approval signature (ISO 32000-1 §12.8.2: without DocMDP nothing is
 * forbidden, the changes are shown), except an annotation that paints
 * over the page (annot_paints); page and undefined are not.
 * Not yet: DocMDP /P and FieldMDP locks, per-path justification of
 * pre-existing objects, diffs against every later revision.
 */
#include <stdlib.h>
#include <string.h>

#include <qpdf/qpdf-c.h>

#include "verify_int.h"

#define DIFF_MAX_OBJECTS 100000
#define DIFF_MAX_DSS 4096
#define DIFF_MAX_DRAW 4096
#define DIFF_MAX_PAGES 10000
#define DIFF_MAX_DEPTH 32 /* /Parent chains, nested form XObjects */
#define DIFF_MAX_RES 256  /* entries read from one resource dictionary */

struct rev {
	qpdf_data q;
	int root, acroform, info, dss;
	int dssobj[DIFF_MAX_DSS]; /* objects listed by /DSS and /VRI */
	size_t ndss;
	int draw[DIFF_MAX_DRAW]; /* what the pages draw with (older rev.) */
	size_t ndraw;
	int res[DIFF_MAX_DRAW]; /* their resource dictionaries, indirect */
	size_t nres;
	int warned; /* qpdf recovered something while reading */
};

static void
rclear(qpdf_data q)
{
	if (qpdf_has_error(q))
		(void)qpdf_get_error(q);
}

static int
ref_id(qpdf_data q, qpdf_oh dict, const char *key)
{
	qpdf_oh v = qpdf_oh_get_key(q, dict, key);
	int id = qpdf_oh_is_indirect(q, v) ? qpdf_oh_get_object_id(q, v) : 0;

	qpdf_oh_release(q, v);
	return id;
}

static void
dss_add(struct rev *r, int id)
{
	if (id > 0 && r->ndss < DIFF_MAX_DSS)
		r->dssobj[r->ndss++] = id;
}

/* The objects a /DSS lists: /Certs /OCSPs /CRLs and the VRI entries. */
static void
dss_collect_arrays(struct rev *r, qpdf_oh d)
{
	static const char *keys[] = {"/Certs", "/OCSPs", "/CRLs", "/Cert",
	    "/OCSP", "/CRL", "/TS"};
	qpdf_data q = r->q;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		qpdf_oh a = qpdf_oh_get_key(q, d, keys[k]);

		if (qpdf_oh_is_indirect(q, a))
			dss_add(r, qpdf_oh_get_object_id(q, a));
		if (qpdf_oh_is_array(q, a)) {
			int n = qpdf_oh_get_array_n_items(q, a);

			for (int i = 0; i < n && i < DIFF_MAX_DSS; i++) {
				qpdf_oh it = qpdf_oh_get_array_item(q, a, i);

				if (qpdf_oh_is_indirect(q, it))
					dss_add(r,
					    qpdf_oh_get_object_id(q, it));
				qpdf_oh_release(q, it);
			}
		}
		qpdf_oh_release(q, a);
	}
}

static int
in_list(const int *l, size_t n, int id)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == id)
			return 1;
	return 0;
}

/* Adds indirect @o to the list @l (@n entries); 1 if it is new. */
static int
list_add(qpdf_data q, int *l, size_t *n, qpdf_oh o)
{
	int id;

	if (!qpdf_oh_is_indirect(q, o))
		return 0;
	id = qpdf_oh_get_object_id(q, o);
	if (id <= 0 || *n >= DIFF_MAX_DRAW || in_list(l, *n, id))
		return 0;
	l[(*n)++] = id;
	return 1;
}

/* An object the pages draw with. */
static int
draw_add(struct rev *r, qpdf_oh o)
{
	return list_add(r->q, r->draw, &r->ndraw, o);
}

/*
 * The fonts and XObjects a resource dictionary names (ISO 32000-1
 * §7.8.3), and what form XObjects draw in turn (§8.10), bounded. The
 * values are gathered before any recursion: qpdf has one dictionary
 * iterator per handle.
 */
static void
draw_resources(struct rev *r, qpdf_oh res, int depth)
{
	static const char *keys[] = {"/Font", "/XObject"};
	qpdf_data q = r->q;

	if (depth > DIFF_MAX_DEPTH || !qpdf_oh_is_dictionary(q, res))
		return;
	/* A shared dictionary is read once (pages share their parent's). */
	if (qpdf_oh_is_indirect(q, res) && !list_add(q, r->res, &r->nres, res))
		return;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		qpdf_oh d = qpdf_oh_get_key(q, res, keys[k]);
		qpdf_oh vals[DIFF_MAX_RES];
		size_t nv = 0;

		if (qpdf_oh_is_dictionary(q, d) &&
		    (!qpdf_oh_is_indirect(q, d) ||
			list_add(q, r->res, &r->nres, d))) {
			qpdf_oh_begin_dict_key_iter(q, d);
			while (qpdf_oh_dict_more_keys(q) && nv < DIFF_MAX_RES)
				vals[nv++] = qpdf_oh_get_key(q, d,
				    qpdf_oh_dict_next_key(q));
		}
		for (size_t i = 0; i < nv; i++) {
			if (draw_add(r, vals[i]) &&
			    qpdf_oh_is_stream(q, vals[i])) {
				qpdf_oh sd = qpdf_oh_get_dict(q, vals[i]);
				qpdf_oh sr =
				    qpdf_oh_get_key(q, sd, "/Resources");

				draw_resources(r, sr, depth + 1);
				qpdf_oh_release(q, sr);
				qpdf_oh_release(q, sd);
			}
			qpdf_oh_release(q, vals[i]);
		}
		qpdf_oh_release(q, d);
	}
}

/*
 * What the pages of this revision draw with: their content streams
 * (ISO 32000-1 §7.8.2) and, through their (inherited, §7.7.3.4)
 * resources, fonts and XObjects. Re-writing one of these objects in a
 * later update changes what a signed page shows while the page
 * dictionary stays the same.
 */
static void
draw_collect(struct rev *r)
{
	qpdf_data q = r->q;
	int np = qpdf_get_num_pages(q);

	for (int i = 0; i < np && i < DIFF_MAX_PAGES; i++) {
		qpdf_oh pg = qpdf_get_page_n(q, (size_t)i);
		qpdf_oh ct = qpdf_oh_get_key(q, pg, "/Contents");
		qpdf_oh node = pg, res = qpdf_oh_get_key(q, pg, "/Resources");

		draw_add(r, ct);
		if (qpdf_oh_is_array(q, ct)) {
			int n = qpdf_oh_get_array_n_items(q, ct);

			for (int k = 0; k < n && k < DIFF_MAX_DRAW; k++) {
				qpdf_oh it = qpdf_oh_get_array_item(q, ct, k);

				draw_add(r, it);
				qpdf_oh_release(q, it);
			}
		}
		for (int up = 0;
		     up < DIFF_MAX_DEPTH && !qpdf_oh_is_dictionary(q, res);
		     up++) {
			qpdf_oh parent = qpdf_oh_get_key(q, node, "/Parent");

			if (node != pg)
				qpdf_oh_release(q, node);
			node = parent;
			if (!qpdf_oh_is_dictionary(q, node))
				break;
			qpdf_oh_release(q, res);
			res = qpdf_oh_get_key(q, node, "/Resources");
		}
		if (node != pg)
			qpdf_oh_release(q, node);
		draw_resources(r, res, 0);
		qpdf_oh_release(q, res);
		qpdf_oh_release(q, ct);
		qpdf_oh_release(q, pg);
	}
	rclear(q);
}

static int
rev_open(struct rev *r, const uint8_t *doc, size_t len, int draw)
{
	qpdf_oh root, tr, dss, vri;
	qpdf_data q;
	QPDF_ERROR_CODE ec;

	memset(r, 0, sizeof(*r));
	if ((q = qpdf_init()) == NULL)
		return -1;
	r->q = q;
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	ec = qpdf_read_memory(q, "revision", (const char *)doc,
	    (unsigned long long)len, "");
	if (ec & QPDF_ERRORS)
		return -1;
	r->warned = (ec & QPDF_WARNINGS) != 0;
	root = qpdf_get_root(q);
	tr = qpdf_get_trailer(q);
	r->root = qpdf_oh_get_object_id(q, root);
	r->acroform = ref_id(q, root, "/AcroForm");
	r->info = ref_id(q, tr, "/Info");
	r->dss = ref_id(q, root, "/DSS");
	dss = qpdf_oh_get_key(q, root, "/DSS");
	if (qpdf_oh_is_dictionary(q, dss)) {
		dss_collect_arrays(r, dss);
		vri = qpdf_oh_get_key(q, dss, "/VRI");
		if (qpdf_oh_is_indirect(q, vri))
			dss_add(r, qpdf_oh_get_object_id(q, vri));
		if (qpdf_oh_is_dictionary(q, vri)) {
			qpdf_oh_begin_dict_key_iter(q, vri);
			while (qpdf_oh_dict_more_keys(q) &&
			    r->ndss < DIFF_MAX_DSS) {
				const char *k = qpdf_oh_dict_next_key(q);
				qpdf_oh e = qpdf_oh_get_key(q, vri, k);

				if (qpdf_oh_is_indirect(q, e))
					dss_add(r, qpdf_oh_get_object_id(q, e));
				if (qpdf_oh_is_dictionary(q, e))
					dss_collect_arrays(r, e);
				qpdf_oh_release(q, e);
			}
		}
	}
	rclear(q);
	if (draw)
		draw_collect(r);
	return 0;
}

static void
rev_close(struct rev *r)
{
	if (r->q != NULL)
		qpdf_cleanup(&r->q);
}

/* A malloc'd copy of the object's text, plus its raw stream data. */
static char *
obj_text(qpdf_data q, qpdf_oh o, size_t *len)
{
	const char *t = qpdf_oh_unparse_resolved(q, o);
	size_t tl = qpdf_get_last_string_length(q);
	unsigned char *data = NULL;
	size_t dl = 0;
	char *out;

	if (t == NULL)
		return NULL;
	if (qpdf_oh_is_stream(q, o) &&
	    (qpdf_oh_get_stream_data(q, o, qpdf_dl_none, NULL, &data, &dl) &
		QPDF_ERRORS)) {
		data = NULL;
		dl = 0;
	}
	if ((out = malloc(tl + dl + 1)) != NULL) {
		memcpy(out, t, tl);
		if (dl > 0)
			memcpy(out + tl, data, dl);
		*len = tl + dl;
	}
	free(data);
	rclear(q);
	return out;
}

static int
name_is(qpdf_data q, qpdf_oh d, const char *key, const char *val)
{
	qpdf_oh v = qpdf_oh_get_key(q, d, key);
	int r = qpdf_oh_is_name_and_equals(q, v, val);

	qpdf_oh_release(q, v);
	return r;
}

/* A field or widget of /FT /Sig (the type is inheritable, §12.7.3.1). */
static int
is_sig_field(qpdf_data q, qpdf_oh d)
{
	qpdf_oh p;
	int r;

	if (name_is(q, d, "/FT", "/Sig"))
		return 1;
	p = qpdf_oh_get_key(q, d, "/Parent");
	r = qpdf_oh_is_dictionary(q, p) && name_is(q, p, "/FT", "/Sig");
	qpdf_oh_release(q, p);
	return r;
}

/*
 * Keys of @a and @b that differ, other than those in @exempt.
 * @return 1 if some non-exempt key differs.
 */
static int
dict_differs(qpdf_data qa, qpdf_oh a, qpdf_data qb, qpdf_oh b,
    const char *const *exempt, size_t nex)
{
	int diff = 0;

	for (int pass = 0; pass < 2 && !diff; pass++) {
		qpdf_data qx = pass == 0 ? qa : qb, qy = pass == 0 ? qb : qa;
		qpdf_oh x = pass == 0 ? a : b, y = pass == 0 ? b : a;
		char keys[64][64];
		size_t nk = 0;

		qpdf_oh_begin_dict_key_iter(qx, x);
		while (qpdf_oh_dict_more_keys(qx) && nk < 64)
			snprintf(keys[nk++], sizeof(keys[0]), "%s",
			    qpdf_oh_dict_next_key(qx));
		for (size_t i = 0; i < nk && !diff; i++) {
			qpdf_oh vx, vy;
			char *sx;
			const char *sy;
			int ex = 0;

			for (size_t e = 0; e < nex; e++)
				if (strcmp(keys[i], exempt[e]) == 0)
					ex = 1;
			if (ex)
				continue;
			vx = qpdf_oh_get_key(qx, x, keys[i]);
			vy = qpdf_oh_get_key(qy, y, keys[i]);
			sx = strdup(qpdf_oh_unparse(qx, vx));
			sy = qpdf_oh_unparse(qy, vy);
			if (sx == NULL || sy == NULL || strcmp(sx, sy) != 0)
				diff = 1;
			free(sx);
			qpdf_oh_release(qx, vx);
			qpdf_oh_release(qy, vy);
		}
	}
	rclear(qa);
	rclear(qb);
	return diff;
}

/*
 * Does a key of dictionary @a name something else in @b, or nothing?
 * Keys added in @b do not count: a new resource name is drawn only by
 * new content, which is judged on its own.
 */
static int
keys_repointed(qpdf_data qa, qpdf_oh a, qpdf_data qb, qpdf_oh b)
{
	char keys[DIFF_MAX_RES][64];
	size_t nk = 0;
	int diff = 0;

	if (!qpdf_oh_is_dictionary(qa, a) || !qpdf_oh_is_dictionary(qb, b))
		return 1;
	qpdf_oh_begin_dict_key_iter(qa, a);
	while (qpdf_oh_dict_more_keys(qa) && nk < DIFF_MAX_RES)
		snprintf(keys[nk++], sizeof(keys[0]), "%s",
		    qpdf_oh_dict_next_key(qa));
	for (size_t i = 0; i < nk && !diff; i++) {
		qpdf_oh va = qpdf_oh_get_key(qa, a, keys[i]);
		qpdf_oh vb = qpdf_oh_get_key(qb, b, keys[i]);
		char *sa = strdup(qpdf_oh_unparse(qa, va));
		const char *sb = qpdf_oh_unparse(qb, vb);

		if (sa == NULL || sb == NULL || strcmp(sa, sb) != 0)
			diff = 1;
		free(sa);
		qpdf_oh_release(qa, va);
		qpdf_oh_release(qb, vb);
	}
	rclear(qa);
	rclear(qb);
	return diff;
}

static int
in_dss(const struct rev *r, int id)
{
	return in_list(r->dssobj, r->ndss, id);
}

/*
 * Does this annotation draw on the page (ISO 32000-1 §12.5)? Not when
 * its flags hide it (Hidden, NoView: §12.5.3) or its /Rect is empty.
 * Otherwise it does when it brings a normal appearance (§12.5.5), which
 * may paint anything inside /Rect; without one, viewers draw a text note
 * as an icon and a link or a pop-up as nothing that hides content, and
 * the other types as the shape or text they describe.
 */
static int
annot_paints(qpdf_data q, qpdf_oh d)
{
	qpdf_oh f = qpdf_oh_get_key(q, d, "/F");
	qpdf_oh rect = qpdf_oh_get_key(q, d, "/Rect");
	qpdf_oh ap = qpdf_oh_get_key(q, d, "/AP");
	qpdf_oh n = qpdf_oh_get_key(q, ap, "/N");
	long long flags =
	    qpdf_oh_is_integer(q, f) ? qpdf_oh_get_int_value(q, f) : 0;
	double v[4] = {0, 0, 0, 0};
	int paints = 1;

	if (qpdf_oh_is_array(q, rect) &&
	    qpdf_oh_get_array_n_items(q, rect) == 4) {
		for (int i = 0; i < 4; i++) {
			qpdf_oh it = qpdf_oh_get_array_item(q, rect, i);

			if (qpdf_oh_is_number(q, it))
				v[i] = qpdf_oh_get_numeric_value(q, it);
			qpdf_oh_release(q, it);
		}
	}
	if ((flags & (2 | 32)) != 0 || v[0] == v[2] || v[1] == v[3])
		paints = 0;
	else if (!qpdf_oh_is_stream(q, n) && !qpdf_oh_is_dictionary(q, n) &&
	    (name_is(q, d, "/Subtype", "/Text") ||
		name_is(q, d, "/Subtype", "/Link") ||
		name_is(q, d, "/Subtype", "/Popup")))
		paints = 0;
	qpdf_oh_release(q, n);
	qpdf_oh_release(q, ap);
	qpdf_oh_release(q, rect);
	qpdf_oh_release(q, f);
	rclear(q);
	return paints;
}

/* Classifies object @id that differs between @a (@oa, or none when
 * !exists) and @b (@ob). */
static struct ver_mod
classify(struct rev *a, struct rev *b, int id, int exists, qpdf_oh oa,
    qpdf_oh ob)
{
	static const char *root_exempt[] = {"/AcroForm", "/DSS", "/Extensions",
	    "/Metadata", "/MarkInfo", "/Version", "/Perms"};
	static const char *af_exempt[] = {"/Fields", "/DR", "/DA", "/Q",
	    "/NeedAppearances", "/SigFlags"};
	static const char *page_exempt[] = {"/Annots"};
	/* Keys whose change alters what a page shows. */
	static const char *page_visual_exempt[] = {"/Annots", "/Resources",
	    "/StructParents", "/Tabs", "/AA", "/PieceInfo", "/LastModified"};
	static const char *pages_exempt[] = {"/Type", "/Parent", "/Resources",
	    "/MediaBox", "/CropBox", "/Rotate", "/ITXT"};
	qpdf_data qb = b->q;
	qpdf_oh d = qpdf_oh_is_stream(qb, ob) ? qpdf_oh_get_dict(qb, ob) : ob;
	struct ver_mod m = {"undefined", 0};

	if (!qpdf_oh_is_dictionary(qb, d)) {
		if (!exists)
			m = (struct ver_mod){NULL, 1}; /* new, reached only
							  through others */
		else if (in_dss(b, id))
			m = (struct ver_mod){"dss", 1};
		return m;
	}
	if (name_is(qb, d, "/Type", "/XRef") ||
	    name_is(qb, d, "/Type", "/ObjStm"))
		return (struct ver_mod){NULL, 1};
	/* A content stream, font or XObject of a page re-written in place
	 * (same object number): the page dictionary is unchanged but what
	 * it shows is not (ISO 32000-1 §7.8.2; shadow "replace via
	 * overwrite", Mainka et al., NDSS 2021). */
	if (exists && in_list(a->draw, a->ndraw, id))
		return (struct ver_mod){"page", 0};
	/* A resource name of such a page re-pointed (shadow "replace via
	 * overlay"): the same, through its resource dictionary (§7.8.3). */
	if (exists && in_list(a->res, a->nres, id) &&
	    keys_repointed(a->q, oa, qb, ob))
		return (struct ver_mod){"page", 0};
	if (name_is(qb, d, "/Type", "/Sig") ||
	    name_is(qb, d, "/Type", "/DocTimeStamp"))
		return (struct ver_mod){"signature", !exists};
	if (id == b->dss || in_dss(b, id) || name_is(qb, d, "/Type", "/DSS") ||
	    name_is(qb, d, "/Type", "/VRI"))
		return (struct ver_mod){"dss", 1};
	if (id == b->info || name_is(qb, d, "/Type", "/Metadata"))
		return (struct ver_mod){"metadata", 1};
	if (id == b->root && exists)
		return (struct ver_mod){"catalog",
		    !dict_differs(a->q, oa, qb, ob, root_exempt,
			sizeof(root_exempt) / sizeof(root_exempt[0]))};
	if (id == b->acroform && exists)
		return (struct ver_mod){"catalog",
		    !dict_differs(a->q, oa, qb, ob, af_exempt,
			sizeof(af_exempt) / sizeof(af_exempt[0]))};
	if (is_sig_field(qb, d)) {
		/* SigFieldModificationRule: a field signed before may not
		 * get another value. */
		if (exists && qpdf_oh_is_dictionary(a->q, oa)) {
			qpdf_oh v = qpdf_oh_get_key(a->q, oa, "/V");
			int signed_before = qpdf_oh_is_dictionary(a->q, v);

			qpdf_oh_release(a->q, v);
			if (signed_before &&
			    dict_differs(a->q, oa, qb, ob, NULL, 0))
				return (struct ver_mod){"signature", 0};
		}
		return (struct ver_mod){"signature", 1};
	}
	if (name_is(qb, d, "/Type", "/Pages")) {
		/* /Kids and /Count: pages added or removed. */
		if (!exists ||
		    dict_differs(a->q, oa, qb, ob, pages_exempt,
			sizeof(pages_exempt) / sizeof(pages_exempt[0])))
			return (struct ver_mod){"page", 0};
		return m;
	}
	if (name_is(qb, d, "/Type", "/Page")) {
		/* New annotations are fine; new content is a visible
		 * change; new resources are unexplained (shadow attacks
		 * redefine what a page's content draws). */
		if (!exists ||
		    dict_differs(a->q, oa, qb, ob, page_visual_exempt,
			sizeof(page_visual_exempt) /
			    sizeof(page_visual_exempt[0])))
			return (struct ver_mod){"page", 0};
		if (dict_differs(a->q, oa, qb, ob, page_exempt, 1))
			return m;
		return (struct ver_mod){"annotation", 1};
	}
	if (qpdf_oh_has_key(qb, d, "/FT") || qpdf_oh_has_key(qb, d, "/Parent"))
		return (struct ver_mod){"form-fill", 1};
	/* An annotation that paints over the signed page can hide or
	 * replace what was signed (the evil annotation attack, Rohlmann et
	 * al., IEEE S&P 2021): not allowed here; DocMDP P=3 allows it
	 * (verify_pdf.c). A text note or a link is. */
	if (name_is(qb, d, "/Type", "/Annot") ||
	    (qpdf_oh_has_key(qb, d, "/Subtype") &&
		qpdf_oh_has_key(qb, d, "/Rect")))
		return (struct ver_mod){"annotation", !annot_paints(qb, d)};
	if (!exists)
		return (struct ver_mod){NULL, 1};
	return m;
}

/*
 * The classic xref table of the update in [@start, @end): every in-use
 * entry must point at "N G obj" of the object it declares (ISO 32000-1
 * §7.5.4). An entry aimed at another object makes readers show that one
 * instead: the shadow "hide via referenced object" attack. Xref streams
 * are left to qpdf.
 * @return 1 consistent (or not a table), 0 an entry is inconsistent.
 */
/* Reads a decimal integer at *pp (below @e), skipping white space
 * before it. @return 0 and advances *pp, or -1. Bounded: the document
 * is not NUL-terminated, so no strtol. */
static int
read_uint(const uint8_t **pp, const uint8_t *e, size_t *out)
{
	const uint8_t *q = *pp;
	size_t v = 0;
	int nd = 0;

	while (q < e && (*q == ' ' || *q == '\r' || *q == '\n' || *q == '\t'))
		q++;
	for (; q < e && *q >= '0' && *q <= '9' && nd < 15; q++, nd++)
		v = v * 10 + (size_t)(*q - '0');
	if (nd == 0 || (q < e && *q >= '0' && *q <= '9'))
		return -1;
	*pp = q;
	*out = v;
	return 0;
}

static int
xref_consistent(const uint8_t *doc, size_t start, size_t end)
{
	const uint8_t *p = doc + start, *e = doc + end, *sx = NULL, *q;
	size_t off, first, cnt;

	/* The last startxref of the update. */
	for (q = p; q + 9 <= e; q++)
		if (memcmp(q, "startxref", 9) == 0)
			sx = q;
	if (sx == NULL)
		return 1;
	q = sx + 9;
	if (read_uint(&q, e, &off) != 0 || off < start || off + 4 > end ||
	    memcmp(doc + off, "xref", 4) != 0)
		return 1;
	q = doc + off + 4;
	for (;;) {
		if (read_uint(&q, e, &first) != 0)
			break; /* "trailer" */
		if (read_uint(&q, e, &cnt) != 0 || cnt > 100000)
			return 1;
		for (size_t i = 0; i < cnt; i++) {
			const uint8_t *o8;
			size_t o, gen, num;
			uint8_t type;

			/* "oooooooooo ggggg n": read by tokens. §7.5.4 makes
			 * every entry 20 bytes, but readers also take the
			 * 19-byte form ("n" and one EOL byte); a fixed stride
			 * would let such an entry escape this check. */
			if (read_uint(&q, e, &o) != 0 ||
			    read_uint(&q, e, &gen) != 0)
				return 1;
			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= e || (*q != 'n' && *q != 'f'))
				return 1;
			type = *q++;
			if (type != 'n' || o >= end)
				continue;
			/* "N G obj" at the offset, N = first + i. */
			o8 = doc + o;
			if (read_uint(&o8, e, &num) != 0 || num != first + i)
				return 0;
		}
	}
	return 1;
}

/* The value after the last "startxref" in doc[start, end), or 0. */
static size_t
last_startxref(const uint8_t *doc, size_t start, size_t end)
{
	const uint8_t *sx = NULL, *q;
	size_t off = 0;

	for (q = doc + start; q + 9 <= doc + end; q++)
		if (memcmp(q, "startxref", 9) == 0)
			sx = q;
	if (sx == NULL)
		return 0;
	q = sx + 9;
	if (read_uint(&q, doc + end, &off) != 0)
		return 0;
	return off;
}

/*
 * Marks in @listed (@size entries) the objects that the update
 * doc[old_end, new_end) defines or frees, when the update is plain: one
 * classic xref table (ISO 32000-1 §7.5.4) at its startxref, followed by
 * a trailer whose /Prev is the older revision's startxref, and no xref
 * stream anywhere in it. Then every object it does not list resolves to
 * the same bytes in both revisions (§7.5.6) and need not be compared:
 * unchanged images are not decoded twice.
 * @return 1 when @listed can be trusted, 0 to compare every object.
 */
static int
update_listed(const uint8_t *doc, size_t old_end, size_t new_end,
    unsigned char *listed, size_t size)
{
	const uint8_t *e = doc + new_end, *q;
	size_t off = last_startxref(doc, old_end, new_end), prev = 0;
	size_t first, cnt, old_sx = last_startxref(doc, 0, old_end);

	if (off < old_end || off + 4 > new_end || old_sx == 0 ||
	    memcmp(doc + off, "xref", 4) != 0 ||
	    memmem(doc + old_end, new_end - old_end, "/XRefStm", 8) != NULL ||
	    memmem(doc + old_end, new_end - old_end, "/XRef", 5) != NULL)
		return 0;
	q = doc + off + 4;
	for (;;) {
		if (read_uint(&q, e, &first) != 0)
			break;
		if (read_uint(&q, e, &cnt) != 0 || cnt > DIFF_MAX_OBJECTS)
			return 0;
		for (size_t i = 0; i < cnt; i++) {
			size_t o, gen;

			if (read_uint(&q, e, &o) != 0 ||
			    read_uint(&q, e, &gen) != 0)
				return 0;
			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q >= e || (*q != 'n' && *q != 'f'))
				return 0;
			q++;
			if (first + i < size)
				listed[first + i] = 1;
		}
	}
	while (q < e && (*q == ' ' || *q == '\r' || *q == '\n' || *q == '\t'))
		q++;
	if ((size_t)(e - q) < 7 || memcmp(q, "trailer", 7) != 0)
		return 0;
	/* /Prev of this trailer (§7.5.5), within its dictionary. */
	{
		const uint8_t *t = q + 7, *end = memmem(t, (size_t)(e - t),
					       "startxref", 9);
		const uint8_t *pv;

		if (end == NULL)
			return 0;
		pv = memmem(t, (size_t)(end - t), "/Prev", 5);
		if (pv == NULL ||
		    memmem(pv + 5, (size_t)(end - pv - 5), "/Prev", 5) != NULL)
			return 0;
		pv += 5;
		if (read_uint(&pv, end, &prev) != 0 || prev != old_sx)
			return 0;
	}
	return 1;
}

int
ver_pdf_diff(const uint8_t *doc, size_t old_end, size_t new_end,
    struct ver_mod *out, size_t max, size_t *n)
{
	struct rev *a = NULL, *b = NULL;
	unsigned char *listed = NULL;
	qpdf_oh tr, sz;
	long long size;
	int rc = -1, plain;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		goto out;
	if (rev_open(a, doc, old_end, 1) != 0 ||
	    rev_open(b, doc, new_end, 0) != 0)
		goto out;
	tr = qpdf_get_trailer(b->q);
	sz = qpdf_oh_get_key(b->q, tr, "/Size");
	size =
	    qpdf_oh_is_integer(b->q, sz) ? qpdf_oh_get_int_value(b->q, sz) : 0;
	if (size <= 0 || size > DIFF_MAX_OBJECTS)
		goto out;
	if (!xref_consistent(doc, old_end, new_end) && *n < max)
		out[(*n)++] = (struct ver_mod){"xref-mismatch", 0};
	if ((listed = calloc((size_t)size, 1)) == NULL)
		goto out;
	plain = !a->warned && !b->warned &&
	    update_listed(doc, old_end, new_end, listed, (size_t)size);
	for (int id = 1; id < (int)size; id++) {
		if (plain && !listed[id])
			continue; /* same bytes in both revisions */
		qpdf_oh oa = qpdf_get_object_by_id(a->q, id, 0);
		qpdf_oh ob = qpdf_get_object_by_id(b->q, id, 0);
		int ea = !qpdf_oh_is_null(a->q, oa);
		int eb = !qpdf_oh_is_null(b->q, ob);
		char *ta = NULL, *tb = NULL;
		size_t la = 0, lb = 0;
		struct ver_mod m = {NULL, 1};

		if (!eb && ea)
			m = (struct ver_mod){"undefined", 0}; /* deleted */
		else if (eb) {
			ta = ea ? obj_text(a->q, oa, &la) : NULL;
			tb = obj_text(b->q, ob, &lb);
			if (!ea || ta == NULL || tb == NULL || la != lb ||
			    memcmp(ta, tb, la) != 0)
				m = classify(a, b, id, ea, oa, ob);
		}
		free(ta);
		free(tb);
		qpdf_oh_release(a->q, oa);
		qpdf_oh_release(b->q, ob);
		rclear(a->q);
		rclear(b->q);
		if (m.kind == NULL)
			continue;
		/* One entry per kind and verdict. */
		{
			size_t i;

			for (i = 0; i < *n; i++)
				if (strcmp(out[i].kind, m.kind) == 0 &&
				    out[i].allowed == m.allowed)
					break;
			if (i == *n && *n < max)
				out[(*n)++] = m;
		}
	}
	rc = 0;
out:
	if (a != NULL)
		rev_close(a);
	if (b != NULL)
		rev_close(b);
	free(a);
	free(b);
	free(listed);
	return rc;
}
