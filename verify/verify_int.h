/*
 * verify_int.h: the validator's internal structures and prototypes,
 * grouped by file. Only the verify module includes this header.
 */
#ifndef SCEAU_VERIFY_INT_H
#define SCEAU_VERIFY_INT_H

#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "sceau/verify.h"

#define VER_MAX_REASONS 24
#define VER_MAX_CHAIN 8
#define VER_MAX_MODS 16
/* Nesting of counter-signatures (RFC 5652 §11.4) we follow. */
#define VER_MAX_COUNTER_DEPTH 4

/* One piece of signed content; PAdES signs two (ISO 32000-1 §12.8.1). */
struct ver_seg {
	const uint8_t *p;
	size_t n;
};

/* One time-stamp attached to a signature or to the document. */
struct ver_ts {
	const char *type;    /* "signature", "archive", "document",
				"content" (static) */
	char time[32];       /* genTime, RFC 3339, or "" */
	int valid;           /* token signature and imprint both verified */
	int token_intact;    /* the token's own CMS signature verified */
	const char *imprint; /* "match", "mismatch", "not-checked" */
	char *tsa;           /* TSA certificate subject, or NULL */
	int64_t gen;         /* genTime, seconds since the epoch, or 0 */
	int trusted;         /* the TSA's chain reaches an anchor */
};

/* A later incremental update of a PDF, seen from one signature. */
struct ver_mod {
	const char *kind; /* "signature", "document-timestamp",
			     "incremental-update" (static) */
	int allowed;      /* 1, 0, or -1 when not analysed yet */
};

/* The facts and the verdict for one signature. */
struct ver_sig {
	char id[24];
	const char *format;    /* "PAdES", "CAdES", "TST" (static) */
	const char *level;     /* "B-B".."B-LTA", or NULL (static) */
	const char *subfilter; /* PDF /SubFilter (static), or NULL */
	enum sc_ver_indication ind;
	const char *sub; /* EN 319 102-1 sub-indication, or NULL */
	int crypto_intact;
	int counter;  /* a counter-signature */
	char *parent; /* id of the signature countersigned */
	char *subject, *issuer;
	char serial[80];
	int qc_compliance, qc_sscd; /* ETSI EN 319 412-5 statements */
	char qc_legislation[48];    /* QcCClegislation, "ML,SN", or "" */
	char signing_time[32];
	int64_t signing_epoch; /* the claimed signing time, or 0 */
	struct ver_ts ts[SC_VER_MAX_TIMESTAMPS];
	size_t nts;
	const char *coverage; /* "whole-document", "partial", or NULL */
	size_t signed_bytes;  /* PDF: end of the signed revision */
	int revision;         /* PDF: the signed revision, 1-based, or 0 */
	char field[64];       /* PDF: the signature field's name */
	struct ver_mod mods[VER_MAX_MODS];
	size_t nmods;
	char *chain[VER_MAX_CHAIN];
	size_t nchain;
	const char *revocation; /* "not-checked", "not-needed", "good",
				   "revoked", "unknown" (static) */
	const char *rev_source; /* "embedded", "online" (static), or NULL */
	char rev_time[32];      /* revocation time when revoked, or "" */
	char *reasons[VER_MAX_REASONS];
	size_t nreasons;
	/* level facts */
	int has_signing_cert_attr, has_sig_ts, has_revocation_data,
	    has_archive_ts;
	int not_etsi; /* a legacy form (adbe.pkcs7.*): no baseline level */
};

struct sc_ver_report {
	const char *lang; /* "fr" or "en" (static) */
	char sha256[65];
	size_t size;
	const char *format;
	size_t revisions;         /* PDF: incremental revisions in the file */
	char validation_time[32]; /* RFC 3339, the time certificates were
				     validated at */
	enum sc_ver_indication ind;
	struct ver_sig **sigs;
	size_t nsigs;
	struct ver_ts doc_ts[SC_VER_MAX_TIMESTAMPS];
	size_t ndoc_ts;
	char *notes[VER_MAX_REASONS];
	size_t nnotes;
};

#define VER_MAX_OCSP 64
/* Online exchanges one validation may make (a document names its
 * certificates, so it must not make us fetch without end). */
#define VER_MAX_FETCH 16

/*
 * Validation material found in a signature or the document: the
 * certificates, CRLs and OCSP responses used to build the path and to
 * check revocation (EN 319 102-1 §5.2.5 VCI, §5.2.6 XCV).
 */
struct ver_material {
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;
	OCSP_BASICRESP *ocsp[VER_MAX_OCSP];
	size_t nocsp;
	int has_revocation; /* revocation values were present */
};

/* Everything one validation carries. */
struct ver_ctx {
	const struct sc_ver_opts *o;
	struct sc_ver_report *rep;
	X509_STORE *anchors; /* NULL: no trust anchor configured */
	int64_t now;         /* validation time */
	struct sc_err *err;
	struct ver_material *doc_mat; /* document-level (PDF /DSS), or NULL */
	struct ver_material *net;     /* fetched online, or NULL */
	unsigned nfetch;              /* online exchanges so far */
	char *crl_urls[VER_MAX_FETCH]; /* CRL URLs already fetched */
	size_t ncrl_urls;
	char *dead[VER_MAX_FETCH]; /* sources that failed: asked once */
	size_t ndead;
};

/* verify_report.c */
struct sc_ver_report *ver_report_new(void);
/** Adds a blank signature (TOTAL-PASSED until told otherwise). */
struct ver_sig *ver_sig_add(struct sc_ver_report *r, const char *format,
    struct sc_err *err);
/** Records a reason; a full list drops it silently. */
void ver_sig_reason(struct ver_sig *s, const char *fmt, ...)
    SC_ATTR_PRINTF(2, 3);
void ver_report_note(struct sc_ver_report *r, const char *fmt, ...)
    SC_ATTR_PRINTF(2, 3);
/** Lowers the verdict to @ind/@sub unless it is already as bad. */
void ver_sig_verdict(struct ver_sig *s, enum sc_ver_indication ind,
    const char *sub);
/** Computes levels, the law grading and the overall indication. */
void ver_report_finish(struct sc_ver_report *r);
/** A malloc'd one-line RFC 2253 name, or NULL. */
char *ver_name(const X509_NAME *n);
/** Formats an ASN1_TIME as RFC 3339 into @out (32 bytes); "" if bad. */
void ver_asn1_time(const ASN1_TIME *t, char out[32]);

/* verify_etsi.c */
enum ver_clean {
	VER_CLEAN_TERMINAL = 0, /* no control character at all */
	VER_CLEAN_XML = 1,	/* XML 1.0 §2.2 Char only */
	VER_CLEAN_JSON = 2	/* well-formed UTF-8 only (jansson escapes) */
};
/**
 * A copy of @s that is valid UTF-8 (RFC 3629; bad bytes become U+FFFD)
 * and, per @mode (enum ver_clean), holds no control character for a
 * terminal, or none that XML 1.0 §2.2 forbids.
 * @return malloc'd text (free with free()), or NULL when out of memory.
 */
char *ver_text_clean(const char *s, int mode);

/* verify_cms.c */
/**
 * Checks one SignerInfo of @cms over the content in @seg (NULL: the
 * encapsulated content, or none when detached), and the time-stamps
 * and counter-signatures inside it. Fills @sig and may add signatures
 * (counter-signatures) to the report.
 * @return 0, or -1 only when the work could not be done (memory).
 */
int ver_cms_signer(struct ver_ctx *c, CMS_ContentInfo *cms, CMS_SignerInfo *si,
    const struct ver_seg *seg, size_t nseg, struct ver_sig *sig, int depth);
/**
 * Verifies an RFC 3161 TimeStampToken (DER ContentInfo) and, when @seg
 * is given, its message imprint over those bytes (RFC 3161 §2.4.2).
 * Fills @ts; never fails the enclosing work except for memory.
 */
int ver_tst(struct ver_ctx *c, const uint8_t *der, size_t len,
    const struct ver_seg *seg, size_t nseg, const char *type, struct ver_ts *ts,
    struct ver_sig *detail);
/** Validates a whole CMS file (CAdES or a time-stamp token). */
int ver_cms_document(struct ver_ctx *c, const uint8_t *doc, size_t len);
/**
 * Decodes a DER/BER CMS SignedData; @trail_zero_ok allows zero padding
 * after it (PDF /Contents). Other trailing bytes fail, unless
 * @trail_garbage is given: then they are accepted and flagged there.
 * @return the object or NULL (no error recorded).
 */
CMS_ContentInfo *ver_cms_decode(const uint8_t *p, size_t len, int trail_zero_ok,
    int *trail_garbage);
/** @return 1 if the ContentInfo is a SignedData holding a TSTInfo. */
int ver_cms_is_tst(CMS_ContentInfo *cms);

/* verify_x509.c */
/**
 * Loads the trust anchors named by opts (a PEM path or PEM text).
 * @return 0 (with *out NULL when none is configured) or -1.
 */
int ver_anchors_load(const char *trust, X509_STORE **out, struct sc_err *err);
/** @return 0, or -1 when out of memory. */
int ver_mat_init(struct ver_material *m);
void ver_mat_free(struct ver_material *m);
/* Adds DER objects; malformed ones and those over the bounds are
 * dropped silently (they only help to validate). */
void ver_mat_add_cert(struct ver_material *m, const uint8_t *p, size_t n);
void ver_mat_add_crl(struct ver_material *m, const uint8_t *p, size_t n);
/** An OCSPResponse (RFC 6960 §4.2.1) or a bare BasicOCSPResponse. */
void ver_mat_add_ocsp(struct ver_material *m, const uint8_t *p, size_t n);
/** Adds (up-referenced) everything of @src to @dst. */
void ver_mat_merge(struct ver_material *dst, const struct ver_material *src);

/**
 * Validates @signer's chain at time @at against the anchors, with the
 * material found in the document (EN 319 102-1 §5.2.6, RFC 5280 §6),
 * and its revocation status from the embedded CRLs and OCSP responses
 * (RFC 5280 §6.3, RFC 6960). Sets chain, revocation, qc_* and the verdict
 * of @sig.
 */
void ver_x509_eval(struct ver_ctx *c, X509 *signer,
    const struct ver_material *m, int64_t at, struct ver_sig *sig);
/**
 * The earliest proof of existence of @sig's signature value: the genTime
 * of a valid signature time-stamp from a TSA that chains to an anchor
 * (EN 319 102-1 §5.6.2.3, simplified). @return seconds, or 0 for none.
 */
int64_t ver_sig_poe(const struct ver_sig *sig);

/* verify_online.c */
/**
 * Fetches revocation data about @x (issued by @issuer) into c->net:
 * an OCSP response from its AIA responder when @ocsp, else its CRL
 * (cRLDistributionPoints). Does nothing when offline, past
 * VER_MAX_FETCH, or for URLs outside the allow-list.
 * @return 1 if something was added, 0 otherwise (reason in @sig).
 */
int ver_net_fetch(struct ver_ctx *c, X509 *x, X509 *issuer, int ocsp,
    struct ver_sig *sig);
/**
 * Fetches the certificate(s) of @x's issuer from its caIssuers URL
 * (RFC 5280 §4.2.2.1) into c->net->certs, under the same bounds.
 * @return 1 if a certificate was added, 0 otherwise.
 */
int ver_net_issuer(struct ver_ctx *c, X509 *x, struct ver_sig *sig);
/** Frees what ver_net_fetch() gathered. */
void ver_net_free(struct ver_ctx *c);

/* verify_xml.c */
/** Validates an XML document (XAdES / XML-DSig). @return 0 or -1. */
int ver_xml_document(struct ver_ctx *c, const uint8_t *doc, size_t len);

/* verify_pdfdiff.c */
/**
 * Classifies what the update from the revision ending at @old_end to the
 * one ending at @new_end changed; appends one entry per kind to @out
 * (at most @max, *n counts them).
 * @return 0, or -1 when the revisions could not be compared.
 */
int ver_pdf_diff(const uint8_t *doc, size_t old_end, size_t new_end,
    struct ver_mod *out, size_t max, size_t *n);

/* verify_pdf.c */
/** Validates a PDF. @return 0, or -1 with c->err set. */
int ver_pdf_document(struct ver_ctx *c, const uint8_t *doc, size_t len);

#endif
