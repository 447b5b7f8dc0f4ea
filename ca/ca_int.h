/*
 * ca_int.h: what the files of ca/ share. Not installed; OpenSSL types
 * appear freely here.
 */
#ifndef SCEAU_CA_INT_H
#define SCEAU_CA_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sceau/ca.h"

struct sc_db_conn;

/* ------------------------------------------------------------------ */
/* ca_profile.c: certificate profiles as data (policies/profiles)      */

#define CA_PROFILE_NAME_MAX 40

enum ca_kind { CA_KIND_ROOT, CA_KIND_CA, CA_KIND_EE };
enum ca_bc { CA_BC_LEAF, CA_BC_CA, CA_BC_CA0 };
enum ca_sscd { CA_SSCD_NO, CA_SSCD_YES, CA_SSCD_BY_KEY };
enum ca_qctype { CA_QC_ESIGN, CA_QC_ESEAL };
enum ca_sem { CA_SEM_NATURAL, CA_SEM_LEGAL };

/* Subject fields (CONTRACT.md "Subject file"), as bits. */
enum ca_field {
	CA_F_GIVEN = 1 << 0,
	CA_F_SURNAME = 1 << 1,
	CA_F_CN = 1 << 2,
	CA_F_NINA = 1 << 3,
	CA_F_TITLE = 1 << 4,
	CA_F_ORG = 1 << 5,
	CA_F_ORGID = 1 << 6,
	CA_F_EMAIL = 1 << 7,
	CA_F_LOCALITY = 1 << 8,
	CA_F_COUNTRY = 1 << 9
};
#define CA_F__COUNT 10

/* keyUsage bits, in the order of RFC 5280 §4.2.1.3. */
enum ca_ku {
	CA_KU_DIGSIG = 1 << 0,
	CA_KU_NONREP = 1 << 1,
	CA_KU_KEYENC = 1 << 2,
	CA_KU_KEYAGREE = 1 << 4,
	CA_KU_CERTSIGN = 1 << 5,
	CA_KU_CRLSIGN = 1 << 6
};

enum ca_eku {
	CA_EKU_TSA = 1 << 0,
	CA_EKU_OCSP = 1 << 1,
	CA_EKU_EMAIL = 1 << 2,
	CA_EKU_CLIENT = 1 << 3
};

/* Key types, bits of enum sc_hsm_keytype. */
#define CA_KT_BIT(t) (1u << (unsigned)(t))

/* One parsed profile file. */
struct ca_profile {
	char name[CA_PROFILE_NAME_MAX + 1];
	enum ca_kind kind;
	char issuer[CA_PROFILE_NAME_MAX + 1]; /* "self", "any" or a CA name */
	unsigned key_types;		      /* CA_KT_BIT() of allowed types */
	unsigned validity_days;
	unsigned approvals;
	int secure_device;	/* the key must be an HSM alias */
	char policy[64];	/* "" none, "any", or an arc suffix "1.1" */
	char user_notice[512];	/* UTF-8, ≤ 200 characters */
	unsigned required;	/* enum ca_field bits */
	unsigned optional;
	unsigned key_usage;	/* enum ca_ku bits */
	unsigned eku;		/* enum ca_eku bits */
	int eku_critical;
	enum ca_bc bc;
	int ocsp_nocheck;
	int crldp;
	int aia;
	int qc;			/* QCStatements present */
	enum ca_qctype qc_type;
	enum ca_sscd sscd;
	uint64_t limit_amount;	/* 0: no QcLimitValue */
	unsigned limit_exponent;
	unsigned retention_years;
	enum ca_sem semantics;
};

/**
 * Parses profile text (INI). Unknown sections, keys or values, duplicate
 * keys and missing keys are SC_E_CONFIG errors naming @origin:line.
 */
int ca_profile_parse(struct ca_profile *p, const char *name, const char *text,
    size_t len, const char *origin, struct sc_err *err);

/**
 * Loads @dir/@name.conf. A name outside [a-z0-9-]{1,40} or a missing
 * file is SC_E_UNKNOWN_PROFILE; a malformed file SC_E_CONFIG.
 */
int ca_profile_load(const char *dir, const char *name, struct ca_profile *p,
    struct sc_err *err);

/** The name of field bit @f ("givenName"), or NULL. */
const char *ca_field_name(unsigned f);

/* ------------------------------------------------------------------ */
/* ca_subject.c: subject data checks                                   */

#define CA_SUBJ_MAX 256 /* bytes per value, before the character bounds */

struct ca_subject {
	unsigned present; /* enum ca_field bits */
	char given[CA_SUBJ_MAX];
	char surname[CA_SUBJ_MAX];
	char cn[CA_SUBJ_MAX];
	char nina[16];
	char title[CA_SUBJ_MAX];
	char org[CA_SUBJ_MAX];
	char orgid[CA_SUBJ_MAX];
	char email[CA_SUBJ_MAX];
	char locality[CA_SUBJ_MAX];
	char country[3];
};

/**
 * Parses the subject JSON object (CONTRACT.md) and checks it against
 * @prof: unknown members, members the profile neither requires nor
 * allows, missing required ones and malformed values are
 * SC_E_INVALID_INPUT. Values are kept byte-exact (no normalisation).
 */
int ca_subject_parse(const char *json, size_t len, const struct ca_profile *prof,
    struct ca_subject *s, struct sc_err *err);

/** Checks @s (already filled) against @prof; as ca_subject_parse(). */
int ca_subject_check(const struct ca_subject *s, const struct ca_profile *prof,
    struct sc_err *err);

/** 1 if @nina is 14 digits and one letter A-Z (Law 06-040). */
int ca_nina_valid(const char *nina);
/** 1 if @cc is an ISO 3166-1 alpha-2 code in use. */
int ca_country_valid(const char *cc);

/**
 * The subject DN: UTF8String for names, PrintableString for countryName
 * and serialNumber ("PNOML-<NINA>", ETSI EN 319 412-1 §5.1.3).
 * @return a new name (X509_NAME_free), or NULL with err.
 */
X509_NAME *ca_subject_name(const struct ca_subject *s, struct sc_err *err);

/** The subject as JSON text (malloc'd, free()), for the audit log. */
char *ca_subject_json(const struct ca_subject *s);

/* ------------------------------------------------------------------ */
/* ca_csr.c: certification requests from outside                      */

#define CA_CSR_MAX (64 * 1024)

/**
 * Decodes a PKCS#10 request (PEM or DER, ≤ 64 KiB, no trailing bytes),
 * checks its self-signature and its key (RSA 2048..4096, EC P-256 or
 * P-384 only).
 * @param[out] der the request's DER (malloc'd, free()), may be NULL.
 * @return the public key (EVP_PKEY_free), or NULL with SC_E_INVALID_CSR.
 */
EVP_PKEY *ca_csr_parse(const uint8_t *in, size_t len, uint8_t **der,
    size_t *derlen, struct sc_err *err);

/**
 * The public key of a request as stored by sc_ca_request_submit() in
 * requests.csr_der: as ca_csr_parse(), but without checking the
 * self-signature again (it was checked before the row was written, and
 * the submission is the only way in for outside CSR bytes). Never for
 * bytes from anywhere else.
 * @return the public key (EVP_PKEY_free), or NULL with SC_E_INVALID_CSR.
 */
EVP_PKEY *ca_csr_stored_key(const uint8_t *der, size_t len,
    struct sc_err *err);

/**
 * Checks that @pk is allowed: RSA 2048..4096, EC P-256/P-384; and that
 * its type is one of @allowed (CA_KT_BIT bits; 0 skips that check).
 * @param code the error code to use (SC_E_INVALID_CSR or _INPUT).
 */
int ca_key_check(EVP_PKEY *pk, unsigned allowed, enum sc_code code,
    struct sc_err *err);

/* ------------------------------------------------------------------ */
/* ca_qc.c: QCStatements (RFC 3739, ETSI EN 319 412-5)                 */

/* A decoded or to-be-encoded set of QCStatements. */
struct ca_qc {
	int compliance;		/* QcCompliance 0.4.0.1862.1.1 */
	char legislation[3];	/* QcCClegislation .1.7, "" if absent */
	int type;		/* -1 absent, else enum ca_qctype */
	int sscd;		/* QcSSCD .1.4 */
	char pds_url[2][256];	/* QcPDS .1.5: [0] fr, [1] en */
	char pds_lang[2][3];
	int npds;
	int retention;		/* QcRetentionPeriod .1.3, -1 absent */
	int has_limit;		/* QcLimitValue .1.2 */
	char limit_currency[4];
	uint64_t limit_amount;
	unsigned limit_exponent;
	int semantics;		/* -1 absent, else enum ca_sem (1.3.6.1.5.5.7.11.2) */
	int unknown;		/* statements this decoder does not know */
};

/**
 * Encodes @qc as the DER of a QCStatements SEQUENCE with OpenSSL ASN.1
 * templates. @param[out] der malloc'd (free()).
 */
int ca_qc_encode(const struct ca_qc *qc, uint8_t **der, size_t *len,
    struct sc_err *err);

/**
 * Decodes QCStatements DER (no trailing bytes, each known statement's
 * info well-formed). @return 0, or -1 with SC_E_INVALID_INPUT.
 */
int ca_qc_decode(const uint8_t *der, size_t len, struct ca_qc *qc,
    struct sc_err *err);

/* ------------------------------------------------------------------ */
/* ca_cert.c: building a TBSCertificate from a profile                 */

/* Everything a certificate is made of, besides the profile. */
struct ca_tbs_in {
	const struct ca_profile *prof;
	const struct ca_subject *subj;
	EVP_PKEY *pub;		 /* subject public key */
	X509 *issuer;		 /* NULL: self-signed */
	EVP_PKEY *issuer_pub;	 /* for self-signed: the same as pub */
	const char *issuer_name; /* CA name, for CRLDP and AIA URLs */
	const uint8_t *serial;	 /* big-endian, positive */
	size_t serial_len;
	int key_in_hsm;		 /* the subject key is an HSM alias */
	const char *public_url;
	const char *oid_arc;
	int64_t not_before;	 /* seconds since the epoch */
};

/**
 * Builds an unsigned certificate (version 3) from @in.
 * @return a new X509 (X509_free), or NULL with err.
 */
X509 *ca_cert_build(const struct ca_tbs_in *in, struct sc_err *err);

/** The digest to sign with for the issuer key @pk (SHA-384 for P-384). */
const EVP_MD *ca_sign_md(EVP_PKEY *pk);

/**
 * The throw-away software key for the algorithm (and curve) of @pk: EC
 * P-256 or P-384 alike, RSA 2048 for any RSA key. One per kind per
 * process, made once and kept in memory only; it signs only the copy
 * that is linted, never anything that is trusted.
 * @return a new reference (EVP_PKEY_free), or NULL with err.
 */
EVP_PKEY *ca_throwaway_key(EVP_PKEY *pk, struct sc_err *err);

/**
 * A fresh serial: 20 bytes from the CSPRNG with the top bit clear (159
 * bits; RFC 5280 §4.1.2.2, CA/B BR 7.1), and its hex as stored (the
 * DER content octets, lower case, leading zero octets dropped).
 */
int ca_serial_new(uint8_t serial[20], size_t *len, char hex[41],
    struct sc_err *err);

/** DER-encodes @x's TBSCertificate. @param[out] der malloc'd. */
int ca_tbs_der(X509 *x, uint8_t **der, size_t *len, struct sc_err *err);

/** Formats an ASN1_TIME as RFC 3339 UTC ("2026-01-02T03:04:05Z"). */
int ca_time_str(const ASN1_TIME *t, char out[32]);

/** The DN as one line, RFC 2253, UTF-8 kept. malloc'd. */
char *ca_name_str(const X509_NAME *n);

/* ------------------------------------------------------------------ */
/* ca_lint.c: pre-issuance lints                                       */

/**
 * Lints the (throw-away-signed) certificate @x against @prof, its
 * issuer (@issuer, NULL for self-signed) and RFC 5280 / ETSI EN
 * 319 412 / Law 2016-012 Art. 115.
 * @param[out] finding the first finding, citing its clause.
 * @return 0 when clean, 1 with a finding, -1 when the lint could not run.
 */
int ca_lint(X509 *x, const struct ca_profile *prof, X509 *issuer,
    int key_in_hsm, const char *oid_arc, char *finding, size_t flen,
    struct sc_err *err);

/* ------------------------------------------------------------------ */
/* ca_issue.c: Boulder's cycle                                         */

/* One issuance: inputs and where it comes from. */
struct ca_issue_in {
	const struct ca_profile *prof;
	const struct ca_subject *subj;
	EVP_PKEY *pub;		/* subject key */
	const char *key_alias;	/* subject HSM alias, or NULL (CSR) */
	const char *ca_name;	/* issuing CA (NULL: self-signed root) */
	X509 *issuer;		/* its certificate (NULL: self-signed) */
	const char *issuer_alias; /* its HSM key */
	int64_t request_id;	/* -1: none */
	const struct sc_actor *who;
	/*
	 * Run inside the transaction that stores the certificate (step 6),
	 * or that marks it failed; may be NULL. @x is the final certificate.
	 */
	int (*on_issued)(struct sc_db_conn *c, void *arg, const char *serial,
	    X509 *x, struct sc_err *err);
	int (*on_failed)(struct sc_db_conn *c, void *arg, const char *serial,
	    const char *why, struct sc_err *err);
	void *arg;
};

/**
 * Issues one certificate: reserve the serial (committed), build and
 * lint a throw-away-signed copy, store the linted TBS (committed), sign
 * in the HSM, check the TBS is unchanged, store the certificate with
 * "cert.issue" in one transaction. A root (ca_name NULL) gets no
 * certificates row (table ca holds it).
 * @param[out] out the certificate (X509_free); serial hex in @serial.
 * @param[out] finding set when a lint aborted (err is SC_E_INVALID_INPUT).
 */
int ca_issue(const struct sc_ca_env *env, const struct ca_issue_in *in,
    X509 **out, char serial[41], struct sc_err *err);

/** The CA @name's certificate and key alias from the database. */
int ca_load_issuer(const struct sc_ca_env *env, const char *name, X509 **cert,
    char alias[80], struct sc_err *err);

#endif
