/*
 * sceau ca: the certificate authority's operations. Each function is the
 * one code path behind both a CLI command and a REST route.
 */
#ifndef SCEAU_CA_H
#define SCEAU_CA_H

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

#endif
