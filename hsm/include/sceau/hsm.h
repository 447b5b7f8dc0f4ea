/*
 * sceau hsm: every private-key operation goes through here (DESIGN.md
 * principle 1). PKCS#11 through libp11 over any module (SoftHSM2 by
 * default). No libp11 or PKCS#11 type appears in this header; keys are
 * handed out as OpenSSL EVP_PKEY handles whose signing runs on the token.
 *
 * Thread safety: one struct sc_hsm is shared by all server threads; every
 * function here may be called concurrently.
 */
#ifndef SCEAU_HSM_H
#define SCEAU_HSM_H

#include <openssl/types.h>

#include "sceau/core.h"

struct sc_hsm; /* opaque */

enum sc_hsm_keytype {
	SC_HSM_EC_P256,
	SC_HSM_EC_P384,
	SC_HSM_RSA_2048,
	SC_HSM_RSA_3072,
	SC_HSM_RSA_4096
};

/**
 * Parses "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096".
 * @return 0, or -1 with SC_E_UNKNOWN_KEY_TYPE.
 */
int sc_hsm_keytype_parse(const char *s, enum sc_hsm_keytype *out,
    struct sc_err *err);
/** @return the name that sc_hsm_keytype_parse() reads. */
const char *sc_hsm_keytype_name(enum sc_hsm_keytype t);

/**
 * Loads cfg->hsm_module, finds the token labelled cfg->hsm_token and logs
 * in as the user with the PIN from cfg->hsm_pin_file, else from the
 * environment variable cfg->hsm_pin_env. The PIN is wiped after login and
 * never logged.
 * @return a handle to free with sc_hsm_close(), or NULL with err set.
 */
struct sc_hsm *sc_hsm_open(const struct sc_config *cfg, struct sc_err *err);
/** Logs out and unloads; NULL is ignored. */
void sc_hsm_close(struct sc_hsm *hsm);

/**
 * Checks that the token still answers (for /readyz).
 * @return 0, or -1 with SC_E_UNAVAILABLE.
 */
int sc_hsm_ping(struct sc_hsm *hsm, struct sc_err *err);

/**
 * Generates a key pair on the token with CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE true and CKA_EXTRACTABLE false, labelled @alias (CKA_LABEL
 * and a CKA_ID derived from it) on both halves.
 * @alias: 1..64 characters from [A-Za-z0-9._-].
 * @return 0; -1 with SC_E_KEY_EXISTS if the alias is taken,
 *         SC_E_INVALID_INPUT for a bad alias, SC_E_HSM otherwise.
 */
int sc_hsm_key_generate(struct sc_hsm *hsm, const char *alias,
    enum sc_hsm_keytype type, struct sc_err *err);

/**
 * The private key @alias as an EVP_PKEY whose sign operations run on the
 * token (EVP_DigestSign, CMS_sign, X509_sign, TS_RESP_sign ...).
 * @return a new reference the caller frees with EVP_PKEY_free(), or NULL
 *         with SC_E_KEY_NOT_FOUND / SC_E_HSM.
 */
EVP_PKEY *sc_hsm_key_get1(struct sc_hsm *hsm, const char *alias,
    struct sc_err *err);

/**
 * The public half of @alias as a plain software EVP_PKEY (for building
 * certificates and checking signatures).
 * @return a new reference the caller frees with EVP_PKEY_free(), or NULL.
 */
EVP_PKEY *sc_hsm_pubkey_get1(struct sc_hsm *hsm, const char *alias,
    struct sc_err *err);

/** Whether the private key @alias has CKA_SENSITIVE and not extractable. */
struct sc_hsm_key_info {
	int found;
	int sensitive;
	int extractable;
	int always_sensitive;
	int never_extractable;
};
int sc_hsm_key_info(struct sc_hsm *hsm, const char *alias,
    struct sc_hsm_key_info *info, struct sc_err *err);

/** Session pool use, for /metrics. */
struct sc_hsm_stats {
	unsigned sessions_max;	/* configured pool size */
	unsigned sessions_busy; /* signing right now */
	unsigned long long sign_ops;
};
void sc_hsm_stats(struct sc_hsm *hsm, struct sc_hsm_stats *st);

#endif
