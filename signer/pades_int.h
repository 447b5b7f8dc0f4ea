/*
 * pades_int.h: the PDF reader (qpdf) and the incremental-update writer
 * shared by the signer_pades*.c and signer_pdf*.c files. Not installed.
 */
#ifndef SCEAU_PADES_INT_H
#define SCEAU_PADES_INT_H

#include <stddef.h>
#include <stdint.h>

#include <qpdf/qpdf-c.h>

#include "sceau/core.h"

/* Bounds on hostile input (STYLE.md rule 13). */
#define PDF_MAX_KEYS 4096	   /* keys of one dictionary we rewrite */
#define PDF_MAX_ITEMS 100000	   /* items of one array we rewrite */
#define PDF_MAX_FIELD_DEPTH 32	   /* /Kids nesting */
#define PDF_MAX_FIELDS 100000	   /* fields walked */
#define PDF_MAX_OBJ_TEXT (16u << 20) /* text of one rewritten object */
#define PDF_TAIL_SCAN 4096	   /* bytes searched for startxref */

/* The input as read. */
struct pdf_doc {
	const uint8_t *buf; /* borrowed: the caller's bytes, or NULL */
	int fd;		    /* ... else the caller's open file */
	size_t len;
	qpdf_data q;
	size_t startxref;  /* offset of the last xref section */
	int xref_stream;   /* the last section is an xref stream */
	int hybrid;	   /* classic table with /XRefStm */
	long long size;	   /* trailer /Size */
	int root_num, root_gen;
	int info_num, info_gen; /* 0: no /Info */
	uint8_t id0[64];
	size_t id0_len;		/* 0: no /ID */
	int ends_eol;		/* the input ends with \n or \r */
	char version[8];	/* header version, "1.7" */
};

/**
 * Reads @buf, or the file @fd when @buf is NULL (borrowed; must outlive
 * the doc), with recovery off.
 * @return 0, or -1 with SC_E_INVALID_PDF (with what qpdf said in the
 *         detail) or SC_E_ENCRYPTED_PDF.
 */
int pdf_open(struct pdf_doc *d, const uint8_t *buf, int fd, size_t len,
    struct sc_err *err);
/** Copies @n bytes at @off of the input into @out. @return 0 or -1. */
int pdf_read_at(const struct pdf_doc *d, size_t off, void *out, size_t n,
    struct sc_err *err);
void pdf_close(struct pdf_doc *d);

/** qpdf's last error into @err (code @code). @return -1. */
int pdf_qpdf_err(struct pdf_doc *d, enum sc_code code, const char *what,
    struct sc_err *err);

/* A dictionary being rewritten: keys as PDF names ("/Annots"), values
 * as PDF text (nested references stay "n g R"). */
struct pdf_kv {
	char *key;
	char *val;
	size_t vlen;
};

struct pdf_dict {
	int num, gen; /* 0: direct (written inside its parent) */
	int dirty;    /* to be written in the current update */
	struct pdf_kv *kv;
	size_t n;
};

struct pdf_arr {
	int num, gen;
	int dirty;
	struct sc_buf items; /* items' text, each followed by ' ' */
	size_t n;
};

/** Loads the dictionary @oh (direct or indirect). */
int pdf_dict_load(struct pdf_doc *d, qpdf_oh oh, struct pdf_dict *out,
    struct sc_err *err);
/** Sets (replacing) @key to the text @val. */
int pdf_dict_set(struct pdf_dict *dict, const char *key, const char *val,
    struct sc_err *err);
void pdf_dict_del(struct pdf_dict *dict, const char *key);
const char *pdf_dict_get(const struct pdf_dict *dict, const char *key);
void pdf_dict_free(struct pdf_dict *dict);
/** Appends "<< ... >>" to @b. */
int pdf_dict_text(const struct pdf_dict *dict, struct sc_buf *b,
    struct sc_err *err);

/** Loads an array (or starts an empty one when @oh is not an array). */
int pdf_arr_load(struct pdf_doc *d, qpdf_oh oh, struct pdf_arr *out,
    struct sc_err *err);
int pdf_arr_add(struct pdf_arr *a, const char *item, struct sc_err *err);
void pdf_arr_free(struct pdf_arr *a);
int pdf_arr_text(const struct pdf_arr *a, struct sc_buf *b,
    struct sc_err *err);

/** A PDF name for @s ("/A#20B"), escaping per ISO 32000-1 §7.3.5. */
int pdf_name(struct sc_buf *b, const char *s, struct sc_err *err);
/**
 * A PDF text string for UTF-8 @s (ISO 32000-1 §7.9.2.2): a literal
 * string when ASCII, else UTF-16BE with a BOM, in hex.
 * @return 0, or -1 (SC_E_INVALID_INPUT for bad UTF-8).
 */
int pdf_text_string(struct sc_buf *b, const char *s, struct sc_err *err);

/* ------------------------------------------------------------------ */
/* Incremental update writer (ISO 32000-1 §7.5.6)                      */

struct pdf_xent {
	int num, gen;
	size_t off; /* absolute file offset */
};

/* The running state of the file being extended: the input plus what
 * has been appended so far. */
struct pdf_upd {
	const struct pdf_doc *d;
	struct sc_buf *tail; /* the appended bytes; file = input || tail */
	size_t prev_xref;    /* startxref of the last section so far */
	long long size;	     /* /Size so far */
	struct pdf_xent *x;  /* entries of the update being written */
	size_t nx, capx;
	unsigned revisions;
	uint8_t id0[64];     /* ID[0]: the input's, or made once here */
	size_t id0_len;
};

/** Starts the state after the input (adds an EOL when it has none). */
int pdf_upd_init(struct pdf_upd *u, const struct pdf_doc *d,
    struct sc_buf *tail, struct sc_err *err);
void pdf_upd_free(struct pdf_upd *u);
/** The absolute offset of the next byte appended. */
size_t pdf_upd_pos(const struct pdf_upd *u);
/** A new object number (from /Size up). */
int pdf_upd_new_num(struct pdf_upd *u);
/** Writes "num gen obj\n" and records its offset in the xref. */
int pdf_upd_obj_begin(struct pdf_upd *u, int num, int gen,
    struct sc_err *err);
int pdf_upd_obj_end(struct pdf_upd *u, struct sc_err *err);
/** A whole object whose body is @body. */
int pdf_upd_obj(struct pdf_upd *u, int num, int gen, const void *body,
    size_t len, struct sc_err *err);
/** A stream object with raw @data (direct /Length, no filter). */
int pdf_upd_stream(struct pdf_upd *u, int num, const char *dict_extra,
    const uint8_t *data, size_t len, struct sc_err *err);
/** Writes a rewritten dictionary / array object (if dirty, indirect). */
int pdf_upd_dict(struct pdf_upd *u, struct pdf_dict *dict,
    struct sc_err *err);
int pdf_upd_arr(struct pdf_upd *u, struct pdf_arr *a, struct sc_err *err);
/**
 * Ends the update: an xref section of the same kind as the input's last
 * one (table, or stream) listing this update's objects, /Prev, /Size,
 * /Root, /Info, /ID (ID[0] kept, ID[1] fresh), startxref, %%EOF.
 */
int pdf_upd_finish(struct pdf_upd *u, struct sc_err *err);

/* ------------------------------------------------------------------ */
/* signer_pades_ap.c                                                   */

/**
 * Writes object @num: the appearance form XObject (@w x @h points) of a
 * visible signature with @name, @capacity (may be NULL), @date and a QR
 * code of @qr_text.
 */
int pades_appearance(struct pdf_upd *u, int num, const char *name,
    const char *capacity, const char *date, const char *qr_text, double w,
    double h, struct sc_err *err);

#endif
