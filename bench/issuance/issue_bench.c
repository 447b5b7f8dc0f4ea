/*
 * issue_bench.c: the measuring tools of bench/issuance/run.sh.
 *
 *   issue_bench csrs N DIR
 *       N subscriber CSRs (software P-256 keys: the subscribers', not the
 *       service's; the keys are not kept), DIR/csr/NNNNN.pem, and the
 *       bodies of POST /api/v1/requests (profile "person"), one JSON a
 *       line, in DIR/bodies.jsonl. Subject i: givenName "Awa", surname
 *       "Bench-i", commonName "Awa Bench-i", in the JSON and in the CSR
 *       (there as C=ML, SN, GN, CN: the name sceau writes, which
 *       `openssl ca` copies).
 *
 *   issue_bench http HOST PORT TOKEN_A TOKEN_B BODIES CONNS SECONDS MAX
 *       CONNS keep-alive HTTP/1.1 connections (one thread each) take the
 *       next body of BODIES and POST it to /api/v1/requests as officer A
 *       (must be 201 "pending"), then POST /api/v1/requests/ID/approve as
 *       officer B (must be 200 "issued" with a "pem"); until MAX bodies
 *       are used or SECONDS pass. One issuance is the pair; its latency is
 *       the pair's. Serials go to stdout's companion file BODIES.serials.
 *
 *   issue_bench hsm CONFIG ALIAS THREADS SECONDS
 *       The HSM's raw signing rate for key ALIAS through sceau's hsm/
 *       module: EVP_DigestSign over 1 KiB (about a TBSCertificate) with
 *       the digest sceau uses for that key (SHA-384 for P-384). THREADS
 *       threads. The ceiling: every certificate costs one signature.
 *
 *   issue_bench lib CONFIG BODIES THREADS SECONDS MAX
 *       The library alone, without HTTP: sc_ca_cert_issue() (submit and
 *       approve in one call, the `sceau cert issue` path; allowed for the
 *       one-approval profile "person") from THREADS threads.
 *
 *   issue_bench cpu CONFIG ALIAS SECONDS
 *       What one issuance costs in software on this CPU besides the HSM
 *       signature: a throw-away key of the CA key's curve (ca_issue step 2),
 *       a software signature with it, and X509_verify's check with the CA's
 *       public key (step 5), each measured alone on one thread.
 *
 * Output: one "key=value" line per mode, read by run.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sceau/ca.h"
#include "sceau/db.h"
#include "sceau/hsm.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Percentile @q of sorted @v (n > 0). */
static double
pct(const double *v, size_t n, double q)
{
	size_t i = (size_t)((double)n * q);

	return v[i < n ? i : n - 1];
}

/* ------------------------------------------------------------------ */
/* csrs                                                                */

/* Appends @s JSON-escaped (PEM: only '\n' needs it) to @f. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int
make_csrs(int n, const char *dir)
{
	char path[4096], sn[32], cn[64];
	FILE *bodies;

	snprintf(path, sizeof(path), "%s/csr", dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return 1;
	snprintf(path, sizeof(path), "%s/bodies.jsonl", dir);
	if ((bodies = fopen(path, "w")) == NULL)
		return 1;
	for (int i = 0; i < n; i++) {
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		X509_REQ *rq = X509_REQ_new();
		X509_NAME *nm = X509_NAME_new();
		BIO *mem = BIO_new(BIO_s_mem());
		char *pem;
		long plen;
		FILE *f;

		snprintf(sn, sizeof(sn), "Bench-%d", i);
		snprintf(cn, sizeof(cn), "Awa Bench-%d", i);
		if (k == NULL || rq == NULL || nm == NULL || mem == NULL ||
		    !X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC,
			(const unsigned char *)"ML", -1, -1, 0) ||
		    !X509_NAME_add_entry_by_txt(nm, "SN", MBSTRING_UTF8,
			(const unsigned char *)sn, -1, -1, 0) ||
		    !X509_NAME_add_entry_by_txt(nm, "GN", MBSTRING_UTF8,
			(const unsigned char *)"Awa", -1, -1, 0) ||
		    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
			(const unsigned char *)cn, -1, -1, 0) ||
		    !X509_REQ_set_subject_name(rq, nm) ||
		    !X509_REQ_set_pubkey(rq, k) ||
		    X509_REQ_sign(rq, k, EVP_sha256()) <= 0 ||
		    !PEM_write_bio_X509_REQ(mem, rq)) {
			fprintf(stderr, "issue_bench: cannot make CSR %d\n", i);
			return 1;
		}
		plen = BIO_get_mem_data(mem, &pem);
		snprintf(path, sizeof(path), "%s/csr/%05d.pem", dir, i);
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(pem, 1, (size_t)plen, f) != (size_t)plen ||
		    fclose(f) != 0)
			return 1;
		{
			char *z = strndup(pem, (size_t)plen);

			fputs("{\"profile\":\"person\",\"csr\":", bodies);
			json_str(bodies, z);
			fprintf(bodies,
			    ",\"subject\":{\"givenName\":\"Awa\","
			    "\"surname\":\"%s\",\"commonName\":\"%s\"}}\n",
			    sn, cn);
			free(z);
		}
		BIO_free(mem);
		X509_NAME_free(nm);
		X509_REQ_free(rq);
		EVP_PKEY_free(k);
	}
	if (fclose(bodies) != 0)
		return 1;
	printf("csrs=%d dir=%s\n", n, dir);
	return 0;
}

/* Reads BODIES (one a line); @return the count, -1 on error. */
static long
read_bodies(const char *path, char ***out)
{
	FILE *f = fopen(path, "r");
	char **v = NULL, *line = NULL;
	size_t cap = 0, lcap = 0;
	long n = 0;
	ssize_t l;

	if (f == NULL)
		return -1;
	while ((l = getline(&line, &lcap, f)) > 0) {
		if (line[l - 1] == '\n')
			line[--l] = '\0';
		if (l == 0)
			continue;
		if ((size_t)n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				return -1;
		}
		v[n++] = strdup(line);
	}
	free(line);
	fclose(f);
	*out = v;
	return n;
}

/* ------------------------------------------------------------------ */
/* http                                                                */

static const char *h_host, *h_tok_a, *h_tok_b;
static int h_port;
static char **h_bodies;
static long h_max;
static double h_until;
static atomic_long h_next;
static FILE *h_serials;
static pthread_mutex_t h_mu = PTHREAD_MUTEX_INITIALIZER;

struct http_arg {
	unsigned long n, bad, reconnects;
	double *lat, *lat_sub, *lat_app;
	size_t nlat;
	char first_error[512];
};

static int
conn_open(void)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)h_port);
	if (inet_pton(AF_INET, h_host, &sa.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads one HTTP/1.1 response with a Content-Length into @buf (NUL
 * terminated). @return the status, -1 when the connection failed.
 */
static int
read_resp(int fd, char *buf, size_t cap, char **body)
{
	size_t have = 0, hlen;
	char *hend = NULL, *cl;
	long clen;
	int status;

	while (hend == NULL) {
		ssize_t r;

		if (have + 1 >= cap)
			return -1;
		r = read(fd, buf + have, cap - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hend = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl == NULL || cl > hend)
		return -1;
	clen = strtol(cl + 17, NULL, 10);
	hlen = (size_t)(hend - buf) + 4;
	if (clen < 0 || hlen + (size_t)clen + 1 > cap)
		return -1;
	while (have < hlen + (size_t)clen) {
		ssize_t r = read(fd, buf + have, cap - 1 - have);

		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	buf[hlen + (size_t)clen] = '\0';
	*body = buf + hlen;
	return status;
}

/* One request on @fd (reopened on failure). @return the status or -1. */
static int
exchange(int *fd, const char *req, size_t len, char *buf, size_t cap,
    char **body, unsigned long *reconnects)
{
	for (int tries = 0; tries < 2; tries++) {
		int st;

		if (*fd < 0) {
			if ((*fd = conn_open()) < 0)
				return -1;
			(*reconnects)++;
		}
		if (write_all(*fd, req, len) == 0 &&
		    (st = read_resp(*fd, buf, cap, body)) >= 0)
			return st;
		/* a kept-alive connection the server closed: once more */
		close(*fd);
		*fd = -1;
	}
	return -1;
}

/* The string value of member @key in flat JSON @j (no escapes), or "". */
static void
jstr(const char *j, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p, *e;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if ((p = strstr(j, pat)) == NULL)
		return;
	p += strlen(pat);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= cap)
		return;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static void
fail(struct http_arg *a, const char *what, int st, const char *body)
{
	a->bad++;
	if (a->first_error[0] == '\0')
		snprintf(a->first_error, sizeof(a->first_error),
		    "%s: HTTP %d %.400s", what, st, body ? body : "");
}

static void *
http_worker(void *p)
{
	struct http_arg *a = p;
	size_t cap = 1 << 16, rcap = 1 << 14;
	char *buf = malloc(cap), *req = malloc(rcap), *body = NULL;
	size_t lcap = (size_t)h_max;
	int fd = -1;

	a->lat = calloc(lcap, sizeof(double));
	a->lat_sub = calloc(lcap, sizeof(double));
	a->lat_app = calloc(lcap, sizeof(double));
	if (buf == NULL || req == NULL || a->lat == NULL ||
	    a->lat_sub == NULL || a->lat_app == NULL)
		return NULL;
	for (;;) {
		long i = atomic_fetch_add(&h_next, 1);
		double t0, t1, t2;
		char id[32], status[32], serial[48], *e;
		const char *b;
		long long idv;
		int n, st;

		if (i >= h_max || now_s() >= h_until)
			break;
		b = h_bodies[i];
		t0 = now_s();
		n = snprintf(req, rcap,
		    "POST /api/v1/requests HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Authorization: Bearer %s\r\n"
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s",
		    h_host, h_port, h_tok_a, strlen(b), b);
		if (n < 0 || (size_t)n >= rcap) {
			fail(a, "request too long", 0, NULL);
			continue;
		}
		st = exchange(&fd, req, (size_t)n, buf, cap, &body,
		    &a->reconnects);
		if (st != 201) {
			fail(a, "submit", st, st >= 0 ? body : "connection");
			continue;
		}
		jstr(body, "status", status, sizeof(status));
		e = strstr(body, "\"id\":");
		idv = e != NULL ? strtoll(e + 5, NULL, 10) : 0;
		if (idv <= 0 || strcmp(status, "pending") != 0) {
			fail(a, "submit answer", st, body);
			continue;
		}
		snprintf(id, sizeof(id), "%lld", idv);
		t1 = now_s();
		n = snprintf(req, rcap,
		    "POST /api/v1/requests/%s/approve HTTP/1.1\r\n"
		    "Host: %s:%d\r\nAuthorization: Bearer %s\r\n"
		    "Content-Length: 0\r\n\r\n",
		    id, h_host, h_port, h_tok_b);
		st = exchange(&fd, req, (size_t)n, buf, cap, &body,
		    &a->reconnects);
		t2 = now_s();
		if (st != 200) {
			fail(a, "approve", st, st >= 0 ? body : "connection");
			continue;
		}
		jstr(body, "status", status, sizeof(status));
		jstr(body, "serial", serial, sizeof(serial));
		if (strcmp(status, "issued") != 0 || serial[0] == '\0' ||
		    strstr(body, "\"pem\":\"-----BEGIN CERTIFICATE-----") ==
			NULL) {
			fail(a, "approve answer", st, body);
			continue;
		}
		pthread_mutex_lock(&h_mu);
		fprintf(h_serials, "%s\n", serial);
		pthread_mutex_unlock(&h_mu);
		a->lat[a->nlat] = t2 - t0;
		a->lat_sub[a->nlat] = t1 - t0;
		a->lat_app[a->nlat] = t2 - t1;
		a->nlat++;
		a->n++;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	free(req);
	return NULL;
}

static int
bench_http(char **argv)
{
	static struct http_arg a[512];
	static pthread_t th[512];
	char path[4096];
	int conns = (int)strtol(argv[7], NULL, 10);
	double secs = atof(argv[8]), t0, t1;
	unsigned long total = 0, bad = 0, rec = 0;
	double *lat, *ls, *la;
	size_t all = 0, k = 0;
	long nb;

	h_host = argv[2];
	h_port = (int)strtol(argv[3], NULL, 10);
	h_tok_a = argv[4];
	h_tok_b = argv[5];
	if ((nb = read_bodies(argv[6], &h_bodies)) <= 0 || conns < 1 ||
	    conns > 512) {
		fprintf(stderr, "issue_bench: no bodies or bad CONNS\n");
		return 1;
	}
	h_max = strtol(argv[9], NULL, 10);
	if (h_max <= 0 || h_max > nb)
		h_max = nb;
	snprintf(path, sizeof(path), "%s.serials", argv[6]);
	if ((h_serials = fopen(path, "w")) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	t0 = now_s();
	h_until = t0 + secs;
	for (int i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, http_worker, &a[i]);
	for (int i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		total += a[i].n;
		bad += a[i].bad;
		rec += a[i].reconnects;
		all += a[i].nlat;
	}
	t1 = now_s();
	fclose(h_serials);
	lat = malloc((all + 1) * sizeof(*lat));
	ls = malloc((all + 1) * sizeof(*ls));
	la = malloc((all + 1) * sizeof(*la));
	if (lat == NULL || ls == NULL || la == NULL)
		return 1;
	for (int i = 0; i < conns; i++) {
		memcpy(lat + k, a[i].lat, a[i].nlat * sizeof(*lat));
		memcpy(ls + k, a[i].lat_sub, a[i].nlat * sizeof(*ls));
		memcpy(la + k, a[i].lat_app, a[i].nlat * sizeof(*la));
		k += a[i].nlat;
		if (a[i].first_error[0] != '\0')
			fprintf(stderr, "issue_bench: first error of "
					"connection %d: %s\n",
			    i, a[i].first_error);
	}
	qsort(lat, all, sizeof(*lat), cmp_d);
	qsort(ls, all, sizeof(*ls), cmp_d);
	qsort(la, all, sizeof(*la), cmp_d);
	printf("issued=%lu bad=%lu seconds=%.2f rate=%.1f conns=%d "
	       "p50_ms=%.1f p99_ms=%.1f submit_p50_ms=%.1f "
	       "approve_p50_ms=%.1f approve_p99_ms=%.1f reconnects=%lu\n",
	    total, bad, t1 - t0, (double)total / (t1 - t0), conns,
	    all ? pct(lat, all, 0.5) * 1e3 : 0.0,
	    all ? pct(lat, all, 0.99) * 1e3 : 0.0,
	    all ? pct(ls, all, 0.5) * 1e3 : 0.0,
	    all ? pct(la, all, 0.5) * 1e3 : 0.0,
	    all ? pct(la, all, 0.99) * 1e3 : 0.0, rec);
	return bad == 0 ? 0 : 2;
}

/* ------------------------------------------------------------------ */
/* hsm                                                                 */

struct hsm_arg {
	struct sc_hsm *hsm;
	const char *alias;
	double until;
	unsigned long n;
	int failed;
};

static void *
hsm_worker(void *p)
{
	struct hsm_arg *a = p;
	unsigned char msg[1024], sig[1024];
	const EVP_MD *md;
	struct sc_err err;
	EVP_PKEY *key;

	memset(msg, 0x5a, sizeof(msg));
	sc_err_clear(&err);
	if ((key = sc_hsm_key_get1(a->hsm, a->alias, &err)) == NULL) {
		fprintf(stderr, "hsm: %s\n", err.msg);
		a->failed = 1;
		return NULL;
	}
	/* as ca_sign_md(): SHA-384 for P-384 and larger, else SHA-256 */
	md = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
		EVP_PKEY_get_bits(key) >= 384
	    ? EVP_sha384()
	    : EVP_sha256();
	while (now_s() < a->until) {
		EVP_MD_CTX *mc = EVP_MD_CTX_new();
		size_t sl = sizeof(sig);

		msg[0] = (unsigned char)a->n;
		if (mc == NULL ||
		    EVP_DigestSignInit(mc, NULL, md, NULL, key) != 1 ||
		    EVP_DigestSign(mc, sig, &sl, msg, sizeof(msg)) != 1) {
			EVP_MD_CTX_free(mc);
			a->failed = 1;
			break;
		}
		EVP_MD_CTX_free(mc);
		a->n++;
	}
	EVP_PKEY_free(key);
	return NULL;
}

static int
bench_hsm(const char *conf, const char *alias, int nth, double secs)
{
	struct hsm_arg a[64];
	pthread_t th[64];
	struct sc_config cfg;
	struct sc_err err;
	struct sc_hsm *hsm;
	unsigned long total = 0;
	double t0, t1;

	if (nth < 1 || nth > 64)
		return 1;
	sc_err_clear(&err);
	sc_log_init(SC_LOG_WARNING, NULL);
	if (sc_config_load(&cfg, conf, &err) != 0 ||
	    (hsm = sc_hsm_open(&cfg, &err)) == NULL) {
		fprintf(stderr, "issue_bench: %s\n", err.msg);
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < nth; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].hsm = hsm;
		a[i].alias = alias;
		a[i].until = t0 + secs;
		pthread_create(&th[i], NULL, hsm_worker, &a[i]);
	}
	for (int i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
		if (a[i].failed) {
			fprintf(stderr, "issue_bench: signing failed\n");
			return 1;
		}
		total += a[i].n;
	}
	t1 = now_s();
	printf("hsm_signs=%lu seconds=%.2f rate=%.1f threads=%d\n", total,
	    t1 - t0, (double)total / (t1 - t0), nth);
	sc_hsm_close(hsm);
	return 0;
}

/* ------------------------------------------------------------------ */
/* lib                                                                 */

struct lib_arg {
	const struct sc_ca_env *env;
	char **bodies;
	long max;
	double until;
	unsigned long n, bad;
	char first_error[300];
};

static atomic_long l_next;

/* The CSR PEM and the subject object of body @b, unescaped. */
static int
split_body(const char *b, char **csr, char **subj)
{
	const char *c = strstr(b, "\"csr\":\""), *s = strstr(b, "\"subject\":");
	char *o;

	if (c == NULL || s == NULL)
		return -1;
	c += 7;
	if ((o = *csr = malloc(strlen(c) + 1)) == NULL)
		return -1;
	for (; *c != '\0' && *c != '"'; c++) {
		if (c[0] == '\\' && c[1] == 'n') {
			*o++ = '\n';
			c++;
		} else
			*o++ = *c;
	}
	*o = '\0';
	s += 10;
	*subj = strndup(s, strlen(s) - 1); /* drop the body's closing '}' */
	return *subj != NULL ? 0 : -1;
}

static void *
lib_worker(void *p)
{
	struct lib_arg *a = p;
	struct sc_actor who = {"bench-lib", "ra_officer"};

	for (;;) {
		long i = atomic_fetch_add(&l_next, 1);
		struct sc_ca_request_state st;
		struct sc_ca_submit in;
		struct sc_err err;
		char *csr = NULL, *subj = NULL;

		if (i >= a->max || now_s() >= a->until)
			break;
		if (split_body(a->bodies[i], &csr, &subj) != 0) {
			a->bad++;
			continue;
		}
		memset(&in, 0, sizeof(in));
		in.profile = "person";
		in.csr = (const uint8_t *)csr;
		in.csr_len = strlen(csr);
		in.subject_json = subj;
		in.subject_len = strlen(subj);
		sc_err_clear(&err);
		if (sc_ca_cert_issue(a->env, &who, &in, &st, &err) == 0 &&
		    st.serial[0] != '\0')
			a->n++;
		else {
			a->bad++;
			if (a->first_error[0] == '\0')
				snprintf(a->first_error,
				    sizeof(a->first_error), "%s", err.msg);
		}
		free(csr);
		free(subj);
	}
	return NULL;
}

static int
bench_lib(char **argv)
{
	struct lib_arg a[64];
	pthread_t th[64];
	struct sc_config cfg;
	struct sc_ca_env env;
	struct sc_err err;
	struct sc_hsm *hsm = NULL;
	struct sc_db *db = NULL;
	char **bodies, *url = NULL;
	int nth = (int)strtol(argv[4], NULL, 10);
	double secs = atof(argv[5]), t0, t1;
	unsigned long total = 0, bad = 0;
	long nb, max = strtol(argv[6], NULL, 10);

	if (nth < 1 || nth > 64 || (nb = read_bodies(argv[3], &bodies)) <= 0)
		return 1;
	if (max <= 0 || max > nb)
		max = nb;
	sc_err_clear(&err);
	sc_log_init(SC_LOG_WARNING, NULL);
	if (sc_config_load(&cfg, argv[2], &err) != 0 ||
	    (url = sc_config_db_url(&cfg, &err)) == NULL ||
	    (db = sc_db_open(url, cfg.db_pool, &err)) == NULL ||
	    (hsm = sc_hsm_open(&cfg, &err)) == NULL ||
	    sc_ca_env_init(&env, &cfg, db, hsm, &err) != 0) {
		fprintf(stderr, "issue_bench: %s\n", err.msg);
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < nth; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].env = &env;
		a[i].bodies = bodies;
		a[i].max = max;
		a[i].until = t0 + secs;
		pthread_create(&th[i], NULL, lib_worker, &a[i]);
	}
	for (int i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
		total += a[i].n;
		bad += a[i].bad;
		if (a[i].first_error[0] != '\0')
			fprintf(stderr, "issue_bench: lib: %s\n",
			    a[i].first_error);
	}
	t1 = now_s();
	printf("lib_issued=%lu bad=%lu seconds=%.2f rate=%.1f threads=%d\n",
	    total, bad, t1 - t0, (double)total / (t1 - t0), nth);
	sc_hsm_close(hsm);
	sc_db_close(db);
	sc_secret_free(url);
	return bad == 0 ? 0 : 2;
}

/* ------------------------------------------------------------------ */
/* cpu                                                                 */

static int
bench_cpu(const char *conf, const char *alias, double secs)
{
	struct sc_config cfg;
	struct sc_err err;
	struct sc_hsm *hsm;
	EVP_PKEY *pub, *sw;
	const char *curve;
	unsigned char msg[1024], sig[512];
	size_t sl = 0;
	unsigned long n;
	double t0, r_gen, r_sign, r_verify;

	sc_err_clear(&err);
	sc_log_init(SC_LOG_WARNING, NULL);
	if (sc_config_load(&cfg, conf, &err) != 0 ||
	    (hsm = sc_hsm_open(&cfg, &err)) == NULL ||
	    (pub = sc_hsm_pubkey_get1(hsm, alias, &err)) == NULL) {
		fprintf(stderr, "issue_bench: %s\n", err.msg);
		return 1;
	}
	curve = EVP_PKEY_get_bits(pub) >= 384 ? "P-384" : "P-256";
	memset(msg, 0x33, sizeof(msg));
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++)
		EVP_PKEY_free(EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve));
	r_gen = (double)n / (now_s() - t0);
	sw = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++) {
		EVP_MD_CTX *mc = EVP_MD_CTX_new();

		sl = sizeof(sig);
		if (EVP_DigestSignInit(mc, NULL, EVP_sha384(), NULL, sw) != 1 ||
		    EVP_DigestSign(mc, sig, &sl, msg, sizeof(msg)) != 1)
			return 1;
		EVP_MD_CTX_free(mc);
	}
	r_sign = (double)n / (now_s() - t0);
	for (n = 0, t0 = now_s(); now_s() - t0 < secs; n++) {
		EVP_MD_CTX *mc = EVP_MD_CTX_new();

		/* the software key's signature: same curve, same cost */
		if (EVP_DigestVerifyInit(mc, NULL, EVP_sha384(), NULL, sw) !=
			1 ||
		    EVP_DigestVerify(mc, sig, sl, msg, sizeof(msg)) != 1)
			return 1;
		EVP_MD_CTX_free(mc);
	}
	r_verify = (double)n / (now_s() - t0);
	printf("curve=%s keygen_per_s=%.0f sign_per_s=%.0f verify_per_s=%.0f "
	       "sw_ms_per_cert=%.2f\n",
	    curve, r_gen, r_sign, r_verify,
	    1e3 / r_gen + 1e3 / r_sign + 1e3 / r_verify);
	EVP_PKEY_free(sw);
	EVP_PKEY_free(pub);
	sc_hsm_close(hsm);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "csrs") == 0)
		return make_csrs((int)strtol(argv[2], NULL, 10), argv[3]);
	if (argc == 10 && strcmp(argv[1], "http") == 0)
		return bench_http(argv);
	if (argc == 6 && strcmp(argv[1], "hsm") == 0)
		return bench_hsm(argv[2], argv[3], (int)strtol(argv[4], NULL, 10),
		    atof(argv[5]));
	if (argc == 7 && strcmp(argv[1], "lib") == 0)
		return bench_lib(argv);
	if (argc == 5 && strcmp(argv[1], "cpu") == 0)
		return bench_cpu(argv[2], argv[3], atof(argv[4]));
	fprintf(stderr,
	    "usage: issue_bench csrs N DIR\n"
	    "       issue_bench http HOST PORT TOKEN_A TOKEN_B BODIES CONNS "
	    "SECONDS MAX\n"
	    "       issue_bench hsm CONFIG ALIAS THREADS SECONDS\n"
	    "       issue_bench lib CONFIG BODIES THREADS SECONDS MAX\n"
	    "       issue_bench cpu CONFIG ALIAS SECONDS\n");
	return 64;
}
