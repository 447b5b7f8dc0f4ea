/*
 * api_metrics.c: Prometheus text exposition format 0.0.4 — requests by
 * route and status, a latency histogram, and HSM and database pool use.
 */
#include <stdlib.h>
#include <string.h>

#include "sceau/db.h"
#include "sceau/hsm.h"

#include "api_int.h"

/* Status codes given their own series; the rest count as "other". */
static const unsigned statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
    406, 409, 413, 415, 422, 500, 503, 0};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))

/* Upper bounds in seconds (microseconds here). */
static const uint64_t bounds_us[API_LAT_BUCKETS] = {1000, 5000, 10000, 25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

int
api_metrics_init(struct api_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->requests = calloc((api_nroutes + 1) * NSTATUS,
	    sizeof(*m->requests));
	return m->requests == NULL ? -1 : 0;
}

void
api_metrics_free(struct api_metrics *m)
{
	free(m->requests);
	m->requests = NULL;
}

void
api_metrics_record(struct api_metrics *m, const struct api_route *route,
    unsigned status, uint64_t usec)
{
	size_t ri = route != NULL ? (size_t)(route - api_routes) + 1 : 0;
	size_t si, b;

	for (si = 0; si < NSTATUS - 1 && statuses[si] != status; si++)
		;
	atomic_fetch_add(&m->requests[ri * NSTATUS + si], 1);
	for (b = 0; b < API_LAT_BUCKETS && usec > bounds_us[b]; b++)
		;
	atomic_fetch_add(&m->lat_bucket[b], 1);
	atomic_fetch_add(&m->lat_sum_us, usec);
	atomic_fetch_add(&m->lat_count, 1);
}

int
api_metrics_render(struct sc_api *api, struct sc_buf *b, struct sc_err *err)
{
	struct api_metrics *m = &api->metrics;
	struct sc_db_stats ds;
	struct sc_hsm_stats hs;
	unsigned long long cum = 0;
	int rc = 0;

	rc |= sc_buf_append_str(b,
	    "# HELP sceau_http_requests_total HTTP requests by route and "
	    "status.\n# TYPE sceau_http_requests_total counter\n",
	    err);
	for (size_t ri = 0; ri <= api_nroutes; ri++) {
		const char *label = ri == 0 ? "unmatched"
					    : api_routes[ri - 1].metric;
		for (size_t si = 0; si < NSTATUS; si++) {
			unsigned long long v =
			    atomic_load(&m->requests[ri * NSTATUS + si]);
			char st[16];

			if (v == 0)
				continue;
			if (statuses[si] == 0)
				snprintf(st, sizeof(st), "other");
			else
				snprintf(st, sizeof(st), "%u", statuses[si]);
			rc |= sc_buf_printf(b, err,
			    "sceau_http_requests_total{route=\"%s\","
			    "status=\"%s\"} %llu\n",
			    label, st, v);
		}
	}
	rc |= sc_buf_append_str(b,
	    "# HELP sceau_http_request_duration_seconds Time to answer.\n"
	    "# TYPE sceau_http_request_duration_seconds histogram\n",
	    err);
	for (size_t i = 0; i <= API_LAT_BUCKETS; i++) {
		cum += atomic_load(&m->lat_bucket[i]);
		if (i < API_LAT_BUCKETS)
			rc |= sc_buf_printf(b, err,
			    "sceau_http_request_duration_seconds_bucket{le=\""
			    "%g\"} %llu\n",
			    (double)bounds_us[i] / 1e6, cum);
		else
			rc |= sc_buf_printf(b, err,
			    "sceau_http_request_duration_seconds_bucket{le=\""
			    "+Inf\"} %llu\n",
			    cum);
	}
	rc |= sc_buf_printf(b, err,
	    "sceau_http_request_duration_seconds_sum %.6f\n"
	    "sceau_http_request_duration_seconds_count %llu\n"
	    "# HELP sceau_http_in_flight Requests being served.\n"
	    "# TYPE sceau_http_in_flight gauge\nsceau_http_in_flight %u\n",
	    (double)atomic_load(&m->lat_sum_us) / 1e6,
	    (unsigned long long)atomic_load(&m->lat_count),
	    atomic_load(&m->in_flight));
	sc_db_stats(api->db, &ds);
	sc_hsm_stats(api->hsm, &hs);
	rc |= sc_buf_printf(b, err,
	    "# HELP sceau_db_pool_size Database connections in the pool.\n"
	    "# TYPE sceau_db_pool_size gauge\nsceau_db_pool_size %u\n"
	    "# HELP sceau_db_pool_busy Database connections leased now.\n"
	    "# TYPE sceau_db_pool_busy gauge\nsceau_db_pool_busy %u\n"
	    "# HELP sceau_db_pool_waits_total Leases that had to wait.\n"
	    "# TYPE sceau_db_pool_waits_total counter\n"
	    "sceau_db_pool_waits_total %llu\n"
	    "# HELP sceau_hsm_sessions_max HSM signing sessions allowed.\n"
	    "# TYPE sceau_hsm_sessions_max gauge\nsceau_hsm_sessions_max %u\n"
	    "# HELP sceau_hsm_sessions_busy HSM sessions signing now.\n"
	    "# TYPE sceau_hsm_sessions_busy gauge\n"
	    "sceau_hsm_sessions_busy %u\n"
	    "# HELP sceau_hsm_sign_total Signatures made in the HSM.\n"
	    "# TYPE sceau_hsm_sign_total counter\nsceau_hsm_sign_total %llu\n",
	    ds.size, ds.busy, ds.waits, hs.sessions_max, hs.sessions_busy,
	    hs.sign_ops);
#if SCEAU_HAVE_TSA
	rc |= api_tsa_metrics(api, b, err);
#endif
	return rc != 0 ? -1 : 0;
}
