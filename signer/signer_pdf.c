/*
 * signer_pdf.c: reading a PDF for signing. qpdf parses the objects
 * (recovery off, so a damaged file is refused rather than silently
 * rebuilt); sceau scans the file's end itself for the last xref section
 * (ISO 32000-1 §7.5.5, §7.5.8), which qpdf does not expose, and keeps
 * the dictionaries it will rewrite as key/text lists.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pades_int.h"

int
pdf_qpdf_err(struct pdf_doc *d, enum sc_code code, const char *what,
    struct sc_err *err)
{
	const char *txt = NULL;

	if (d->q != NULL && qpdf_has_error(d->q)) {
		qpdf_error e = qpdf_get_error(d->q);

		if (e != NULL) {
			txt = qpdf_get_error_full_text(d->q, e);
			if (qpdf_get_error_code(d->q, e) == qpdf_e_password)
				code = SC_E_ENCRYPTED_PDF;
		}
	}
	sc_err_set(err, code, "%s", what);
	if (txt != NULL)
		sc_err_detail(err, "qpdf: %s", txt);
	return -1;
}

int
pdf_read_at(const struct pdf_doc *d, size_t off, void *out, size_t n,
    struct sc_err *err)
{
	uint8_t *o = out;

	if (off > d->len || n > d->len - off)
		return sc_err_set(err, SC_E_INTERNAL, "read past the input");
	if (d->buf != NULL) {
		memcpy(out, d->buf + off, n);
		return 0;
	}
	while (n > 0) {
		ssize_t r = pread(d->fd, o, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return sc_err_set(err, SC_E_IO,
			    "cannot read the document: %s",
			    r < 0 ? strerror(errno) : "it got shorter");
		o += r;
		off += (size_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/* The offset after the last "startxref" and its number (§7.5.5), read
 * from the last PDF_TAIL_SCAN bytes. */
static int
find_startxref(struct pdf_doc *d, struct sc_err *err)
{
	static const char kw[] = "startxref";
	const size_t kl = sizeof(kw) - 1;
	uint8_t w[PDF_TAIL_SCAN], x[32];
	size_t ws = d->len > PDF_TAIL_SCAN ? d->len - PDF_TAIL_SCAN : 0;
	size_t wl = d->len - ws, i, off = 0, xl;
	int found = 0, digits = 0;

	if (d->len < kl + 8)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.5: the file is too short for a PDF");
	if (pdf_read_at(d, ws, w, wl, err) != 0)
		return -1;
	d->ends_eol = w[wl - 1] == '\n' || w[wl - 1] == '\r';
	for (i = wl - kl;; i--) {
		if (memcmp(w + i, kw, kl) == 0) {
			found = 1;
			break;
		}
		if (i == 0)
			break;
	}
	if (!found)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.5: no startxref at the end of the file "
		    "(truncated?)");
	i += kl;
	while (i < wl && isspace(w[i]))
		i++;
	while (i < wl && isdigit(w[i]) && digits < 15) {
		off = off * 10 + (size_t)(w[i] - '0');
		i++;
		digits++;
	}
	if (digits == 0 || off >= d->len)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.5: startxref does not point into the "
		    "file");
	while (i < wl && isspace(w[i]))
		i++;
	if (wl - i < 5 || memcmp(w + i, "%%EOF", 5) != 0)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.5: no %%%%EOF after startxref "
		    "(truncated?)");
	for (i += 5; i < wl; i++)
		if (!isspace(w[i]) && w[i] != 0)
			return sc_err_set(err, SC_E_INVALID_PDF,
			    "bytes after the last %%%%EOF");
	d->startxref = off;
	/* A table starts with "xref"; a stream with "n g obj". */
	xl = d->len - off < sizeof(x) ? d->len - off : sizeof(x);
	if (pdf_read_at(d, off, x, xl, err) != 0)
		return -1;
	for (i = 0; i < xl && isspace(x[i]); i++)
		;
	if (xl - i >= 4 && memcmp(x + i, "xref", 4) == 0) {
		d->xref_stream = 0;
	} else if (i < xl && isdigit(x[i])) {
		d->xref_stream = 1;
	} else {
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.4: startxref points at neither an xref "
		    "table nor an xref stream");
	}
	return 0;
}

int
pdf_open(struct pdf_doc *d, const uint8_t *buf, int fd, size_t len,
    struct sc_err *err)
{
	qpdf_oh tr, root, id, info;
	uint8_t head[1024];
	size_t hl = len < sizeof(head) ? len : sizeof(head);
	const uint8_t *h;
	int rd;

	memset(d, 0, sizeof(d[0]));
	d->buf = buf;
	d->fd = fd;
	d->len = len;
	if (len < 8)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.2: the file is too short for a PDF");
	if (pdf_read_at(d, 0, head, hl, err) != 0)
		return -1;
	/* ISO 32000-1 §7.5.2; readers accept leading bytes within the
	 * first 1024, and so do we. */
	h = memmem(head, hl, "%PDF-", 5);
	if (h == NULL)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.2: no %%PDF- header");
	{
		size_t k = 0;

		for (h += 5; k + 1 < sizeof(d->version) && h < head + hl &&
		     (isdigit(*h) || *h == '.');
		     h++)
			d->version[k++] = (char)*h;
	}
	if (find_startxref(d, err) != 0)
		return -1;
	d->q = qpdf_init();
	if (d->q == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	qpdf_silence_errors(d->q);
	qpdf_set_suppress_warnings(d->q, QPDF_TRUE);
	qpdf_set_attempt_recovery(d->q, QPDF_FALSE);
	if (buf != NULL) {
		rd = qpdf_read_memory(d->q, "document", (const char *)buf,
		    (unsigned long long)len, NULL);
	} else {
		char path[64];

		/* qpdf reads the file on demand through its own handle. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		rd = qpdf_read(d->q, path, NULL);
	}
	if (rd & QPDF_ERRORS)
		return pdf_qpdf_err(d, SC_E_INVALID_PDF,
		    "the PDF cannot be read (ISO 32000-1 §7.5)", err);
	if (qpdf_more_warnings(d->q))
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "the PDF is damaged: qpdf reports problems with "
		    "recovery off (ISO 32000-1 §7.5)");
	if (qpdf_is_encrypted(d->q))
		return sc_err_set(err, SC_E_ENCRYPTED_PDF,
		    "the PDF is encrypted (ISO 32000-1 §7.6): decrypt it "
		    "before signing");
	tr = qpdf_get_trailer(d->q);
	root = qpdf_get_root(d->q);
	if (qpdf_has_error(d->q) || !qpdf_oh_is_dictionary(d->q, tr) ||
	    !qpdf_oh_is_dictionary(d->q, root) ||
	    !qpdf_oh_is_indirect(d->q, root))
		return pdf_qpdf_err(d, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.5: the trailer has no catalog (/Root)",
		    err);
	d->size = qpdf_oh_get_int_value(d->q, qpdf_oh_get_key(d->q, tr,
						  "/Size"));
	if (d->size <= 0 || d->size > 8388607)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "ISO 32000-1 §7.5.5: trailer /Size is missing or out of "
		    "range");
	d->hybrid = !d->xref_stream && qpdf_oh_has_key(d->q, tr, "/XRefStm");
	d->root_num = qpdf_oh_get_object_id(d->q, root);
	d->root_gen = qpdf_oh_get_generation(d->q, root);
	info = qpdf_oh_get_key(d->q, tr, "/Info");
	if (qpdf_oh_is_indirect(d->q, info) &&
	    qpdf_oh_is_dictionary(d->q, info)) {
		d->info_num = qpdf_oh_get_object_id(d->q, info);
		d->info_gen = qpdf_oh_get_generation(d->q, info);
	}
	id = qpdf_oh_get_key(d->q, tr, "/ID");
	if (qpdf_oh_is_array(d->q, id) &&
	    qpdf_oh_get_array_n_items(d->q, id) == 2) {
		size_t l = 0;
		const char *s = qpdf_oh_get_binary_string_value(d->q,
		    qpdf_oh_get_array_item(d->q, id, 0), &l);

		if (s != NULL && l > 0 && l <= sizeof(d->id0)) {
			memcpy(d->id0, s, l);
			d->id0_len = l;
		}
	}
	if (qpdf_has_error(d->q))
		return pdf_qpdf_err(d, SC_E_INVALID_PDF,
		    "the PDF trailer cannot be read", err);
	return 0;
}

void
pdf_close(struct pdf_doc *d)
{
	if (d->q != NULL)
		qpdf_cleanup(&d->q);
	d->q = NULL;
}

/* ------------------------------------------------------------------ */
/* Names and strings                                                   */

int
pdf_name(struct sc_buf *b, const char *s, struct sc_err *err)
{
	if (*s == '/')
		s++;
	if (sc_buf_append(b, "/", 1, err) != 0)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x21 || c > 0x7e || strchr("#()<>[]{}/%", c) != NULL) {
			if (sc_buf_printf(b, err, "#%02X", c) != 0)
				return -1;
		} else if (sc_buf_append(b, s, 1, err) != 0) {
			return -1;
		}
	}
	return 0;
}

/* Next code point of UTF-8 @s; -1 if malformed. */
static long
utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	long cp;
	int n;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		n = 3;
	} else {
		return -1;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
	    (n == 3 && cp < 0x10000))
		return -1;
	*s = p + n + 1;
	return cp;
}

int
pdf_text_string(struct sc_buf *b, const char *s, struct sc_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	int ascii = 1;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			ascii = 0;
	if (ascii) {
		if (sc_buf_append(b, "(", 1, err) != 0)
			return -1;
		for (p = (const unsigned char *)s; *p != '\0'; p++) {
			if ((*p == '(' || *p == ')' || *p == '\\') &&
			    sc_buf_append(b, "\\", 1, err) != 0)
				return -1;
			if (sc_buf_append(b, p, 1, err) != 0)
				return -1;
		}
		return sc_buf_append(b, ")", 1, err);
	}
	if (sc_buf_append(b, "<FEFF", 5, err) != 0)
		return -1;
	for (p = (const unsigned char *)s; *p != '\0';) {
		long cp = utf8_next(&p);

		if (cp < 0)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "a text is not valid UTF-8");
		if (cp >= 0x10000) {
			cp -= 0x10000;
			if (sc_buf_printf(b, err, "%04lX%04lX",
				0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff)) != 0)
				return -1;
		} else if (sc_buf_printf(b, err, "%04lX", cp) != 0) {
			return -1;
		}
	}
	return sc_buf_append(b, ">", 1, err);
}

/* ------------------------------------------------------------------ */
/* Dictionaries and arrays being rewritten                             */

/* The PDF text of @oh: "n g R" when indirect, else its value. */
static int
oh_text(struct pdf_doc *d, qpdf_oh oh, char **out, size_t *outlen,
    struct sc_err *err)
{
	const char *s;
	size_t l;

	if (qpdf_oh_is_indirect(d->q, oh)) {
		char ref[40];

		snprintf(ref, sizeof(ref), "%d %d R",
		    qpdf_oh_get_object_id(d->q, oh),
		    qpdf_oh_get_generation(d->q, oh));
		*out = strdup(ref);
		*outlen = strlen(ref);
	} else {
		s = qpdf_oh_unparse_binary(d->q, oh);
		l = qpdf_get_last_string_length(d->q);
		if (qpdf_has_error(d->q) || s == NULL)
			return pdf_qpdf_err(d, SC_E_INVALID_PDF,
			    "an object cannot be read", err);
		if (l > PDF_MAX_OBJ_TEXT)
			return sc_err_set(err, SC_E_INVALID_PDF,
			    "an object to rewrite is too large");
		*out = malloc(l + 1);
		if (*out != NULL) {
			memcpy(*out, s, l);
			(*out)[l] = '\0';
		}
		*outlen = l;
	}
	if (*out == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	return 0;
}

int
pdf_dict_load(struct pdf_doc *d, qpdf_oh oh, struct pdf_dict *out,
    struct sc_err *err)
{
	char **keys = NULL;
	size_t nk = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!qpdf_oh_is_dictionary(d->q, oh))
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "a dictionary was expected");
	if (qpdf_oh_is_indirect(d->q, oh)) {
		out->num = qpdf_oh_get_object_id(d->q, oh);
		out->gen = qpdf_oh_get_generation(d->q, oh);
	}
	/* Copy the keys first: the iterator is per qpdf handle. */
	qpdf_oh_begin_dict_key_iter(d->q, oh);
	while (qpdf_oh_dict_more_keys(d->q)) {
		const char *k = qpdf_oh_dict_next_key(d->q);
		char **nv;

		if (nk >= PDF_MAX_KEYS) {
			sc_err_set(err, SC_E_INVALID_PDF,
			    "a dictionary has too many keys");
			goto out;
		}
		nv = realloc(keys, (nk + 1) * sizeof(*keys));
		if (nv == NULL || (nv[nk] = strdup(k)) == NULL) {
			if (nv != NULL)
				keys = nv;
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		keys = nv;
		nk++;
	}
	out->kv = calloc(nk + 1, sizeof(*out->kv));
	if (out->kv == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nk; i++) {
		qpdf_oh v = qpdf_oh_get_key(d->q, oh, keys[i]);
		struct pdf_kv *kv = &out->kv[out->n];

		if (qpdf_oh_is_null(d->q, v))
			continue; /* §7.3.7: a null value means absent */
		if (oh_text(d, v, &kv->val, &kv->vlen, err) != 0)
			goto out;
		kv->key = keys[i];
		keys[i] = NULL;
		out->n++;
	}
	rc = 0;
out:
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	free(keys);
	if (rc != 0)
		pdf_dict_free(out);
	return rc;
}

int
pdf_dict_set(struct pdf_dict *dict, const char *key, const char *val,
    struct sc_err *err)
{
	char *v = strdup(val);
	struct pdf_kv *nkv;

	if (v == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	for (size_t i = 0; i < dict->n; i++)
		if (strcmp(dict->kv[i].key, key) == 0) {
			free(dict->kv[i].val);
			dict->kv[i].val = v;
			dict->kv[i].vlen = strlen(v);
			dict->dirty = 1;
			return 0;
		}
	nkv = realloc(dict->kv, (dict->n + 1) * sizeof(*nkv));
	if (nkv == NULL || (nkv[dict->n].key = strdup(key)) == NULL) {
		if (nkv != NULL)
			dict->kv = nkv;
		free(v);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	dict->kv = nkv;
	dict->kv[dict->n].val = v;
	dict->kv[dict->n].vlen = strlen(v);
	dict->n++;
	dict->dirty = 1;
	return 0;
}

void
pdf_dict_del(struct pdf_dict *dict, const char *key)
{
	for (size_t i = 0; i < dict->n; i++)
		if (strcmp(dict->kv[i].key, key) == 0) {
			free(dict->kv[i].key);
			free(dict->kv[i].val);
			memmove(&dict->kv[i], &dict->kv[i + 1],
			    (dict->n - i - 1) * sizeof(dict->kv[0]));
			dict->n--;
			dict->dirty = 1;
			return;
		}
}

const char *
pdf_dict_get(const struct pdf_dict *dict, const char *key)
{
	for (size_t i = 0; i < dict->n; i++)
		if (strcmp(dict->kv[i].key, key) == 0)
			return dict->kv[i].val;
	return NULL;
}

void
pdf_dict_free(struct pdf_dict *dict)
{
	for (size_t i = 0; i < dict->n; i++) {
		free(dict->kv[i].key);
		free(dict->kv[i].val);
	}
	free(dict->kv);
	memset(dict, 0, sizeof(*dict));
}

int
pdf_dict_text(const struct pdf_dict *dict, struct sc_buf *b,
    struct sc_err *err)
{
	if (sc_buf_append(b, "<<", 2, err) != 0)
		return -1;
	for (size_t i = 0; i < dict->n; i++) {
		if (sc_buf_append(b, " ", 1, err) != 0 ||
		    pdf_name(b, dict->kv[i].key, err) != 0 ||
		    sc_buf_append(b, " ", 1, err) != 0 ||
		    sc_buf_append(b, dict->kv[i].val, dict->kv[i].vlen,
			err) != 0)
			return -1;
	}
	return sc_buf_append(b, " >>", 3, err);
}

int
pdf_arr_load(struct pdf_doc *d, qpdf_oh oh, struct pdf_arr *out,
    struct sc_err *err)
{
	int n;

	memset(out, 0, sizeof(*out));
	sc_buf_init(&out->items, PDF_MAX_OBJ_TEXT);
	if (!qpdf_oh_is_array(d->q, oh))
		return 0;
	if (qpdf_oh_is_indirect(d->q, oh)) {
		out->num = qpdf_oh_get_object_id(d->q, oh);
		out->gen = qpdf_oh_get_generation(d->q, oh);
	}
	n = qpdf_oh_get_array_n_items(d->q, oh);
	if (n < 0 || n > PDF_MAX_ITEMS)
		return sc_err_set(err, SC_E_INVALID_PDF,
		    "an array has too many items");
	for (int i = 0; i < n; i++) {
		char *t = NULL;
		size_t tl = 0;
		int rc;

		if (oh_text(d, qpdf_oh_get_array_item(d->q, oh, i), &t, &tl,
			err) != 0) {
			pdf_arr_free(out);
			return -1;
		}
		rc = sc_buf_append(&out->items, t, tl, err) != 0 ||
		    sc_buf_append(&out->items, " ", 1, err) != 0;
		free(t);
		if (rc != 0) {
			pdf_arr_free(out);
			return -1;
		}
		out->n++;
	}
	return 0;
}

int
pdf_arr_add(struct pdf_arr *a, const char *item, struct sc_err *err)
{
	if (sc_buf_append_str(&a->items, item, err) != 0 ||
	    sc_buf_append(&a->items, " ", 1, err) != 0)
		return -1;
	a->n++;
	a->dirty = 1;
	return 0;
}

void
pdf_arr_free(struct pdf_arr *a)
{
	sc_buf_free(&a->items);
	a->n = 0;
}

int
pdf_arr_text(const struct pdf_arr *a, struct sc_buf *b, struct sc_err *err)
{
	if (sc_buf_append(b, "[ ", 2, err) != 0 ||
	    (a->items.len > 0 &&
		sc_buf_append(b, a->items.p, a->items.len, err) != 0))
		return -1;
	return sc_buf_append(b, "]", 1, err);
}
