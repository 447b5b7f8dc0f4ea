/*
 * api_auth.c: bearer tokens (RFC 6750 §2.1) and roles (CONTRACT.md).
 * The token is never logged; only its SHA-256 reaches the database, where
 * the stored hash is compared in constant time.
 */
#include <string.h>
#include <strings.h>

#include "sceau/db.h"

#include "api_int.h"

unsigned
api_role_bit(const char *role)
{
	if (strcmp(role, "ca_admin") == 0)
		return ROLE_CA_ADMIN;
	if (strcmp(role, "ra_officer") == 0)
		return ROLE_RA_OFFICER;
	if (strcmp(role, "auditor") == 0)
		return ROLE_AUDITOR;
	if (strcmp(role, "signer") == 0)
		return ROLE_SIGNER;
	return 0;
}

const char *
api_bearer_parse(const char *h, size_t *len)
{
	const char *t;
	size_t n;

	if (h == NULL || strlen(h) > API_AUTH_HEADER_MAX)
		return NULL;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	t = h + 7;
	while (*t == ' ')
		t++;
	for (n = 0; t[n] != '\0'; n++) {
		char c = t[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' ||
			c == '.' || c == '~' || c == '+' || c == '/'))
			break;
	}
	/* token68 may end in '=' padding, then only white space. */
	while (t[n] == '=')
		n++;
	for (size_t k = n; t[k] != '\0'; k++)
		if (t[k] != ' ')
			return NULL;
	if (n == 0)
		return NULL;
	*len = n;
	return t;
}

int
api_authenticate(struct sc_api *api, struct api_req *r, struct sc_err *err)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	struct sc_db_token tok;
	uint8_t hash[32];
	const char *t;
	size_t len = 0;
	enum sc_db_qs qs;

	if (h == NULL)
		return sc_err_set(err, SC_E_UNAUTHORIZED,
		    "an Authorization: Bearer token is required");
	t = api_bearer_parse(h, &len);
	if (t == NULL)
		return sc_err_set(err, SC_E_UNAUTHORIZED,
		    "malformed Authorization header: \"Bearer <token>\" "
		    "expected");
	sc_sha256(t, len, hash);
	qs = sc_db_token_lookup(api->db, hash, &tok, err);
	if (qs == SC_DB_HARD || qs == SC_DB_SOFT) {
		if (err->code == SC_E_OK)
			sc_err_set(err, SC_E_UNAVAILABLE,
			    "cannot check the token now");
		else if (err->code != SC_E_UNAVAILABLE)
			err->code = SC_E_UNAVAILABLE;
		return -1;
	}
	if (qs == SC_DB_NONE)
		return sc_err_set(err, SC_E_UNAUTHORIZED,
		    "unknown or revoked token");
	snprintf(r->actor, sizeof(r->actor), "%s", tok.name);
	snprintf(r->role, sizeof(r->role), "%s", tok.role);
	snprintf(r->key_alias, sizeof(r->key_alias), "%s", tok.key_alias);
	if ((api_role_bit(tok.role) & r->route->roles) == 0)
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "the role %s may not call %s %s", tok.role, r->method,
		    r->route->path);
	return 0;
}
