/*
 * signer_pdf_write.c: incremental updates (ISO 32000-1 §7.5.6). The
 * input's bytes are never touched: new and changed objects are appended,
 * then one xref section of the same kind as the input's last one (a
 * table, §7.5.4, or a stream, §7.5.8; hybrid files get a table without
 * /XRefStm), and a trailer with /Prev, /Size, /Root, /Info and /ID
 * (ID[0] kept: it feeds key derivation, §14.4; ID[1] fresh).
 */
#include <stdlib.h>
#include <string.h>

#include "pades_int.h"

int
pdf_upd_init(struct pdf_upd *u, const struct pdf_doc *d, struct sc_buf *tail,
    struct sc_err *err)
{
	memset(u, 0, sizeof(*u));
	u->d = d;
	u->tail = tail;
	u->prev_xref = d->startxref;
	u->size = d->size;
	if (tail->len != 0)
		return sc_err_set(err, SC_E_INTERNAL, "tail not empty");
	/* §14.4: ID[0] never changes; a file without /ID gets one now,
	 * kept by every later update. */
	if (d->id0_len > 0) {
		memcpy(u->id0, d->id0, d->id0_len);
		u->id0_len = d->id0_len;
	} else {
		if (sc_rand_bytes(u->id0, 16, err) != 0)
			return -1;
		u->id0_len = 16;
	}
	/* §7.5.6: the update starts on a new line. */
	if (!d->ends_eol && sc_buf_append(tail, "\n", 1, err) != 0)
		return -1;
	return 0;
}

void
pdf_upd_free(struct pdf_upd *u)
{
	free(u->x);
	u->x = NULL;
	u->nx = u->capx = 0;
}

size_t
pdf_upd_pos(const struct pdf_upd *u)
{
	return u->d->len + u->tail->len;
}

int
pdf_upd_new_num(struct pdf_upd *u)
{
	return (int)u->size++;
}

int
pdf_upd_obj_begin(struct pdf_upd *u, int num, int gen, struct sc_err *err)
{
	if (u->nx == u->capx) {
		size_t nc = u->capx == 0 ? 16 : u->capx * 2;
		struct pdf_xent *nx = realloc(u->x, nc * sizeof(*nx));

		if (nx == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		u->x = nx;
		u->capx = nc;
	}
	u->x[u->nx].num = num;
	u->x[u->nx].gen = gen;
	u->x[u->nx].off = pdf_upd_pos(u);
	u->nx++;
	return sc_buf_printf(u->tail, err, "%d %d obj\n", num, gen);
}

int
pdf_upd_obj_end(struct pdf_upd *u, struct sc_err *err)
{
	return sc_buf_append_str(u->tail, "\nendobj\n", err);
}

int
pdf_upd_obj(struct pdf_upd *u, int num, int gen, const void *body,
    size_t len, struct sc_err *err)
{
	if (pdf_upd_obj_begin(u, num, gen, err) != 0 ||
	    sc_buf_append(u->tail, body, len, err) != 0)
		return -1;
	return pdf_upd_obj_end(u, err);
}

int
pdf_upd_stream(struct pdf_upd *u, int num, const char *dict_extra,
    const uint8_t *data, size_t len, struct sc_err *err)
{
	if (pdf_upd_obj_begin(u, num, 0, err) != 0 ||
	    sc_buf_printf(u->tail, err, "<< /Length %zu%s%s >>\nstream\n",
		len, dict_extra != NULL ? " " : "",
		dict_extra != NULL ? dict_extra : "") != 0 ||
	    sc_buf_append(u->tail, data, len, err) != 0 ||
	    sc_buf_append_str(u->tail, "\nendstream", err) != 0)
		return -1;
	return pdf_upd_obj_end(u, err);
}

int
pdf_upd_dict(struct pdf_upd *u, struct pdf_dict *dict, struct sc_err *err)
{
	if (!dict->dirty || dict->num == 0)
		return 0;
	if (pdf_upd_obj_begin(u, dict->num, dict->gen, err) != 0 ||
	    pdf_dict_text(dict, u->tail, err) != 0 ||
	    pdf_upd_obj_end(u, err) != 0)
		return -1;
	dict->dirty = 0;
	return 0;
}

int
pdf_upd_arr(struct pdf_upd *u, struct pdf_arr *a, struct sc_err *err)
{
	if (!a->dirty || a->num == 0)
		return 0;
	if (pdf_upd_obj_begin(u, a->num, a->gen, err) != 0 ||
	    pdf_arr_text(a, u->tail, err) != 0 ||
	    pdf_upd_obj_end(u, err) != 0)
		return -1;
	a->dirty = 0;
	return 0;
}

static int
cmp_xent(const void *a, const void *b)
{
	const struct pdf_xent *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

/* The trailer keys shared by both kinds (§7.5.5, §7.5.8.2). */
static int
trailer_keys(struct pdf_upd *u, struct sc_err *err)
{
	const struct pdf_doc *d = u->d;
	uint8_t id1[16];
	char hex[2 * sizeof(u->id0) + 1], hex1[33];

	if (sc_rand_bytes(id1, sizeof(id1), err) != 0)
		return -1;
	sc_hex_encode(id1, sizeof(id1), hex1);
	if (sc_buf_printf(u->tail, err, "/Size %lld /Root %d %d R /Prev %zu",
		u->size, d->root_num, d->root_gen, u->prev_xref) != 0)
		return -1;
	if (d->info_num > 0 &&
	    sc_buf_printf(u->tail, err, " /Info %d %d R", d->info_num,
		d->info_gen) != 0)
		return -1;
	sc_hex_encode(u->id0, u->id0_len, hex);
	return sc_buf_printf(u->tail, err, " /ID [<%s> <%s>]", hex, hex1);
}

static int
finish_table(struct pdf_upd *u, size_t xref_off, struct sc_err *err)
{
	size_t i = 0;

	if (sc_buf_append_str(u->tail, "xref\n", err) != 0)
		return -1;
	/* The head of the free list, as writers do (pyHanko
	 * write_xref_table); each entry is exactly 20 bytes (§7.5.4). */
	if (u->x[0].num != 1 &&
	    sc_buf_append_str(u->tail, "0 1\n0000000000 65535 f\r\n",
		err) != 0)
		return -1;
	while (i < u->nx) {
		size_t j = i;

		while (j + 1 < u->nx && u->x[j + 1].num == u->x[j].num + 1)
			j++;
		if (i == 0 && u->x[0].num == 1) {
			if (sc_buf_printf(u->tail, err, "0 %zu\n"
			    "0000000000 65535 f\r\n", j - i + 2) != 0)
				return -1;
		} else if (sc_buf_printf(u->tail, err, "%d %zu\n",
			       u->x[i].num, j - i + 1) != 0) {
			return -1;
		}
		for (size_t k = i; k <= j; k++)
			if (sc_buf_printf(u->tail, err, "%010zu %05d n\r\n",
				u->x[k].off, u->x[k].gen) != 0)
				return -1;
		i = j + 1;
	}
	if (sc_buf_append_str(u->tail, "trailer\n<< ", err) != 0 ||
	    trailer_keys(u, err) != 0 ||
	    sc_buf_printf(u->tail, err, " >>\nstartxref\n%zu\n%%%%EOF\n",
		xref_off) != 0)
		return -1;
	return 0;
}

static int
finish_stream(struct pdf_upd *u, struct sc_err *err)
{
	int num = pdf_upd_new_num(u);
	struct sc_buf data, index;
	size_t xref_off;
	int rc = -1;

	sc_buf_init(&data, (size_t)1 << 30);
	sc_buf_init(&index, (size_t)1 << 30);
	/* The stream lists itself (§7.5.8.3). */
	if (pdf_upd_obj_begin(u, num, 0, err) != 0)
		goto out;
	xref_off = u->x[u->nx - 1].off;
	qsort(u->x, u->nx, sizeof(u->x[0]), cmp_xent);
	for (size_t i = 0; i < u->nx;) {
		size_t j = i;

		while (j + 1 < u->nx && u->x[j + 1].num == u->x[j].num + 1)
			j++;
		if (sc_buf_printf(&index, err, "%s%d %zu", i == 0 ? "" : " ",
			u->x[i].num, j - i + 1) != 0)
			goto out;
		for (size_t k = i; k <= j; k++) {
			/* W [1 8 2]: type 1, offset, generation. */
			uint8_t e[11];
			uint64_t off = u->x[k].off;

			e[0] = 1;
			for (int b = 0; b < 8; b++)
				e[1 + b] = (uint8_t)(off >> (56 - 8 * b));
			e[9] = (uint8_t)(u->x[k].gen >> 8);
			e[10] = (uint8_t)u->x[k].gen;
			if (sc_buf_append(&data, e, sizeof(e), err) != 0)
				goto out;
		}
		i = j + 1;
	}
	if (sc_buf_append_str(u->tail, "<< /Type /XRef /W [1 8 2] /Index [",
		err) != 0 ||
	    sc_buf_append(u->tail, index.p, index.len, err) != 0 ||
	    sc_buf_printf(u->tail, err, "] /Length %zu ", data.len) != 0 ||
	    trailer_keys(u, err) != 0 ||
	    sc_buf_append_str(u->tail, " >>\nstream\n", err) != 0 ||
	    sc_buf_append(u->tail, data.p, data.len, err) != 0 ||
	    sc_buf_append_str(u->tail, "\nendstream\nendobj\n", err) != 0 ||
	    sc_buf_printf(u->tail, err, "startxref\n%zu\n%%%%EOF\n",
		xref_off) != 0)
		goto out;
	u->prev_xref = xref_off;
	rc = 0;
out:
	sc_buf_free(&data);
	sc_buf_free(&index);
	return rc;
}

int
pdf_upd_finish(struct pdf_upd *u, struct sc_err *err)
{
	size_t xref_off;

	if (u->d->xref_stream) {
		if (finish_stream(u, err) != 0)
			return -1;
	} else {
		if (u->nx == 0)
			return sc_err_set(err, SC_E_INTERNAL, "empty update");
		qsort(u->x, u->nx, sizeof(u->x[0]), cmp_xent);
		for (size_t i = 1; i < u->nx; i++)
			if (u->x[i].num == u->x[i - 1].num)
				return sc_err_set(err, SC_E_INTERNAL,
				    "object %d written twice", u->x[i].num);
		xref_off = pdf_upd_pos(u);
		if (finish_table(u, xref_off, err) != 0)
			return -1;
		u->prev_xref = xref_off;
	}
	u->nx = 0;
	u->revisions++;
	return 0;
}
