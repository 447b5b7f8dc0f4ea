/*
 * sceau tsa: the time-stamping authority (RFC 3161, RFC 5816, ETSI EN
 * 319 421 / 319 422) and the client that the signer and `sceau
 * timestamp` use.
 *
 * Responder: one struct sc_tsa per TSA unit (certificate, HSM key,
 * policy), shared by every server thread. It keeps a pool of OpenSSL
 * TS_RESP_CTX, one per concurrent caller, because a TS_RESP_CTX is not
 * thread-safe. With recording started, every granted token is committed
 * to table tsa_tokens (group commit) before sc_tsa_respond() returns it.
 *
 * Only OpenSSL's opaque handles would be allowed here; none is needed:
 * certificates travel as DER.
 */
#ifndef SCEAU_TSA_H
#define SCEAU_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/core.h"

struct sc_db;
struct sc_hsm;
struct sc_tsa; /* opaque: one TSA unit */

/* PKIStatus (RFC 3161 §2.4.2). */
enum sc_tsa_status {
	SC_TSA_GRANTED = 0,
	SC_TSA_GRANTED_WITH_MODS = 1,
	SC_TSA_REJECTION = 2,
	SC_TSA_WAITING = 3,
	SC_TSA_REVOCATION_WARNING = 4,
	SC_TSA_REVOCATION_NOTIFICATION = 5
};

/* PKIFailureInfo bits (RFC 3161 §2.4.2), as a mask: 1u << bit. */
#define SC_TSA_FAIL_BAD_ALG (1u << 0)
#define SC_TSA_FAIL_BAD_REQUEST (1u << 2)
#define SC_TSA_FAIL_BAD_DATA_FORMAT (1u << 5)
#define SC_TSA_FAIL_TIME_NOT_AVAILABLE (1u << 14)
#define SC_TSA_FAIL_UNACCEPTED_POLICY (1u << 15)
#define SC_TSA_FAIL_UNACCEPTED_EXTENSION (1u << 16)
#define SC_TSA_FAIL_ADD_INFO_NOT_AVAILABLE (1u << 17)
#define SC_TSA_FAIL_SYSTEM_FAILURE (1u << 25)

/** @return the RFC 3161 name of the lowest bit set ("badAlg"), or "". */
const char *sc_tsa_failure_name(unsigned failure);

/* How a unit answers (policies/tsa-policy.md). */
struct sc_tsa_opts {
	const char *policy_oid;   /* TSTInfo.policy; the only one served */
	unsigned accuracy_ms;     /* TSTInfo.accuracy, 1..60000 */
	int clock_check;          /* refuse (timeNotAvailable) when unsynced */
	const char *clock_source; /* "adjtimex" or "file:PATH" */
};

/** Fills @o from the [tsa] section of @cfg (pointers into @cfg). */
void sc_tsa_opts_from_config(const struct sc_config *cfg,
    struct sc_tsa_opts *o);

/* A DER object held by the caller. */
struct sc_tsa_der {
	const uint8_t *p;
	size_t len;
};

/**
 * Creates a TSA unit. Checks, before any token is made: the certificate
 * is valid now, its only extendedKeyUsage is id-kp-timeStamping and it is
 * critical (RFC 3161 §2.3), it chains to the last certificate of @chain
 * (the root) for that purpose, and the HSM key @key_alias is its key.
 * @param cert the unit's certificate, DER.
 * @param chain the CA certificates, issuing CA first and root last; the
 *        ones below the root go in replies when certReq is set.
 * @return the unit, to free with sc_tsa_free(), or NULL with err set
 *         (SC_E_CONFIG for a certificate or option that does not fit,
 *         SC_E_KEY_NOT_FOUND, SC_E_HSM).
 */
struct sc_tsa *sc_tsa_new(struct sc_hsm *hsm, const char *key_alias,
    const uint8_t *cert, size_t cert_len, const struct sc_tsa_der *chain,
    size_t nchain, const struct sc_tsa_opts *opts, struct sc_err *err);

/**
 * Loads the active TSA unit from the database (service_certs of kind
 * 'tsa' and its CA chain) and creates it with @cfg's [tsa] options.
 * @return the unit; NULL with err->code SC_E_NOT_FOUND when no unit is
 *         configured yet (no hierarchy), or another code on failure.
 */
struct sc_tsa *sc_tsa_open_db(const struct sc_config *cfg, struct sc_db *db,
    struct sc_hsm *hsm, struct sc_err *err);

/**
 * Starts recording into tsa_tokens through @db (borrowed; it must outlive
 * the unit): from now on sc_tsa_respond() returns a granted token only
 * after its row is committed. Writer threads batch the rows of
 * concurrent requests into one statement and one commit.
 * @return 0, or -1 with err.
 */
int sc_tsa_record_start(struct sc_tsa *tsa, struct sc_db *db,
    struct sc_err *err);

/** Stops the writers (after the last sc_tsa_respond()) and frees. */
void sc_tsa_free(struct sc_tsa *tsa);

/* One answer. */
struct sc_tsa_resp {
	uint8_t *der; /* TimeStampResp; free with sc_tsa_resp_free() */
	size_t len;
	int status;        /* enum sc_tsa_status */
	unsigned failure;  /* SC_TSA_FAIL_* mask; 0 when granted */
	char serial[41];   /* granted: serialNumber, lower-case hex */
	char gen_time[40]; /* granted: genTime, RFC 3339 UTC */
};

/**
 * Answers one TimeStampReq (DER, at most 64 KiB). Every outcome that the
 * protocol can express is a TimeStampResp with return 0: badAlg (digest
 * other than SHA-256/384/512), badDataFormat (not a TimeStampReq, trailing
 * bytes, wrong digest length), unacceptedPolicy, unacceptedExtension,
 * timeNotAvailable (clock unsynchronised), systemFailure (HSM or database
 * failure: the token is then discarded, never sent).
 * Thread-safe.
 * @param[out] out filled; free with sc_tsa_resp_free().
 * @return 0, or -1 with err only when no answer at all could be built
 *         (out of memory).
 */
int sc_tsa_respond(struct sc_tsa *tsa, const uint8_t *req, size_t len,
    struct sc_tsa_resp *out, struct sc_err *err);

/**
 * The fixed rejection { rejection, systemFailure } (RFC 3161 §2.4.2),
 * for a server that has no TSA unit: @out as sc_tsa_respond()'s.
 */
int sc_tsa_resp_system_failure(struct sc_tsa_resp *out, struct sc_err *err);

void sc_tsa_resp_free(struct sc_tsa_resp *r);

/**
 * Checks the clock source as sc_tsa_respond() does (EN 319 421 §7.7.2).
 * @param why optional message buffer ("STA_UNSYNC set", ...).
 * @return 1 synchronised within @accuracy_ms, 0 not, -1 cannot tell
 *         (which the responder treats as not synchronised).
 */
int sc_tsa_clock_synced(const char *source, unsigned accuracy_ms, char *why,
    size_t whylen);

/** Readiness of a unit for /readyz: 1 will grant, 0 clock refuses. */
int sc_tsa_ready(struct sc_tsa *tsa, char *why, size_t whylen);

/* Counters, for /metrics and the benchmark. */
struct sc_tsa_stats {
	unsigned long long granted;
	unsigned long long rejected;
	unsigned long long batches;   /* commits of tsa_tokens rows */
	unsigned long long rows;      /* rows committed */
	unsigned long long max_batch; /* largest batch so far */
	unsigned contexts;            /* TS_RESP_CTX made (peak concurrency) */
};
void sc_tsa_stats(struct sc_tsa *tsa, struct sc_tsa_stats *st);

/* ------------------------------------------------------------------ */
/* Client                                                              */

enum sc_tsa_hash { SC_TSA_SHA256, SC_TSA_SHA384, SC_TSA_SHA512 };

/** Parses "sha256", "sha384", "sha512". @return 0 or -1 (SC_E_USAGE). */
int sc_tsa_hash_parse(const char *s, enum sc_tsa_hash *out, struct sc_err *err);

/**
 * Digest of the file at @path, streamed.
 * @param out at least 64 bytes; @param[out] outlen the digest length.
 */
int sc_tsa_file_digest(const char *path, enum sc_tsa_hash h, uint8_t *out,
    size_t *outlen, struct sc_err *err);

/* Where to send a request and what to trust in the reply. */
struct sc_tsa_client {
	struct sc_tsa *local;   /* in-process unit, or NULL */
	const char *url;        /* "http://host[:port]/path" when !local */
	unsigned timeout_s;     /* HTTP timeout, 0: 30 s */
	const char *policy_oid; /* reqPolicy, or NULL */
	const char *trust_file; /* PEM trust anchors, or NULL */
	const struct sc_tsa_der *trust; /* DER trust anchors (roots) */
	size_t ntrust;
	const struct sc_tsa_der *untrusted; /* intermediates, DER */
	size_t nuntrusted;
};

/* A checked time-stamp. */
struct sc_tsa_token {
	uint8_t *reply; /* TimeStampResp DER (a .tsr), malloc'd */
	size_t reply_len;
	uint8_t *token; /* TimeStampToken (CMS ContentInfo) DER */
	size_t token_len;
	char serial[41];
	char gen_time[40];
	char policy[64];
	char tsa_subject[256]; /* RFC 2253 */
};

/**
 * Builds a TimeStampReq over the digest @d (algorithm @h) with a 64-bit
 * random nonce and certReq, sends it (in-process or HTTP POST,
 * application/timestamp-query), and checks the reply: status granted,
 * same nonce and imprint, the signature, ESS signing certificate, and the
 * TSA certificate's chain to a trust anchor for id-kp-timeStamping
 * (RFC 3161 §2.4.2, §4). At least one trust anchor is required.
 * @param[out] out free with sc_tsa_token_free().
 * @return 0, or -1 with err: SC_E_UNAVAILABLE (cannot reach the TSA),
 *         SC_E_CRYPTO (the reply is not granted, or does not verify; the
 *         message says why).
 */
int sc_tsa_timestamp(const struct sc_tsa_client *c, enum sc_tsa_hash h,
    const uint8_t *d, size_t dlen, struct sc_tsa_token *out,
    struct sc_err *err);

void sc_tsa_token_free(struct sc_tsa_token *t);

#endif
