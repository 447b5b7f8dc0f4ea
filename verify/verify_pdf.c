/*
 * verify_pdf.c: PAdES. The object structure is read with qpdf (its C
 * API); every byte-level check is done on the raw file (pades-brief §3):
 *
 *  - signatures are the /V dictionaries of /FT /Sig fields reached from
 *    /Root /AcroForm /Fields through /Kids (ISO 32000-1 §12.7.3.1,
 *    §12.8.1); /Type /DocTimeStamp or /SubFilter /ETSI.RFC3161 marks a
 *    document time-stamp (ISO 32000-2 §12.8.5, EN 319 142-1 §5.4);
 *  - /ByteRange is exactly [0 b c d] with b < c and c + d <= file size,
 *    and the gap [b, c) is exactly this dictionary's hex /Contents:
 *    '<' at b, '>' at c - 1, hex digits only, decoding to the string qpdf
 *    parsed (ISO 32000-1 §12.8.1; attacks USF/SWA of the CCS 2019 paper);
 *  - coverage: the signed bytes end at the file's end (whole-document)
 *    or at an earlier %%EOF (partial: later incremental updates exist);
 *  - the CMS is checked over the two ranges by verify_cms.c.
 *
 * Not yet: the difference analysis of later revisions (which changes are
 * allowed, DocMDP/FieldMDP), /Sig dictionaries unreachable from /Fields,
 * and the /DSS dictionary contents.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <qpdf/qpdf-c.h>

#include "verify_int.h"

#define PDF_MAX_FIELDS 4096
#define PDF_MAX_DEPTH 32
#define PDF_MAX_EOFS 1024
#define PDF_MAX_REVISIONS 64
#define PDF_MAX_ORPHANS 8

struct pdf_sig {
	int objid; /* of the signature dictionary, 0 if direct */
	long long br[4];
	int br_n;           /* entries in /ByteRange */
	int br_ok;          /* the ByteRange checks all passed */
	const char *br_why; /* first failed check */
	size_t end;         /* br[2] + br[3] when in bounds */
	uint8_t *contents;  /* /Contents as qpdf parsed it */
	size_t clen;
	char subfilter[64];
	int doc_ts;
	char m[32];     /* /M as RFC 3339, or "" */
	int ts_idx;     /* index in the report's doc_ts, or -1 */
	int in_last;    /* reachable in the last revision */
	int docmdp;     /* certification: DocMDP /P (1..3), or 0 */
	char field[64]; /* the field's /T */
};

struct pdf_walk {
	qpdf_data q;
	struct pdf_sig *sigs;
	size_t nsigs;
	int seen[PDF_MAX_FIELDS];
	size_t nseen;
	int nomem;
	int last; /* scanning the whole file (last revision) */
	int orphans[PDF_MAX_ORPHANS]; /* unreachable signature dicts */
	size_t norphans;
};

/* ISO 32000-1 §7.9.4: D:YYYYMMDDHHmmSSOHH'mm' -> RFC 3339 UTC. */
static void
pdf_date(const char *s, size_t n, char out[32])
{
	struct tm tm = {0};
	int f[6] = {0, 1, 1, 0, 0, 0}, w[6] = {4, 2, 2, 2, 2, 2};
	size_t i = 0;
	long off = 0;
	time_t t;

	out[0] = '\0';
	if (n >= 2 && s[0] == 'D' && s[1] == ':')
		i = 2;
	for (int k = 0; k < 6 && i < n; k++) {
		int v = 0;

		for (int j = 0; j < w[k]; j++, i++) {
			if (i >= n || s[i] < '0' || s[i] > '9')
				return;
			v = v * 10 + (s[i] - '0');
		}
		f[k] = v;
	}
	if (i < n && (s[i] == '+' || s[i] == '-') && i + 3 <= n) {
		int sign = s[i] == '-' ? -1 : 1;
		int hh = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		int mm = 0;

		if (i + 7 <= n && s[i + 3] == '\'')
			mm = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
		if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
			return;
		off = sign * (hh * 3600L + mm * 60L);
	}
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 60)
		return;
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	t = timegm(&tm) - off;
	if (gmtime_r(&t, &tm) == NULL)
		return;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
qclear(qpdf_data q)
{
	if (qpdf_has_error(q))
		(void)qpdf_get_error(q);
}

/* Reads a signature dictionary's entries through qpdf. The same
 * dictionary seen from several fields or revisions is kept once (same
 * /ByteRange and /Contents). */
static void
read_sig_dict(struct pdf_walk *w, qpdf_oh v, const char *field)
{
	qpdf_data q = w->q;
	struct pdf_sig t, *n;
	qpdf_oh br, ct, sf, ty, m, ref;
	const char *str;
	size_t len = 0;

	memset(&t, 0, sizeof(t));
	snprintf(t.field, sizeof(t.field), "%s", field);
	t.objid = qpdf_oh_get_object_id(q, v);
	t.ts_idx = -1;
	t.in_last = w->last;
	br = qpdf_oh_get_key(q, v, "/ByteRange");
	if (qpdf_oh_is_array(q, br)) {
		t.br_n = qpdf_oh_get_array_n_items(q, br);
		for (int i = 0; i < t.br_n && i < 4; i++) {
			qpdf_oh it = qpdf_oh_get_array_item(q, br, i);

			if (!qpdf_oh_is_integer(q, it)) {
				t.br_n = -1;
				break;
			}
			t.br[i] = qpdf_oh_get_int_value(q, it);
		}
	}
	ct = qpdf_oh_get_key(q, v, "/Contents");
	str = NULL;
	if (qpdf_oh_is_string(q, ct)) {
		str = qpdf_oh_get_binary_string_value(q, ct, &len);
		if (str == NULL || len == 0 || len > 16 * 1024 * 1024)
			str = NULL;
	}
	for (size_t i = 0; i < w->nsigs; i++) {
		struct pdf_sig *o = &w->sigs[i];
		int same;

		if (o->br_n != t.br_n || memcmp(o->br, t.br, sizeof(t.br)) != 0)
			continue;
		/* Without a /Contents (USF, pades-brief §3) the same
		 * dictionary is known by its object number. */
		if (str != NULL)
			same = o->clen == len &&
			    memcmp(o->contents, str, len) == 0;
		else
			same = o->contents == NULL && t.objid != 0 &&
			    o->objid == t.objid;
		if (same) {
			o->in_last |= w->last;
			qclear(q);
			return;
		}
	}
	if (str != NULL) {
		if ((t.contents = malloc(len)) == NULL) {
			w->nomem = 1;
			return;
		}
		memcpy(t.contents, str, len);
		t.clen = len;
	}
	sf = qpdf_oh_get_key(q, v, "/SubFilter");
	if (qpdf_oh_is_name(q, sf))
		snprintf(t.subfilter, sizeof(t.subfilter), "%s",
		    qpdf_oh_get_name(q, sf));
	ty = qpdf_oh_get_key(q, v, "/Type");
	if (qpdf_oh_is_name_and_equals(q, ty, "/DocTimeStamp") ||
	    strcmp(t.subfilter, "/ETSI.RFC3161") == 0)
		t.doc_ts = 1;
	/* ISO 32000-1 §12.8.2.2: a certification signature carries a
	 * DocMDP transform; /P defaults to 2. */
	ref = qpdf_oh_get_key(q, v, "/Reference");
	if (qpdf_oh_is_array(q, ref)) {
		int nref = qpdf_oh_get_array_n_items(q, ref);

		for (int i = 0; i < nref && i < 16; i++) {
			qpdf_oh r = qpdf_oh_get_array_item(q, ref, i);
			qpdf_oh tm = qpdf_oh_get_key(q, r, "/TransformMethod");

			if (qpdf_oh_is_name_and_equals(q, tm, "/DocMDP")) {
				qpdf_oh tp =
				    qpdf_oh_get_key(q, r, "/TransformParams");
				qpdf_oh pp = qpdf_oh_get_key(q, tp, "/P");
				long long pv = qpdf_oh_is_integer(q, pp)
				    ? qpdf_oh_get_int_value(q, pp)
				    : 2;

				t.docmdp = pv >= 1 && pv <= 3 ? (int)pv : 1;
			}
		}
	}
	m = qpdf_oh_get_key(q, v, "/M");
	if (qpdf_oh_is_string(q, m)) {
		str = qpdf_oh_get_binary_string_value(q, m, &len);
		if (str != NULL)
			pdf_date(str, len, t.m);
	}
	qclear(q);
	if (w->nsigs >= SC_VER_MAX_SIGNATURES ||
	    (n = realloc(w->sigs, (w->nsigs + 1) * sizeof(*n))) == NULL) {
		if (w->nsigs < SC_VER_MAX_SIGNATURES)
			w->nomem = 1;
		free(t.contents);
		return;
	}
	w->sigs = n;
	w->sigs[w->nsigs++] = t;
}

/* ISO 32000-1 §12.7.3.1: fields form a tree through /Kids; /FT is
 * inheritable. Loops and depth are bounded. */
static void
walk_field(struct pdf_walk *w, qpdf_oh f, int depth, int sig_ft)
{
	qpdf_data q = w->q;
	qpdf_oh ft, kids, v;
	int id, n;

	if (depth > PDF_MAX_DEPTH || w->nseen >= PDF_MAX_FIELDS || w->nomem)
		return;
	if (!qpdf_oh_is_dictionary(q, f))
		return;
	id = qpdf_oh_get_object_id(q, f);
	if (id != 0) {
		for (size_t i = 0; i < w->nseen; i++)
			if (w->seen[i] == id)
				return;
	}
	w->seen[w->nseen++] = id;
	ft = qpdf_oh_get_key(q, f, "/FT");
	if (qpdf_oh_is_name(q, ft))
		sig_ft = qpdf_oh_is_name_and_equals(q, ft, "/Sig");
	if (sig_ft) {
		qpdf_oh t = qpdf_oh_get_key(q, f, "/T");
		char name[64] = "";

		/* The field's partial name, as the user sees it. */
		if (qpdf_oh_is_string(q, t))
			snprintf(name, sizeof(name), "%s",
			    qpdf_oh_get_utf8_value(q, t));
		v = qpdf_oh_get_key(q, f, "/V");
		if (qpdf_oh_is_dictionary(q, v))
			read_sig_dict(w, v, name);
	}
	kids = qpdf_oh_get_key(q, f, "/Kids");
	if (qpdf_oh_is_array(q, kids)) {
		n = qpdf_oh_get_array_n_items(q, kids);
		for (int i = 0; i < n && i < PDF_MAX_FIELDS; i++)
			walk_field(w, qpdf_oh_get_array_item(q, kids, i),
			    depth + 1, sig_ft);
	}
	qclear(q);
}

static int
hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The byte-level checks 1 and 2 of pades-brief §3 (ISO 32000-1
 * §12.8.1). On success the raw hex decodes into s->contents' place. */
static void
check_byte_range(struct pdf_sig *s, const uint8_t *doc, size_t len,
    int encrypted)
{
	long long a, b, cc, d;
	size_t gap, hexn;
	uint8_t *raw = NULL;

	s->br_ok = 0;
	if (s->br_n != 4) {
		s->br_why = "/ByteRange is not an array of 4 integers";
		return;
	}
	a = s->br[0];
	b = s->br[1];
	cc = s->br[2];
	d = s->br[3];
	if (a != 0 || b <= 0 || cc <= b || d < 0) {
		s->br_why = "/ByteRange is not [0 b c d] with 0 < b < c";
		return;
	}
	if ((unsigned long long)cc > len || (unsigned long long)d > len ||
	    (unsigned long long)(cc + d) > len) {
		s->br_why = "/ByteRange points outside the file";
		return;
	}
	s->end = (size_t)(cc + d);
	if (doc[b] != '<' || doc[cc - 1] != '>') {
		s->br_why = "the /ByteRange gap is not a hex string";
		return;
	}
	gap = (size_t)(cc - b);
	hexn = gap - 2;
	if (hexn % 2 != 0 || hexn == 0) {
		s->br_why = "the /ByteRange gap holds an odd number of hex "
			    "digits";
		return;
	}
	if ((raw = malloc(hexn / 2)) == NULL) {
		s->br_why = "out of memory";
		return;
	}
	for (size_t i = 0; i < hexn; i += 2) {
		int hi = hexval(doc[(size_t)b + 1 + i]);
		int lo = hexval(doc[(size_t)b + 2 + i]);

		if (hi < 0 || lo < 0) {
			s->br_why = "the /ByteRange gap holds more than the "
				    "hex /Contents (signature wrapping)";
			free(raw);
			return;
		}
		raw[i / 2] = (uint8_t)(hi * 16 + lo);
	}
	/* The gap must be THIS dictionary's /Contents. An encrypted file's
	 * strings are decrypted by qpdf, /Contents never was encrypted
	 * (ISO 32000-1 §7.6.1), so compare only in clear files. */
	if (!encrypted &&
	    (s->contents == NULL || s->clen != hexn / 2 ||
		memcmp(s->contents, raw, s->clen) != 0)) {
		s->br_why = "the /ByteRange gap is not this signature's "
			    "/Contents";
		free(raw);
		return;
	}
	free(s->contents);
	s->contents = raw;
	s->clen = hexn / 2;
	s->br_ok = 1;
}

static int
sig_cmp(const void *x, const void *y)
{
	const struct pdf_sig *a = x, *b = y;

	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return a->objid < b->objid ? -1 : a->objid > b->objid;
}

/* Ends of the revisions: just past each "%%EOF" and its EOL. */
static size_t
find_eofs(const uint8_t *doc, size_t len, size_t *eofs, size_t max)
{
	size_t n = 0;
	const uint8_t *p = doc, *e = doc + len;

	while (n < max && p < e) {
		const uint8_t *f = memmem(p, (size_t)(e - p), "%%EOF", 5);
		size_t end;

		if (f == NULL)
			break;
		end = (size_t)(f - doc) + 5;
		if (end < len && doc[end] == '\r')
			end++;
		if (end < len && doc[end] == '\n')
			end++;
		eofs[n++] = end;
		p = f + 5;
	}
	return n;
}

static int
only_space(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\r' && p[i] != '\n' &&
		    p[i] != '\t' && p[i] != '\0' && p[i] != '\f')
			return 0;
	return 1;
}

/*
 * Do the bytes after the last %%EOF hold PDF syntax (an object, an xref
 * or a trailer)? That is the incremental saving attack without an xref,
 * which recovering readers show (pades-brief §3, ISA): it fails, where
 * mere junk after %%EOF is only a warning.
 */
static int
trailing_syntax(const uint8_t *p, size_t n)
{
	static const char *const tok[] = {"endobj", " obj", "\nobj",
	    "\robj", "xref", "trailer", "startxref", "stream"};

	for (size_t i = 0; i < sizeof(tok) / sizeof(tok[0]); i++)
		if (memmem(p, n, tok[i], strlen(tok[i])) != NULL)
			return 1;
	return 0;
}

static const char *
static_subfilter(const char *sf)
{
	static const char *known[] = {"ETSI.CAdES.detached",
	    "adbe.pkcs7.detached", "adbe.pkcs7.sha1", "ETSI.RFC3161",
	    "adbe.x509.rsa_sha1"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (sf[0] == '/' && strcmp(sf + 1, known[i]) == 0)
			return known[i];
	return sf[0] != '\0' ? "other" : NULL;
}

/* One document time-stamp: RFC 3161 token over the byte ranges. */
static int
doc_timestamp(struct ver_ctx *c, struct pdf_sig *s, const uint8_t *doc,
    struct ver_ts *ts)
{
	struct ver_sig *tmp;
	struct ver_seg seg[2];
	int rc;

	memset(ts, 0, sizeof(*ts));
	ts->type = "document";
	ts->imprint = "not-checked";
	if (!s->br_ok) {
		ver_report_note(c->rep,
		    "document time-stamp ignored: %s "
		    "(ISO 32000-1 §12.8.1)",
		    s->br_why);
		return 0;
	}
	seg[0] = (struct ver_seg){doc, (size_t)s->br[1]};
	seg[1] = (struct ver_seg){doc + s->br[2], (size_t)s->br[3]};
	if ((tmp = calloc(1, sizeof(*tmp))) == NULL)
		return sc_err_set(c->err, SC_E_NOMEM, "out of memory");
	tmp->format = "TST";
	rc = ver_tst(c, s->contents, s->clen, seg, 2, "document", ts, tmp);
	for (size_t i = 0; i < tmp->nreasons; i++) {
		ver_report_note(c->rep, "%s", tmp->reasons[i]);
		free(tmp->reasons[i]);
	}
	free(tmp);
	return rc;
}

/* A signature: ByteRange facts, then the CMS over the ranges. */
static int
pdf_signature(struct ver_ctx *c, struct pdf_sig *s, const uint8_t *doc,
    size_t len, const size_t *eofs, size_t neofs, struct ver_sig *sig)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	struct ver_seg seg[2];
	int rc = -1, nsi, garbage = 0;

	sig->subfilter = static_subfilter(s->subfilter);
	if (sig->subfilter == NULL ||
	    strcmp(sig->subfilter, "ETSI.CAdES.detached") != 0)
		sig->not_etsi = 1;
	snprintf(sig->signing_time, sizeof(sig->signing_time), "%s", s->m);
	if (s->end == len ||
	    (s->end > 0 && s->end < len &&
		only_space(doc + s->end, len - s->end)))
		sig->coverage = "whole-document";
	else if (s->end > 0)
		sig->coverage = "partial";
	sig->signed_bytes = s->end;
	snprintf(sig->field, sizeof(sig->field), "%s", s->field);
	if (s->end > 0 && sig->coverage != NULL &&
	    strcmp(sig->coverage, "partial") == 0) {
		int at_eof = 0;

		for (size_t i = 0; i < neofs; i++)
			if (eofs[i] == s->end ||
			    (eofs[i] > s->end &&
				only_space(doc + s->end, eofs[i] - s->end) &&
				eofs[i] - s->end <= 2))
				at_eof = 1;
		if (!at_eof) {
			ver_sig_reason(sig,
			    "pades-brief §3 check 3: the "
			    "signed bytes do not end at a revision's %%%%EOF");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
			s->br_ok = 0;
			if (s->br_why == NULL)
				s->br_why = "signed zone is not a revision";
		}
	}
	if (s->contents == NULL || s->clen == 0 ||
	    (cms = ver_cms_decode(s->contents, s->clen, 1, &garbage)) == NULL) {
		ver_sig_reason(sig,
		    "ISO 32000-1 §12.8.3.3: /Contents is not "
		    "a CMS SignedData");
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
		sig->crypto_intact = 0;
		return 0;
	}
	if (garbage)
		/* Outside both the CMS and the signed ranges, so it cannot
		 * change what is signed; DSS accepts it too. pades-brief §3
		 * wants only zeros: reported, not failed. */
		ver_sig_reason(sig,
		    "warning: non-zero bytes after the CMS in "
		    "/Contents (unsigned, ignored)");
	if (s->br_n == 4 && s->br[0] == 0 && s->br[1] > 0 &&
	    s->br[2] >= s->br[1] && s->br[3] >= 0 &&
	    (unsigned long long)s->br[1] <= len &&
	    (unsigned long long)s->br[2] <= len &&
	    (unsigned long long)s->br[3] <= len - (size_t)s->br[2]) {
		seg[0] = (struct ver_seg){doc, (size_t)s->br[1]};
		seg[1] = (struct ver_seg){doc + s->br[2], (size_t)s->br[3]};
	} else {
		ver_sig_reason(sig, "ISO 32000-1 §12.8.1: %s", s->br_why);
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
		sig->crypto_intact = 0;
		rc = 0;
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	nsi = sk_CMS_SignerInfo_num(sis);
	if (nsi != 1)
		sig->not_etsi = 1;
	if (nsi != 1)
		ver_sig_reason(sig,
		    "EN 319 142-1 §6.3 / ISO 32000-2 "
		    "§12.8.3.4: the CMS holds %d SignerInfos, one is "
		    "allowed; the first is checked",
		    nsi);
	if (nsi < 1) {
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
		rc = 0;
		goto out;
	}
	if (sig->subfilter != NULL &&
	    strcmp(sig->subfilter, "adbe.pkcs7.sha1") == 0) {
		/* ISO 32000-1 §12.8.3.3.1: the encapsulated content is the
		 * SHA-1 of the byte ranges. */
		ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
		uint8_t h[20];
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();
		unsigned int hl = 0;
		int ok = mctx != NULL &&
		    EVP_DigestInit_ex(mctx, EVP_sha1(), NULL) == 1 &&
		    EVP_DigestUpdate(mctx, seg[0].p, seg[0].n) == 1 &&
		    EVP_DigestUpdate(mctx, seg[1].p, seg[1].n) == 1 &&
		    EVP_DigestFinal_ex(mctx, h, &hl) == 1;

		EVP_MD_CTX_free(mctx);
		if (ver_cms_signer(c, cms, sk_CMS_SignerInfo_value(sis, 0),
			NULL, 0, sig, 0) != 0)
			goto out;
		if (!ok || pos == NULL || *pos == NULL ||
		    ASN1_STRING_length(*pos) != 20 ||
		    memcmp(ASN1_STRING_get0_data(*pos), h, 20) != 0) {
			ver_sig_reason(sig,
			    "ISO 32000-1 §12.8.3.3.1: the "
			    "signed SHA-1 does not match the byte ranges");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "HASH_FAILURE");
			sig->crypto_intact = 0;
		}
	} else if (ver_cms_signer(c, cms, sk_CMS_SignerInfo_value(sis, 0), seg,
		       2, sig, 0) != 0) {
		goto out;
	}
	if (!s->br_ok) {
		ver_sig_reason(sig, "ISO 32000-1 §12.8.1: %s", s->br_why);
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
		sig->crypto_intact = 0;
	}
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	return rc;
}

/*
 * pades-brief §3: signature dictionaries that no /Sig field reaches are
 * reported (they are not validated: no viewer shows them either, but
 * their presence is a sign of tampering or a broken signer).
 */
static void
orphan_sigs(struct pdf_walk *w)
{
	qpdf_data q = w->q;
	qpdf_oh tr = qpdf_get_trailer(q);
	qpdf_oh sz = qpdf_oh_get_key(q, tr, "/Size");
	long long size =
	    qpdf_oh_is_integer(q, sz) ? qpdf_oh_get_int_value(q, sz) : 0;

	for (long long id = 1; id < size && id < 100000; id++) {
		qpdf_oh o = qpdf_get_object_by_id(q, (int)id, 0);
		int known = 0;

		if (qpdf_oh_is_dictionary(q, o) &&
		    qpdf_oh_has_key(q, o, "/ByteRange") &&
		    qpdf_oh_has_key(q, o, "/Contents")) {
			for (size_t i = 0; i < w->nsigs; i++)
				if (w->sigs[i].objid == (int)id)
					known = 1;
			if (!known && w->norphans < PDF_MAX_ORPHANS)
				w->orphans[w->norphans++] = (int)id;
		}
		qpdf_oh_release(q, o);
		qclear(q);
	}
}

/* The streams of /DSS /Certs, /CRLs and /OCSPs (EN 319 142-1 §5.4.2),
 * decoded, into @m. */
static void
dss_material(qpdf_data q, qpdf_oh dss, struct ver_material *m)
{
	static const char *keys[] = {"/Certs", "/CRLs", "/OCSPs"};

	for (int k = 0; k < 3; k++) {
		qpdf_oh a = qpdf_oh_get_key(q, dss, keys[k]);
		int n = qpdf_oh_is_array(q, a) ? qpdf_oh_get_array_n_items(q, a)
					       : 0;

		for (int i = 0; i < n && i < SC_VER_MAX_CERTS; i++) {
			qpdf_oh st = qpdf_oh_get_array_item(q, a, i);
			unsigned char *buf = NULL;
			size_t len = 0;

			if (qpdf_oh_is_stream(q, st) &&
			    !(qpdf_oh_get_stream_data(q, st,
				  qpdf_dl_generalized, NULL, &buf, &len) &
				QPDF_ERRORS)) {
				if (k == 0)
					ver_mat_add_cert(m, buf, len);
				else if (k == 1)
					ver_mat_add_crl(m, buf, len);
				else
					ver_mat_add_ocsp(m, buf, len);
			}
			free(buf);
			qpdf_oh_release(q, st);
		}
		qpdf_oh_release(q, a);
	}
	qclear(q);
}

/*
 * Reads the revision that ends at @len with qpdf and collects the
 * signature dictionaries its /AcroForm reaches. Called for the whole
 * file, then for each earlier revision: a signature that a later update
 * unlinked, or that a broken xref chain hides (a "/Prev 0"), is still
 * found (pades-brief §3, "scan each revision").
 * @return 0, or -1 when @last and the file cannot be read (err set).
 */
static int
pdf_scan(struct pdf_walk *w, const uint8_t *doc, size_t len, int last,
    int *encrypted, int *has_dss, struct ver_material *mat, struct sc_err *err)
{
	qpdf_data q;
	qpdf_oh root, af, fields, dss;
	QPDF_ERROR_CODE qe;
	int rc = -1;

	if ((q = qpdf_init()) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	qe = qpdf_read_memory(q, "document", (const char *)doc,
	    (unsigned long long)len, "");
	if (qe & QPDF_ERRORS) {
		qpdf_error e = qpdf_get_error(q);

		if (!last)
			rc = 0;
		else if (e != NULL &&
		    qpdf_get_error_code(q, e) == qpdf_e_password)
			sc_err_set(err, SC_E_ENCRYPTED_PDF,
			    "the PDF needs a password");
		else
			sc_err_set(err, SC_E_INVALID_PDF,
			    "the PDF cannot be read");
		goto out;
	}
	if (last) {
		*encrypted = qpdf_is_encrypted(q) == QPDF_TRUE;
		root = qpdf_get_root(q);
		dss = qpdf_oh_get_key(q, root, "/DSS");
		*has_dss = qpdf_oh_is_dictionary(q, dss);
		if (*has_dss && mat != NULL)
			dss_material(q, dss, mat);
	}
	w->q = q;
	w->last = last;
	w->nseen = 0;
	root = qpdf_get_root(q);
	af = qpdf_oh_get_key(q, root, "/AcroForm");
	fields = qpdf_oh_get_key(q, af, "/Fields");
	if (qpdf_oh_is_array(q, fields)) {
		int n = qpdf_oh_get_array_n_items(q, fields);

		for (int i = 0; i < n && i < PDF_MAX_FIELDS; i++)
			walk_field(w, qpdf_oh_get_array_item(q, fields, i), 0,
			    0);
	}
	qclear(q);
	if (last)
		orphan_sigs(w);
	w->q = NULL;
	if (w->nomem) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	qpdf_cleanup(&q);
	return rc;
}

/* Does the revision ending at @end add an approval signature (not a
 * document time-stamp)? */
static int
approval_after(const struct pdf_walk *w, size_t end)
{
	for (size_t i = 0; i < w->nsigs; i++)
		if (!w->sigs[i].doc_ts && w->sigs[i].end > 0 &&
		    w->sigs[i].end <= end && end - w->sigs[i].end <= 2)
			return 1;
	return 0;
}

/*
 * The revisions after each signed one, and what each update changed
 * (verify_pdfdiff.c). Updates are diffed once, revision by revision, and
 * every signature lists those after its own revision.
 */
static int
pdf_modifications(struct ver_ctx *c, struct pdf_walk *w, struct ver_sig **vs,
    const uint8_t *doc, size_t len, const size_t *eofs, size_t neofs)
{
	size_t revs[PDF_MAX_REVISIONS + 1], nrev = 0;
	int trailing = 0;
	struct ver_mod(*mods)[VER_MAX_MODS] = NULL;
	size_t *nmods = NULL;
	int *done = NULL, rc = -1;

	for (size_t i = 0; i < neofs && nrev <= PDF_MAX_REVISIONS; i++)
		revs[nrev++] = eofs[i];
	if (nrev > 0 && nrev <= PDF_MAX_REVISIONS &&
	    !only_space(doc + revs[nrev - 1], len - revs[nrev - 1])) {
		revs[nrev++] = len; /* bytes after the last %%EOF */
		trailing = 1;
	}
	c->rep->revisions = nrev;
	if (nrev > PDF_MAX_REVISIONS) {
		ver_report_note(c->rep,
		    "more than %d revisions: later "
		    "changes not analysed",
		    PDF_MAX_REVISIONS);
		return 0;
	}
	if ((mods = calloc(nrev, sizeof(*mods))) == NULL ||
	    (nmods = calloc(nrev, sizeof(*nmods))) == NULL ||
	    (done = calloc(nrev, sizeof(*done))) == NULL) {
		sc_err_set(c->err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < w->nsigs; i++) {
		struct ver_sig *sig = vs[i];
		size_t k;
		int page = 0, other = 0, xref_bad = 0, docmdp_bad = 0,
		    overlay = 0;

		if (sig == NULL || sig->coverage == NULL)
			continue;
		/* The signed revision: its %%EOF ends the signed bytes. */
		for (k = 0; k < nrev; k++)
			if (revs[k] >= w->sigs[i].end &&
			    only_space(doc + w->sigs[i].end,
				revs[k] - w->sigs[i].end))
				break;
		if (k >= nrev)
			continue;
		sig->revision = (int)k + 1;
		if (strcmp(sig->coverage, "partial") != 0)
			continue;
		for (size_t j = k + 1; j < nrev; j++) {
			if (!done[j]) {
				done[j] = 1;
				if (ver_pdf_diff(doc, revs[j - 1], revs[j],
					mods[j], VER_MAX_MODS,
					&nmods[j]) != 0) {
					nmods[j] = 1;
					mods[j][0] = (struct ver_mod){
					    "incremental-update", -1};
				}
				/* pades-brief §3 (ISA): data after the last
				 * %%EOF is no revision a reader should use. */
				if (trailing && j == nrev - 1 &&
				    nmods[j] < VER_MAX_MODS)
					mods[j][nmods[j]++] =
					    (struct ver_mod){"trailing-data",
						0};
			}
			for (size_t m = 0; m < nmods[j]; m++) {
				size_t q;
				struct ver_mod mm = mods[j][m];
				int p = w->sigs[i].docmdp;

				/* ISO 32000-1 §12.8.2.2 table 254: P=3 lets
				 * annotations be added, even those that paint
				 * over the page. */
				if (p == 3 && mm.allowed == 0 &&
				    strcmp(mm.kind, "annotation") == 0)
					mm.allowed = 1;
				/* ISO 32000-1 §12.8.2.2 table 254: P=1 only
				 * LTV material and time-stamps, P=2 also form
				 * filling and signing, P=3 also annotations. */
				if (p > 0 && mm.allowed == 1 &&
				    ((strcmp(mm.kind, "annotation") == 0 &&
					 p < 3) ||
					(strcmp(mm.kind, "form-fill") == 0 &&
					    p < 2) ||
					(strcmp(mm.kind, "signature") == 0 &&
					    p < 2 &&
					    approval_after(w, revs[j])))) {
					mm.allowed = 0;
					docmdp_bad = 1;
				}

				for (q = 0; q < sig->nmods; q++)
					if (strcmp(sig->mods[q].kind,
						mm.kind) == 0 &&
					    sig->mods[q].allowed == mm.allowed)
						break;
				if (q == sig->nmods && q < VER_MAX_MODS)
					sig->mods[sig->nmods++] = mm;
				if (mm.allowed == 0) {
					if (strcmp(mm.kind, "page") == 0)
						page = 1;
					else if (strcmp(mm.kind,
						     "annotation") == 0)
						overlay = 1;
					else if (strcmp(mm.kind,
						     "xref-mismatch") == 0)
						xref_bad = 1;
				}
			}
		}
		if (docmdp_bad) {
			ver_sig_reason(sig,
			    "ISO 32000-1 §12.8.2.2: changes after this "
			    "certification signature exceed its DocMDP "
			    "permissions (P=%d)",
			    w->sigs[i].docmdp);
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
		}
		if (xref_bad) {
			ver_sig_reason(sig,
			    "ISO 32000-1 §7.5.4: an xref entry "
			    "of a later update points at another object "
			    "(shadow attack)");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
		}
		if (page) {
			/* DSS fails these too (visual difference check). */
			ver_sig_reason(sig,
			    "EN 319 142-1 §5.4 / ISO 32000-1 "
			    "§12.8.2: pages were added, removed or changed "
			    "after signing");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
		}
		if (overlay && !docmdp_bad) {
			/* What the reader sees over the signed page is not
			 * what was signed (evil annotation attack). */
			ver_sig_reason(sig,
			    "ISO 32000-1 §12.5.5 / §12.8.2: an annotation "
			    "added or changed after signing paints over the "
			    "signed page");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
		}
		for (size_t q = 0; q < sig->nmods; q++) {
			const struct ver_mod *m = &sig->mods[q];

			if (m->allowed != 0)
				continue;
			if (strcmp(m->kind, "signature") == 0)
				/* Viewers show the new /Reason, /M, /Name:
				 * not what was signed (spoofing). */
				ver_sig_reason(sig,
				    "warning: a signature dictionary or signed "
				    "field was changed after signing; what "
				    "viewers show is not what was signed");
			else if (strcmp(m->kind, "trailing-data") == 0 &&
			    trailing_syntax(doc + revs[nrev - 2],
				len - revs[nrev - 2])) {
				ver_sig_reason(sig,
				    "ISO 32000-1 §7.5.6: PDF objects after "
				    "the last %%%%EOF, outside any revision "
				    "(incremental saving attack)");
				ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
				    "FORMAT_FAILURE");
			} else if (strcmp(m->kind, "trailing-data") == 0)
				ver_sig_reason(sig,
				    "warning: bytes after the last %%%%EOF "
				    "(ISO 32000-1 §7.5.5)");
			else if (strcmp(m->kind, "page") != 0 &&
			    strcmp(m->kind, "xref-mismatch") != 0 &&
			    strcmp(m->kind, "annotation") != 0)
				other = 1;
		}
		if (other)
			ver_sig_reason(sig,
			    "warning: changes after signing "
			    "that no rule explains (see modifications)");
	}
	rc = 0;
out:
	free(mods);
	free(nmods);
	free(done);
	return rc;
}

int
ver_pdf_document(struct ver_ctx *c, const uint8_t *doc, size_t len)
{
	struct pdf_walk w = {0};
	size_t *eofs = NULL, neofs;
	int encrypted = 0, has_dss = 0, rc = -1;
	struct ver_sig **vs = NULL;
	struct ver_material mat = {0};

	if ((eofs = calloc(PDF_MAX_EOFS, sizeof(*eofs))) == NULL)
		return sc_err_set(c->err, SC_E_NOMEM, "out of memory");
	neofs = find_eofs(doc, len, eofs, PDF_MAX_EOFS);
	if (ver_mat_init(&mat) != 0) {
		sc_err_set(c->err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (pdf_scan(&w, doc, len, 1, &encrypted, &has_dss, &mat, c->err) != 0)
		goto out;
	c->doc_mat = &mat;
	/* Earlier revisions, newest first; bounded (qpdf parses lazily,
	 * but each parse reads an xref chain). */
	for (size_t i = neofs, k = 0; i-- > 0 && k < PDF_MAX_REVISIONS; k++) {
		if (eofs[i] >= len)
			continue;
		if (pdf_scan(&w, doc, eofs[i], 0, NULL, NULL, NULL, c->err) !=
		    0)
			goto out;
	}
	if (w.nsigs == 0) {
		sc_err_set(c->err, SC_E_UNSUPPORTED_DOCUMENT,
		    "the PDF holds no signature");
		goto out;
	}
	for (size_t i = 0; i < w.norphans; i++)
		ver_report_note(c->rep,
		    "pades-brief §3: signature dictionary %d 0 obj is not "
		    "reachable from /AcroForm and was not validated",
		    w.orphans[i]);
	if ((vs = calloc(w.nsigs, sizeof(*vs))) == NULL) {
		sc_err_set(c->err, SC_E_NOMEM, "out of memory");
		goto out;
	}

	for (size_t i = 0; i < w.nsigs; i++)
		check_byte_range(&w.sigs[i], doc, len, encrypted);
	/* Revision order: sig-1 is the first signed. */
	qsort(w.sigs, w.nsigs, sizeof(*w.sigs), sig_cmp);

	for (size_t i = 0; i < w.nsigs; i++) {
		struct pdf_sig *s = &w.sigs[i];

		if (s->doc_ts) {
			if (c->rep->ndoc_ts >= SC_VER_MAX_TIMESTAMPS)
				continue;
			if (doc_timestamp(c, s, doc,
				&c->rep->doc_ts[c->rep->ndoc_ts]) != 0)
				goto out;
			s->ts_idx = (int)c->rep->ndoc_ts++;
			continue;
		}
		if ((vs[i] = ver_sig_add(c->rep, "PAdES", c->err)) == NULL)
			goto out;
		if (!s->in_last)
			ver_sig_reason(vs[i],
			    "the signature is not reachable "
			    "from the last revision's /AcroForm (found in an "
			    "earlier revision)");
		if (pdf_signature(c, s, doc, len, eofs, neofs, vs[i]) != 0)
			goto out;
	}

	if (pdf_modifications(c, &w, vs, doc, len, eofs, neofs) != 0)
		goto out;

	/* Document time-stamps and levels, per signature (EN 319 142-1
	 * §6: T by a signature or document time-stamp, LT by the /DSS, LTA
	 * by a document time-stamp after it). */
	for (size_t i = 0; i < w.nsigs; i++) {
		struct ver_sig *sig = vs[i];

		if (sig == NULL)
			continue;
		for (size_t j = 0; j < w.nsigs; j++) {
			struct pdf_sig *o = &w.sigs[j];

			if (j == i || o->end <= w.sigs[i].end || o->end == 0)
				continue;
			if (o->doc_ts && o->ts_idx >= 0) {
				struct ver_ts *t = &c->rep->doc_ts[o->ts_idx];

				if (sig->nts < SC_VER_MAX_TIMESTAMPS) {
					sig->ts[sig->nts] = *t;
					sig->ts[sig->nts].tsa = t->tsa != NULL
					    ? strdup(t->tsa)
					    : NULL;
					sig->nts++;
				}
				/* The level is structural (EN 319 142-1
				 * §6); the time-stamp's validity is
				 * reported with it. */
				if (sig->has_sig_ts && has_dss)
					sig->has_archive_ts = 1;
				sig->has_sig_ts = 1;
			}
		}
		if (has_dss)
			sig->has_revocation_data = 1;
	}
	rc = 0;
out:
	for (size_t i = 0; i < w.nsigs; i++)
		free(w.sigs[i].contents);
	free(w.sigs);
	free(eofs);
	free(vs);
	c->doc_mat = NULL;
	ver_mat_free(&mat);
	return rc;
}
