/*
 * tsa_bench.c: the two measuring tools of bench/tsa/run.sh.
 *
 *   tsa_bench hsm CONFIG ALIAS THREADS SECONDS
 *       The HSM's raw signing rate for the key ALIAS: THREADS threads
 *       call EVP_DigestSign (SHA-256 over 256 bytes, about the size of a
 *       TSTInfo's signed attributes) through sceau's hsm/ module, as the
 *       responder does. This is the ceiling of the TSA.
 *
 *   tsa_bench lib CONFIG TSQ THREADS SECONDS RECORD
 *       The library alone (sc_tsa_respond from THREADS threads, the unit
 *       from the database), with token records (RECORD 1) or without (0):
 *       where the time goes between the HSM, the TSA code, PostgreSQL and
 *       HTTP.
 *
 *   tsa_bench http HOST PORT PATH TSQ CONNS SECONDS
 *       CONNS keep-alive HTTP/1.1 connections (one thread each, TCP_NODELAY)
 *       POST the TimeStampReq in file TSQ to PATH for SECONDS; every reply
 *       must be 200 and a granted TimeStampResp. Prints the rate and the
 *       p50/p99 latency.
 *
 * Output: one "key=value" line, read by run.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ts.h>

#include "sceau/db.h"
#include "sceau/hsm.h"
#include "sceau/tsa.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */

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
	unsigned char msg[256], sig[512];
	struct sc_err err;
	EVP_PKEY *key;

	memset(msg, 0x5a, sizeof(msg));
	sc_err_clear(&err);
	key = sc_hsm_key_get1(a->hsm, a->alias, &err);
	if (key == NULL) {
		fprintf(stderr, "hsm: %s\n", err.msg);
		a->failed = 1;
		return NULL;
	}
	while (now_s() < a->until) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		size_t sl = sizeof(sig);

		msg[0] = (unsigned char)a->n;
		if (md == NULL ||
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) !=
			1 ||
		    EVP_DigestSign(md, sig, &sl, msg, sizeof(msg)) != 1) {
			EVP_MD_CTX_free(md);
			a->failed = 1;
			break;
		}
		EVP_MD_CTX_free(md);
		a->n++;
	}
	EVP_PKEY_free(key);
	return NULL;
}

static int
bench_hsm(const char *conf, const char *alias, int nth, double secs)
{
	struct hsm_arg a[256];
	pthread_t th[256];
	struct sc_config cfg;
	struct sc_err err;
	struct sc_hsm *hsm;
	unsigned long total = 0;
	double t0, t1;

	sc_err_clear(&err);
	sc_log_init(SC_LOG_WARNING, NULL);
	if (sc_config_load(&cfg, conf, &err) != 0 ||
	    (hsm = sc_hsm_open(&cfg, &err)) == NULL) {
		fprintf(stderr, "tsa_bench: %s\n", err.msg);
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
			fprintf(stderr, "tsa_bench: signing failed\n");
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

struct lib_arg {
	struct sc_tsa *tsa;
	const uint8_t *q;
	size_t qlen;
	double until;
	unsigned long n;
	unsigned long bad;
};

static void *
lib_worker(void *p)
{
	struct lib_arg *a = p;

	while (now_s() < a->until) {
		struct sc_tsa_resp r;
		struct sc_err err;

		sc_err_clear(&err);
		if (sc_tsa_respond(a->tsa, a->q, a->qlen, &r, &err) == 0 &&
		    r.status == SC_TSA_GRANTED)
			a->n++;
		else
			a->bad++;
		sc_tsa_resp_free(&r);
	}
	return NULL;
}

static int
bench_lib(const char *conf, const char *tsq, int nth, double secs, int record)
{
	struct lib_arg a[256];
	pthread_t th[256];
	struct sc_config cfg;
	struct sc_err err;
	struct sc_hsm *hsm = NULL;
	struct sc_db *db = NULL;
	struct sc_tsa *tsa = NULL;
	unsigned long total = 0, bad = 0;
	uint8_t q[8192];
	size_t qlen;
	char *url = NULL;
	double t0, t1;
	FILE *f;

	sc_err_clear(&err);
	sc_log_init(SC_LOG_WARNING, NULL);
	if ((f = fopen(tsq, "rb")) == NULL)
		return 1;
	qlen = fread(q, 1, sizeof(q), f);
	fclose(f);
	if (sc_config_load(&cfg, conf, &err) != 0 ||
	    (url = sc_config_db_url(&cfg, &err)) == NULL ||
	    (db = sc_db_open(url, cfg.db_pool, &err)) == NULL ||
	    (hsm = sc_hsm_open(&cfg, &err)) == NULL ||
	    (tsa = sc_tsa_open_db(&cfg, db, hsm, &err)) == NULL ||
	    (record && sc_tsa_record_start(tsa, db, &err) != 0)) {
		fprintf(stderr, "tsa_bench: %s\n", err.msg);
		return 1;
	}
	t0 = now_s();
	for (int i = 0; i < nth; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].tsa = tsa;
		a[i].q = q;
		a[i].qlen = qlen;
		a[i].until = t0 + secs;
		pthread_create(&th[i], NULL, lib_worker, &a[i]);
	}
	for (int i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
		total += a[i].n;
		bad += a[i].bad;
	}
	t1 = now_s();
	printf("lib_granted=%lu bad=%lu seconds=%.2f rate=%.1f threads=%d "
	       "record=%d\n",
	    total, bad, t1 - t0, (double)total / (t1 - t0), nth, record);
	sc_tsa_free(tsa);
	sc_hsm_close(hsm);
	sc_db_close(db);
	sc_secret_free(url);
	return bad == 0 ? 0 : 2;
}

/* ------------------------------------------------------------------ */

struct http_arg {
	const char *host;
	int port;
	const char *req; /* whole HTTP request */
	size_t reqlen;
	double until;
	unsigned long n;
	unsigned long bad;
	double *lat; /* latencies, seconds */
	size_t nlat, caplat;
};

static int
conn_open(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one HTTP/1.1 response; @return body length, -1 on error. */
static long
read_resp(int fd, char *buf, size_t cap, int *status, char **body)
{
	size_t have = 0;
	char *hend = NULL;
	long clen = -1;

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
	if (sscanf(buf, "HTTP/1.1 %d", status) != 1)
		return -1;
	{
		char *cl = strcasestr(buf, "\r\nContent-Length:");

		if (cl == NULL || cl > hend)
			return -1;
		clen = strtol(cl + 17, NULL, 10);
	}
	hend += 4;
	while ((size_t)(buf + have - hend) < (size_t)clen) {
		ssize_t r;

		if (have + 1 >= cap)
			return -1;
		r = read(fd, buf + have, cap - 1 - have);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	*body = hend;
	return clen;
}

/*
 * A granted TimeStampResp starts SEQUENCE { SEQUENCE { INTEGER 0 } ...:
 * 30 82 LL LL 30 03 02 01 00. The load generator shares the CPUs with the
 * server, so it checks those bytes on every reply and decodes one reply
 * in 64 fully with OpenSSL.
 */
static int
granted_quick(const char *p, long n)
{
	static const unsigned char g[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	const unsigned char *q = (const unsigned char *)p;

	return n > 100 && q[0] == 0x30 && q[1] == 0x82 &&
	    ((long)q[2] << 8 | q[3]) == n - 4 && memcmp(q + 4, g, 5) == 0;
}

static int
granted(const char *p, long n)
{
	const unsigned char *q = (const unsigned char *)p;
	TS_RESP *r = d2i_TS_RESP(NULL, &q, n);
	int ok = 0;

	if (r != NULL)
		ok = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
			 TS_RESP_get_status_info(r))) == 0 &&
		    TS_RESP_get_token(r) != NULL;
	TS_RESP_free(r);
	return ok;
}

static void *
http_worker(void *p)
{
	struct http_arg *a = p;
	static __thread char buf[65536];
	int fd = conn_open(a->host, a->port);

	while (fd >= 0 && now_s() < a->until) {
		double t0 = now_s();
		int status = 0;
		char *body;
		long n;

		if (write(fd, a->req, a->reqlen) != (ssize_t)a->reqlen ||
		    (n = read_resp(fd, buf, sizeof(buf), &status, &body)) < 0) {
			a->bad++;
			close(fd);
			fd = conn_open(a->host, a->port);
			continue;
		}
		if (status != 200 || !granted_quick(body, n) ||
		    ((a->n & 63) == 0 && !granted(body, n)))
			a->bad++;
		else
			a->n++;
		if (a->nlat == a->caplat) {
			size_t nc = a->caplat ? a->caplat * 2 : 4096;
			double *nl = realloc(a->lat, nc * sizeof(*nl));

			if (nl == NULL)
				break;
			a->lat = nl;
			a->caplat = nc;
		}
		a->lat[a->nlat++] = now_s() - t0;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int
cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static int
bench_http(const char *host, int port, const char *path, const char *tsq,
    int conns, double secs)
{
	static struct http_arg a[1024];
	static pthread_t th[1024];
	unsigned char body[8192];
	char *req;
	size_t blen, hlen, all = 0, k = 0;
	unsigned long total = 0, bad = 0;
	double t0, t1, *lat;
	FILE *f;

	if ((f = fopen(tsq, "rb")) == NULL)
		return 1;
	blen = fread(body, 1, sizeof(body), f);
	fclose(f);
	req = malloc(blen + 512);
	if (req == NULL)
		return 1;
	hlen = (size_t)snprintf(req, 512,
	    "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Content-Type: application/timestamp-query\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    path, host, port, blen);
	memcpy(req + hlen, body, blen);
	t0 = now_s();
	for (int i = 0; i < conns; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].host = host;
		a[i].port = port;
		a[i].req = req;
		a[i].reqlen = hlen + blen;
		a[i].until = t0 + secs;
		pthread_create(&th[i], NULL, http_worker, &a[i]);
	}
	for (int i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		total += a[i].n;
		bad += a[i].bad;
		all += a[i].nlat;
	}
	t1 = now_s();
	lat = malloc((all + 1) * sizeof(*lat));
	if (lat == NULL)
		return 1;
	for (int i = 0; i < conns; i++) {
		memcpy(lat + k, a[i].lat, a[i].nlat * sizeof(*lat));
		k += a[i].nlat;
		free(a[i].lat);
	}
	qsort(lat, all, sizeof(*lat), cmp_d);
	printf("granted=%lu bad=%lu seconds=%.2f rate=%.1f conns=%d "
	       "p50_ms=%.2f p99_ms=%.2f\n",
	    total, bad, t1 - t0, (double)total / (t1 - t0), conns,
	    all ? lat[all / 2] * 1e3 : 0.0,
	    all ? lat[(size_t)((double)all * 0.99)] * 1e3 : 0.0);
	free(lat);
	free(req);
	return bad == 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "hsm") == 0)
		return bench_hsm(argv[2], argv[3], (int)strtol(argv[4], NULL, 10),
		    atof(argv[5]));
	if (argc == 7 && strcmp(argv[1], "lib") == 0)
		return bench_lib(argv[2], argv[3], (int)strtol(argv[4], NULL, 10), atof(argv[5]),
		    (int)strtol(argv[6], NULL, 10));
	if (argc == 8 && strcmp(argv[1], "http") == 0)
		return bench_http(argv[2], (int)strtol(argv[3], NULL, 10), argv[4], argv[5],
		    (int)strtol(argv[6], NULL, 10), atof(argv[7]));
	fprintf(stderr,
	    "usage: tsa_bench hsm CONFIG ALIAS THREADS SECONDS\n"
	    "       tsa_bench lib CONFIG TSQ THREADS SECONDS RECORD\n"
	    "       tsa_bench http HOST PORT PATH TSQ CONNS SECONDS\n");
	return 64;
}
