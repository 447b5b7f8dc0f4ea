/*
 * sceau XAdES: XML signatures at the baseline levels B-B, B-T, B-LT and
 * B-LTA of ETSI EN 319 132-1 (v1.1.1 clause 6), on xmlsec1 (OpenSSL
 * backend) over libxml2. Enveloped, enveloping and detached packaging;
 * counter-signatures (EN 319 132-1 §5.4.2).
 *
 * The private key stays in the HSM: xmlsec 1.2.37 cannot use a token key
 * on OpenSSL 3, so xmlsec computes the references and the canonical
 * SignedInfo, the HSM signs those octets, and every signature is verified
 * again (xmlsec and an independent OpenSSL check) before it is returned.
 *
 * Input XML is parsed without network, without DTD (any DOCTYPE is
 * refused), without entity substitution, within libxml2's default depth
 * and size limits and under the caller's size cap.
 *
 * Thread safety: every function may be called concurrently.
 */
#ifndef SCEAU_XADES_H
#define SCEAU_XADES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sceau/core.h"

struct sc_hsm;
struct sc_ltv_opts;
struct sc_tsa_client;

enum sc_xades_level {
	SC_XADES_B_B = 0,
	SC_XADES_B_T = 1,
	SC_XADES_B_LT = 2,
	SC_XADES_B_LTA = 3
};

enum sc_xades_packaging {
	SC_XADES_ENVELOPED = 0,  /* ds:Signature appended to the root */
	SC_XADES_ENVELOPING = 1, /* the document inside a ds:Object */
	SC_XADES_DETACHED = 2    /* references to outside data */
};

enum sc_xades_digest {
	SC_XADES_SHA256 = 0,
	SC_XADES_SHA384 = 1,
	SC_XADES_SHA512 = 2
};

/* Default cap on an input document (the caller may lower or raise it). */
#define SC_XADES_MAX_INPUT (64u * 1024u * 1024u)

/** "B-B", "B-T", "B-LT", "B-LTA" (case-insensitive). SC_E_USAGE. */
int sc_xades_level_parse(const char *s, enum sc_xades_level *out,
    struct sc_err *err);
const char *sc_xades_level_name(enum sc_xades_level l);
/** "enveloped", "enveloping", "detached". SC_E_USAGE. */
int sc_xades_packaging_parse(const char *s, enum sc_xades_packaging *out,
    struct sc_err *err);
const char *sc_xades_packaging_name(enum sc_xades_packaging p);
/** "sha256", "sha384", "sha512". SC_E_USAGE. */
int sc_xades_digest_parse(const char *s, enum sc_xades_digest *out,
    struct sc_err *err);

/* A DER object held by the caller. */
struct sc_xades_der {
	const uint8_t *p;
	size_t len;
};

/*
 * Validation material (EN 319 132-1 §5.5): certificates, CRLs and OCSP
 * responses, all DER. Certificates already in ds:KeyInfo are not
 * repeated.
 */
struct sc_xades_vdata {
	const struct sc_xades_der *certs;
	size_t ncerts;
	const struct sc_xades_der *crls;
	size_t ncrls;
	const struct sc_xades_der *ocsps; /* OCSPResponse */
	size_t nocsps;
};

/*
 * One detached data object (XMLDSig §4.4.3.1, no transform: the digest
 * is over the octets). Give @data, or only @digest (H(data) with the
 * signature's digest algorithm) when the caller keeps the data; B-LTA
 * needs @data (the archive time-stamp covers it).
 */
struct sc_xades_detached {
	const char *uri;  /* Reference/@URI, e.g. "decision-42.pdf" */
	const char *mime; /* DataObjectFormat MimeType; NULL: octet-stream */
	const uint8_t *data;
	size_t len;
	const uint8_t *digest;
	size_t digest_len;
};

struct sc_xades_opts {
	enum sc_xades_level level;
	enum sc_xades_packaging packaging;
	enum sc_xades_digest digest;
	int inclusive_c14n; /* c14n 1.0 instead of exclusive c14n */
	int key_info_chain; /* ds:KeyInfo carries the chain, not just the cert
			     */
	size_t max_input;   /* 0: SC_XADES_MAX_INPUT */
	const char *mime;   /* MimeType of an enveloped/enveloping document;
			       NULL: "text/xml" */
	/* SC_XADES_DETACHED: the data objects (the input is then unused) */
	const struct sc_xades_detached *detached;
	size_t ndetached;

	/* Optional signed properties (EN 319 132-1 §5.2) */
	const char *policy_id;      /* URI or OID; NULL: no policy */
	int policy_implied;         /* SignaturePolicyImplied */
	const uint8_t *policy_hash; /* SigPolicyHash, SHA-256 */
	size_t policy_hash_len;
	const char *policy_uri;   /* SPURI qualifier, or NULL */
	const char *commitment;   /* CommitmentTypeId URI, or NULL */
	const char *const *roles; /* SignerRoleV2/ClaimedRoles */
	size_t nroles;

	/* Counter-signature: sign ds:SignatureValue of the signature whose
	 * Id this is, inside the input (EN 319 132-1 §5.4.2). NULL: none.
	 * "*" picks the only signature of the document. */
	const char *countersign;

	/* Parallel signature (SC_XADES_DETACHED): @in is an existing
	 * detached signature (root ds:Signature, or asic:XAdESSignatures of
	 * ETSI EN 319 162-1); the new, independent signature is added beside
	 * the others under asic:XAdESSignatures. Existing signatures must use
	 * exclusive c14n only (moving them is then harmless). */
	int parallel;

	/* B-T and above: the TSA for signature and archive time-stamps */
	const struct sc_tsa_client *tsa;
	/* B-LT and above: for the signer's chain and for the TSA's. When
	 * NULL, sceau collects them (sceau/ltv.h, with @ltv; NULL: defaults)
	 * for the certificates of ds:KeyInfo, the chain and @ltv_certs, and
	 * for the TSA's: the certificates of the time-stamp tokens and the
	 * TSA client's anchors and intermediates. */
	const struct sc_xades_vdata *vdata;
	const struct sc_xades_vdata *tsa_vdata;
	const struct sc_ltv_opts *ltv;
	X509 *const *ltv_certs; /* more certificates, e.g. the root */
	size_t nltv_certs;
};

/** What was made. */
struct sc_xades_info {
	char id[48];           /* ds:Signature/@Id */
	char signing_time[32]; /* SigningTime */
	char tst_time[40];     /* genTime of the SignatureTimeStamp, or "" */
	char ats_time[40];     /* genTime of the last ArchiveTimeStamp, or "" */
	enum sc_xades_level level;
	uint8_t doc_sha256[32]; /* of the input */
};

/**
 * Signs @in (the XML document, or unused for SC_XADES_DETACHED) with the
 * HSM key @key_alias whose certificate is @cert. @chain: the issuing CAs,
 * issuer first (may be empty). The certificate's public key must be the
 * HSM key's. RSA keys sign with RSA PKCS#1 v1.5, EC keys with ECDSA
 * (RFC 4050 r||s), both with the digest of @o.
 * @param[out] out the signed document, malloc'd (free with free()).
 * @param[out] info may be NULL.
 * @return 0, or -1 with err: SC_E_INVALID_XML (not well-formed, DOCTYPE,
 *         duplicate Id), SC_E_TOO_LARGE, SC_E_USAGE (options that do not
 *         fit), SC_E_INVALID_INPUT (certificate not the key's, unknown
 *         counter-signed Id), SC_E_KEY_NOT_FOUND, SC_E_HSM, SC_E_CRYPTO
 *         (including "the signature did not verify again"),
 *         SC_E_UNAVAILABLE (TSA unreachable).
 */
int sc_xades_sign(struct sc_hsm *hsm, const char *key_alias, X509 *cert,
    X509 *const *chain, size_t nchain, const uint8_t *in, size_t len,
    const struct sc_xades_opts *o, uint8_t **out, size_t *outlen,
    struct sc_xades_info *info, struct sc_err *err);

/**
 * Raises the signature @sig_id (NULL: the only top-level signature) of
 * the signed document @in to @o->level: B-T adds a SignatureTimeStamp,
 * B-LT the validation data (@o->vdata, @o->tsa_vdata), B-LTA an
 * xades141:ArchiveTimeStamp. A B-LTA signature gets a new archive
 * time-stamp over the previous ones (renewal, EN 319 132-1 §5.5.3),
 * with @o->tsa_vdata added first for the earlier time-stamps. The
 * signature is verified with the certificate that SigningCertificateV2
 * names before anything is added. Detached data: @o->detached.
 * @param[out] out, outlen, info: as sc_xades_sign().
 */
int sc_xades_extend(const uint8_t *in, size_t len, const char *sig_id,
    const struct sc_xades_opts *o, uint8_t **out, size_t *outlen,
    struct sc_xades_info *info, struct sc_err *err);

/* ------------------------------------------------------------------ */
/* The operation behind `sceau sign xades` and POST /api/v1/sign/xades */

struct sc_db;

/**
 * Looks up the certificate issued for @key_alias (valid now, not
 * revoked) and its CA chain in the database, signs, and records the
 * audit event "sign.xades" (document and signed SHA-256, key, level,
 * packaging, signature Id, certificate serial) before returning: a
 * signature the audit log does not know is never released (Law 2016-012
 * Art. 120). From B-T on, when o->tsa is NULL, sceau's own TSA unit
 * stamps, trusted through the hierarchy's roots; from B-LT on, the
 * validation data is collected (sceau/ltv.h) unless given.
 * @param who the actor for the audit log.
 * @return as sc_xades_sign(); SC_E_NOT_FOUND when no valid certificate
 *         is issued for @key_alias.
 */
int sc_xades_sign_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, const struct sc_actor *who, const char *key_alias,
    const uint8_t *in, size_t len, const struct sc_xades_opts *o, uint8_t **out,
    size_t *outlen, struct sc_xades_info *info, struct sc_err *err);

/** As sc_xades_extend(), with sceau's TSA and the audit event
 * "sign.xades.extend". */
int sc_xades_extend_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, const struct sc_actor *who, const uint8_t *in, size_t len,
    const char *sig_id, const struct sc_xades_opts *o, uint8_t **out,
    size_t *outlen, struct sc_xades_info *info, struct sc_err *err);

/**
 * Parses @in as the signer does (hardened, @max bytes at most; 0:
 * SC_XADES_MAX_INPUT) and counts its top-level ds:Signature elements.
 * For early rejection and for the fuzzer.
 * @return the count (>= 0), or -1 with SC_E_INVALID_XML / SC_E_TOO_LARGE.
 */
int sc_xades_inspect(const uint8_t *in, size_t len, size_t max,
    struct sc_err *err);

#endif
