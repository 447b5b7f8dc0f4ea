/*
 * sceau core: the error type, logging, configuration, bounded buffers,
 * encodings, UTC time and small crypto helpers that every module uses.
 *
 * Only OpenSSL's opaque handles may appear in public headers (STYLE.md).
 */
#ifndef SCEAU_CORE_H
#define SCEAU_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define SC_ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ */
/* Errors (STYLE.md rules 6 and 7)                                     */

enum sc_code {
#define SC_CODE(e, name, http, exitc, fr, en) SC_E_##e,
#include "codes.def"
#undef SC_CODE
	SC_E__COUNT
};

/* The first sc_err_set() wins; later calls are no-ops. */
struct sc_err {
	enum sc_code code; /* SC_E_OK while unset */
	char msg[256];	   /* safe to show to the caller */
	char detail[512];  /* OpenSSL/PKCS#11/libpq text: logs only */
};

/** Resets @err to "no error". */
void sc_err_clear(struct sc_err *err);

/**
 * Records an error unless one is already recorded.
 * @param err may be NULL (the error is then dropped).
 * @return always -1, so that callers can write `return sc_err_set(...)`.
 */
int sc_err_set(struct sc_err *err, enum sc_code code, const char *fmt, ...)
    SC_ATTR_PRINTF(3, 4);

/**
 * As sc_err_set(), and drains this thread's OpenSSL error queue (which
 * also holds libp11's PKCS#11 reasons) into err->detail.
 * @return -1
 */
int sc_err_crypto(struct sc_err *err, enum sc_code code, const char *fmt, ...)
    SC_ATTR_PRINTF(3, 4);

/** Sets err->detail when it is empty (first wins). */
void sc_err_detail(struct sc_err *err, const char *fmt, ...)
    SC_ATTR_PRINTF(2, 3);

/** @return the stable machine name ("invalid_json"), never NULL. */
const char *sc_code_name(enum sc_code code);
/** @return the HTTP status that the code maps to. */
int sc_code_http(enum sc_code code);
/** @return the CLI exit code that the code maps to (CONTRACT.md). */
int sc_code_exit(enum sc_code code);
/** @return the title in "fr" (default) or "en"; never NULL. */
const char *sc_code_title(enum sc_code code, const char *lang);

/**
 * Starts an operation (a request or a CLI command): clears this
 * thread's OpenSSL error queue so that no stale reason leaks in.
 */
void sc_op_begin(void);

/** Who performs an operation: recorded in the audit log. */
struct sc_actor {
	const char *name; /* token name, or "cli:<user>" */
	const char *role; /* ca_admin, ra_officer, auditor, signer, operator */
};

/* ------------------------------------------------------------------ */
/* Logging (STYLE.md rule 15): syslog levels, one line per event.      */

enum sc_log_level {
	SC_LOG_ERR = 3,
	SC_LOG_WARNING = 4,
	SC_LOG_NOTICE = 5,
	SC_LOG_INFO = 6,
	SC_LOG_DEBUG = 7
};

/**
 * Sets the level and the stream (NULL: stderr). Call before threads
 * start; @fp stays owned by the caller.
 */
void sc_log_init(enum sc_log_level level, FILE *fp);
/** @return 0 and sets *out for "err".."debug", else -1. */
int sc_log_level_parse(const char *s, enum sc_log_level *out);
void sc_log(enum sc_log_level level, const char *fmt, ...) SC_ATTR_PRINTF(2, 3);
/** Logs an error with its detail (never shown to clients). */
void sc_log_err(const char *subject, const struct sc_err *err);

/* ------------------------------------------------------------------ */
/* Bounded buffers (STYLE.md rule 13)                                  */

struct sc_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max; /* appending past this fails with SC_E_TOO_LARGE */
};

/** Initialises an empty buffer that may grow to @max bytes. */
void sc_buf_init(struct sc_buf *b, size_t max);
/** Appends; keeps one spare NUL after the data. @return 0 or -1. */
int sc_buf_append(struct sc_buf *b, const void *p, size_t n,
    struct sc_err *err);
int sc_buf_append_str(struct sc_buf *b, const char *s, struct sc_err *err);
int sc_buf_printf(struct sc_buf *b, struct sc_err *err, const char *fmt, ...)
    SC_ATTR_PRINTF(3, 4);
/** Frees the data (wiped) and resets the buffer; max is kept. */
void sc_buf_free(struct sc_buf *b);
/** Hands the data over: *out must be freed with free(). */
uint8_t *sc_buf_steal(struct sc_buf *b, size_t *len);

/**
 * Reads a whole file, refusing one larger than @max (SC_E_TOO_LARGE).
 * @param[out] b initialised here; free with sc_buf_free().
 */
int sc_file_read(const char *path, size_t max, struct sc_buf *b,
    struct sc_err *err);

/**
 * Reads a secret (a PIN) from a file: first line, without the newline.
 * Wipe the result with sc_secret_free().
 * @return a malloc'd string, or NULL with err set.
 */
char *sc_secret_read_file(const char *path, struct sc_err *err);
/** Wipes and frees a secret string; NULL is ignored. */
void sc_secret_free(char *s);

/* ------------------------------------------------------------------ */
/* Encodings                                                           */

/** Lower-case hex of @len bytes into @out (2*len+1 bytes). */
void sc_hex_encode(const uint8_t *p, size_t len, char *out);
/** @return 0, or -1 if @hex is not exactly 2*outlen hex digits. */
int sc_hex_decode(const char *hex, uint8_t *out, size_t outlen);
/**
 * Base64 (RFC 4648 §4) or base64url without padding (§5) when @url.
 * @return malloc'd NUL-terminated text, or NULL on allocation failure.
 */
char *sc_b64_encode(const uint8_t *p, size_t len, int url);
/**
 * Decodes base64 or base64url (padding optional, no white space).
 * @return 0 with *out malloc'd, or -1 (SC_E_BAD_REQUEST) if malformed.
 */
int sc_b64_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen,
    struct sc_err *err);

/**
 * Parses a decimal unsigned integer in [min, max], strtonum-style.
 * @return 0, or -1 with err set (SC_E_USAGE) naming @what.
 */
int sc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char *what, struct sc_err *err);

/* ------------------------------------------------------------------ */
/* Time: UTC everywhere (DESIGN.md principle 7)                        */

/** Seconds and microseconds since the epoch; a seam for tests. */
struct sc_time {
	int64_t sec;
	int32_t usec;
};

/** The current UTC time (or the one set by sc_time_set_source()). */
struct sc_time sc_time_now(void);
/** Tests only: replace the clock (NULL restores the system clock). */
void sc_time_set_source(struct sc_time (*fn)(void));
/**
 * Formats as RFC 3339 UTC, "2026-11-27T05:06:12Z", or with microseconds
 * "2026-11-27T05:06:12.123456Z" when @usec is set. @out: 32 bytes.
 */
void sc_time_fmt(struct sc_time t, int usec, char out[32]);

/* ------------------------------------------------------------------ */
/* Small crypto helpers                                                */

/** Fills @p from the CSPRNG (RAND_bytes). @return 0 or -1. */
int sc_rand_bytes(uint8_t *p, size_t n, struct sc_err *err);
/** SHA-256 of @len bytes. */
void sc_sha256(const void *p, size_t len, uint8_t out[32]);
/** Constant-time equality of two @n-byte strings: 1 equal, 0 not. */
int sc_ct_equal(const void *a, const void *b, size_t n);
/** A 16-hex-digit random identifier for requests and logs. */
void sc_request_id(char out[17]);

/* ------------------------------------------------------------------ */
/* Configuration (STYLE.md rule 16)                                    */

#define SC_CONFIG_PATH_MAX 1024

/*
 * The whole configuration, read once at start and passed down as
 * `const struct sc_config *`. Every key is documented in README.md and
 * in var/sceau.conf as written by scripts/up.
 */
struct sc_config {
	/* [server] */
	char listen[64];	/* address sceaud binds, "127.0.0.1" */
	unsigned port;		/* 0..65535 (0: any free port), 8080 */
	unsigned threads;	/* worker threads, 1..256, 8 */
	uint64_t max_body;	/* default body limit for JSON routes, bytes */
	uint64_t max_document;	/* limit for documents (PDF/XML), bytes */
	char public_url[256];	/* base URL in certificates, pages */
	/* [database] */
	char db_url[SC_CONFIG_PATH_MAX];      /* libpq conninfo, or empty */
	char db_url_file[SC_CONFIG_PATH_MAX]; /* file holding the conninfo */
	unsigned db_pool;		      /* connections, 1..256, 8 */
	char migrations[SC_CONFIG_PATH_MAX];  /* folder of NNN_name.sql */
	/* [hsm] */
	char hsm_module[SC_CONFIG_PATH_MAX]; /* PKCS#11 module .so */
	char hsm_token[64];		     /* token label */
	char hsm_pin_file[SC_CONFIG_PATH_MAX];
	char hsm_pin_env[64];		     /* environment variable name */
	unsigned hsm_sessions;		     /* pool size, 1..256, 8 */
	/* [log] */
	enum sc_log_level log_level;
	char log_file[SC_CONFIG_PATH_MAX]; /* empty: stderr */
	/* [tsa] (RFC 3161, ETSI EN 319 421; policies/tsa-policy.md) */
	char tsa_policy_oid[64];	/* TSA policy OID of the tokens */
	unsigned tsa_accuracy_ms;	/* declared accuracy, 1..60000, 1000 */
	unsigned tsa_clock_check;	/* 1: refuse while unsynchronised */
	char tsa_clock_source[SC_CONFIG_PATH_MAX]; /* adjtimex | file:PATH */
	/* [ca] (policies/profiles, docs/ca.md) */
	char ca_profiles[SC_CONFIG_PATH_MAX]; /* folder of NAME.conf; empty:
						 policies/profiles beside
						 database.migrations */
	char ca_policy_arc[64];	/* OID arc of the policies, 2.16.466.1.1 */
	char ca_org_id[64];	/* the service's organizationIdentifier */
	/* [signer] (docs/pades.md, docs/xades.md) */
	char signer_tsa_url[256]; /* outside TSA for B-T and up (RFC 3161
				     over http://); empty: sceau's own unit */
	char signer_tsa_trust[SC_CONFIG_PATH_MAX]; /* PEM anchors of its
						      tokens (with sceau's
						      roots) */
};

/** The defaults (embedded layout under var/). */
void sc_config_defaults(struct sc_config *cfg);

/**
 * Parses INI text ("[section]", "key = value", "#" comments) over the
 * current values of @cfg. Unknown sections or keys and out-of-range
 * values are errors (SC_E_CONFIG) that name the line. Input over 64 KiB
 * is refused. Relative paths stay as written.
 */
int sc_config_parse(struct sc_config *cfg, const char *text, size_t len,
    const char *origin, struct sc_err *err);

/** sc_config_defaults() then sc_config_parse() of the file at @path. */
int sc_config_load(struct sc_config *cfg, const char *path,
    struct sc_err *err);

/**
 * The database conninfo: db_url, else the first line of db_url_file.
 * @return malloc'd string (free with sc_secret_free), NULL with err.
 */
char *sc_config_db_url(const struct sc_config *cfg, struct sc_err *err);

#endif
