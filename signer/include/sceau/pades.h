/*
 * sceau pades: PDF signatures per ETSI EN 319 142-1 (PAdES baseline
 * B-B, B-T, B-LT, B-LTA), keys in the HSM.
 *
 * The PDF is read with qpdf (recovery off; encrypted files refused) and
 * never rewritten: sceau appends incremental updates (ISO 32000-1
 * §7.5.6) so that earlier signatures stay valid. The library does not
 * copy the document: it reads the caller's file or bytes (a request
 * body) in place and returns only the bytes to APPEND. The signed file
 * is `input || tail`.
 *
 * Only OpenSSL's opaque handles appear here (STYLE.md).
 */
#ifndef SCEAU_PADES_H
#define SCEAU_PADES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "sceau/cms.h"
#include "sceau/core.h"
#include "sceau/ltv.h"

struct sc_db;
struct sc_hsm;

enum sc_pades_level {
	SC_PADES_B_B = 0,
	SC_PADES_B_T = 1,
	SC_PADES_B_LT = 2,
	SC_PADES_B_LTA = 3
};

/** "B-B", "B-T", "B-LT", "B-LTA". @return 0, or -1 (SC_E_USAGE). */
int sc_pades_level_parse(const char *s, enum sc_pades_level *out,
    struct sc_err *err);
const char *sc_pades_level_name(enum sc_pades_level l);

/* Default room for the CMS beyond its measured size, and for tokens. */
#define SC_PADES_TST_RESERVE 12288 /* bytes of DER for one RFC 3161 token */
#define SC_PADES_MAX_DOCUMENT_DEFAULT ((size_t)100 * 1024 * 1024)

/* A visible signature: rectangle in default user space, page 1-based. */
struct sc_pades_visible {
	unsigned page;
	double x, y, w, h;
};

/** Parses "PAGE,X,Y,W,H". @return 0, or -1 (SC_E_USAGE). */
int sc_pades_visible_parse(const char *s, struct sc_pades_visible *v,
    struct sc_err *err);

/* What to make. Zero-initialise; pointers are borrowed. */
struct sc_pades_opts {
	enum sc_pades_level level;
	const char *reason;	  /* /Reason, UTF-8, or NULL */
	const char *location;	  /* /Location */
	const char *contact;	  /* /ContactInfo */
	const char *name;	  /* /Name; NULL: none (the cert names) */
	int docmdp;		  /* 1..3: certification signature with
				     DocMDP /P (ISO 32000-1 §12.8.2.2);
				     0: approval signature */
	const struct sc_pades_visible *visible; /* NULL: invisible */
	const char *capacity;	  /* visible: the signer's capacity */
	const char *verify_url;	  /* visible: base of the QR link, e.g.
				     "https://sceau.example/verifier" */
	const struct sc_cms_tsa *tsa; /* required from B-T up */
	const struct sc_ltv_opts *ltv; /* B-LT and B-LTA; NULL: defaults */
	X509 *const *ltv_certs;	  /* more certificates for the /DSS, e.g.
				     the TSA's root; borrowed */
	size_t nltv_certs;
	size_t max_document;	  /* 0: SC_PADES_MAX_DOCUMENT_DEFAULT */
	size_t tst_reserve;	  /* 0: SC_PADES_TST_RESERVE */
	int64_t signing_time;	  /* /M, seconds; 0: now */
};

/*
 * The document: bytes in memory (@p), or an open regular file (@fd, when
 * @p is NULL) that is read in place and never loaded whole: qpdf reads
 * the objects it needs and the digest streams over the file. @len is the
 * document's size. Borrowed; the file must not change meanwhile.
 */
struct sc_pades_doc {
	const uint8_t *p;
	int fd;
	size_t len;
};

/* Who signs. Borrowed. */
struct sc_pades_signer {
	struct sc_hsm *hsm;
	const char *key_alias;
	X509 *cert;
	X509 *const *chain; /* issuing CA(s) up to the root */
	size_t nchain;
	int pss;	    /* RSA keys: RSASSA-PSS */
};

/* What was done. */
struct sc_pades_result {
	uint8_t doc_sha256[32];	/* SHA-256 of the input document */
	uint8_t out_sha256[32];	/* SHA-256 of input || tail */
	size_t cms_len;		/* DER size of the signature's CMS */
	size_t reserved;	/* bytes reserved for it in /Contents */
	char field[64];		/* name of the new signature field */
	unsigned revisions;	/* incremental updates appended */
};

/**
 * Signs @doc at level o->level: an incremental update with a signature
 * field (invisible unless o->visible), AcroForm /SigFlags 3 and a
 * signature dictionary /Filter /Adobe.PPKLite /SubFilter
 * /ETSI.CAdES.detached whose /ByteRange covers the whole file but the
 * /Contents hex string (EN 319 142-1 §5.2); from B-LT a second update
 * with the /DSS (§5.4.2), at B-LTA a third with a /DocTimeStamp (§5.4.3).
 * @param[out] tail the bytes to append to the document (initialise it with
 *             sc_buf_init(); the caller frees it with sc_buf_free()).
 * @param[out] res may be NULL.
 * @return 0, or -1 with err: SC_E_INVALID_PDF, SC_E_ENCRYPTED_PDF,
 *         SC_E_TOO_LARGE (over max_document), SC_E_CONFLICT (the document
 *         is certified with DocMDP P=1, or P=2 and a visible signature
 *         was asked), SC_E_KEY_NOT_FOUND, SC_E_HSM, SC_E_UNAVAILABLE (TSA
 *         or revocation source), SC_E_USAGE (B-T without a TSA).
 */
int sc_pades_sign(const struct sc_pades_signer *s,
    const struct sc_pades_doc *doc, const struct sc_pades_opts *o,
    struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err);

/**
 * Extends the signatures of an already signed @doc (made by sceau or
 * elsewhere) to level o->level: B-T adds a document time-stamp when the
 * last signature has no signature time-stamp (EN 319 142-1 §5.4.3 allows
 * either); B-LT a /DSS with the certificates and revocation data of every
 * signature and time-stamp; B-LTA both and then a document time-stamp.
 * Asked for B-LTA again, it renews the archive: a /DSS for the last
 * time-stamp's chain, then a new document time-stamp.
 * @return as sc_pades_sign(); SC_E_INVALID_INPUT when @doc holds no
 *         signature.
 */
int sc_pades_extend(const struct sc_pades_doc *doc,
    const struct sc_pades_opts *o, struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err);

/* ------------------------------------------------------------------ */
/* Time-stamp sources                                                  */

/**
 * An sc_cms_tsa over sceau's TSA client (sceau/tsa.h): @client is a
 * `const struct sc_tsa_client *` (in-process unit or URL, trust anchors)
 * that must outlive the returned source.
 */
struct sc_cms_tsa sc_pades_tsa_client(const void *client);

/* ------------------------------------------------------------------ */
/* The operation behind `sceau sign pades` and POST /api/v1/sign/pades */

/**
 * Looks up the certificate issued for @key_alias (table certificates,
 * status 'issued', valid now, not revoked) and its CA chain (table ca),
 * signs with the HSM key, and records the audit event "sign.pades"
 * (document SHA-256, signed SHA-256, key, level, time, certificate
 * serial) before returning. From B-T on, when o->tsa is NULL, sceau's
 * own TSA unit (sc_tsa_open_db with @cfg) stamps, trusted through the
 * signer's root.
 * @param who the actor for the audit log.
 * @return as sc_pades_sign(); SC_E_NOT_FOUND when no issued certificate
 *         is bound to @key_alias. On failure @tail is empty.
 */
int sc_pades_sign_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db,
    const struct sc_actor *who, const char *key_alias,
    const struct sc_pades_doc *doc, const struct sc_pades_opts *o, struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err);

/**
 * As sc_pades_extend(), with sceau's own TSA unit when o->tsa is NULL
 * (trusted through the hierarchy's roots, whose certificates also go in
 * the /DSS), and the audit event "sign.pades.extend" (object: the input's
 * SHA-256).
 */
int sc_pades_extend_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, const struct sc_actor *who,
    const struct sc_pades_doc *doc, const struct sc_pades_opts *o, struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err);

#endif
