/*
 * sceau api: the sceaud HTTP server (libmicrohttpd, jansson). Handlers are
 * thin: parse a bounded request, call one library function, render JSON or
 * problem+json (RFC 9457).
 */
#ifndef SCEAU_API_H
#define SCEAU_API_H

#include "sceau/core.h"

struct sc_db;
struct sc_hsm;
struct sc_api; /* opaque: the running server */

/**
 * Starts listening on cfg->listen:cfg->port with cfg->threads workers.
 * @param db, hsm borrowed for the server's lifetime.
 * @return the server, to stop with sc_api_stop(), or NULL with err set.
 */
struct sc_api *sc_api_start(const struct sc_config *cfg, struct sc_db *db,
    struct sc_hsm *hsm, struct sc_err *err);

/** The port actually bound (useful when cfg->port is 0). */
unsigned sc_api_port(const struct sc_api *api);

/** Stops accepting, finishes requests in flight and frees; NULL ignored. */
void sc_api_stop(struct sc_api *api);

/**
 * The OpenAPI 3 document of every route, generated from the route table.
 * @return malloc'd JSON text, or NULL on allocation failure.
 */
char *sc_api_openapi_json(const char *public_url);

#endif
