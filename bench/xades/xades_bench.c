/*
 * xades_bench: sceau's XAdES signing (B-B, enveloped, HSM key) and
 * verification (the validator, sc_ver_document, offline) of the given
 * XML files, in one process, with the per-process cost (HSM login, key
 * handle, library and throw-away key set-up, measured on a first tiny
 * signature) printed apart from the per-document cost (mean of N runs).
 *
 *   xades_bench KEYTYPE N FILE...     (SCEAU_CONFIG, SOFTHSM2_CONF set)
 *
 * Output lines, for run.sh: "process_ms X", "sign BYTES ms", "verify
 * BYTES ms". Writes FILE.sceau.xml (the last signature) beside each file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/hsm.h"
#include "sceau/verify.h"
#include "sceau/xades.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
die(const char *what, const struct sc_err *err)
{
	fprintf(stderr, "xades_bench: %s: %s %s\n", what,
	    err != NULL ? err->msg : "", err != NULL ? err->detail : "");
	exit(1);
}

/* A self-signed certificate for the HSM key (signed by it). */
static X509 *
self_cert(struct sc_hsm *hsm, const char *alias, struct sc_err *err)
{
	EVP_PKEY *pub = sc_hsm_pubkey_get1(hsm, alias, err);
	EVP_PKEY *priv = sc_hsm_key_get1(hsm, alias, err);
	X509 *x = X509_new();
	X509_NAME *n;

	if (pub == NULL || priv == NULL || x == NULL)
		die("key", err);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"sceau bench", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pub);
	if (X509_sign(x, priv, EVP_sha256()) <= 0)
		die("X509_sign", NULL);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	return x;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n)
		die(path, NULL);
	fclose(f);
	*len = (size_t)n;
	return p;
}

int
main(int argc, char **argv)
{
	static const char tiny[] = "<a>b</a>";
	struct sc_config cfg;
	struct sc_xades_opts o;
	struct sc_ver_opts vo;
	struct sc_err err;
	struct sc_hsm *hsm;
	enum sc_hsm_keytype kt;
	char alias[64], certpem[8192];
	unsigned char r[6];
	uint8_t *out = NULL;
	size_t outlen;
	double t0;
	X509 *cert;
	BIO *b;
	int n;

	if (argc < 4)
		return 64;
	n = (int)strtol(argv[2], NULL, 10);
	sc_err_clear(&err);
	sc_log_init(SC_LOG_WARNING, NULL);
	if (sc_config_load(&cfg, getenv("SCEAU_CONFIG"), &err) != 0 ||
	    sc_hsm_keytype_parse(argv[1], &kt, &err) != 0)
		die("config", &err);
	RAND_bytes(r, sizeof(r));
	snprintf(alias, sizeof(alias), "bench-%02x%02x%02x%02x%02x%02x", r[0],
	    r[1], r[2], r[3], r[4], r[5]);
	{
		struct sc_hsm *h = sc_hsm_open(&cfg, &err);

		if (h == NULL || sc_hsm_key_generate(h, alias, kt, &err) != 0)
			die("key generate", &err);
		cert = self_cert(h, alias, &err);
		sc_hsm_close(h);
	}
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, cert);
	certpem[BIO_read(b, certpem, sizeof(certpem) - 1)] = '\0';
	BIO_free(b);

	/* Per process: login, libraries, first (tiny) signature and check. */
	memset(&o, 0, sizeof(o));
	o.max_input = SC_XADES_MAX_INPUT;
	memset(&vo, 0, sizeof(vo));
	vo.offline = 1;
	vo.trust_pem = certpem;
	vo.max_document = SC_XADES_MAX_INPUT;
	t0 = now_ms();
	hsm = sc_hsm_open(&cfg, &err);
	if (hsm == NULL ||
	    sc_xades_sign(hsm, alias, cert, NULL, 0, (const uint8_t *)tiny,
		sizeof(tiny) - 1, &o, &out, &outlen, NULL, &err) != 0)
		die("first signature", &err);
	{
		struct sc_ver_report *rep = NULL;

		if (sc_ver_document(out, outlen, &vo, &rep, &err) != 0)
			die("first verification", &err);
		sc_ver_report_free(rep);
	}
	free(out);
	printf("process_ms %.2f\n", now_ms() - t0);

	for (int a = 3; a < argc; a++) {
		size_t len;
		char *doc = slurp(argv[a], &len), path[1024];
		double ts = 0, tv = 0;
		FILE *f;

		for (int i = 0; i < n; i++) {
			struct sc_ver_report *rep = NULL;
			double t1 = now_ms();

			out = NULL;
			if (sc_xades_sign(hsm, alias, cert, NULL, 0,
				(const uint8_t *)doc, len, &o, &out, &outlen,
				NULL, &err) != 0)
				die("sign", &err);
			ts += now_ms() - t1;
			t1 = now_ms();
			if (sc_ver_document(out, outlen, &vo, &rep, &err) != 0)
				die("verify", &err);
			tv += now_ms() - t1;
			if (sc_ver_report_indication(rep) !=
				SC_VER_TOTAL_PASSED &&
			    i == 0)
				fprintf(stderr, "note: %s: validator says %s\n",
				    argv[a],
				    sc_ver_indication_name(
					sc_ver_report_indication(rep)));
			sc_ver_report_free(rep);
			if (i + 1 < n)
				free(out);
		}
		snprintf(path, sizeof(path), "%s.sceau.xml", argv[a]);
		f = fopen(path, "wb");
		if (f != NULL) {
			fwrite(out, 1, outlen, f);
			fclose(f);
		}
		free(out);
		printf("sign %zu %.3f\n", len, ts / n);
		printf("verify %zu %.3f\n", len, tv / n);
		free(doc);
	}
	X509_free(cert);
	sc_hsm_close(hsm);
	return 0;
}
