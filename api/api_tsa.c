/*
 * api_tsa.c: POST /tsa (RFC 3161 §3.4, time-stamp protocol over HTTP).
 *
 * The handler is thin: it checks the media type, hands the body to
 * sc_tsa_respond() and returns whatever TimeStampResp that gives, with
 * status 200, refusals included (they are protocol answers, not HTTP
 * errors). HTTP errors remain for HTTP faults: 413 past 64 KiB (route
 * limit), 415 for another media type.
 *
 * The TSA unit is loaded from the database on first use (service_certs
 * of kind 'tsa', written by `sceau init`), and again at most every 5 s
 * while there is none, so a server started before the hierarchy picks it
 * up without a restart. Until then POST /tsa answers { rejection,
 * systemFailure } and /readyz reports "tsa": "not configured".
 *
 * The unit lives in this file's state because struct sc_api has no slot
 * for it yet: written under svc_mu only, read through an atomic pointer
 * (published once, never replaced while the server runs).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sceau/db.h"
#include "sceau/hsm.h"
#include "sceau/tsa.h"

#include "api_int.h"

#define TSA_RETRY_S 5

static pthread_mutex_t svc_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct sc_tsa *) svc_tsa; /* published once */
static struct sc_api *svc_api;           /* guarded by svc_mu */
static int64_t svc_next_try;             /* guarded by svc_mu */

/* The unit, loading it if due; NULL while none is configured. */
static struct sc_tsa *
tsa_get(struct sc_api *api)
{
	struct sc_tsa *t = atomic_load_explicit(&svc_tsa, memory_order_acquire);
	struct sc_err err;
	int64_t now;

	if (t != NULL)
		return t;
	pthread_mutex_lock(&svc_mu);
	t = atomic_load_explicit(&svc_tsa, memory_order_acquire);
	now = sc_time_now().sec;
	if (t == NULL && (svc_api != api || now >= svc_next_try)) {
		svc_api = api;
		svc_next_try = now + TSA_RETRY_S;
		sc_err_clear(&err);
		t = sc_tsa_open_db(api->cfg, api->db, api->hsm, &err);
		if (t != NULL && sc_tsa_record_start(t, api->db, &err) != 0) {
			sc_tsa_free(t);
			t = NULL;
		}
		if (t != NULL) {
			atomic_store_explicit(&svc_tsa, t,
			    memory_order_release);
			sc_log(SC_LOG_NOTICE, "tsa: unit loaded, policy %s",
			    api->cfg->tsa_policy_oid);
		} else if (err.code == SC_E_NOT_FOUND) {
			sc_log(SC_LOG_INFO, "tsa: %s", err.msg);
		} else {
			sc_log_err("tsa: cannot load the unit", &err);
		}
	}
	pthread_mutex_unlock(&svc_mu);
	return t;
}

/*
 * Keep-alive clients send the next request as soon as the reply is
 * read; with Nagle on, a small reply can wait for a delayed ACK (40 ms).
 */
static void
nodelay(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	int one = 1;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		(void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

static int
media_ok(const char *ct)
{
	static const char want[] = "application/timestamp-query";
	size_t n = sizeof(want) - 1;

	return ct != NULL && strncasecmp(ct, want, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int
h_tsa(struct sc_api *api, struct api_req *r, struct api_resp *out,
    struct sc_err *err)
{
	struct sc_tsa_resp resp;
	struct sc_tsa *tsa;
	int rc;

	nodelay(r->conn);
	if (!media_ok(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE)))
		return sc_err_set(err, SC_E_UNSUPPORTED_MEDIA,
		    "RFC 3161 §3.4: the body must be an "
		    "application/timestamp-query");
	tsa = tsa_get(api);
	if (tsa == NULL)
		rc = sc_tsa_resp_system_failure(&resp, err);
	else
		rc = sc_tsa_respond(tsa, r->body.p, r->body.len, &resp, err);
	if (rc != 0)
		return -1;
	out->status = 200;
	out->content_type = "application/timestamp-reply";
	rc = sc_buf_append(&out->body, resp.der, resp.len, err);
	if (resp.status != SC_TSA_GRANTED)
		sc_log(SC_LOG_INFO, "%s tsa: rejection %s", r->id,
		    sc_tsa_failure_name(resp.failure));
	else
		sc_log(SC_LOG_DEBUG, "%s tsa: token %s at %s", r->id,
		    resp.serial, resp.gen_time);
	sc_tsa_resp_free(&resp);
	return rc;
}

/*
 * For h_readyz (api_routes.c): adds "tsa": "ok", "not configured" or
 * "clock not synchronised", and "tsa_clock" with the reason. Readiness
 * itself stays DB + HSM: the other services work without a TSA.
 */

void
api_tsa_readyz(struct sc_api *api, json_t *obj)
{
	struct sc_tsa *tsa = tsa_get(api);
	char why[160] = "";
	const char *st;

	if (tsa == NULL)
		st = "not configured";
	else if (sc_tsa_ready(tsa, why, sizeof(why)))
		st = "ok";
	else
		st = "clock not synchronised";
	json_object_set_new(obj, "tsa", json_string(st));
	if (why[0] != '\0')
		json_object_set_new(obj, "tsa_clock", json_string(why));
}

/* For api_metrics_render(): the TSA counters, Prometheus text format. */

int
api_tsa_metrics(struct sc_api *api, struct sc_buf *b, struct sc_err *err)
{
	struct sc_tsa *tsa;
	struct sc_tsa_stats st;
	(void)api;

	tsa = atomic_load_explicit(&svc_tsa, memory_order_acquire);
	if (tsa == NULL)
		return 0;
	sc_tsa_stats(tsa, &st);
	return sc_buf_printf(b, err,
	    "# TYPE sceau_tsa_tokens_total counter\n"
	    "sceau_tsa_tokens_total %llu\n"
	    "# TYPE sceau_tsa_rejections_total counter\n"
	    "sceau_tsa_rejections_total %llu\n"
	    "# TYPE sceau_tsa_record_commits_total counter\n"
	    "sceau_tsa_record_commits_total %llu\n"
	    "# TYPE sceau_tsa_record_batch_max gauge\n"
	    "sceau_tsa_record_batch_max %llu\n",
	    st.granted, st.rejected, st.batches, st.max_batch);
}

/*
 * For sc_api_stop() (api_server.c), after MHD_stop_daemon(): stops the
 * record writers and frees the unit.
 */

void
api_tsa_stop(struct sc_api *api)
{
	struct sc_tsa *t;

	pthread_mutex_lock(&svc_mu);
	if (svc_api == api) {
		t = atomic_exchange(&svc_tsa, NULL);
		sc_tsa_free(t);
		svc_api = NULL;
		svc_next_try = 0;
	}
	pthread_mutex_unlock(&svc_mu);
}
