/*
 * sceau cms: the CMS (RFC 5652) signer core shared by PAdES and CAdES:
 * a detached SignedData over a digest computed by the caller, with the
 * signed attributes of ETSI EN 319 122-1 §5.1 that PAdES baseline
 * allows (content-type, message-digest, signing-certificate-v2; no
 * signing-time: ETSI EN 319 142-1 §5.3 puts the claimed time in the
 * PDF's /M), signed by an HSM key (RSA PKCS#1 v1.5 or PSS, ECDSA).
 *
 * Only OpenSSL's opaque handles appear here (STYLE.md).
 */
#ifndef SCEAU_CMS_H
#define SCEAU_CMS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sceau/core.h"

/*
 * A time-stamp source: gets an RFC 3161 TimeStampToken (DER ContentInfo)
 * whose messageImprint is the SHA-256 @digest (RFC 3161 §2.4.1), from
 * sceau's TSA or an outside one (see sc_pades_tsa_client() in pades.h).
 * @param[out] token malloc'd by the callee; the caller free()s it.
 * @return 0, or -1 with err set.
 */
struct sc_cms_tsa {
	int (*fn)(void *arg, const uint8_t digest[32], uint8_t **token,
	    size_t *toklen, struct sc_err *err);
	void *arg;
};

/* Who signs and how. Everything is borrowed. */
struct sc_cms_signer {
	EVP_PKEY *key;		  /* HSM key (sc_hsm_key_get1) */
	EVP_PKEY *pub;		  /* its public half, software */
	X509 *cert;		  /* the signer's certificate */
	X509 *const *chain;	  /* CA certificates to include, or NULL */
	size_t nchain;
	int pss;		  /* RSA keys: RSASSA-PSS instead of v1.5 */
};

/**
 * Builds and signs a detached CMS SignedData (CAdES-style, SHA-256)
 * whose message-digest attribute is @digest (32 bytes, SHA-256 of the
 * signed content). With @tsa set, adds the signature time-stamp
 * (id-aa-signatureTimeStampToken, RFC 3161 appendix A; EN 319 122-1
 * §5.3) over the SignerInfo's signature value as an unsigned attribute.
 * @param[out] der the ContentInfo, DER, malloc'd (free with free()).
 * @return 0, or -1 with err (SC_E_HSM when the key does not sign,
 *         SC_E_CRYPTO, SC_E_NOMEM, or the TSA callback's error).
 */
int sc_cms_sign_digest(const struct sc_cms_signer *s, const uint8_t digest[32],
    const struct sc_cms_tsa *tsa, uint8_t **der, size_t *len,
    struct sc_err *err);

/**
 * The size of the DER that sc_cms_sign_digest() would give without a
 * time-stamp, measured by building it with a placeholder signature value
 * of the key's maximum size (no HSM operation).
 */
int sc_cms_size(const struct sc_cms_signer *s, size_t *len,
    struct sc_err *err);

/**
 * The certificates (DER) carried by a CMS SignedData @der and, when
 * present, by its signature time-stamp tokens: for LTV collection.
 * @param[out] certs malloc'd array of X509 (free each with X509_free(),
 *             then the array with free()).
 * @param[out] tst the first signature time-stamp token (DER, malloc'd)
 *             or NULL; may be NULL itself when not wanted.
 */
int sc_cms_certs(const uint8_t *der, size_t len, X509 ***certs,
    size_t *ncerts, uint8_t **tst, size_t *tst_len, struct sc_err *err);

#endif
