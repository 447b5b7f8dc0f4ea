/*
 * ocspload: a small closed-loop OCSP load client for bench/ocsp/run.sh.
 *
 * C connections (one thread each) send OCSP requests over HTTP/1.1 with
 * keep-alive (reconnecting when the server closes, as `openssl ocsp`
 * may), for D seconds, on loopback. A response counts when it is HTTP
 * 200 and its OCSPResponse says successful (RFC 6960 §4.2.1). Requests
 * (SHA-1 CertIDs, no nonce) are built once from the issuer certificate
 * and a file of hex serials.
 *
 * usage: ocspload -p PORT -i ISSUER.pem -s SERIALS.txt [-c CONNS]
 *        [-d SECONDS] [-m post|get] [-n MAXREQS]
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
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

struct req {
	unsigned char *der;
	int len;
	char *get_path; /* "/ocsp/<base64>", or NULL if it holds '/' */
};

static struct req *reqs;
static int nreqs;
static int port;
static int get_mode;
static double duration = 10;
static atomic_long ok_count, bad_count, reconnects;
static atomic_int stop;

static void
die(const char *m)
{
	fprintf(stderr, "ocspload: %s\n", m);
	exit(1);
}

static int
conn_open(void)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads one response. @return 1 ok, 0 not ok, -1 connection gone; sets
 * *close_after when the server said Connection: close.
 */
static int
read_resp(int fd, char *buf, size_t cap, int *close_after)
{
	size_t have = 0, hlen, clen = 0;
	char *end, *p;
	int status;

	*close_after = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, cap - have - 1);

		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (have >= cap - 1)
			return -1;
	}
	hlen = (size_t)(end - buf) + 4;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (p = buf; p < end; p++) {
		if (strncasecmp(p, "\r\ncontent-length:", 17) == 0)
			clen = strtoul(p + 17, NULL, 10);
		if (strncasecmp(p, "\r\nconnection: close", 19) == 0)
			*close_after = 1;
	}
	if (hlen + clen >= cap)
		return -1;
	while (have < hlen + clen) {
		ssize_t r = read(fd, buf + have, cap - have - 1);

		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	/* OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... } */
	{
		const unsigned char *b = (const unsigned char *)buf + hlen;
		size_t i = 2;

		if (clen < 5 || b[0] != 0x30)
			return 0;
		if (b[1] & 0x80)
			i = 2 + (b[1] & 0x7f);
		if (i + 3 > clen)
			return 0;
		return status == 200 && b[i] == 0x0a && b[i + 1] == 1 &&
		    b[i + 2] == 0;
	}
}

static void *
worker(void *arg)
{
	long id = (long)arg;
	char hdr[512];
	char *buf = malloc(65536);
	int fd = -1, i = (int)(id * 7919) % nreqs;

	if (buf == NULL)
		die("malloc");
	while (!atomic_load(&stop)) {
		struct req *q = &reqs[i];
		int n, cl, r;

		i = (i + 1) % nreqs;
		if (get_mode && q->get_path == NULL)
			continue;
		if (fd < 0) {
			fd = conn_open();
			if (fd < 0) {
				atomic_fetch_add(&bad_count, 1);
				usleep(1000);
				continue;
			}
			atomic_fetch_add(&reconnects, 1);
		}
		if (get_mode)
			n = snprintf(hdr, sizeof(hdr),
			    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			    "Connection: keep-alive\r\n\r\n",
			    q->get_path);
		else
			n = snprintf(hdr, sizeof(hdr),
			    "POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			    "Content-Type: application/ocsp-request\r\n"
			    "Connection: keep-alive\r\n"
			    "Content-Length: %d\r\n\r\n",
			    q->len);
		if (write_all(fd, hdr, (size_t)n) != 0 ||
		    (!get_mode && write_all(fd, q->der, (size_t)q->len) != 0)) {
			close(fd);
			fd = -1;
			continue;
		}
		r = read_resp(fd, buf, 65536, &cl);
		if (r < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		if (atomic_load(&stop))
			break;
		atomic_fetch_add(r == 1 ? &ok_count : &bad_count, 1);
		if (cl) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static void
build_reqs(const char *issuer_path, const char *serials_path, int max)
{
	FILE *f = fopen(issuer_path, "r");
	X509 *issuer;
	char line[128];

	if (f == NULL || (issuer = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("cannot read the issuer certificate");
	fclose(f);
	if ((f = fopen(serials_path, "r")) == NULL)
		die("cannot read the serials");
	reqs = calloc((size_t)max, sizeof(*reqs));
	while (nreqs < max && fgets(line, sizeof(line), f) != NULL) {
		OCSP_REQUEST *req = OCSP_REQUEST_new();
		BIGNUM *bn = NULL;
		ASN1_INTEGER *ai;
		OCSP_CERTID *id;
		struct req *q = &reqs[nreqs];
		unsigned char *p;
		char *b64, *slash;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || BN_hex2bn(&bn, line) == 0)
			continue;
		ai = BN_to_ASN1_INTEGER(bn, NULL);
		id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
		    X509_get0_pubkey_bitstr(issuer), ai);
		if (id == NULL || OCSP_request_add0_id(req, id) == NULL)
			die("OCSP_cert_id_new");
		q->der = NULL;
		q->len = i2d_OCSP_REQUEST(req, &q->der);
		b64 = malloc((size_t)q->len * 2 + 8);
		p = (unsigned char *)b64;
		EVP_EncodeBlock(p, q->der, q->len);
		slash = strchr(b64, '/');
		if (slash == NULL) {
			size_t gl = strlen(b64) + 8;

			q->get_path = malloc(gl);
			if (q->get_path == NULL)
				die("malloc");
			snprintf(q->get_path, gl, "/ocsp/%s", b64);
		}
		free(b64);
		ASN1_INTEGER_free(ai);
		BN_free(bn);
		OCSP_REQUEST_free(req);
		nreqs++;
	}
	fclose(f);
	X509_free(issuer);
	if (nreqs == 0)
		die("no serials");
}

int
main(int argc, char **argv)
{
	const char *issuer = NULL, *serials = NULL;
	int conns = 8, max = 1000, opt;
	pthread_t *th;
	struct timespec t0, t1;
	double secs;

	while ((opt = getopt(argc, argv, "p:i:s:c:d:m:n:")) != -1) {
		switch (opt) {
		case 'p': port = (int)strtol(optarg, NULL, 10); break;
		case 'i': issuer = optarg; break;
		case 's': serials = optarg; break;
		case 'c': conns = (int)strtol(optarg, NULL, 10); break;
		case 'd': duration = atof(optarg); break;
		case 'm': get_mode = strcmp(optarg, "get") == 0; break;
		case 'n': max = (int)strtol(optarg, NULL, 10); break;
		default: die("bad option");
		}
	}
	if (port <= 0 || issuer == NULL || serials == NULL || conns < 1 ||
	    conns > 256 || duration <= 0 || duration > 120)
		die("usage: ocspload -p PORT -i ISSUER.pem -s SERIALS.txt "
		    "[-c 1..256] [-d 1..120] [-m post|get] [-n MAX]");
	signal(SIGPIPE, SIG_IGN); /* a server that closes: reconnect */
	build_reqs(issuer, serials, max);
	if (get_mode) {
		int usable = 0;

		for (int i = 0; i < nreqs; i++)
			usable += reqs[i].get_path != NULL;
		if (usable == 0) {
			printf("0 0 0 0\n");
			return 0;
		}
	}
	th = calloc((size_t)conns, sizeof(*th));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	usleep((useconds_t)(duration * 1e6));
	atomic_store(&stop, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f %ld %ld %ld\n", (double)atomic_load(&ok_count) / secs,
	    atomic_load(&ok_count), atomic_load(&bad_count),
	    atomic_load(&reconnects));
	return 0;
}
