/*
 * ca_crl.c: CRLs (RFC 5280 §5) signed in the HSM, numbered by the
 * database, and the worker that keeps them fresh (docs/pki.md, "CRL
 * cadence").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/ca_status.h"
#include "sceau/db.h"
#include "sceau/db_pki.h"
#include "sceau/hsm.h"

/* X.509 (2019) §9.6.2.6; RFC 5280 does not define it, OpenSSL has no NID. */
#define OID_EXPIRED_CERTS_ON_CRL "2.5.29.60"

static const EVP_MD *
sig_md(EVP_PKEY *key)
{
	/* SHA-384 with P-384 keys (RFC 5480 §4), else SHA-256. */
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(key) >= 384)
		return EVP_sha384();
	return EVP_sha256();
}

/* Epoch seconds of an ASN1_TIME; 0 if it cannot be read. */
static int64_t
time_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static ASN1_INTEGER *
serial_from_hex(const char *hex)
{
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;

	if (BN_hex2bn(&bn, hex) == 0 || (size_t)BN_num_bytes(bn) > 20)
		goto out;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
out:
	BN_free(bn);
	return ai;
}

/* The extension OID with a DER GeneralizedTime @t as its value. */
static int
add_expired_on_crl(X509_CRL *crl, int64_t t, struct sc_err *err)
{
	ASN1_GENERALIZEDTIME *g = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	ASN1_OBJECT *obj = NULL;
	unsigned char *der = NULL;
	int n, rc = -1;

	if ((g = ASN1_GENERALIZEDTIME_set(NULL, (time_t)t)) == NULL ||
	    (n = i2d_ASN1_GENERALIZEDTIME(g, &der)) <= 0 ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, der, n) != 1 ||
	    (obj = OBJ_txt2obj(OID_EXPIRED_CERTS_ON_CRL, 1)) == NULL ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    X509_CRL_add_ext(crl, ext, -1) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "expiredCertsOnCRL");
		goto out;
	}
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	OPENSSL_free(der);
	ASN1_GENERALIZEDTIME_free(g);
	return rc;
}

static int
add_entry(X509_CRL *crl, const struct sc_db_pki_revoked *e,
    struct sc_err *err)
{
	X509_REVOKED *rv = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	ASN1_ENUMERATED *reason = NULL;
	ASN1_GENERALIZEDTIME *inv = NULL;
	int rc = -1;

	if ((serial = serial_from_hex(e->serial)) == NULL) {
		sc_err_set(err, SC_E_DB, "serial %s is not hex", e->serial);
		goto out;
	}
	if ((rv = X509_REVOKED_new()) == NULL ||
	    X509_REVOKED_set_serialNumber(rv, serial) != 1 ||
	    (when = ASN1_TIME_set(NULL, (time_t)e->revoked_at)) == NULL ||
	    X509_REVOKED_set_revocationDate(rv, when) != 1)
		goto crypto;
	/* RFC 5280 §5.3.1: absent rather than unspecified (0). */
	if (e->reason > SC_CA_REASON_UNSPECIFIED) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0,
			0) != 1)
			goto crypto;
	}
	/* RFC 5280 §5.3.2: GeneralizedTime. */
	if (e->invalidity >= 0) {
		if ((inv = ASN1_GENERALIZEDTIME_set(NULL,
			 (time_t)e->invalidity)) == NULL ||
		    X509_REVOKED_add1_ext_i2d(rv, NID_invalidity_date, inv, 0,
			0) != 1)
			goto crypto;
	}
	if (X509_CRL_add0_revoked(crl, rv) != 1)
		goto crypto;
	rv = NULL; /* the CRL owns it */
	rc = 0;
	goto out;
crypto:
	sc_err_crypto(err, SC_E_CRYPTO, "CRL entry %s", e->serial);
out:
	X509_REVOKED_free(rv);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(when);
	ASN1_ENUMERATED_free(reason);
	ASN1_GENERALIZEDTIME_free(inv);
	return rc;
}

/* authorityKeyIdentifier keyid (RFC 5280 §5.2.1): the CA's SKI. */
static int
add_aki(X509_CRL *crl, X509 *ca, struct sc_err *err)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	AUTHORITY_KEYID *akid = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = -1;

	if ((akid = AUTHORITY_KEYID_new()) == NULL ||
	    (akid->keyid = ASN1_OCTET_STRING_new()) == NULL)
		goto crypto;
	if (ski != NULL) {
		if (ASN1_OCTET_STRING_set(akid->keyid,
			ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski)) != 1)
			goto crypto;
	} else {
		/* RFC 5280 §4.2.1.2 method (1). */
		if (X509_pubkey_digest(ca, EVP_sha1(), md, &mdlen) != 1 ||
		    ASN1_OCTET_STRING_set(akid->keyid, md, (int)mdlen) != 1)
			goto crypto;
	}
	if (X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0,
		0) != 1)
		goto crypto;
	rc = 0;
	goto out;
crypto:
	sc_err_crypto(err, SC_E_CRYPTO, "authorityKeyIdentifier");
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

struct issue_arg {
	struct sc_hsm *hsm;
	const char *ca_name;
	int64_t next_update;
	uint8_t *der;
	size_t len;
	struct sc_ca_crl_info info;
};

static int
issue_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct issue_arg *a = arg;
	struct sc_db_pki_ca ca;
	struct sc_db_pki_revoked *rev = NULL;
	struct sc_audit_event ev;
	size_t nrev = 0;
	int64_t number, rev_seq, now;
	X509 *cacert = NULL;
	X509_CRL *crl = NULL;
	EVP_PKEY *key = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL;
	ASN1_INTEGER *num = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	char *details = NULL;
	json_t *j = NULL;
	enum sc_db_qs q;
	int n, rc = -1;

	memset(&ca, 0, sizeof(ca));
	if ((q = sc_db_pki_ca_get(c, a->ca_name, &ca, err)) != SC_DB_ONE) {
		if (q == SC_DB_NONE)
			sc_err_set(err, SC_E_NOT_FOUND, "no CA named \"%s\"",
			    a->ca_name);
		goto out;
	}
	if (sc_db_pki_crl_next(c, ca.name, &number, &rev_seq, err) != 0 ||
	    sc_db_pki_revoked_list(c, ca.name, &rev, &nrev, err) != 0)
		goto out;
	p = ca.cert_der;
	if ((cacert = d2i_X509(NULL, &p, (long)ca.cert_len)) == NULL ||
	    p != ca.cert_der + ca.cert_len) {
		sc_err_crypto(err, SC_E_DB, "CA %s: stored certificate is not "
					    "one DER certificate",
		    ca.name);
		goto out;
	}
	if ((key = sc_hsm_key_get1(a->hsm, ca.key_alias, err)) == NULL)
		goto out;
	now = sc_time_now().sec;
	if ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 || /* v2, RFC 5280 §5.1.2.1 */
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)) != 1 ||
	    (tu = ASN1_TIME_set(NULL, (time_t)now)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, (time_t)(now + a->next_update))) ==
		NULL ||
	    X509_CRL_set1_lastUpdate(crl, tu) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, nu) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "CRL fields");
		goto out;
	}
	for (size_t i = 0; i < nrev; i++)
		if (add_entry(crl, &rev[i], err) != 0)
			goto out;
	if (add_aki(crl, cacert, err) != 0)
		goto out;
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_int64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cRLNumber");
		goto out;
	}
	/* Policy: nothing is removed from the CRL since the CA began. */
	if (add_expired_on_crl(crl,
		time_epoch(X509_get0_notBefore(cacert)), err) != 0)
		goto out;
	if (X509_CRL_sort(crl) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "CRL sort");
		goto out;
	}
	/* The CA's key signs on the token. */
	if (X509_CRL_sign(crl, key, sig_md(key)) <= 0) {
		sc_err_crypto(err, SC_E_HSM, "CA %s: the HSM did not sign the "
					     "CRL",
		    ca.name);
		goto out;
	}
	/* A key that does not match the certificate is caught here. */
	if (X509_CRL_verify(crl, X509_get0_pubkey(cacert)) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "CA %s: the CRL signature does "
						"not verify with the CA "
						"certificate",
		    ca.name);
		goto out;
	}
	if ((n = i2d_X509_CRL(crl, &der)) <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "CRL encoding");
		goto out;
	}
	if (sc_db_pki_crl_store(c, ca.name, number, now, now + a->next_update,
		rev_seq, (int)nrev, der, (size_t)n, err) != 0)
		goto out;
	j = json_pack("{s:I, s:I, s:I, s:I}", "number", (json_int_t)number,
	    "this_update", (json_int_t)now, "next_update",
	    (json_int_t)(now + a->next_update), "entries", (json_int_t)nrev);
	if (j == NULL ||
	    (details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	ev.actor = "system";
	ev.role = "system";
	ev.action = "crl.issue";
	ev.object = ca.name;
	ev.details = details;
	if (sc_db_audit_append(c, &ev, err) != 0)
		goto out;
	OPENSSL_free(a->der); /* from a retried attempt */
	a->der = der; /* handed to the caller */
	a->len = (size_t)n;
	der = NULL;
	memset(&a->info, 0, sizeof(a->info));
	snprintf(a->info.ca_name, sizeof(a->info.ca_name), "%s", ca.name);
	a->info.number = number;
	a->info.this_update = now;
	a->info.next_update = now + a->next_update;
	a->info.entries = (int)nrev;
	rc = 0;
out:
	json_decref(j);
	free(details);
	OPENSSL_free(der);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	X509_free(cacert);
	free(rev);
	sc_db_pki_ca_clear(&ca);
	return rc;
}

static int64_t
opt_next_update(const struct sc_ca_crl_opts *opts)
{
	if (opts == NULL || opts->next_update <= 0 ||
	    opts->next_update > SC_CA_CRL_NEXT_UPDATE_DEFAULT)
		return SC_CA_CRL_NEXT_UPDATE_DEFAULT;
	return opts->next_update;
}

int
sc_ca_crl_issue(struct sc_db *db, struct sc_hsm *hsm, const char *ca_name,
    const struct sc_ca_crl_opts *opts, uint8_t **der, size_t *len,
    struct sc_ca_crl_info *info, struct sc_err *err)
{
	struct issue_arg a;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.hsm = hsm;
	a.ca_name = ca_name;
	a.next_update = opt_next_update(opts);
	if (der != NULL)
		*der = NULL;
	if (ca_name == NULL || ca_name[0] == '\0' ||
	    strlen(ca_name) >= SC_DB_PKI_NAME_MAX) {
		sc_err_set(err, SC_E_NOT_FOUND, "no such CA");
		goto out;
	}
	if (sc_db_run_txn(db, issue_txn, &a, err) != 0)
		goto out;
	sc_log(SC_LOG_INFO, "crl %s: number %lld, %d entries", a.info.ca_name,
	    (long long)a.info.number, a.info.entries);
	if (info != NULL)
		*info = a.info;
	if (der != NULL) {
		/* OpenSSL's allocator is malloc here; copy to be sure. */
		if ((*der = malloc(a.len)) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(*der, a.der, a.len);
		if (len != NULL)
			*len = a.len;
	}
	rc = 0;
out:
	OPENSSL_free(a.der);
	return rc;
}

int
sc_ca_crl_latest(struct sc_db *db, struct sc_hsm *hsm, const char *ca_name,
    uint8_t **der, size_t *len, struct sc_ca_crl_info *info,
    struct sc_err *err)
{
	struct sc_db_pki_crl crl;
	enum sc_db_qs q;

	*der = NULL;
	*len = 0;
	if (ca_name == NULL || strlen(ca_name) >= SC_DB_PKI_NAME_MAX)
		return sc_err_set(err, SC_E_NOT_FOUND, "no such CA");
	q = sc_db_pki_crl_latest(db, ca_name, &crl, err);
	if (q == SC_DB_HARD)
		return -1;
	if (q == SC_DB_NONE) {
		if (hsm == NULL)
			return sc_err_set(err, SC_E_NOT_FOUND,
			    "no CRL for CA \"%s\" yet", ca_name);
		return sc_ca_crl_issue(db, hsm, ca_name, NULL, der, len, info,
		    err);
	}
	*der = crl.der; /* the caller frees it */
	*len = crl.len;
	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		snprintf(info->ca_name, sizeof(info->ca_name), "%s", ca_name);
		info->number = crl.number;
		info->this_update = crl.this_update;
		info->next_update = crl.next_update;
		info->entries = crl.entries;
	}
	return 0;
}

int
sc_ca_crl_refresh(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_ca_crl_opts *opts, int *issued, struct sc_err *err)
{
	char (*names)[SC_DB_PKI_NAME_MAX] = NULL;
	int64_t nu = opt_next_update(opts);
	size_t n = 0;
	int rc = 0, count = 0;

	if (issued != NULL)
		*issued = 0;
	/* Reissue within the last quarter of the validity (nextUpdate). */
	if (sc_db_pki_crl_due(db, SC_CA_CRL_MAX_AGE, nu / 4, &names, &n,
		err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sc_err e;

		sc_err_clear(&e);
		if (sc_ca_crl_issue(db, hsm, names[i], opts, NULL, NULL, NULL,
			&e) != 0) {
			sc_log_err(names[i], &e);
			if (rc == 0 && err != NULL)
				*err = e;
			rc = -1;
			continue;
		}
		count++;
	}
	free(names);
	if (issued != NULL)
		*issued = count;
	return rc;
}

struct sc_ca_crl_worker {
	struct sc_db *db;
	struct sc_hsm *hsm;
	struct sc_ca_crl_opts opts;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int stop;	   /* guarded by mu */
};

static void *
worker_main(void *arg)
{
	struct sc_ca_crl_worker *w = arg;
	struct timespec until;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct sc_err e;
		int issued = 0;

		pthread_mutex_unlock(&w->mu);
		sc_err_clear(&e);
		sc_op_begin();
		if (sc_ca_crl_refresh(w->db, w->hsm, &w->opts, &issued, &e) !=
		    0)
			sc_log_err("crl worker", &e);
		else if (issued > 0)
			sc_log(SC_LOG_NOTICE, "crl worker: %d CRL(s) issued",
			    issued);
		pthread_mutex_lock(&w->mu);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SC_CA_CRL_WORKER_TICK;
		while (!w->stop &&
		    pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct sc_ca_crl_worker *
sc_ca_crl_worker_start(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_ca_crl_opts *opts, struct sc_err *err)
{
	struct sc_ca_crl_worker *w;
	pthread_condattr_t ca;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	w->db = db;
	w->hsm = hsm;
	if (opts != NULL)
		w->opts = *opts;
	if (pthread_condattr_init(&ca) != 0) {
		free(w);
		sc_err_set(err, SC_E_INTERNAL, "pthread_condattr_init");
		return NULL;
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		pthread_condattr_destroy(&ca);
		free(w);
		sc_err_set(err, SC_E_INTERNAL, "pthread_mutex_init");
		return NULL;
	}
	if (pthread_cond_init(&w->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&w->mu);
		free(w);
		sc_err_set(err, SC_E_INTERNAL, "pthread_cond_init");
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		sc_err_set(err, SC_E_INTERNAL, "cannot start the CRL worker");
		return NULL;
	}
	return w;
}

void
sc_ca_crl_worker_stop(struct sc_ca_crl_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
