/*
 * xades_int.h: what the XAdES files of signer/ share. Not installed.
 */
#ifndef SCEAU_XADES_INT_H
#define SCEAU_XADES_INT_H

#include <libxml/tree.h>
#include <openssl/evp.h>

#include "sceau/ltv.h"
#include "sceau/xades.h"

#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define NS_XADES "http://uri.etsi.org/01903/v1.3.2#"
#define NS_XADES141 "http://uri.etsi.org/01903/v1.4.1#"
#define TYPE_SIGNED_PROPS "http://uri.etsi.org/01903#SignedProperties"
#define TYPE_COUNTERSIGNED "http://uri.etsi.org/01903#CountersignedSignature"
#define TYPE_OBJECT "http://www.w3.org/2000/09/xmldsig#Object"
#define C14N_EXCL "http://www.w3.org/2001/10/xml-exc-c14n#"
#define C14N_INCL "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define NS_ASIC "http://uri.etsi.org/02918/v1.2.1#"

/* As libxml2's BAD_CAST, keeping the const (clang -Wcast-qual). */
#define XC (const xmlChar *)

/* Limits of what the signer builds and accepts (brief §4). */
#define XADES_MAX_REFS 50
#define XADES_MAX_DETACHED 32
#define XADES_MAX_IDS 100000
#define XADES_ID_MAX 48

/* signer_xml.c ------------------------------------------------------ */

/** Write-once library initialisation (libxml2, xmlsec, OpenSSL). */
int xml_init(struct sc_err *err);

/**
 * Hardened parse (STYLE.md rule 14): NONET, no DOCTYPE (refused at the
 * SAX hook, before any declaration is read), no entity substitution,
 * libxml2's default depth and text limits, no duplicate Id/ID/id/xml:id.
 * @return the document (xmlFreeDoc), or NULL with SC_E_INVALID_XML or
 *         SC_E_TOO_LARGE.
 */
xmlDocPtr xml_parse(const uint8_t *p, size_t len, size_t max,
    struct sc_err *err);

/** 1 if @n is the element {@ns}@name. */
int xml_is(const xmlNode *n, const char *ns, const char *name);
/** First element child {@ns}@name of @n, or NULL. */
xmlNodePtr xml_child(xmlNodePtr n, const char *ns, const char *name);
/** First element child of @n, any name, or NULL. */
xmlNodePtr xml_first_el(xmlNodePtr n);
/** Next element sibling, or NULL. */
xmlNodePtr xml_next_el(xmlNodePtr n);

/**
 * Canonicalises the subtree at @node in place in its document (the
 * node-set of the subtree, without comments): exclusive c14n when
 * @excl, else c14n 1.0. Appends to @out.
 */
int xml_c14n(xmlNodePtr node, int excl, struct sc_buf *out, struct sc_err *err);

/** Serialises @doc (UTF-8 or its declared encoding). */
int xml_dump(xmlDocPtr doc, uint8_t **out, size_t *outlen, struct sc_err *err);

/** Adds a child {NS_DS}@name with @text (may be NULL). */
xmlNodePtr xml_add(xmlNodePtr parent, xmlNsPtr ns, const char *name,
    const char *text);

/** A fresh identifier "@prefix-<16 hex>" (CSPRNG). */
int xml_new_id(const char *prefix, char out[XADES_ID_MAX], struct sc_err *err);

/** The text of @n with XML white space removed, base64-decoded. */
int xml_b64_content(xmlNodePtr n, uint8_t **out, size_t *outlen,
    struct sc_err *err);

/* signer_xades_core.c ----------------------------------------------- */

/* The algorithms of one signature. */
struct xades_algs {
	const EVP_MD *md;
	const char *digest_uri; /* xmlenc#sha256 ... */
	const char *sig_uri;    /* xmldsig-more#rsa-sha256 ... */
	int is_ec;
	int excl; /* exclusive c14n */
};

int xades_algs_init(struct xades_algs *a, enum sc_xades_digest d, EVP_PKEY *pub,
    int excl, struct sc_err *err);
/** The digest for an xmldsig DigestMethod URI, or NULL. */
const EVP_MD *xades_md_from_uri(const char *uri);

/* One detached reference, while signing or verifying. */
struct xades_dref {
	xmlNodePtr ref;  /* the ds:Reference */
	xmlNodePtr prev; /* where to put it back */
	const struct sc_xades_detached *d;
};

/**
 * Signs the ds:Signature template @sig: xmlsec digests the references
 * and canonicalises SignedInfo with a throw-away key of the same family;
 * the HSM key @key signs those octets (brief §2.4, route A). Detached
 * references (digest already set by the caller of this function) are
 * taken out of SignedInfo while xmlsec runs and put back.
 */
int xades_sign_core(xmlNodePtr sig, EVP_PKEY *key, const struct xades_algs *a,
    struct xades_dref *dr, size_t ndr, struct sc_err *err);

/**
 * Verifies the core of @sig with @cert's public key: xmlsec with
 * allow-lists (every reference and the SignatureValue) and, apart from
 * xmlsec, the SignatureValue over our own c14n of SignedInfo with
 * OpenSSL. Detached references are checked against @det (data or
 * digest). With @refs non-NULL, appends the dereferenced and transformed
 * output of every reference, in SignedInfo order (ATS step 1).
 * @return 0 if the signature is valid, -1 with SC_E_CRYPTO if not.
 */
int xades_verify_core(xmlNodePtr sig, X509 *cert,
    const struct sc_xades_detached *det, size_t ndet, struct sc_buf *refs,
    struct sc_err *err);

/* signer_xades_ext.c ------------------------------------------------ */

/* What the unsigned-property code needs to know about a signature. */
struct xades_sig {
	xmlNodePtr sig; /* ds:Signature */
	xmlNodePtr usp; /* UnsignedSignatureProperties, or NULL */
	xmlNodePtr qp;  /* QualifyingProperties */
	xmlNsPtr xades; /* the XAdES 1.3.2 namespace in scope */
	X509 *cert;     /* signer, borrowed */
	int excl;
};

/** Finds or adds UnsignedProperties/UnsignedSignatureProperties. */
int xades_usp(struct xades_sig *s, struct sc_err *err);

/** Adds SignatureTimeStamp (EN 319 132-1 §5.3). */
int xades_add_sig_tst(struct xades_sig *s, const struct sc_tsa_client *tsa,
    struct sc_xades_info *info, struct sc_err *err);
/** Adds CertificateValues/RevocationValues (§5.5.1, §5.5.2). */
int xades_add_lt(struct xades_sig *s, const struct sc_xades_vdata *v,
    const struct sc_xades_vdata *tv, struct sc_err *err);
/**
 * Adds an xades141:ArchiveTimeStamp (§5.5.3) over @refs (ATS step 1,
 * from xades_verify_core) and the rest of the input of TS 101 903
 * v1.4.1 §8.2.1 (brief §1.5).
 */
int xades_add_ats(struct xades_sig *s, const struct sc_buf *refs,
    const struct sc_tsa_client *tsa, struct sc_xades_info *info,
    struct sc_err *err);
/**
 * Collects validation material with sc_ltv_collect(): for the signer
 * (@tsa_side 0: ds:KeyInfo certificates, @extra, @o->ltv_certs) or for
 * the TSA (@tsa_side 1: the certificates of every time-stamp token and of
 * @o->tsa). @param[out] l free with sc_ltv_free(); @param[out] v points
 * into @l and *@ders (free()).
 */
int xades_collect(struct xades_sig *s, const struct sc_xades_opts *o,
    X509 *const *extra, size_t nextra, int tsa_side, struct sc_ltv *l,
    struct sc_xades_der **ders, struct sc_xades_vdata *v, struct sc_err *err);
/** The ATS input after step 1 (steps 2 to 6), before @before (or all). */
int xades_ats_rest(struct xades_sig *s, xmlNodePtr before, struct sc_buf *out,
    struct sc_err *err);

#endif
