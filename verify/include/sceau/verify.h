/*
 * sceau verify: the validator of signed documents (PAdES, XAdES,
 * CAdES/CMS, RFC 3161 time-stamp tokens). It needs no HSM and no
 * database: a citizen's CLI validates a file offline (DESIGN.md).
 * Thread-safe: one call keeps all its state to itself.
 *
 * The verdicts follow ETSI EN 319 102-1 (indications and
 * sub-indications, clause 5.1.3 and table 5). A verdict is DATA in the
 * report, never an error: sc_err means only "could not do the work"
 * (STYLE.md rule 8). The JSON rendering follows CONTRACT.md,
 * "Validation report (JSON)".
 */
#ifndef SCEAU_VERIFY_H
#define SCEAU_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "sceau/core.h"
#include "sceau/http.h"

/* Documents larger than this are refused unless opts say otherwise. */
#define SC_VER_MAX_DOCUMENT_DEFAULT ((size_t)100 * 1024 * 1024)
/* Bounds on what one document may hold (STYLE.md rule 13). */
#define SC_VER_MAX_SIGNATURES 256
#define SC_VER_MAX_CERTS 512
#define SC_VER_MAX_TIMESTAMPS 16

/* EN 319 102-1 §5.1.3 main indications. */
enum sc_ver_indication {
	SC_VER_TOTAL_PASSED = 0,
	SC_VER_TOTAL_FAILED = 1,
	SC_VER_INDETERMINATE = 2
};

/* What the caller asks of one validation. Zero-initialise it. */
struct sc_ver_opts {
	int offline;             /* 1: never fetch OCSP/CRL online */
	/* Online revocation (when !offline): for a certificate of the
	 * chain without usable embedded data, its OCSP responder (AIA,
	 * RFC 6960) then its CRL (cRLDistributionPoints, RFC 5280
	 * §4.2.1.13), http:// only, through @fetch (NULL: sc_http_fetch)
	 * and only for URLs starting with one of @fetch_allow (NULL: any
	 * http:// URL; a server validating uploaded documents must set it,
	 * or the document chooses whom the server calls). */
	const struct sc_http_fetcher *fetch;
	const char *const *fetch_allow;
	size_t nfetch_allow;
	unsigned fetch_timeout_s; /* per exchange; 0: 10 s */
	const char *trust_pem;   /* trust anchors: a PEM file's path, or
				    PEM text starting "-----BEGIN"; NULL:
				    no anchor (chains end INDETERMINATE) */
	const uint8_t *detached; /* detached signed content, or NULL */
	size_t detached_len;
	const char *lang;        /* "fr" (default) or "en" */
	size_t max_document;     /* 0: SC_VER_MAX_DOCUMENT_DEFAULT */
	int64_t validation_time; /* seconds since the epoch; 0: now */
};

/* The report: opaque; read it with the accessors or as JSON. */
struct sc_ver_report;

/* A read-only summary of one signature, borrowed from the report. */
struct sc_ver_sig_summary {
	const char *id;     /* "sig-1", ... */
	const char *format; /* "PAdES", "CAdES", "TST", ... */
	const char *level;  /* "B-B".."B-LTA", or NULL if not ETSI */
	enum sc_ver_indication indication;
	const char *subindication; /* EN 319 102-1 name, or NULL */
	int crypto_intact;         /* 1: signature value and every signed
				      digest verified; 0 otherwise */
	int counter_signature;     /* 1: a CMS counter-signature */
};

/**
 * Validates a signed document held in memory: detects its format (PDF,
 * CMS/CAdES, RFC 3161 token), checks every signature and writes a
 * report.
 *
 * @param doc, len the document; not modified, not kept.
 * @param o options, or NULL for the defaults (offline is NOT implied).
 * @param[out] out the report; free with sc_ver_report_free(). Must point
 *     to NULL on entry.
 * @return 0 with *out set (whatever the verdict), or -1 with @err set:
 *     SC_E_TOO_LARGE over the size limit, SC_E_UNSUPPORTED_DOCUMENT when
 *     the bytes are no signed document sceau knows (or a PDF/XML with no
 *     signature), SC_E_INVALID_PDF, SC_E_ENCRYPTED_PDF (a user password
 *     is needed), SC_E_INVALID_XML (malformed, or has a DOCTYPE),
 *     SC_E_CONFIG / SC_E_IO (unusable trust anchors), SC_E_NOMEM.
 */
int sc_ver_document(const uint8_t *doc, size_t len, const struct sc_ver_opts *o,
    struct sc_ver_report **out, struct sc_err *err);

/**
 * Renders the report as JSON (CONTRACT.md field names).
 * @return malloc'd NUL-terminated text (free with free()), or NULL on
 *     allocation failure.
 */
char *sc_ver_report_json(const struct sc_ver_report *r);

/**
 * Renders the report as a short text for citizens: the overall verdict
 * on the first line, then per signature who signed (name, title and
 * organisation from the subject), when (and whether a trusted
 * time-stamp proves it), whether the document changed since, the Law
 * 2016-012 grading (qualified / advanced) and what to do when the
 * signature is not valid.
 * @param lang "en" for English; anything else French; NULL: the
 *     language the report was made with (sc_ver_opts.lang).
 * @return malloc'd NUL-terminated UTF-8 text (free with free()), or NULL
 *     on allocation failure.
 */
char *sc_ver_report_text(const struct sc_ver_report *r, const char *lang);

/**
 * Renders the report as an ETSI TS 119 102-2 validation report (XML,
 * namespace http://uri.etsi.org/19102/v1.2.1#): one
 * SignatureValidationReport per signature, main and sub-indications as
 * urn:etsi:019102:* URIs, and the Law 2016-012 grading as
 * urn:sceau:law-2016-012:qualified or :advanced (sceau's own URIs).
 * @return malloc'd NUL-terminated XML document (free with free()), or
 *     NULL on allocation failure or if libxml2 cannot be initialised.
 */
char *sc_ver_report_etsi_xml(const struct sc_ver_report *r);

/**
 * The CLI exit code of `sceau verify` (CONTRACT.md): 0 TOTAL-PASSED,
 * 1 TOTAL-FAILED, 2 INDETERMINATE.
 */
int sc_ver_report_exit(const struct sc_ver_report *r);

/** @return the overall indication: the worst of the signatures'. */
enum sc_ver_indication sc_ver_report_indication(const struct sc_ver_report *r);

/** @return "PAdES", "XAdES", "CAdES" or "TST"; never NULL. */
const char *sc_ver_report_format(const struct sc_ver_report *r);

/**
 * @return the number of signatures, counter-signatures included and PDF
 *     document time-stamps excluded (the way EN 319 102-1 validators
 *     such as EU DSS count them).
 */
size_t sc_ver_report_count(const struct sc_ver_report *r);

/**
 * Fills @out with signature @i (0-based). The strings are borrowed from
 * the report and live as long as it does.
 * @return 0, or -1 when @i is out of range.
 */
int sc_ver_report_sig(const struct sc_ver_report *r, size_t i,
    struct sc_ver_sig_summary *out);

/** @return "TOTAL-PASSED", "TOTAL-FAILED" or "INDETERMINATE". */
const char *sc_ver_indication_name(enum sc_ver_indication ind);

/**
 * Initialises libxml2 and xmlsec once for the whole process (thread-safe;
 * the signer calls it too, so that the two never race): xmlsec's file,
 * HTTP and FTP I/O removed, errors silenced.
 * @return 0, or -1 if the libraries could not be initialised.
 */
int sc_ver_xml_init(void);

/** Frees a report; NULL is ignored. */
void sc_ver_report_free(struct sc_ver_report *r);

#endif
