/*
 * tsa_log.c: group commit of the token records (ETSI EN 319 421 §7.10).
 *
 * A responding thread queues its record and waits; writer threads take
 * everything queued (up to TSA_BATCH_MAX rows), insert it with one
 * statement in one transaction (one WAL flush), then wake the waiters,
 * each through its own semaphore (a shared condition variable would wake
 * every waiter at every commit).
 * While one batch commits the next one gathers, so the number of commits
 * per second stays near 1 / (commit time) whatever the request rate,
 * and a reply never leaves before its row is durable: a crash can lose
 * only tokens that no client has received.
 */
#include <stdlib.h>
#include <string.h>

#include "tsa_int.h"

struct tsa_log {
	struct sc_db *db;
	pthread_mutex_t mu;
	pthread_cond_t work;      /* writers wait for rows */
	struct tsa_pending *head; /* guarded by mu */
	struct tsa_pending *tail; /* guarded by mu */
	int stop;                 /* guarded by mu */
	unsigned nthreads;
	pthread_t th[TSA_WRITERS];
	unsigned long long batches; /* guarded by mu */
	unsigned long long rows;
	unsigned long long max_batch;
};

static void *
writer(void *arg)
{
	const struct sc_db_tsa_token **rows;
	struct tsa_log *l = arg;

	rows = calloc(TSA_BATCH_MAX, sizeof(*rows));
	for (;;) {
		struct tsa_pending *batch, *p;
		struct sc_err err;
		size_t n = 0;
		int rc;

		pthread_mutex_lock(&l->mu);
		while (l->head == NULL && !l->stop)
			pthread_cond_wait(&l->work, &l->mu);
		if (l->head == NULL) { /* stopping, nothing left */
			pthread_mutex_unlock(&l->mu);
			break;
		}
		batch = l->head;
		/* without a row array, one row at a time */
		for (p = batch;
		     p != NULL && n < (rows != NULL ? TSA_BATCH_MAX : 1);
		     p = p->next)
			n++;
		/* cut the list after n entries */
		p = batch;
		for (size_t i = 1; i < n; i++)
			p = p->next;
		l->head = p->next;
		if (l->head == NULL)
			l->tail = NULL;
		p->next = NULL;
		pthread_mutex_unlock(&l->mu);

		sc_err_clear(&err);
		if (rows == NULL) {
			rc = sc_err_set(&err, SC_E_NOMEM, "out of memory");
		} else {
			size_t i = 0;

			for (p = batch; p != NULL; p = p->next)
				rows[i++] = &p->rec;
			rc = sc_db_tsa_tokens_insert(l->db, rows, n, &err);
		}
		if (rc != 0)
			sc_log_err("tsa: recording tokens", &err);

		pthread_mutex_lock(&l->mu);
		l->batches++;
		if (rc == 0) {
			l->rows += n;
			if (n > l->max_batch)
				l->max_batch = n;
		}
		pthread_mutex_unlock(&l->mu);
		for (p = batch; p != NULL;) {
			struct tsa_pending *next = p->next;

			p->rc = rc;
			sem_post(&p->done); /* p belongs to its waiter again */
			p = next;
		}
	}
	free(rows);
	return NULL;
}

int
tsa_log_start(struct tsa_log **out, struct sc_db *db, unsigned writers,
    struct sc_err *err)
{
	struct tsa_log *l;

	*out = NULL;
	if (writers < 1 || writers > TSA_WRITERS)
		writers = TSA_WRITERS;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	l->db = db;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return sc_err_set(err, SC_E_INTERNAL, "pthread_mutex_init");
	}
	if (pthread_cond_init(&l->work, NULL) != 0) {
		pthread_mutex_destroy(&l->mu);
		free(l);
		return sc_err_set(err, SC_E_INTERNAL, "pthread_cond_init");
	}
	for (unsigned i = 0; i < writers; i++) {
		if (pthread_create(&l->th[i], NULL, writer, l) != 0)
			break;
		l->nthreads++;
	}
	if (l->nthreads == 0) {
		tsa_log_stop(l);
		return sc_err_set(err, SC_E_INTERNAL, "pthread_create");
	}
	*out = l;
	return 0;
}

int
tsa_log_commit(struct tsa_log *l, struct tsa_pending *p, struct sc_err *err)
{
	int rc;

	p->rc = -1;
	p->next = NULL;
	if (sem_init(&p->done, 0, 0) != 0)
		return sc_err_set(err, SC_E_INTERNAL, "sem_init");
	pthread_mutex_lock(&l->mu);
	if (l->stop) {
		pthread_mutex_unlock(&l->mu);
		sem_destroy(&p->done);
		return sc_err_set(err, SC_E_UNAVAILABLE, "TSA stopping");
	}
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->mu);
	while (sem_wait(&p->done) != 0)
		; /* EINTR */
	rc = p->rc;
	sem_destroy(&p->done);
	if (rc != 0)
		return sc_err_set(err, SC_E_UNAVAILABLE,
		    "the token could not be recorded");
	return 0;
}

void
tsa_log_stop(struct tsa_log *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	pthread_cond_broadcast(&l->work);
	pthread_mutex_unlock(&l->mu);
	for (unsigned i = 0; i < l->nthreads; i++)
		pthread_join(l->th[i], NULL);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void
tsa_log_stats(struct tsa_log *l, unsigned long long *batches,
    unsigned long long *rows, unsigned long long *max_batch)
{
	pthread_mutex_lock(&l->mu);
	*batches = l->batches;
	*rows = l->rows;
	*max_batch = l->max_batch;
	pthread_mutex_unlock(&l->mu);
}
