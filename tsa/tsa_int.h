/*
 * tsa_int.h: what the files of tsa/ share. Not installed.
 */
#ifndef SCEAU_TSA_INT_H
#define SCEAU_TSA_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include <openssl/ts.h>
#include <openssl/x509.h>

#include "sceau/db_tsa.h"
#include "sceau/tsa.h"

#define TSA_REQ_MAX (64 * 1024) /* STYLE.md rule 13 */
#define TSA_WRITERS 2           /* group-commit writer threads */
#define TSA_BATCH_MAX 512       /* rows per commit */

/* One TS_RESP_CTX of the pool; used by one thread at a time. */
struct tsa_ctx {
	TS_RESP_CTX *ctx;
	struct sc_tsa *tsa;
	struct tsa_ctx *next; /* free list */
	struct tsa_ctx *all;  /* every context, for sc_tsa_free() */
};

/* A token waiting for its row to be committed (tsa_log.c). */
struct tsa_pending {
	struct sc_db_tsa_token rec;
	sem_t done; /* posted by the writer: one wake-up each */
	int rc;     /* 0 committed, -1 not; set before the post */
	struct tsa_pending *next;
};

struct tsa_log; /* the group-commit writer */

struct sc_tsa {
	X509 *cert;
	STACK_OF(X509) *extra; /* CAs below the root: sent on certReq */
	EVP_PKEY *key;         /* HSM-backed */
	const EVP_MD *sign_md; /* SHA-256, or SHA-384 for larger keys */
	ASN1_OBJECT *policy;
	char policy_txt[64];
	char cert_serial[41];
	int64_t not_after; /* the certificate's notAfter, epoch seconds */
	unsigned accuracy_ms;
	int clock_check;
	char clock_source[SC_CONFIG_PATH_MAX];

	pthread_mutex_t pool_mu;
	struct tsa_ctx *free_list; /* guarded by pool_mu */
	struct tsa_ctx *all;       /* guarded by pool_mu */
	unsigned ncontexts;        /* guarded by pool_mu */

	struct tsa_log *log; /* NULL: not recording */

	atomic_ullong granted;
	atomic_ullong rejected;
};

/* tsa_log.c */
int tsa_log_start(struct tsa_log **out, struct sc_db *db, unsigned writers,
    struct sc_err *err);
/** Queues @p and waits until its row is committed or failed. */
int tsa_log_commit(struct tsa_log *l, struct tsa_pending *p,
    struct sc_err *err);
void tsa_log_stop(struct tsa_log *l);
void tsa_log_stats(struct tsa_log *l, unsigned long long *batches,
    unsigned long long *rows, unsigned long long *max_batch);

/* tsa_resp.c */
/** Lower-case hex of a positive INTEGER's magnitude into @out (41). */
int tsa_serial_hex(const ASN1_INTEGER *a, char *out, size_t outlen);
/** GeneralizedTime "YYYYMMDDhhmmss[.f*]Z" as RFC 3339 UTC. */
int tsa_gentime_rfc3339(const ASN1_GENERALIZEDTIME *t, char *out,
    size_t outlen);

#endif
