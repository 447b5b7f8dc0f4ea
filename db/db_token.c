/*
 * db_token.c: API bearer tokens (CONTRACT.md roles).
 *
 * A token is "sc_" + base64url (no padding) of 32 CSPRNG bytes, shown
 * once. The database keeps only SHA-256 of the token text as presented
 * (the whole "sc_..." string), which is what sc_db_token_lookup() takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define TOKEN_NAME_MAX 120
#define TOKEN_ALIAS_MAX 79
#define TOKEN_PREFIX "sc_"

static const char *const roles[] = {"ca_admin", "ra_officer", "auditor",
    "signer"};

int
sc_db_role_valid(const char *role)
{
	if (role == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i]) == 0)
			return 1;
	return 0;
}

/* @return 1 when @s is 1..@max bytes without control characters. */
static int
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Appends @s as a JSON string (RFC 8259 §7), or null. */
static int
json_str(struct sc_buf *b, const char *s, struct sc_err *err)
{
	char esc[8];

	if (s == NULL)
		return sc_buf_append_str(b, "null", err);
	if (sc_buf_append_str(b, "\"", err) != 0)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			esc[2] = '\0';
		} else if (ch < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
		} else {
			esc[0] = (char)ch;
			esc[1] = '\0';
		}
		if (sc_buf_append_str(b, esc, err) != 0)
			return -1;
	}
	return sc_buf_append_str(b, "\"", err);
}

struct create_arg {
	const char *name;
	const char *role;
	const char *key_alias; /* NULL: none */
	const char *actor;
	const char *actor_role;
	uint8_t hash[32];
};

static int
create_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct create_arg *a = arg;
	struct db_params p = {0};
	struct sc_audit_event ev;
	struct sc_buf details;
	PGresult *r = NULL;
	int64_t id;
	int rc = -1;

	sc_buf_init(&details, 4096);
	db_params_text(&p, a->name);
	db_params_text(&p, a->role);
	db_params_text(&p, a->key_alias);
	db_params_bin(&p, a->hash, 32);
	if (db_exec(c, ST_TOKEN_INSERT, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) != 1 || db_get_i64(r, 0, 0, &id) != 0) {
		sc_err_set(err, SC_E_DB, "token insert returned no id");
		goto out;
	}
	if (sc_buf_printf(&details, err,
		"{\"id\":%lld,\"role\":", (long long)id) != 0 ||
	    json_str(&details, a->role, err) != 0 ||
	    sc_buf_append_str(&details, ",\"key_alias\":", err) != 0 ||
	    json_str(&details, a->key_alias, err) != 0 ||
	    sc_buf_append_str(&details, "}", err) != 0)
		goto out;
	ev.actor = a->actor;
	ev.role = a->actor_role;
	ev.action = "token.create";
	ev.object = a->name;
	ev.details = (const char *)details.p;
	if (sc_db_audit_append(c, &ev, err) != 0)
		goto out;
	rc = 0;
out:
	PQclear(r);
	sc_buf_free(&details);
	return rc;
}

int
sc_db_token_create_as(struct sc_db *db, const char *name, const char *role,
    const char *key_alias, const char *actor, const char *actor_role,
    char **secret, struct sc_err *err)
{
	struct create_arg a;
	uint8_t raw[32];
	char *b64 = NULL, *tok = NULL;
	size_t len;
	int rc = -1;

	*secret = NULL;
	if (name == NULL || !text_ok(name, TOKEN_NAME_MAX)) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "token name: 1 to %d characters, no control characters",
		    TOKEN_NAME_MAX);
		goto out;
	}
	if (!sc_db_role_valid(role)) {
		sc_err_set(err, SC_E_UNKNOWN_ROLE,
		    "unknown role (ca_admin, ra_officer, auditor, signer)");
		goto out;
	}
	if (key_alias != NULL && key_alias[0] == '\0')
		key_alias = NULL;
	if (key_alias != NULL && !text_ok(key_alias, TOKEN_ALIAS_MAX)) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "key alias: at most %d characters, no control characters",
		    TOKEN_ALIAS_MAX);
		goto out;
	}
	if (sc_rand_bytes(raw, sizeof(raw), err) != 0)
		goto out;
	if ((b64 = sc_b64_encode(raw, sizeof(raw), 1)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	len = strlen(TOKEN_PREFIX) + strlen(b64) + 1;
	if ((tok = malloc(len)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(tok, len, "%s%s", TOKEN_PREFIX, b64);

	a.name = name;
	a.role = role;
	a.key_alias = key_alias;
	a.actor = actor != NULL && actor[0] != '\0' ? actor : "system";
	a.actor_role =
	    actor_role != NULL && actor_role[0] != '\0' ? actor_role : "system";
	sc_sha256(tok, strlen(tok), a.hash);
	if (sc_db_run_txn(db, create_fn, &a, err) != 0)
		goto out;
	*secret = tok; /* the caller frees it with sc_secret_free() */
	tok = NULL;
	rc = 0;
out:
	explicit_bzero(raw, sizeof(raw));
	sc_secret_free(b64);
	sc_secret_free(tok);
	return rc;
}

int
sc_db_token_create(struct sc_db *db, const char *name, const char *role,
    const char *key_alias, const char *actor, char **secret, struct sc_err *err)
{
	return sc_db_token_create_as(db, name, role, key_alias, actor, NULL,
	    secret, err);
}

struct lookup_arg {
	const uint8_t *hash;
	struct sc_db_token *out;
	enum sc_db_qs qs;
};

static int
lookup_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct lookup_arg *a = arg;
	struct db_params p = {0};
	PGresult *r = NULL;
	uint8_t stored[32];
	int rc = -1;

	a->qs = SC_DB_HARD;
	db_params_bin(&p, a->hash, 32);
	if (db_exec(c, ST_TOKEN_LOOKUP, &p, &r, err) != SC_DB_ONE)
		goto out;
	a->qs = SC_DB_NONE;
	rc = 0;
	if (PQntuples(r) != 1)
		goto out;
	/* Belt and braces: the index found it; compare in constant time. */
	if (db_get_hash(r, 0, 4, stored) != 0 ||
	    !sc_ct_equal(stored, a->hash, 32))
		goto out;
	memset(a->out, 0, sizeof(*a->out));
	if (db_get_i64(r, 0, 0, &a->out->id) != 0 ||
	    db_get_text(r, 0, 1, a->out->name, sizeof(a->out->name)) != 0 ||
	    db_get_text(r, 0, 2, a->out->role, sizeof(a->out->role)) != 0 ||
	    db_get_text(r, 0, 3, a->out->key_alias,
		sizeof(a->out->key_alias)) != 0) {
		memset(a->out, 0, sizeof(*a->out));
		a->qs = SC_DB_HARD;
		rc = sc_err_set(err, SC_E_DB, "token row does not fit");
		goto out;
	}
	a->qs = SC_DB_ONE;
out:
	PQclear(r);
	return rc;
}

enum sc_db_qs
sc_db_token_lookup(struct sc_db *db, const uint8_t hash[32],
    struct sc_db_token *out, struct sc_err *err)
{
	struct lookup_arg a = {hash, out, SC_DB_HARD};

	if (db_run_plain(db, lookup_fn, &a, err) != 0)
		return SC_DB_HARD;
	return a.qs;
}
