/*
 * core_config.c: the INI configuration, read once at start (STYLE.md
 * rule 16). Unknown keys and out-of-range values stop start-up.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/core.h"

#define CONFIG_MAX (64 * 1024)

enum kind { K_STR, K_UINT, K_U64, K_LEVEL };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;
	size_t size; /* K_STR: buffer size */
	uint64_t min, max;
};

#define STR(s, n, f)                                                        \
	{                                                                   \
		s, n, K_STR, offsetof(struct sc_config, f),                 \
		    sizeof(((struct sc_config *)0)->f), 0, 0                \
	}
#define UINT(s, n, f, lo, hi)                                               \
	{                                                                   \
		s, n, K_UINT, offsetof(struct sc_config, f), 0, lo, hi      \
	}
#define U64(s, n, f, lo, hi)                                                \
	{                                                                   \
		s, n, K_U64, offsetof(struct sc_config, f), 0, lo, hi       \
	}

static const struct key keys[] = {
	STR("server", "listen", listen),
	UINT("server", "port", port, 0, 65535),
	UINT("server", "threads", threads, 1, 256),
	U64("server", "max_body", max_body, 1024, 64ull << 20),
	U64("server", "max_document", max_document, 1024, 4ull << 30),
	STR("server", "public_url", public_url),
	STR("database", "url", db_url),
	STR("database", "url_file", db_url_file),
	UINT("database", "pool", db_pool, 1, 256),
	STR("database", "migrations", migrations),
	STR("hsm", "module", hsm_module),
	STR("hsm", "token", hsm_token),
	STR("hsm", "pin_file", hsm_pin_file),
	STR("hsm", "pin_env", hsm_pin_env),
	UINT("hsm", "sessions", hsm_sessions, 1, 256),
	{"log", "level", K_LEVEL, offsetof(struct sc_config, log_level), 0, 0,
	    0},
	STR("log", "file", log_file),
	STR("tsa", "policy_oid", tsa_policy_oid),
	UINT("tsa", "accuracy_ms", tsa_accuracy_ms, 1, 60000),
	UINT("tsa", "clock_check", tsa_clock_check, 0, 1),
	STR("tsa", "clock_source", tsa_clock_source),
	STR("ca", "profiles", ca_profiles),
	STR("ca", "policy_arc", ca_policy_arc),
	STR("ca", "organization_identifier", ca_org_id),
	STR("signer", "tsa_url", signer_tsa_url),
	STR("signer", "tsa_trust", signer_tsa_trust),
};

void
sc_config_defaults(struct sc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1");
	cfg->port = 8080;
	cfg->threads = 8;
	cfg->max_body = 1024 * 1024;
	cfg->max_document = 100ull * 1024 * 1024;
	snprintf(cfg->public_url, sizeof(cfg->public_url),
	    "http://127.0.0.1:8080");
	snprintf(cfg->db_url_file, sizeof(cfg->db_url_file), "var/db.url");
	cfg->db_pool = 8;
	snprintf(cfg->migrations, sizeof(cfg->migrations), "db/migrations");
	snprintf(cfg->hsm_module, sizeof(cfg->hsm_module),
	    "/usr/lib/softhsm/libsofthsm2.so");
	snprintf(cfg->hsm_token, sizeof(cfg->hsm_token), "sceau");
	snprintf(cfg->hsm_pin_file, sizeof(cfg->hsm_pin_file), "var/hsm.pin");
	cfg->hsm_sessions = 8;
	cfg->log_level = SC_LOG_INFO;
	snprintf(cfg->tsa_policy_oid, sizeof(cfg->tsa_policy_oid),
	    "2.16.466.1.1.3.1");
	cfg->tsa_accuracy_ms = 1000;
	cfg->tsa_clock_check = 1;
	snprintf(cfg->tsa_clock_source, sizeof(cfg->tsa_clock_source),
	    "adjtimex");
	/* Mali's country arc: to be confirmed with the national
	 * registration authority (policies/README.md). */
	snprintf(cfg->ca_policy_arc, sizeof(cfg->ca_policy_arc),
	    "2.16.466.1.1");
}

static char *
trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

static int
set_value(struct sc_config *cfg, const struct key *k, const char *val,
    const char *origin, unsigned line, struct sc_err *err)
{
	char *base = (char *)cfg;
	char what[128];
	uint64_t v;

	snprintf(what, sizeof(what), "%s:%u: %s.%s", origin, line,
	    k->section, k->name);
	switch (k->kind) {
	case K_STR:
		if (strlen(val) >= k->size)
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: value longer than %zu characters", what,
			    k->size - 1);
		memcpy(base + k->off, val, strlen(val) + 1);
		return 0;
	case K_UINT:
	case K_U64:
		if (sc_parse_u64(val, k->min, k->max, &v, what, err) != 0) {
			err->code = SC_E_CONFIG;
			return -1;
		}
		if (k->kind == K_UINT)
			*(unsigned *)(void *)(base + k->off) = (unsigned)v;
		else
			*(uint64_t *)(void *)(base + k->off) = v;
		return 0;
	case K_LEVEL:
		if (sc_log_level_parse(val,
			(enum sc_log_level *)(void *)(base + k->off)) != 0)
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not one of err, warning, notice, "
			    "info, debug",
			    what, val);
		return 0;
	}
	return sc_err_set(err, SC_E_INTERNAL, "%s: bad key kind", what);
}

int
sc_config_parse(struct sc_config *cfg, const char *text, size_t len,
    const char *origin, struct sc_err *err)
{
	char section[32] = "";
	unsigned line = 0;
	char *copy, *p, *end;
	int rc = -1;

	if (len > CONFIG_MAX)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: larger than %d bytes", origin, CONFIG_MAX);
	copy = malloc(len + 1);
	if (copy == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strlen(copy) != len) {
		sc_err_set(err, SC_E_CONFIG, "%s: contains a NUL byte", origin);
		goto out;
	}
	for (p = copy; p <= copy + len; p = end + 1) {
		char *s, *eq, *name, *val;
		size_t i;

		line++;
		end = strchr(p, '\n');
		if (end == NULL)
			end = copy + len;
		s = trim(p, end);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			size_t n = strlen(s);

			if (n < 3 || s[n - 1] != ']' ||
			    n - 2 >= sizeof(section)) {
				sc_err_set(err, SC_E_CONFIG,
				    "%s:%u: malformed section header", origin,
				    line);
				goto out;
			}
			memcpy(section, s + 1, n - 2);
			section[n - 2] = '\0';
			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (strcmp(keys[i].section, section) == 0)
					break;
			if (i == sizeof(keys) / sizeof(keys[0])) {
				sc_err_set(err, SC_E_CONFIG,
				    "%s:%u: unknown section [%.31s]", origin,
				    line, section);
				goto out;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			sc_err_set(err, SC_E_CONFIG,
			    "%s:%u: expected \"key = value\"", origin, line);
			goto out;
		}
		if (section[0] == '\0') {
			sc_err_set(err, SC_E_CONFIG,
			    "%s:%u: key outside of a [section]", origin, line);
			goto out;
		}
		name = trim(s, eq);
		val = trim(eq + 1, eq + 1 + strlen(eq + 1));
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(keys[i].section, section) == 0 &&
			    strcmp(keys[i].name, name) == 0)
				break;
		}
		if (i == sizeof(keys) / sizeof(keys[0])) {
			sc_err_set(err, SC_E_CONFIG,
			    "%s:%u: unknown key \"%.40s\" in [%s]", origin,
			    line, name, section);
			goto out;
		}
		if (set_value(cfg, &keys[i], val, origin, line, err) != 0)
			goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int
sc_config_load(struct sc_config *cfg, const char *path, struct sc_err *err)
{
	struct sc_buf b;
	int rc;

	sc_config_defaults(cfg);
	if (sc_file_read(path, CONFIG_MAX, &b, err) != 0) {
		err->code = SC_E_CONFIG;
		return -1;
	}
	rc = sc_config_parse(cfg, (const char *)b.p, b.len, path, err);
	sc_buf_free(&b);
	return rc;
}

char *
sc_config_db_url(const struct sc_config *cfg, struct sc_err *err)
{
	char *s;

	if (cfg->db_url[0] != '\0') {
		s = strdup(cfg->db_url);
		if (s == NULL)
			sc_err_set(err, SC_E_NOMEM, "out of memory");
		return s;
	}
	if (cfg->db_url_file[0] == '\0') {
		sc_err_set(err, SC_E_CONFIG,
		    "neither database.url nor database.url_file is set");
		return NULL;
	}
	return sc_secret_read_file(cfg->db_url_file, err);
}
