/*
 * core_buf.c: bounded buffers, files, secrets, encodings and numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sceau/core.h"

void
sc_buf_init(struct sc_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Grows so that @need bytes plus one spare NUL fit. */
static int
reserve(struct sc_buf *b, size_t need, struct sc_err *err)
{
	size_t ncap;
	uint8_t *np;

	if (need > b->max)
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "content larger than the limit of %zu bytes", b->max);
	if (need < b->cap)
		return 0;
	ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap <= need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need + 1;
			break;
		}
		ncap *= 2;
	}
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	b->p = np;
	b->cap = ncap;
	return 0;
}

int
sc_buf_append(struct sc_buf *b, const void *p, size_t n, struct sc_err *err)
{
	if (n > SIZE_MAX - b->len - 1)
		return sc_err_set(err, SC_E_TOO_LARGE, "content too large");
	if (reserve(b, b->len + n, err) != 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
sc_buf_append_str(struct sc_buf *b, const char *s, struct sc_err *err)
{
	return sc_buf_append(b, s, strlen(s), err);
}

int
sc_buf_printf(struct sc_buf *b, struct sc_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return sc_err_set(err, SC_E_INTERNAL, "format error");
	if (reserve(b, b->len + (size_t)n, err) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
sc_buf_free(struct sc_buf *b)
{
	if (b->p != NULL) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

uint8_t *
sc_buf_steal(struct sc_buf *b, size_t *len)
{
	uint8_t *p = b->p;

	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int
sc_file_read(const char *path, size_t max, struct sc_buf *b,
    struct sc_err *err)
{
	uint8_t chunk[65536];
	struct stat st;
	ssize_t n;
	int fd;

	sc_buf_init(b, max);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sc_err_set(err, SC_E_IO, "cannot open %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > (uint64_t)max) {
		close(fd);
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "%s is larger than the limit of %zu bytes", path, max);
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sc_err_set(err, SC_E_IO, "cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (sc_buf_append(b, chunk, (size_t)n, err) != 0)
			goto fail;
	}
	close(fd);
	if (b->p == NULL && sc_buf_append(b, "", 0, err) != 0)
		return -1;
	return 0;
fail:
	close(fd);
	sc_buf_free(b);
	return -1;
}

char *
sc_secret_read_file(const char *path, struct sc_err *err)
{
	struct sc_buf b;
	size_t n;
	char *s;

	if (sc_file_read(path, 4096, &b, err) != 0)
		return NULL;
	for (n = 0; n < b.len && b.p[n] != '\n' && b.p[n] != '\r'; n++)
		;
	if (n == 0) {
		sc_buf_free(&b);
		sc_err_set(err, SC_E_CONFIG, "%s is empty", path);
		return NULL;
	}
	b.p[n] = '\0';
	s = strdup((const char *)b.p);
	sc_buf_free(&b);
	if (s == NULL)
		sc_err_set(err, SC_E_NOMEM, "out of memory");
	return s;
}

void
sc_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
sc_hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sc_hex_decode(const char *hex, uint8_t *out, size_t outlen)
{
	if (strlen(hex) != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
sc_b64_encode(const uint8_t *p, size_t len, int url)
{
	const char *al = url ? b64_url : b64_std;
	size_t olen, o = 0, i;
	char *out;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return NULL;
	olen = (len + 2) / 3 * 4 + 1;
	out = malloc(olen);
	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];
		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = al[v >> 6 & 63];
		out[o++] = al[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = al[v >> 6 & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int
sc_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen,
    struct sc_err *err)
{
	uint32_t acc = 0;
	size_t n = 0, bits = 0, o = 0, pad = 0;
	uint8_t *p;

	*out = NULL;
	*outlen = 0;
	while (slen > 0 && s[slen - 1] == '=' && pad < 2) {
		slen--;
		pad++;
	}
	if (slen % 4 == 1 || (pad > 0 && (slen + pad) % 4 != 0))
		return sc_err_set(err, SC_E_BAD_REQUEST, "malformed base64");
	p = malloc(slen / 4 * 3 + 3);
	if (p == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	for (n = 0; n < slen; n++) {
		int v = b64val(s[n]);

		if (v < 0) {
			free(p);
			return sc_err_set(err, SC_E_BAD_REQUEST,
			    "malformed base64");
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* RFC 4648 §3.5: the leftover bits must be zero. */
	if ((acc & ((1u << bits) - 1)) != 0) {
		free(p);
		return sc_err_set(err, SC_E_BAD_REQUEST, "malformed base64");
	}
	*out = p;
	*outlen = o;
	return 0;
}

int
sc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char *what, struct sc_err *err)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return sc_err_set(err, SC_E_USAGE, "%s: a number is needed",
		    what);
	for (const char *c = s; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return sc_err_set(err, SC_E_USAGE,
			    "%s: \"%.40s\" is not a whole number", what, s);
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return sc_err_set(err, SC_E_USAGE,
			    "%s: number too large", what);
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (v < min || v > max)
		return sc_err_set(err, SC_E_USAGE,
		    "%s: %llu is outside %llu..%llu", what,
		    (unsigned long long)v, (unsigned long long)min,
		    (unsigned long long)max);
	*out = v;
	return 0;
}
