/*
 * sceau ca: the certificate authority's operations. Each function is the
 * one code path behind both a CLI command and a REST route.
 */
#ifndef SCEAU_CA_H
#define SCEAU_CA_H

#include <openssl/types.h>

#include "sceau/core.h"

struct sc_db;
struct sc_hsm;

/**
 * Generates a key pair in the HSM (private half sensitive and not
 * extractable) and records "key.generate" in the audit log. The key is
 * generated inside the audit transaction, so a failed audit write leaves
 * no silent key behind it but the error.
 * @param type "ec-p256", "ec-p384", "rsa-2048", "rsa-3072" or "rsa-4096".
 * @param[out] pubkey_pem the public key, PEM (SubjectPublicKeyInfo),
 *             malloc'd; caller frees with free(). May be NULL.
 */
int sc_ca_key_generate(struct sc_hsm *hsm, struct sc_db *db,
    const struct sc_actor *who, const char *alias, const char *type,
    char **pubkey_pem, struct sc_err *err);

/** The domain-separation prefix of sc_ca_key_check()'s challenge. */
#define SC_CA_KEY_CHECK_PREFIX "sceau key possession check v1:"

/**
 * Proves that the HSM key @alias signs: signs a fresh challenge
 * (SC_CA_KEY_CHECK_PREFIX followed by 32 random bytes, so that it can
 * never be mistaken for a certificate or CRL to be signed) with SHA-256
 * on the token, and verifies the signature with the public key.
 * @param[out] challenge, sig malloc'd copies for an outside check (both
 *             may be NULL); free with free().
 * @return 0 when the signature verifies, -1 otherwise.
 */
int sc_ca_key_check(struct sc_hsm *hsm, const char *alias,
    uint8_t **challenge, size_t *challenge_len, uint8_t **sig,
    size_t *sig_len, struct sc_err *err);

/* ------------------------------------------------------------------ */
/* The certificate authority proper (ca_profile.c ... ca_request.c)    */

#define SC_CA_OID_ARC_DEFAULT "2.16.466.1.1"
#define SC_CA_SERIAL_HEX_MAX 41

/*
 * What the CA's operations need, built by the caller from its
 * configuration with sc_ca_env_init(). Borrowed pointers.
 */
struct sc_ca_env {
	struct sc_db *db;
	struct sc_hsm *hsm;
	char public_url[256];   /* base of CRLDP, AIA, CPS and PDS URLs */
	char profiles_dir[1024]; /* folder of NAME.conf profiles */
	/*
	 * Policy OID arc. Default SC_CA_OID_ARC_DEFAULT under Mali's country
	 * arc 2.16.466: to be confirmed with the national registration
	 * authority.
	 */
	char oid_arc[64];
	/* The service's organizationIdentifier (ETSI EN 319 412-1 §5.1.4),
	 * [ca] organization_identifier, else $SCEAU_ORG_ID. */
	char org_id[64];
};

/**
 * Fills @env from @cfg. Until the configuration has keys for them, the
 * profiles folder is $SCEAU_PROFILES, else "policies/profiles" beside the
 * migrations folder (<root>/db/migrations -> <root>/policies/profiles),
 * else "policies/profiles"; the arc is $SCEAU_OID_ARC, else the default.
 */
int sc_ca_env_init(struct sc_ca_env *env, const struct sc_config *cfg,
    struct sc_db *db, struct sc_hsm *hsm, struct sc_err *err);

/**
 * Loads and checks every profile of env->profiles_dir (start-up check).
 * @return 0, or -1 with SC_E_CONFIG naming file:line.
 */
int sc_ca_profiles_check(const struct sc_ca_env *env, struct sc_err *err);

/** One created unit of the hierarchy, for sc_ca_init()'s report. */
struct sc_ca_init_item {
	char name[48];	   /* "root", "personnes", "ocsp-personnes", "tsa" */
	char key_alias[80];
	char serial[SC_CA_SERIAL_HEX_MAX];
	char subject[512];
};

/**
 * Creates the hierarchy (key ceremony): root (self-signed), issuing CAs
 * "personnes" and "personnes-morales", an OCSP responder certificate per
 * issuing CA and the TSA unit's certificate (issued by
 * "personnes-morales"); every key generated in the HSM, every step
 * audited. Refuses (SC_E_CONFLICT) if a hierarchy exists.
 * @param demo use demonstration names.
 * @param items, nitems, maxitems report of what was made (may be NULL).
 */
int sc_ca_init(const struct sc_ca_env *env, const struct sc_actor *who,
    int demo, struct sc_ca_init_item *items, size_t maxitems,
    size_t *nitems, struct sc_err *err);

/**
 * Adds an issuing CA to an existing hierarchy (a later key ceremony):
 * a new key in the HSM, its certificate from the root (profile
 * issuing-ca), and its delegated OCSP responder's certificate (profile
 * ocsp); organizationIdentifier and the demonstration marker follow the
 * root's. Profiles name it with "issuer = NAME"; sceaud's OCSP responder
 * and CRL worker pick it up without a restart.
 * @param name [a-z0-9][a-z0-9-]{0,39}, not "root", not in use.
 * @param cn the CA's commonName (RFC 5280 ub-common-name 64).
 * @return 0, or -1: SC_E_USAGE (bad name or CN), SC_E_NOT_FOUND (no
 *         hierarchy), SC_E_CONFLICT (the name exists), SC_E_HSM, SC_E_DB.
 */
int sc_ca_add(const struct sc_ca_env *env, const struct sc_actor *who,
    const char *name, const char *cn, struct sc_ca_init_item *items,
    size_t maxitems, size_t *nitems, struct sc_err *err);

/** One CA, as listed. */
struct sc_ca_info {
	char name[48];
	char kind[16];
	char parent[48];
	char key_alias[80];
	char subject[512];
};

/**
 * Lists the CAs. @param[out] out malloc'd array (free()), @n entries.
 */
int sc_ca_list(const struct sc_ca_env *env, struct sc_ca_info **out,
    size_t *n, struct sc_err *err);

/**
 * The certificate of CA @name, DER, or PEM when @pem.
 * @param[out] out malloc'd (free()). SC_E_NOT_FOUND when unknown.
 */
int sc_ca_cert_get(const struct sc_ca_env *env, const char *name, int pem,
    uint8_t **out, size_t *len, struct sc_err *err);

/** A registration request's submission (CONTRACT.md). */
struct sc_ca_submit {
	const char *profile;
	const uint8_t *csr;	/* PEM or DER, or NULL */
	size_t csr_len;
	const char *key_alias;	/* HSM alias, or NULL */
	const char *subject_json;
	size_t subject_len;
	const char *evidence;	/* reference to the identity evidence, or NULL */
};

/**
 * Submits a request (status "pending"), audited "request.submit".
 * Errors: SC_E_UNKNOWN_PROFILE, SC_E_INVALID_CSR, SC_E_INVALID_INPUT,
 * SC_E_KEY_NOT_FOUND.
 */
int sc_ca_request_submit(const struct sc_ca_env *env,
    const struct sc_actor *who, const struct sc_ca_submit *in, int64_t *id,
    struct sc_err *err);

/** Where a request stands. */
struct sc_ca_request_state {
	int64_t id;
	char status[16];  /* pending, issued, rejected, failed */
	char profile[48];
	char serial[SC_CA_SERIAL_HEX_MAX]; /* when issued */
	unsigned approvals;
	unsigned approvals_needed;
	char submitted_by[128];
	char reason[256];
};

/**
 * Approves request @id as @who (not its submitter: SC_E_FORBIDDEN; not
 * twice: SC_E_CONFLICT). When the profile's approval count is reached,
 * issues the certificate in the same call (Boulder's cycle).
 */
int sc_ca_request_approve(const struct sc_ca_env *env,
    const struct sc_actor *who, int64_t id, struct sc_ca_request_state *st,
    struct sc_err *err);

/**
 * Submits and approves in one step, as @who alone: only for profiles
 * that need one approval (else SC_E_USAGE naming the workflow). The
 * audit log records the approval as by the submitter.
 */
int sc_ca_cert_issue(const struct sc_ca_env *env, const struct sc_actor *who,
    const struct sc_ca_submit *in, struct sc_ca_request_state *st,
    struct sc_err *err);

/** Rejects pending request @id with @reason, audited. */
int sc_ca_request_reject(const struct sc_ca_env *env,
    const struct sc_actor *who, int64_t id, const char *reason,
    struct sc_ca_request_state *st, struct sc_err *err);

/** The state of request @id (SC_E_NOT_FOUND). */
int sc_ca_request_get(const struct sc_ca_env *env, int64_t id,
    struct sc_ca_request_state *st, struct sc_err *err);

/** A certificate as stored. */
struct sc_ca_cert_info {
	char serial[SC_CA_SERIAL_HEX_MAX];
	char ca_name[48];
	char profile[48];
	char status[16];
	char subject[512];
	char not_before[32];
	char not_after[32];
	char revoked_at[32]; /* "" if not revoked */
	char *pem;	     /* malloc'd when issued, else NULL */
};

/**
 * Looks certificate @serial up (hex, any case). SC_E_NOT_FOUND if none.
 * Free info->pem with free().
 */
int sc_ca_cert_show(const struct sc_ca_env *env, const char *serial,
    struct sc_ca_cert_info *info, struct sc_err *err);

/**
 * The serial of @serial as sceau stores it: lower-case hex of the DER
 * content octets of the positive INTEGER (leading zero octets dropped).
 * @return 0, or -1 if negative, zero or longer than 20 octets.
 */
int sc_ca_serial_hex(const ASN1_INTEGER *serial, char out[SC_CA_SERIAL_HEX_MAX]);

#endif
