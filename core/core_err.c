/*
 * core_err.c: the error type and the code registry (STYLE.md rules 6, 7).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "sceau/core.h"

struct code_info {
	const char *name;
	int http;
	int exitc;
	const char *fr;
	const char *en;
};

static const struct code_info codes[] = {
#define SC_CODE(e, name, http, exitc, fr, en) {name, http, exitc, fr, en},
#include "sceau/codes.def"
#undef SC_CODE
};

static const struct code_info *
info(enum sc_code code)
{
	if ((size_t)code >= sizeof(codes) / sizeof(codes[0]))
		return &codes[SC_E_INTERNAL];
	return &codes[code];
}

void
sc_err_clear(struct sc_err *err)
{
	if (err == NULL)
		return;
	err->code = SC_E_OK;
	err->msg[0] = '\0';
	err->detail[0] = '\0';
}

static void set_va(struct sc_err *err, enum sc_code code, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
set_va(struct sc_err *err, enum sc_code code, const char *fmt, va_list ap)
{
	err->code = code == SC_E_OK ? SC_E_INTERNAL : code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int
sc_err_set(struct sc_err *err, enum sc_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != SC_E_OK)
		return -1;
	va_start(ap, fmt);
	set_va(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

void
sc_err_detail(struct sc_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->detail[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

/* Drains the whole queue, so that nothing stale is left behind. */
static void
drain_openssl(char *out, size_t outlen)
{
	unsigned long e;
	const char *file, *func, *data;
	int line, flags;
	size_t used = 0;

	if (outlen > 0)
		out[0] = '\0';
	while ((e = ERR_get_error_all(&file, &line, &func, &data, &flags)) !=
	    0) {
		char one[256];
		int n;

		ERR_error_string_n(e, one, sizeof(one));
		if (used + 3 >= outlen)
			continue;
		n = snprintf(out + used, outlen - used, "%s%s%s%s",
		    used > 0 ? "; " : "", one,
		    (flags & ERR_TXT_STRING) && data != NULL ? ": " : "",
		    (flags & ERR_TXT_STRING) && data != NULL ? data : "");
		if (n < 0)
			break;
		used += (size_t)n;
		if (used >= outlen)
			used = outlen - 1;
	}
}

int
sc_err_crypto(struct sc_err *err, enum sc_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != SC_E_OK) {
		ERR_clear_error();
		return -1;
	}
	va_start(ap, fmt);
	set_va(err, code, fmt, ap);
	va_end(ap);
	drain_openssl(err->detail, sizeof(err->detail));
	return -1;
}

const char *
sc_code_name(enum sc_code code)
{
	return info(code)->name;
}

int
sc_code_http(enum sc_code code)
{
	return info(code)->http;
}

int
sc_code_exit(enum sc_code code)
{
	return info(code)->exitc;
}

const char *
sc_code_title(enum sc_code code, const char *lang)
{
	if (lang != NULL && strncmp(lang, "en", 2) == 0)
		return info(code)->en;
	return info(code)->fr;
}

void
sc_op_begin(void)
{
	ERR_clear_error();
}
