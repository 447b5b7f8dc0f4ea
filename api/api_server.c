/*
 * api_server.c: the libmicrohttpd daemon, body accumulation with limits,
 * dispatch, problem+json (RFC 9457) and access logging.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_int.h"

static uint64_t
elapsed_us(const struct timespec *start)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - start->tv_sec) * 1000000 +
	    (now.tv_nsec - start->tv_nsec) / 1000;
	return us < 0 ? 0 : (uint64_t)us;
}

/* Accept-Language: "en" anywhere first wins English; French otherwise. */
static void
pick_lang(struct api_req *r)
{
	const char *al = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT_LANGUAGE);

	snprintf(r->lang, sizeof(r->lang), "fr");
	if (al != NULL && strncasecmp(al, "en", 2) == 0)
		snprintf(r->lang, sizeof(r->lang), "en");
}

static enum MHD_Result
send_buf(struct api_req *r, unsigned status, const char *ctype,
    const void *p, size_t len, const char *extra_name, const char *extra_val,
    const char *cache, const struct api_resp *x)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)p,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    cache != NULL ? cache : "no-store");
	if (extra_name != NULL && extra_val != NULL && extra_val[0] != '\0')
		MHD_add_response_header(resp, extra_name, extra_val);
	for (size_t i = 0; x != NULL && i < 4 && x->extra[i].name != NULL; i++)
		MHD_add_response_header(resp, x->extra[i].name,
		    x->extra[i].value);
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* RFC 9457 problem details, with sceau's stable "code" member. */
static enum MHD_Result
send_problem(struct sc_api *api, struct api_req *r, const struct sc_err *err)
{
	unsigned status = (unsigned)sc_code_http(err->code);
	const char *extra_name = NULL;
	char type[300], allow[64];
	enum MHD_Result ret;
	json_t *j;
	char *txt;

	snprintf(type, sizeof(type), "%s/api/v1/problems/%s",
	    api->cfg->public_url, sc_code_name(err->code));
	j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title",
	    sc_code_title(err->code, r->lang), "status", (int)status,
	    "detail", err->msg[0] != '\0' ? err->msg : sc_code_title(err->code, r->lang),
	    "code", sc_code_name(err->code), "request_id", r->id);
	txt = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (status == 401)
		extra_name = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
	if (status == 405) {
		api_route_allow(r->url, allow, sizeof(allow));
		extra_name = MHD_HTTP_HEADER_ALLOW;
	}
	if (status >= 500)
		sc_log_err(r->id, err);
	ret = send_buf(r, status, "application/problem+json",
	    txt != NULL ? txt : "{}", txt != NULL ? strlen(txt) : 2, extra_name,
	    status == 401 ? "Bearer realm=\"sceau\"" : allow, NULL, NULL);
	free(txt);
	return ret;
}

static void
req_free(struct api_req *r)
{
	if (r == NULL)
		return;
	sc_buf_free(&r->body);
	free(r);
}

static size_t
route_limit(struct sc_api *api, const struct api_route *route)
{
	if (route != NULL && route->body_max == API_BODY_DOCUMENT)
		return (size_t)api->cfg->max_document;
	if (route != NULL && route->body_max != 0)
		return route->body_max;
	return (size_t)api->cfg->max_body;
}

/* Runs the route's handler once the whole body has arrived. */
static enum MHD_Result
dispatch(struct sc_api *api, struct api_req *r)
{
	struct api_resp out;
	struct sc_err err;
	enum MHD_Result ret;

	memset(&out, 0, sizeof(out));
	sc_buf_init(&out.body, SIZE_MAX / 2);
	sc_err_clear(&err);
	sc_op_begin();
	if (r->route->roles != ROLE_NONE &&
	    api_authenticate(api, r, &err) != 0)
		goto fail;
	if (r->route->handler(api, r, &out, &err) != 0)
		goto fail;
	ret = send_buf(r, out.status, out.content_type,
	    out.body.p != NULL ? out.body.p : (const uint8_t *)"",
	    out.body.len, out.location[0] != '\0' ? MHD_HTTP_HEADER_LOCATION : NULL,
	    out.location, out.cache_control, &out);
	api_metrics_record(&api->metrics, r->route, out.status,
	    elapsed_us(&r->start));
	sc_log(SC_LOG_INFO, "%s %s %s %u %s", r->id, r->method, r->url,
	    out.status, r->actor[0] != '\0' ? r->actor : "-");
	sc_buf_free(&out.body);
	return ret;
fail:
	if (err.code == SC_E_OK)
		sc_err_set(&err, SC_E_INTERNAL, "handler failed without reason");
	sc_buf_free(&out.body);
	api_metrics_record(&api->metrics, r->route,
	    (unsigned)sc_code_http(err.code), elapsed_us(&r->start));
	sc_log(SC_LOG_INFO, "%s %s %s %d %s %s", r->id, r->method, r->url,
	    sc_code_http(err.code), sc_code_name(err.code),
	    r->actor[0] != '\0' ? r->actor : "-");
	return send_problem(api, r, &err);
}

static enum MHD_Result
early_problem(struct sc_api *api, struct api_req *r, enum sc_code code,
    const char *msg)
{
	struct sc_err err;

	sc_err_clear(&err);
	sc_err_set(&err, code, "%s", msg);
	api_metrics_record(&api->metrics, r->route, (unsigned)sc_code_http(code),
	    elapsed_us(&r->start));
	sc_log(SC_LOG_INFO, "%s %s %s %d %s", r->id, r->method, r->url,
	    sc_code_http(code), sc_code_name(code));
	return send_problem(api, r, &err);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct sc_api *api = cls;
	struct api_req *r = *con_cls;
	(void)version;

	if (r == NULL) {
		const char *cl;
		int path_known = 0;

		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		*con_cls = r;
		r->conn = conn;
		r->method = method;
		r->url = url;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		sc_request_id(r->id);
		pick_lang(r);
		atomic_fetch_add(&api->metrics.in_flight, 1);
		r->route = api_route_match(method, url, r, &path_known);
		sc_buf_init(&r->body, route_limit(api, r->route));
		if (r->route == NULL) {
			r->answered = 1;
			return early_problem(api, r,
			    path_known ? SC_E_METHOD_NOT_ALLOWED : SC_E_NOT_FOUND,
			    path_known ? "method not allowed on this resource"
				       : "no such resource");
		}
		/* STYLE.md rule 13: Content-Length checked before reading. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			uint64_t n;
			struct sc_err e;

			sc_err_clear(&e);
			if (sc_parse_u64(cl, 0, UINT64_MAX, &n, "Content-Length",
				&e) != 0) {
				r->answered = 1;
				return early_problem(api, r, SC_E_BAD_REQUEST,
				    "malformed Content-Length");
			}
			if (n > r->body.max) {
				r->answered = 1;
				return early_problem(api, r, SC_E_TOO_LARGE,
				    "request body larger than the limit for "
				    "this route");
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		struct sc_err e;

		sc_err_clear(&e);
		if (r->too_large) {
			/*
			 * A chunked body already past the limit: MHD cannot
			 * answer mid-upload, so the rest is counted and
			 * dropped, and the connection is closed if the
			 * client goes on far beyond the limit.
			 */
			r->discarded += *upload_data_size;
			*upload_data_size = 0;
			return r->discarded > 4 * r->body.max + (1u << 20)
			    ? MHD_NO
			    : MHD_YES;
		}
		if (sc_buf_append(&r->body, upload_data, *upload_data_size,
			&e) != 0) {
			r->too_large = 1;
			sc_buf_free(&r->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->too_large)
		return early_problem(api, r, SC_E_TOO_LARGE,
		    "request body larger than the limit for this route");
	return dispatch(api, r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct sc_api *api = cls;
	struct api_req *r = *con_cls;
	(void)conn;
	(void)toe;

	if (r == NULL)
		return;
	atomic_fetch_sub(&api->metrics.in_flight, 1);
	req_free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	(void)cls;

	vsnprintf(line, sizeof(line), fmt, ap);
	sc_log(SC_LOG_NOTICE, "http: %s", line);
}

struct sc_api *
sc_api_start(const struct sc_config *cfg, struct sc_db *db,
    struct sc_hsm *hsm, struct sc_err *err)
{
	struct sockaddr_in sa;
	struct sc_api *api;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->listen, &sa.sin_addr) != 1) {
		sc_err_set(err, SC_E_CONFIG,
		    "server.listen: \"%s\" is not an IPv4 address", cfg->listen);
		return NULL;
	}
	api = calloc(1, sizeof(*api));
	if (api == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	api->cfg = cfg;
	api->db = db;
	api->hsm = hsm;
	if (api_metrics_init(&api->metrics) != 0) {
		free(api);
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	if (api_pki_start(api, err) != 0) {
		api_metrics_free(&api->metrics);
		free(api);
		return NULL;
	}
	api->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
	    (uint16_t)cfg->port, NULL, NULL, &on_request, api,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
	    MHD_OPTION_NOTIFY_COMPLETED, &on_completed, api,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_EXTERNAL_LOGGER, &on_mhd_log, NULL,
	    MHD_OPTION_END);
	if (api->daemon == NULL) {
		api_pki_stop(api);
		api_metrics_free(&api->metrics);
		free(api);
		sc_err_set(err, SC_E_IO, "cannot listen on %s:%u", cfg->listen,
		    cfg->port);
		return NULL;
	}
	return api;
}

unsigned
sc_api_port(const struct sc_api *api)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return di != NULL ? di->port : 0;
}

void
sc_api_stop(struct sc_api *api)
{
	if (api == NULL)
		return;
	MHD_stop_daemon(api->daemon);
#if SCEAU_HAVE_TSA
	api_tsa_stop(api);
#endif
	api_pki_stop(api);
	api_metrics_free(&api->metrics);
	free(api);
}
