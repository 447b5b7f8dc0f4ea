/*
 * core_http.c: a small, bounded HTTP/1.1 client (RFC 9112) for OCSP
 * (RFC 6960 appendix A.1) and CRL downloads: plain http:// only, one
 * request per connection, a deadline over the whole exchange and a cap
 * on the reply. No redirects: revocation sources are named by the
 * certificates and our configuration, and are fetched as named.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sceau/http.h"

#define HTTP_HEAD_MAX 16384
#define HTTP_DEFAULT_MAX ((size_t)16 << 20)

struct url {
	char host[256];
	char port[8];
	char path[1024];
};

static int
url_parse(const char *s, struct url *u, struct sc_err *err)
{
	const char *h, *e, *p;
	size_t hl;

	if (strncasecmp(s, "http://", 7) != 0)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "only http:// URLs are fetched: %.200s", s);
	h = s + 7;
	p = h + strcspn(h, "/?#");
	if (*h == '[') {
		e = memchr(h, ']', (size_t)(p - h));
		if (e == NULL)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "malformed URL: %.200s", s);
		hl = (size_t)(e - h - 1);
		h++;
		e++;
	} else {
		e = memchr(h, ':', (size_t)(p - h));
		if (e == NULL)
			e = p;
		hl = (size_t)(e - h);
	}
	if (hl == 0 || hl >= sizeof(u->host))
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "malformed URL host: %.200s", s);
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	if (*e == ':') {
		size_t pl = (size_t)(p - e - 1);

		if (pl == 0 || pl >= sizeof(u->port))
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "malformed URL port: %.200s", s);
		memcpy(u->port, e + 1, pl);
		u->port[pl] = '\0';
		for (size_t i = 0; i < pl; i++)
			if (!isdigit((unsigned char)u->port[i]))
				return sc_err_set(err, SC_E_INVALID_INPUT,
				    "malformed URL port: %.200s", s);
	} else {
		snprintf(u->port, sizeof(u->port), "80");
	}
	if (*p == '\0')
		p = "/";
	if (strlen(p) >= sizeof(u->path))
		return sc_err_set(err, SC_E_INVALID_INPUT, "URL too long");
	for (const char *q = p; *q != '\0'; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "URL with spaces or control characters");
	snprintf(u->path, sizeof(u->path), "%s", p);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @ev on @fd until @deadline. @return 0 ready, -1 timeout. */
static int
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd pf = {fd, ev, 0};

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pf, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int
dial(const struct url *u, int64_t deadline, struct sc_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(u->host, u->port, &hints, &res);
	if (r != 0)
		return sc_err_set(err, SC_E_UNAVAILABLE, "cannot resolve %s: %s",
		    u->host, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return sc_err_set(err, SC_E_UNAVAILABLE,
		    "cannot connect to %s:%s", u->host, u->port);
	return fd;
}

static int
send_all(int fd, const void *p, size_t n, int64_t deadline)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w > 0) {
			b += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Decodes a chunked body (RFC 9112 §7.1) in place. @return 0 or -1. */
static int
dechunk(uint8_t *p, size_t len, size_t *outlen)
{
	size_t r = 0, w = 0;

	for (;;) {
		size_t sz = 0;
		int digits = 0;

		while (r < len && isxdigit(p[r]) && digits < 15) {
			int c = p[r];

			sz = sz * 16 + (size_t)(isdigit(c) ? c - '0'
							    : (tolower(c) - 'a' + 10));
			r++;
			digits++;
		}
		if (digits == 0)
			return -1;
		while (r < len && p[r] != '\n')
			r++; /* chunk extensions */
		if (r >= len)
			return -1;
		r++;
		if (sz == 0)
			break;
		if (sz > len - r)
			return -1;
		memmove(p + w, p + r, sz);
		w += sz;
		r += sz;
		if (r < len && p[r] == '\r')
			r++;
		if (r < len && p[r] == '\n')
			r++;
	}
	*outlen = w;
	return 0;
}

/* The value of header @name in @head (NUL-terminated), or NULL. */
static const char *
header(const char *head, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l != NULL;
	     l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;

		if (strncasecmp(v, name, nl) == 0 && v[nl] == ':') {
			size_t k = 0;

			v += nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			while (*v != '\r' && *v != '\0' && k + 1 < outlen)
				out[k++] = *v++;
			while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == '\t'))
				k--;
			out[k] = '\0';
			return out;
		}
	}
	return NULL;
}

int
sc_http_fetch(const char *url, const char *ctype, const uint8_t *body,
    size_t len, unsigned timeout_s, size_t max, uint8_t **out,
    size_t *outlen, struct sc_err *err)
{
	int64_t deadline = now_ms() + (int64_t)(timeout_s != 0 ? timeout_s : 10) *
	    1000;
	struct url u;
	struct sc_buf req, resp;
	uint8_t *hend;
	char hv[64], *head = NULL;
	size_t hl, blen;
	int fd = -1, rc = -1, status = 0;

	*out = NULL;
	*outlen = 0;
	if (max == 0)
		max = HTTP_DEFAULT_MAX;
	sc_buf_init(&req, HTTP_HEAD_MAX + len);
	sc_buf_init(&resp, max + HTTP_HEAD_MAX);
	if (url_parse(url, &u, err) != 0)
		goto out;
	if (sc_buf_printf(&req, err, "%s %s HTTP/1.1\r\nHost: %s%s%s\r\n"
		"User-Agent: sceau\r\nAccept: */*\r\nConnection: close\r\n",
		body != NULL ? "POST" : "GET", u.path, u.host,
		strcmp(u.port, "80") != 0 ? ":" : "",
		strcmp(u.port, "80") != 0 ? u.port : "") != 0)
		goto out;
	if (body != NULL &&
	    sc_buf_printf(&req, err, "Content-Type: %s\r\nContent-Length: "
		"%zu\r\n", ctype != NULL ? ctype : "application/octet-stream",
		len) != 0)
		goto out;
	if (sc_buf_append_str(&req, "\r\n", err) != 0 ||
	    (body != NULL && sc_buf_append(&req, body, len, err) != 0))
		goto out;
	fd = dial(&u, deadline, err);
	if (fd < 0)
		goto out;
	if (send_all(fd, req.p, req.len, deadline) != 0) {
		sc_err_set(err, SC_E_UNAVAILABLE, "cannot send to %s", u.host);
		goto out;
	}
	for (;;) {
		uint8_t chunk[16384];
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);

		if (r > 0) {
			if (sc_buf_append(&resp, chunk, (size_t)r, err) != 0)
				goto out; /* SC_E_TOO_LARGE */
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) != 0) {
				sc_err_set(err, SC_E_UNAVAILABLE,
				    "%s did not answer in time", u.host);
				goto out;
			}
		} else {
			sc_err_set(err, SC_E_UNAVAILABLE,
			    "connection to %s failed", u.host);
			goto out;
		}
	}
	hend = resp.len > 0 ? memmem(resp.p, resp.len, "\r\n\r\n", 4) : NULL;
	if (hend == NULL || (size_t)(hend - resp.p) > HTTP_HEAD_MAX) {
		sc_err_set(err, SC_E_UNAVAILABLE, "%s: malformed HTTP reply",
		    u.host);
		goto out;
	}
	hl = (size_t)(hend - resp.p);
	head = strndup((const char *)resp.p, hl);
	if (head == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	/* RFC 9112 §4: status-line = HTTP-version SP 3DIGIT SP ... */
	if (strncmp(head, "HTTP/1.", 7) != 0 || strlen(head) < 12 ||
	    head[8] != ' ' || !isdigit((unsigned char)head[9]) ||
	    !isdigit((unsigned char)head[10]) ||
	    !isdigit((unsigned char)head[11])) {
		sc_err_set(err, SC_E_UNAVAILABLE, "%s: not an HTTP reply",
		    u.host);
		goto out;
	}
	status = (head[9] - '0') * 100 + (head[10] - '0') * 10 +
	    (head[11] - '0');
	if (status != 200) {
		sc_err_set(err, SC_E_UNAVAILABLE, "%s answered HTTP %d for %s",
		    u.host, status, u.path);
		goto out;
	}
	blen = resp.len - hl - 4;
	memmove(resp.p, hend + 4, blen);
	if (header(head, "Transfer-Encoding", hv, sizeof(hv)) != NULL &&
	    strcasecmp(hv, "chunked") == 0) {
		if (dechunk(resp.p, blen, &blen) != 0) {
			sc_err_set(err, SC_E_UNAVAILABLE,
			    "%s: malformed chunked body", u.host);
			goto out;
		}
	} else if (header(head, "Content-Length", hv, sizeof(hv)) != NULL) {
		char *e;
		unsigned long long cl = strtoull(hv, &e, 10);

		if (*e != '\0' || cl > blen) {
			sc_err_set(err, SC_E_UNAVAILABLE,
			    "%s: body shorter than its Content-Length", u.host);
			goto out;
		}
		blen = (size_t)cl;
	}
	if (blen > max) {
		sc_err_set(err, SC_E_TOO_LARGE, "%s: reply over %zu bytes",
		    u.host, max);
		goto out;
	}
	*out = malloc(blen > 0 ? blen : 1);
	if (*out == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, resp.p, blen);
	*outlen = blen;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(head);
	sc_buf_free(&req);
	sc_buf_free(&resp);
	return rc;
}

/* @s as a malloc'd string if it is an http:// URL without a NUL. */
static char *
http_uri(const ASN1_IA5STRING *s)
{
	int n = ASN1_STRING_length(s);
	const char *p = (const char *)ASN1_STRING_get0_data(s);

	if (n <= 7 || n > 2048 || strncasecmp(p, "http://", 7) != 0 ||
	    memchr(p, '\0', (size_t)n) != NULL)
		return NULL;
	return strndup(p, (size_t)n);
}

char *
sc_http_crl_url(X509 *x)
{
	STACK_OF(DIST_POINT) *dps =
	    X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	char *u = NULL;

	for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps) && !u; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		GENERAL_NAMES *gns;

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		gns = dp->distpoint->name.fullname;
		for (int j = 0; j < sk_GENERAL_NAME_num(gns) && !u; j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(gns, j);

			if (g->type == GEN_URI)
				u = http_uri(g->d.uniformResourceIdentifier);
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
	return u;
}

/* The first http:// location of @x's AIA with access method @nid. */
static char *
aia_url(X509 *x, int nid)
{
	AUTHORITY_INFO_ACCESS *aia =
	    X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	char *u = NULL;

	for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia) && !u;
	     i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == nid &&
		    ad->location->type == GEN_URI)
			u = http_uri(ad->location->d.uniformResourceIdentifier);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return u;
}

char *
sc_http_ocsp_url(X509 *x)
{
	return aia_url(x, NID_ad_OCSP);
}

char *
sc_http_issuer_url(X509 *x)
{
	return aia_url(x, NID_ad_ca_issuers);
}
