/*
 * ca_ocsp.c: the OCSP responder (RFC 6960, lightweight profile RFC 5019
 * and RFC 9919), signed in the HSM by each CA's delegated responder.
 *
 * Speed without staleness: a response to a single-request OCSPRequest
 * without a nonce is cached in memory under the SHA-256 of the request's
 * bytes, together with the
 * "fingerprint" of the certificate's row (status, revocation time,
 * reason, invalidity date) that it was built from. Every request reads
 * that row again (one indexed SELECT) and reuses the cached bytes only
 * if the fingerprint is unchanged; so a revocation committed by any node
 * is answered "revoked" by every node from the next request on, and the
 * cache only ever saves the signature.
 *
 * Most requests skip that read: a thread polls the revocation epoch (the
 * sum of every CA's rev_seq, bumped by a trigger on any change to a
 * certificate's revocation columns) every SC_CA_OCSP_EPOCH_TICK_MS. A
 * cached entry records the epoch seen before the read that validated it;
 * while the entry's epoch is the current one and the epoch was read less
 * than SC_CA_OCSP_LEASE_MS ago (the lease), nothing was revoked since and
 * the bytes are served as they are. sc_ca_cert_revoke() waits out the
 * lease after its commit, so when it returns every node has either seen
 * the new epoch or lost its lease and reads the row again. "unknown" is
 * never cached, so issuance needs no epoch.
 *
 * The row reads are coalesced: a request queues its (CA, serial); one
 * thread at a time runs the queued lookups as one statement while the
 * others wait, and the queue that builds up meanwhile goes into the next
 * statement. Every lookup still starts after its request arrived, so
 * coalescing loses no freshness; it saves PostgreSQL round trips.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/ca_status.h"
#include "sceau/db.h"
#include "sceau/db_pki.h"
#include "sceau/hsm.h"

#define OCSP_MAX_REQS 16      /* requests in one OCSPRequest */
#define CA_SET_TTL 60	      /* seconds between reloads of the CAs */
#define CA_SET_RETRY 1	      /* reload on an unknown issuer, at most */
#define CACHE_BUCKETS 65536u
#define CACHE_STRIPES 64u
#define NEXT_UPDATE_MARGIN 60 /* never serve a cached answer this close */
#define STATEMENTS_MAX 2      /* coalesced status statements in flight */

/* One CA that we answer for, and who signs for it. */
struct ca_ctx {
	char name[SC_DB_PKI_NAME_MAX];
	X509 *ca;
	X509 *signer;	/* the delegated responder, or the CA itself */
	EVP_PKEY *key;	/* the signer's key, on the token */
	const EVP_MD *md;
	unsigned char nh1[SHA_DIGEST_LENGTH], kh1[SHA_DIGEST_LENGTH];
	unsigned char nh256[SHA256_DIGEST_LENGTH], kh256[SHA256_DIGEST_LENGTH];
	int64_t cutoff; /* archiveCutoff: the CA's notBefore */
};

/* A snapshot of the CAs, shared by the requests that use it. */
struct ca_set {
	atomic_int refs;
	uint64_t gen;	/* changes only when what signs changes */
	int64_t loaded;
	unsigned char digest[SHA256_DIGEST_LENGTH]; /* of the CAs, signers */
	size_t n;
	struct ca_ctx *v;
};

/* What a response was built from: the certificate's row. */
struct fp {
	int present;
	char status[16];
	int64_t revoked_at;
	int reason;
	int64_t invalidity;
};

struct cache_ent {
	unsigned char key[SHA256_DIGEST_LENGTH]; /* SHA-256 of the request */
	uint64_t gen;				 /* of the CA set */
	int64_t epoch; /* revocation epoch seen before it was validated */
	struct fp fp;
	int64_t this_update, next_update;
	char etag[40];
	uint8_t *der;
	size_t len;
	struct cache_ent *next;
};

/* One queued status lookup (see the top of the file). */
struct slot {
	const char *ca;
	const char *serial;
	struct sc_db_pki_status st;
	int found;
	int done;
	int lead;	   /* promoted: run the next statement */
	int rc;
	struct sc_err err;
	pthread_cond_t cv; /* this request's own wake-up */
	struct slot *next;
};

struct sc_ca_ocsp {
	struct sc_db *db;
	struct sc_hsm *hsm;
	int64_t validity, refresh;
	size_t cache_max;
	pthread_mutex_t set_mu; /* guards set, last_try, gen */
	pthread_mutex_t load_mu; /* one reload at a time */
	struct ca_set *set;
	int64_t last_try;
	uint64_t gen;
	pthread_mutex_t stripes[CACHE_STRIPES];
	struct cache_ent **buckets; /* [CACHE_BUCKETS] */
	atomic_size_t count;
	pthread_mutex_t bmu; /* guards the lookup queue */
	int in_flight;	     /* statements running */
	struct slot *qhead, **qtail;
	unsigned long long lookups, statements; /* guarded by bmu */
	/* the revocation epoch and its lease, guarded by ep_mu */
	pthread_mutex_t ep_mu;
	pthread_cond_t ep_cv; /* CLOCK_MONOTONIC; wakes the thread to stop */
	int64_t epoch;
	int64_t lease_t0; /* monotonic ms when the last good read started */
	int lease_ok;
	int ep_stop;
	int ep_started;
	pthread_t ep_th;
	atomic_ullong fast_hits;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The epoch thread (see the top of the file). */
static void *
epoch_main(void *arg)
{
	struct sc_ca_ocsp *o = arg;
	struct timespec until;

	pthread_mutex_lock(&o->ep_mu);
	while (!o->ep_stop) {
		struct sc_err e;
		int64_t t0, seq = 0;
		int ok;

		pthread_mutex_unlock(&o->ep_mu);
		t0 = mono_ms();
		sc_err_clear(&e);
		ok = sc_db_pki_rev_epoch(o->db, &seq, &e) == 0;
		pthread_mutex_lock(&o->ep_mu);
		if (ok) {
			o->epoch = seq;
			o->lease_t0 = t0;
			o->lease_ok = 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += SC_CA_OCSP_EPOCH_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!o->ep_stop)
			pthread_cond_timedwait(&o->ep_cv, &o->ep_mu, &until);
	}
	pthread_mutex_unlock(&o->ep_mu);
	return NULL;
}

/* The current epoch; *leased when it may be trusted without a read. */
static int64_t
epoch_get(struct sc_ca_ocsp *o, int *leased)
{
	int64_t e;

	pthread_mutex_lock(&o->ep_mu);
	e = o->epoch;
	*leased = o->lease_ok && mono_ms() - o->lease_t0 < SC_CA_OCSP_LEASE_MS;
	pthread_mutex_unlock(&o->ep_mu);
	return e;
}

/* DER OCSPResponse with only a responseStatus (RFC 6960 §4.2.1). */
static int
status_only(struct sc_ca_ocsp_resp *out, int status, struct sc_err *err)
{
	static const uint8_t tmpl[] = {0x30, 0x03, 0x0a, 0x01, 0x00};

	if ((out->der = malloc(sizeof(tmpl))) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(out->der, tmpl, sizeof(tmpl));
	out->der[4] = (uint8_t)status;
	out->len = sizeof(tmpl);
	out->status = status;
	out->cacheable = 0;
	return 0;
}

void
sc_ca_ocsp_resp_clear(struct sc_ca_ocsp_resp *out)
{
	if (out == NULL)
		return;
	free(out->der);
	memset(out, 0, sizeof(*out));
}

static int64_t
time_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static const EVP_MD *
sig_md(EVP_PKEY *key)
{
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(key) >= 384)
		return EVP_sha384();
	return EVP_sha256();
}

/* ------------------------------------------------------------------ */
/* The CA set                                                          */

static void
set_free(struct ca_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].signer != s->v[i].ca)
			X509_free(s->v[i].signer);
		X509_free(s->v[i].ca);
		EVP_PKEY_free(s->v[i].key);
	}
	free(s->v);
	free(s);
}

static void
set_put(struct ca_set *s)
{
	if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
		set_free(s);
}

static X509 *
der_x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* RFC 6960 §4.1.1: hashes of the issuer's DER name and key bits. */
static int
ctx_hashes(struct ca_ctx *ctx)
{
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(ctx->ca);
	unsigned char *name = NULL;
	int n;

	if (bits == NULL ||
	    (n = i2d_X509_NAME(X509_get_subject_name(ctx->ca), &name)) <= 0)
		return -1;
	SHA1(name, (size_t)n, ctx->nh1);
	SHA256(name, (size_t)n, ctx->nh256);
	SHA1(bits->data, (size_t)bits->length, ctx->kh1);
	SHA256(bits->data, (size_t)bits->length, ctx->kh256);
	OPENSSL_free(name);
	return 0;
}

/* A usable delegated responder for @ca (RFC 6960 §4.2.2.2). */
static int
responder_ok(X509 *ca, X509 *r)
{
	return X509_check_issued(ca, r) == X509_V_OK &&
	    (X509_get_extension_flags(r) & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(r) & XKU_OCSP_SIGN) != 0 &&
	    X509_cmp_current_time(X509_get0_notAfter(r)) > 0 &&
	    X509_cmp_current_time(X509_get0_notBefore(r)) < 0;
}

/* SHA-256 over every CA's name, certificate and signer certificate. */
static int
set_digest(struct ca_set *s)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc = -1;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		X509 *xs[2] = {s->v[i].ca, s->v[i].signer};

		if (EVP_DigestUpdate(md, s->v[i].name,
			strlen(s->v[i].name) + 1) != 1)
			goto out;
		for (int k = 0; k < 2; k++) {
			unsigned char *der = NULL;
			int n = i2d_X509(xs[k], &der);
			int ok = n > 0 &&
			    EVP_DigestUpdate(md, der, (size_t)n) == 1;

			OPENSSL_free(der);
			if (!ok)
				goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, s->digest, NULL) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

static struct ca_set *
set_load(struct sc_ca_ocsp *o, struct sc_err *err)
{
	struct sc_db_pki_ca *cas = NULL;
	struct sc_db_pki_responder *rs = NULL;
	size_t ncas = 0, nrs = 0;
	struct ca_set *s = NULL;

	if (sc_db_pki_ca_list(o->db, &cas, &ncas, err) != 0 ||
	    sc_db_pki_responder_list(o->db, &rs, &nrs, err) != 0)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->v = calloc(ncas + 1, sizeof(*s->v))) == NULL) {
		free(s);
		s = NULL;
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	atomic_init(&s->refs, 1);
	s->loaded = sc_time_now().sec;
	for (size_t i = 0; i < ncas; i++) {
		struct ca_ctx *ctx = &s->v[s->n];
		struct sc_err e;

		sc_err_clear(&e);
		memset(ctx, 0, sizeof(*ctx));
		snprintf(ctx->name, sizeof(ctx->name), "%s", cas[i].name);
		if ((ctx->ca = der_x509(cas[i].cert_der, cas[i].cert_len)) ==
			NULL ||
		    ctx_hashes(ctx) != 0) {
			sc_log(SC_LOG_ERR, "ocsp: CA %s: stored certificate "
					   "unreadable",
			    cas[i].name);
			X509_free(ctx->ca);
			continue;
		}
		ctx->cutoff = time_epoch(X509_get0_notBefore(ctx->ca));
		/* The last active responder of this CA wins. */
		for (size_t k = 0; k < nrs; k++) {
			X509 *r;

			if (strcmp(rs[k].ca_name, ctx->name) != 0)
				continue;
			r = der_x509(rs[k].cert_der, rs[k].cert_len);
			if (r == NULL || !responder_ok(ctx->ca, r)) {
				sc_log(SC_LOG_WARNING, "ocsp: CA %s: responder "
						       "certificate %s unusable "
						       "(RFC 6960 §4.2.2.2)",
				    ctx->name, rs[k].key_alias);
				X509_free(r);
				continue;
			}
			EVP_PKEY_free(ctx->key);
			if ((ctx->key = sc_hsm_key_get1(o->hsm,
				 rs[k].key_alias, &e)) == NULL) {
				sc_log_err("ocsp: responder key", &e);
				X509_free(r);
				continue;
			}
			if (ctx->signer != NULL)
				X509_free(ctx->signer);
			ctx->signer = r;
		}
		if (ctx->signer == NULL) {
			/* RFC 6960 §4.2.2.2: the CA may sign itself. */
			sc_log(SC_LOG_WARNING, "ocsp: CA %s has no delegated "
					       "responder; its own key signs",
			    ctx->name);
			EVP_PKEY_free(ctx->key);
			ctx->key = sc_hsm_key_get1(o->hsm, cas[i].key_alias,
			    &e);
			if (ctx->key == NULL) {
				sc_log_err("ocsp: CA key", &e);
				X509_free(ctx->ca);
				continue;
			}
			ctx->signer = ctx->ca;
		}
		ctx->md = sig_md(ctx->key);
		s->n++;
	}
	if (s != NULL && set_digest(s) != 0) {
		set_free(s);
		s = NULL;
		sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
out:
	sc_db_pki_ca_list_free(cas, ncas);
	sc_db_pki_responder_list_free(rs, nrs);
	return s;
}

/*
 * The current set with a reference (set_put() it). Reloads it when it is
 * older than CA_SET_TTL or, with @force, older than CA_SET_RETRY.
 */
static struct ca_set *
set_get(struct sc_ca_ocsp *o, int force, struct sc_err *err)
{
	int64_t now = sc_time_now().sec;
	struct ca_set *s, *fresh, *old = NULL;
	int stale;

	pthread_mutex_lock(&o->set_mu);
	s = o->set;
	stale = s == NULL || now - s->loaded >= CA_SET_TTL ||
	    (force && now - o->last_try >= CA_SET_RETRY);
	if (s != NULL && !stale) {
		atomic_fetch_add(&s->refs, 1);
		pthread_mutex_unlock(&o->set_mu);
		return s;
	}
	pthread_mutex_unlock(&o->set_mu);
	/* One thread reloads; the others go on with what there is. */
	if (s != NULL && pthread_mutex_trylock(&o->load_mu) != 0)
		goto current;
	if (s == NULL)
		pthread_mutex_lock(&o->load_mu);
	fresh = set_load(o, err);
	pthread_mutex_lock(&o->set_mu);
	o->last_try = now;
	if (fresh != NULL) {
		/* Same CAs and signers: cached answers stay valid. */
		if (o->set != NULL && memcmp(o->set->digest, fresh->digest,
					  sizeof(fresh->digest)) == 0)
			fresh->gen = o->set->gen;
		else
			fresh->gen = ++o->gen;
		old = o->set;
		o->set = fresh;
	} else if (o->set != NULL) {
		/* Keep serving with the old set; try again later. */
		sc_log_err("ocsp: reload", err);
		o->set->loaded = now;
	}
	pthread_mutex_unlock(&o->set_mu);
	pthread_mutex_unlock(&o->load_mu);
	set_put(old);
current:
	pthread_mutex_lock(&o->set_mu);
	s = o->set;
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&o->set_mu);
	if (s != NULL)
		sc_err_clear(err);
	return s;
}

/* ------------------------------------------------------------------ */

struct sc_ca_ocsp *
sc_ca_ocsp_new(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_ca_ocsp_opts *opts, struct sc_err *err)
{
	struct sc_ca_ocsp *o;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->buckets = calloc(CACHE_BUCKETS, sizeof(*o->buckets))) ==
		NULL) {
		free(o);
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	o->db = db;
	o->hsm = hsm;
	o->validity = SC_CA_OCSP_VALIDITY_DEFAULT;
	o->refresh = SC_CA_OCSP_REFRESH_DEFAULT;
	o->cache_max = SC_CA_OCSP_CACHE_DEFAULT;
	if (opts != NULL && opts->validity > 0)
		o->validity = opts->validity;
	if (opts != NULL && opts->refresh > 0)
		o->refresh = opts->refresh;
	if (opts != NULL && opts->cache_max > 0)
		o->cache_max = opts->cache_max;
	if (o->refresh > o->validity / 2)
		o->refresh = o->validity / 2;
	atomic_init(&o->count, 0);
	pthread_mutex_init(&o->bmu, NULL);
	o->qtail = &o->qhead;
	pthread_mutex_init(&o->set_mu, NULL);
	pthread_mutex_init(&o->load_mu, NULL);
	for (unsigned i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_init(&o->stripes[i], NULL);
	atomic_init(&o->fast_hits, 0);
	pthread_mutex_init(&o->ep_mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&o->ep_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	/* Without the thread there is no lease: every request reads. */
	if (pthread_create(&o->ep_th, NULL, epoch_main, o) == 0)
		o->ep_started = 1;
	else
		sc_log(SC_LOG_WARNING, "ocsp: no epoch thread; every request "
				       "reads the database");
	return o;
}

void
sc_ca_ocsp_free(struct sc_ca_ocsp *o)
{
	if (o == NULL)
		return;
	if (o->ep_started) {
		pthread_mutex_lock(&o->ep_mu);
		o->ep_stop = 1;
		pthread_cond_signal(&o->ep_cv);
		pthread_mutex_unlock(&o->ep_mu);
		pthread_join(o->ep_th, NULL);
	}
	pthread_cond_destroy(&o->ep_cv);
	pthread_mutex_destroy(&o->ep_mu);
	sc_log(SC_LOG_NOTICE, "ocsp: %llu answers from the cache without a "
			      "read; %llu status lookups in %llu statements",
	    (unsigned long long)atomic_load(&o->fast_hits), o->lookups,
	    o->statements);
	for (unsigned b = 0; b < CACHE_BUCKETS; b++) {
		struct cache_ent *e = o->buckets[b], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e->der);
			free(e);
		}
	}
	for (unsigned i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_destroy(&o->stripes[i]);
	pthread_mutex_destroy(&o->load_mu);
	pthread_mutex_destroy(&o->set_mu);
	pthread_mutex_destroy(&o->bmu);
	set_put(o->set);
	free(o->buckets);
	free(o);
}

/* ------------------------------------------------------------------ */
/* Cache                                                               */

static unsigned
bucket_of(const unsigned char key[SHA256_DIGEST_LENGTH])
{
	return ((unsigned)key[0] << 8 | key[1]) % CACHE_BUCKETS;
}

static int
fp_equal(const struct fp *a, const struct fp *b)
{
	return a->present == b->present && strcmp(a->status, b->status) == 0 &&
	    a->revoked_at == b->revoked_at && a->reason == b->reason &&
	    a->invalidity == b->invalidity;
}

/*
 * Copies a fresh matching entry into @out. @return 1 on a hit.
 * With @fp NULL: a hit needs the entry's epoch to be @epoch (the caller
 * holds the lease). With @fp: a hit needs the same row fingerprint, and
 * the entry then records @epoch (read before that row was).
 */
static int
cache_get(struct sc_ca_ocsp *o, const unsigned char *key, uint64_t gen,
    const struct fp *fp, int64_t epoch, int64_t now,
    struct sc_ca_ocsp_resp *out)
{
	unsigned b = bucket_of(key);
	pthread_mutex_t *mu = &o->stripes[b % CACHE_STRIPES];
	struct cache_ent *e;
	int hit = 0;

	pthread_mutex_lock(mu);
	for (e = o->buckets[b]; e != NULL; e = e->next) {
		if (memcmp(e->key, key, SHA256_DIGEST_LENGTH) != 0)
			continue;
		if (e->gen == gen &&
		    (fp != NULL ? fp_equal(&e->fp, fp) : e->epoch == epoch) &&
		    now - e->this_update < o->refresh &&
		    now + NEXT_UPDATE_MARGIN < e->next_update &&
		    (out->der = malloc(e->len)) != NULL) {
			memcpy(out->der, e->der, e->len);
			out->len = e->len;
			out->this_update = e->this_update;
			out->next_update = e->next_update;
			memcpy(out->etag, e->etag, sizeof(out->etag));
			if (fp != NULL && epoch > e->epoch)
				e->epoch = epoch;
			hit = 1;
		}
		break;
	}
	pthread_mutex_unlock(mu);
	return hit;
}

static void
cache_put(struct sc_ca_ocsp *o, const unsigned char *key, uint64_t gen,
    const struct fp *fp, int64_t epoch, const struct sc_ca_ocsp_resp *r)
{
	unsigned b = bucket_of(key);
	pthread_mutex_t *mu = &o->stripes[b % CACHE_STRIPES];
	struct cache_ent *e, **pp;

	/* "unknown" is never cached: issuance changes it without an epoch. */
	if (!fp->present || strcmp(fp->status, "issued") != 0)
		return;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->der = malloc(r->len)) == NULL) {
		free(e);
		return;
	}
	memcpy(e->key, key, SHA256_DIGEST_LENGTH);
	e->gen = gen;
	e->epoch = epoch;
	e->fp = *fp;
	e->this_update = r->this_update;
	e->next_update = r->next_update;
	memcpy(e->etag, r->etag, sizeof(e->etag));
	memcpy(e->der, r->der, r->len);
	e->len = r->len;
	pthread_mutex_lock(mu);
	/* Drop the entry it replaces. */
	for (pp = &o->buckets[b]; *pp != NULL; pp = &(*pp)->next)
		if (memcmp((*pp)->key, key, SHA256_DIGEST_LENGTH) == 0) {
			struct cache_ent *old = *pp;

			*pp = old->next;
			free(old->der);
			free(old);
			atomic_fetch_sub(&o->count, 1);
			break;
		}
	/* Full: empty this bucket (bounded memory, no global lock). */
	if (atomic_load(&o->count) >= o->cache_max) {
		struct cache_ent *x = o->buckets[b], *next;

		for (; x != NULL; x = next) {
			next = x->next;
			free(x->der);
			free(x);
			atomic_fetch_sub(&o->count, 1);
		}
		o->buckets[b] = NULL;
	}
	if (atomic_load(&o->count) < o->cache_max) {
		e->next = o->buckets[b];
		o->buckets[b] = e;
		atomic_fetch_add(&o->count, 1);
		e = NULL;
	}
	pthread_mutex_unlock(mu);
	if (e != NULL) {
		free(e->der);
		free(e);
	}
}

/* ------------------------------------------------------------------ */
/* Answering                                                           */

/* The CA whose hashes @cid carries; NULL if none (or not SHA-1/256). */
static const struct ca_ctx *
ca_match(const struct ca_set *s, OCSP_CERTID *cid)
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *alg = NULL;
	ASN1_INTEGER *serial = NULL;
	size_t hl;
	int nid;

	if (s == NULL || OCSP_id_get0_info(&nh, &alg, &kh, &serial, cid) != 1)
		return NULL;
	nid = OBJ_obj2nid(alg);
	if (nid == NID_sha1)
		hl = SHA_DIGEST_LENGTH;
	else if (nid == NID_sha256)
		hl = SHA256_DIGEST_LENGTH;
	else
		return NULL;
	if ((size_t)ASN1_STRING_length(nh) != hl ||
	    (size_t)ASN1_STRING_length(kh) != hl)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct ca_ctx *c = &s->v[i];
		const unsigned char *n1 = nid == NID_sha1 ? c->nh1 : c->nh256;
		const unsigned char *k1 = nid == NID_sha1 ? c->kh1 : c->kh256;

		if (memcmp(ASN1_STRING_get0_data(nh), n1, hl) == 0 &&
		    memcmp(ASN1_STRING_get0_data(kh), k1, hl) == 0)
			return c;
	}
	return NULL;
}

/*
 * The serial as stored (lower-case hex of the DER magnitude, 002_ca.sql);
 * "" for one that can never be ours (negative, zero, too long).
 */
static void
serial_hex(OCSP_CERTID *cid, char out[SC_DB_PKI_SERIAL_MAX])
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *alg = NULL;
	ASN1_INTEGER *serial = NULL;
	const unsigned char *p;
	int len;

	out[0] = '\0';
	if (OCSP_id_get0_info(&nh, &alg, &kh, &serial, cid) != 1 ||
	    serial == NULL || ASN1_STRING_type(serial) != V_ASN1_INTEGER)
		return;
	p = ASN1_STRING_get0_data(serial);
	len = ASN1_STRING_length(serial);
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len <= 0 || len > 20)
		return;
	sc_hex_encode(p, (size_t)len, out);
}

/* Runs up to SC_DB_PKI_STATUS_BATCH queued lookups as one statement. */
static void
run_batch(struct sc_ca_ocsp *o, struct slot **v, size_t n)
{
	const char *cas[SC_DB_PKI_STATUS_BATCH], *sers[SC_DB_PKI_STATUS_BATCH];
	struct sc_db_pki_status st[SC_DB_PKI_STATUS_BATCH];
	int found[SC_DB_PKI_STATUS_BATCH];
	struct sc_err e;
	int rc;

	for (size_t i = 0; i < n; i++) {
		cas[i] = v[i]->ca;
		sers[i] = v[i]->serial;
	}
	sc_err_clear(&e);
	rc = sc_db_pki_cert_status_many(o->db, n, cas, sers, st, found, &e);
	for (size_t i = 0; i < n; i++) {
		v[i]->rc = rc;
		v[i]->err = e;
		if (rc == 0) {
			v[i]->st = st[i];
			v[i]->found = found[i];
		}
	}
}

/* Takes the next batch off the queue; bmu held. */
static size_t
take_batch(struct sc_ca_ocsp *o, struct slot **v)
{
	size_t n = 0;

	while (o->qhead != NULL && n < SC_DB_PKI_STATUS_BATCH) {
		v[n++] = o->qhead;
		o->qhead = o->qhead->next;
	}
	if (o->qhead == NULL)
		o->qtail = &o->qhead;
	o->in_flight++;
	o->statements++;
	o->lookups += n;
	return n;
}

/*
 * The status of @serial of @ca, read by a statement that starts after
 * this call began. Up to STATEMENTS_MAX statements run at once; a
 * request that finds them all busy waits on its own condition until its
 * lookup is done or it is promoted to lead the next statement.
 */
static int
status_read(struct sc_ca_ocsp *o, const char *ca, const char *serial,
    struct slot *s, struct sc_err *err)
{
	memset(s, 0, sizeof(*s));
	s->ca = ca;
	s->serial = serial;
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_lock(&o->bmu);
	*o->qtail = s;
	o->qtail = &s->next;
	for (;;) {
		struct slot *v[SC_DB_PKI_STATUS_BATCH];
		size_t n;

		while (!s->done && !s->lead && o->in_flight >= STATEMENTS_MAX)
			pthread_cond_wait(&s->cv, &o->bmu);
		if (s->done)
			break;
		s->lead = 0;
		if (o->qhead == NULL) {
			/* Taken by a running statement meanwhile. */
			while (!s->done)
				pthread_cond_wait(&s->cv, &o->bmu);
			break;
		}
		n = take_batch(o, v);
		pthread_mutex_unlock(&o->bmu);
		run_batch(o, v, n);
		pthread_mutex_lock(&o->bmu);
		o->in_flight--;
		for (size_t i = 0; i < n; i++) {
			v[i]->done = 1;
			if (v[i] != s)
				pthread_cond_signal(&v[i]->cv);
		}
		/* Hand the queue to its oldest request. */
		if (o->qhead != NULL && o->qhead != s) {
			o->qhead->lead = 1;
			pthread_cond_signal(&o->qhead->cv);
		}
	}
	pthread_mutex_unlock(&o->bmu);
	pthread_cond_destroy(&s->cv);
	if (s->rc != 0) {
		if (err != NULL && err->code == SC_E_OK)
			*err = s->err;
		return -1;
	}
	return 0;
}

/* Reads the row behind @cid. @return 0, or -1 with err (DB down). */
static int
fp_read(struct sc_ca_ocsp *o, const struct ca_ctx *ca, OCSP_CERTID *cid,
    struct fp *fp, struct sc_err *err)
{
	char serial[SC_DB_PKI_SERIAL_MAX];
	struct slot s;

	memset(fp, 0, sizeof(*fp));
	fp->revoked_at = fp->invalidity = -1;
	fp->reason = -1;
	serial_hex(cid, serial);
	if (serial[0] == '\0')
		return 0;
	if (status_read(o, ca->name, serial, &s, err) != 0)
		return -1;
	if (!s.found)
		return 0;
	fp->present = 1;
	snprintf(fp->status, sizeof(fp->status), "%s", s.st.status);
	fp->revoked_at = s.st.revoked_at;
	fp->reason = s.st.reason;
	fp->invalidity = s.st.invalidity;
	return 0;
}

static int
add_single(OCSP_BASICRESP *bs, OCSP_CERTID *cid, const struct ca_ctx *ca,
    const struct fp *fp, ASN1_TIME *tu, ASN1_TIME *nu)
{
	ASN1_TIME *rt = NULL;
	ASN1_GENERALIZEDTIME *g = NULL, *inv = NULL;
	OCSP_SINGLERESP *single;
	int status, reason = OCSP_REVOKED_STATUS_NOSTATUS, rc = -1;

	/* Never "good" for what was not issued (RFC 6960 §2.2). */
	if (!fp->present || strcmp(fp->status, "issued") != 0)
		status = V_OCSP_CERTSTATUS_UNKNOWN;
	else if (fp->revoked_at >= 0)
		status = V_OCSP_CERTSTATUS_REVOKED;
	else
		status = V_OCSP_CERTSTATUS_GOOD;
	if (status == V_OCSP_CERTSTATUS_REVOKED) {
		if ((rt = ASN1_GENERALIZEDTIME_set(NULL,
			 (time_t)fp->revoked_at)) == NULL)
			goto out;
		/* As on the CRL: no reason rather than unspecified. */
		if (fp->reason > SC_CA_REASON_UNSPECIFIED)
			reason = fp->reason;
	}
	single = OCSP_basic_add1_status(bs, cid, status, reason, rt, tu, nu);
	if (single == NULL)
		goto out;
	/* RFC 6960 §4.4.4: status kept since the CA began (docs/pki.md). */
	if ((g = ASN1_GENERALIZEDTIME_set(NULL, (time_t)ca->cutoff)) == NULL ||
	    OCSP_SINGLERESP_add1_ext_i2d(single, NID_id_pkix_OCSP_archiveCutoff,
		g, 0, 0) != 1)
		goto out;
	/* RFC 6960 §4.4.7 (CRL entry extensions): invalidityDate. */
	if (status == V_OCSP_CERTSTATUS_REVOKED && fp->invalidity >= 0 &&
	    ((inv = ASN1_GENERALIZEDTIME_set(NULL, (time_t)fp->invalidity)) ==
		    NULL ||
		OCSP_SINGLERESP_add1_ext_i2d(single, NID_invalidity_date, inv,
		    0, 0) != 1))
		goto out;
	rc = 0;
out:
	ASN1_TIME_free(rt);
	ASN1_GENERALIZEDTIME_free(g);
	ASN1_GENERALIZEDTIME_free(inv);
	return rc;
}

static void
etag_of(struct sc_ca_ocsp_resp *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[33];

	SHA256(out->der, out->len, md);
	sc_hex_encode(md, 16, hex);
	snprintf(out->etag, sizeof(out->etag), "\"%s\"", hex);
}

/* Signs a successful response for every request of @req. */
static int
build(struct sc_ca_ocsp *o, const struct ca_ctx *ca, OCSP_REQUEST *req,
    const struct fp *fps, int n, int nonce, struct sc_ca_ocsp_resp *out,
    struct sc_err *err)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL;
	unsigned char *der = NULL;
	int64_t now = sc_time_now().sec;
	int len, rc = -1;

	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    (tu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)now)) == NULL ||
	    (nu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)(now + o->validity))) ==
		NULL)
		goto crypto;
	for (int i = 0; i < n; i++) {
		OCSP_ONEREQ *one = OCSP_request_onereq_get0(req, i);

		if (add_single(bs, OCSP_onereq_get0_id(one), ca, &fps[i], tu,
			nu) != 0)
			goto crypto;
	}
	/* RFC 8954 / RFC 6960 §4.4.1: echo the nonce. */
	if (nonce && OCSP_copy_nonce(bs, req) != 1)
		goto crypto;
	/* responderID byKey (RFC 5019 §2.2.2); the signer's certificate is
	 * included so that clients can check the delegation. */
	if (OCSP_basic_sign(bs, ca->signer, ca->key, ca->md, NULL,
		OCSP_RESPID_KEY) != 1) {
		sc_err_crypto(err, SC_E_HSM, "OCSP: the HSM did not sign");
		goto out;
	}
	if ((resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
		 bs)) == NULL ||
	    (len = i2d_OCSP_RESPONSE(resp, &der)) <= 0)
		goto crypto;
	if ((out->der = malloc((size_t)len)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(out->der, der, (size_t)len);
	out->len = (size_t)len;
	out->status = SC_CA_OCSP_SUCCESSFUL;
	out->this_update = now;
	out->next_update = now + o->validity;
	etag_of(out);
	rc = 0;
	goto out;
crypto:
	sc_err_crypto(err, SC_E_CRYPTO, "OCSP response");
out:
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return rc;
}

int
sc_ca_ocsp_respond(struct sc_ca_ocsp *o, const uint8_t *reqder, size_t len,
    struct sc_ca_ocsp_resp *out, struct sc_err *err)
{
	const unsigned char *p = reqder;
	OCSP_REQUEST *req = NULL;
	struct ca_set *set = NULL;
	const struct ca_ctx *ca = NULL;
	struct fp fps[OCSP_MAX_REQS];
	unsigned char key[SHA256_DIGEST_LENGTH];
	struct sc_err e;
	int64_t epoch;
	int n, nonce, status, leased = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	sc_err_clear(&e);
	/*
	 * The cache is keyed by the SHA-256 of the whole request, and only
	 * single-request nonce-less requests are ever cached: an identical
	 * request under the lease, with the same CAs, is answered before any
	 * parsing (RFC 5019 clients repeat the same bytes).
	 */
	if (reqder != NULL && len > 0 && len <= SC_CA_OCSP_REQUEST_MAX) {
		uint64_t gen = 0;
		int fresh_set = 0;

		SHA256(reqder, len, key);
		pthread_mutex_lock(&o->set_mu);
		if (o->set != NULL) {
			gen = o->set->gen;
			fresh_set = sc_time_now().sec - o->set->loaded <
			    CA_SET_TTL;
		}
		pthread_mutex_unlock(&o->set_mu);
		epoch = epoch_get(o, &leased);
		if (fresh_set && leased &&
		    cache_get(o, key, gen, NULL, epoch, sc_time_now().sec,
			out)) {
			atomic_fetch_add(&o->fast_hits, 1);
			out->status = SC_CA_OCSP_SUCCESSFUL;
			out->cacheable = 1;
			out->from_cache = 1;
			return 0;
		}
	}
	/* RFC 6960 §4.2.1 malformedRequest: one DER OCSPRequest, no more. */
	if (reqder == NULL || len == 0 || len > SC_CA_OCSP_REQUEST_MAX ||
	    (req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != reqder + len) {
		status = SC_CA_OCSP_MALFORMED;
		goto status_only;
	}
	n = OCSP_request_onereq_count(req);
	if (n < 1 || n > OCSP_MAX_REQS) {
		status = SC_CA_OCSP_MALFORMED;
		goto status_only;
	}
	/* RFC 6960 §4.2.1 unauthorized: every CertID must name one of our
	 * CAs, the same one (one signer per response). */
	for (int pass = 0; pass < 2 && ca == NULL; pass++) {
		set_put(set);
		if ((set = set_get(o, pass, &e)) == NULL)
			break;
		for (int i = 0; i < n; i++) {
			const struct ca_ctx *c = ca_match(set,
			    OCSP_onereq_get0_id(OCSP_request_onereq_get0(req,
				i)));

			if (c == NULL || (ca != NULL && c != ca)) {
				ca = NULL;
				break;
			}
			ca = c;
		}
	}
	if (set == NULL) {
		sc_log_err("ocsp: CAs", &e);
		status = e.code == SC_E_UNAVAILABLE ? SC_CA_OCSP_TRY_LATER
						    : SC_CA_OCSP_INTERNAL;
		goto status_only;
	}
	if (ca == NULL) {
		status = SC_CA_OCSP_UNAUTHORIZED;
		goto status_only;
	}
	nonce = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >=
	    0;
	out->cacheable = !nonce;
	/* Read before any row is: see cache_get(). */
	epoch = epoch_get(o, &leased);
	if (n == 1 && !nonce && leased &&
	    cache_get(o, key, set->gen, NULL, epoch, sc_time_now().sec, out)) {
		atomic_fetch_add(&o->fast_hits, 1);
		out->status = SC_CA_OCSP_SUCCESSFUL;
		out->from_cache = 1;
		rc = 0;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (fp_read(o, ca,
			OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i)),
			&fps[i], &e) != 0) {
			sc_log_err("ocsp: status", &e);
			status = e.code == SC_E_UNAVAILABLE
			    ? SC_CA_OCSP_TRY_LATER
			    : SC_CA_OCSP_INTERNAL;
			goto status_only;
		}
	if (n == 1 && !nonce &&
	    cache_get(o, key, set->gen, &fps[0], epoch, sc_time_now().sec,
		out)) {
		out->status = SC_CA_OCSP_SUCCESSFUL;
		out->from_cache = 1;
		rc = 0;
		goto out;
	}
	if (build(o, ca, req, fps, n, nonce, out, &e) != 0) {
		sc_log_err("ocsp: sign", &e);
		status = SC_CA_OCSP_INTERNAL;
		goto status_only;
	}
	if (n == 1 && !nonce)
		cache_put(o, key, set->gen, &fps[0], epoch, out);
	rc = 0;
	goto out;
status_only:
	sc_ca_ocsp_resp_clear(out);
	rc = status_only(out, status, err);
out:
	OCSP_REQUEST_free(req);
	set_put(set);
	return rc;
}
