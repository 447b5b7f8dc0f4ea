/*
 * verify_xml.c: XAdES and plain XML-DSig (first slice).
 *
 * The document is parsed by libxml2 with XML_PARSE_NONET and never
 * NOENT, DTDLOAD, DTDATTR or HUGE; a DOCTYPE is refused (STYLE.md rule
 * 14). Every ds:Signature element is a signature, counter-signatures
 * included (EN 319 132-1 §5.2.7.2). Per signature:
 *  - xmlsec verifies the references and the signature value, with the
 *    key of the first ds:X509Certificate of ds:KeyInfo and references
 *    limited to the same document, or to the caller's detached data;
 *    no file and no network is ever read (XML-DSig §4.4.3.1);
 *  - wrapping checks that xmlsec does not make: IDs are unique, the
 *    SignedProperties reference resolves inside THIS signature (EN 319
 *    132-1 §4.3.1), a counter-signature signs its parent's SignatureValue
 *    (EN 319 132-1 §5.2.7.2);
 *  - the XAdES SigningCertificate(V2) digest names the certificate used;
 *  - time-stamps: the token's own signature, and for SignatureTimeStamp
 *    its imprint over the canonicalised ds:SignatureValue (EN 319 132-1
 *    §5.3).
 * Detached references are served the caller's detached data (one
 * document); no file or network is ever read.
 *  - archive time-stamps: their imprint over the input of EN 319 132-1
 *    §5.5.2.2 (references' outputs, SignedInfo, SignatureValue,
 *    KeyInfo, earlier unsigned properties, other ds:Objects).
 * Not yet: manifests, the computed signature scope.
 */

/* xmlsec1 1.2.37's OpenSSL headers still name RSA, DSA and EC_KEY: this
 * file alone is compiled with the deprecated declarations visible. */
#undef OPENSSL_NO_DEPRECATED

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keyinfo.h>
#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "verify_int.h"

#define NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define NS_XADES_PREFIX "http://uri.etsi.org/01903/"
#define TYPE_OBJECT "http://www.w3.org/2000/09/xmldsig#Object"
#define TYPE_MANIFEST "http://www.w3.org/2000/09/xmldsig#Manifest"
#define XML_MAX_IDS_DUP 64
#define XML_MAX_DEPTH 256

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static int xml_ready; /* written once, in xml_init */

static void
xmlsec_silent(const char *file, int line, const char *func, const char *obj,
    const char *subj, int reason, const char *msg)
{
	(void)file, (void)line, (void)func, (void)obj, (void)subj;
	(void)reason, (void)msg;
}

static void
xml_silent_generic(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

static void
xml_silent_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e;
}

/*
 * Detached content for references outside the document (XML-DSig
 * §4.4.3.1): per thread, set only while this thread runs xmlsec, so the
 * IO callback below never serves one caller's data to another.
 */
static _Thread_local const struct ver_seg *tl_detached;

struct io_state {
	const uint8_t *p;
	size_t n, off;
};

static int
io_match(const char *uri)
{
	return tl_detached != NULL && uri != NULL && uri[0] != '#';
}

static void *
io_open(const char *uri)
{
	struct io_state *st;

	(void)uri;
	if (tl_detached == NULL || (st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->p = tl_detached->p;
	st->n = tl_detached->n;
	return st;
}

static int
io_read(void *ctx, char *buf, int len)
{
	struct io_state *st = ctx;
	size_t k;

	if (st == NULL || len < 0)
		return -1;
	k = st->n - st->off;
	if (k > (size_t)len)
		k = (size_t)len;
	memcpy(buf, st->p + st->off, k);
	st->off += k;
	return (int)k;
}

static int
io_close(void *ctx)
{
	free(ctx);
	return 0;
}

/* Write-once initialisation (the one exception to "no global mutable
 * state", STYLE.md): libxml2 and xmlsec register their tables here.
 * xmlsec's default IO (files, HTTP, FTP) is removed: the only "remote"
 * data a reference can reach is the detached content the caller gave. */
static void
xml_init(void)
{
	xmlInitParser();
	if (xmlSecInit() < 0)
		return;
	if (xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
		return;
	xmlSecErrorsSetCallback(xmlsec_silent);
	xmlSecIOCleanupCallbacks();
	if (xmlSecIORegisterCallbacks(io_match, io_open, io_read, io_close) < 0)
		return;
	xml_ready = 1;
}

int
sc_ver_xml_init(void)
{
	if (pthread_once(&xml_once, xml_init) != 0 || !xml_ready)
		return -1;
	return 0;
}

struct xml_ctx {
	xmlDocPtr doc;
	xmlChar *dup[XML_MAX_IDS_DUP]; /* ID values seen twice */
	size_t ndup;
	size_t nsig;
};

static int
is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

static int
is_xades(const xmlNode *n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    n->ns->href != NULL &&
	    strncmp((const char *)n->ns->href, NS_XADES_PREFIX,
		strlen(NS_XADES_PREFIX)) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr
child(xmlNodePtr n, const char *ns, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL;
	     c = c->next)
		if (ns != NULL ? is_el(c, ns, name) : is_xades(c, name))
			return c;
	return NULL;
}

/* First descendant (depth-first) with that name; @ns NULL: XAdES. */
static xmlNodePtr
find(xmlNodePtr n, const char *ns, const char *name, int depth)
{
	if (n == NULL || depth > XML_MAX_DEPTH)
		return NULL;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		xmlNodePtr r;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (ns != NULL ? is_el(c, ns, name) : is_xades(c, name))
			return c;
		if ((r = find(c, ns, name, depth + 1)) != NULL)
			return r;
	}
	return NULL;
}

/* EN 319 132-1 §4.3.1 names the type "http://uri.etsi.org/01903#
 * SignedProperties"; XAdES 1.2.2 signers wrote a versioned namespace. */
static int
is_signed_props_type(const xmlChar *t)
{
	const char *p = (const char *)t;
	size_t n = p != NULL ? strlen(p) : 0;

	return n > 0 && strncmp(p, "http://uri.etsi.org/01903", 25) == 0 &&
	    n >= 17 && strcmp(p + n - 17, "#SignedProperties") == 0;
}

/* A ds:Object that is a child of this ds:Signature (XML-DSig §4.5). */
static int
own_object(const xmlNode *sn, const xmlNode *o)
{
	return is_el(o, NS_DSIG, "Object") && o->parent == sn;
}

/* Signature/Object/QualifyingProperties/SignedProperties whatever the
 * namespace of the last two (XAdES 1.1.1 in DDOC uses the XML-DSig one). */
static int
props_in_own_object(const xmlNode *sn, const xmlNode *t)
{
	const xmlNode *q = t->parent;

	return t->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)t->name, "SignedProperties") == 0 &&
	    q != NULL && q->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)q->name, "QualifyingProperties") == 0 &&
	    own_object(sn, q->parent);
}

/*
 * This signature's SignedProperties: in the QualifyingProperties of one
 * of its own ds:Object children, whose Target names this signature
 * (EN 319 132-1 §4.3.1, §4.4.1). NULL when there is none.
 */
static xmlNodePtr
own_signed_props(xmlNodePtr sn)
{
	xmlChar *id = xmlGetProp(sn, (const xmlChar *)"Id");
	xmlNodePtr found = NULL, first = NULL;

	for (xmlNodePtr o = sn->children; o != NULL && found == NULL;
	     o = o->next) {
		if (!own_object(sn, o))
			continue;
		for (xmlNodePtr q = o->children; q != NULL; q = q->next) {
			xmlChar *t;
			int ok;

			if (!is_xades(q, "QualifyingProperties"))
				continue;
			if (first == NULL)
				first = child(q, NULL, "SignedProperties");
			t = xmlGetProp(q, (const xmlChar *)"Target");
			ok = t != NULL && id != NULL && t[0] == '#' &&
			    xmlStrEqual(t + 1, id);
			xmlFree(t);
			if (ok) {
				found = child(q, NULL, "SignedProperties");
				break;
			}
		}
	}
	xmlFree(id);
	/* A Target that differs only in case ("#Signature" for Id
	 * "signature") is seen in the wild; the properties are still this
	 * signature's own. */
	return found != NULL ? found : first;
}

/*
 * Registers Id/ID/id attributes as XML IDs so that "#x" references
 * resolve (XML-DSig §4.4.3.3), and remembers values seen twice: a
 * duplicate ID lets a reference resolve to an attacker's element
 * (XSW-*-two-same-id).
 */
static void
register_ids(struct xml_ctx *x, xmlNodePtr n, int depth)
{
	if (depth > XML_MAX_DEPTH)
		return;
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
			xmlChar *v;
			xmlAttrPtr prev;

			if (a->ns != NULL ||
			    (strcmp((const char *)a->name, "Id") != 0 &&
				strcmp((const char *)a->name, "ID") != 0 &&
				strcmp((const char *)a->name, "id") != 0))
				continue;
			v = xmlNodeListGetString(x->doc, a->children, 1);
			if (v == NULL)
				continue;
			prev = xmlGetID(x->doc, v);
			if (prev == NULL)
				xmlAddID(NULL, x->doc, v, a);
			else if (prev != a && x->ndup < XML_MAX_IDS_DUP)
				x->dup[x->ndup++] = xmlStrdup(v);
			xmlFree(v);
		}
		register_ids(x, n->children, depth + 1);
	}
}

/* The element an "#id" URI names, or NULL. */
static xmlNodePtr
resolve(struct xml_ctx *x, const xmlChar *uri)
{
	xmlAttrPtr a;

	if (uri == NULL || uri[0] != '#')
		return NULL;
	a = xmlGetID(x->doc, uri + 1);
	return a != NULL ? a->parent : NULL;
}

static int
is_dup(struct xml_ctx *x, const xmlChar *uri)
{
	if (uri == NULL || uri[0] != '#')
		return 0;
	for (size_t i = 0; i < x->ndup; i++)
		if (xmlStrEqual(x->dup[i], uri + 1))
			return 1;
	return 0;
}

/* Base64 text of an element, white space removed, decoded. */
static uint8_t *
b64_node(xmlNodePtr n, size_t *outlen)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s;
	size_t j = 0;
	uint8_t *out = NULL;
	struct sc_err err;

	if (t == NULL)
		return NULL;
	if ((s = malloc((size_t)xmlStrlen(t) + 1)) != NULL) {
		for (const xmlChar *p = t; *p != '\0'; p++)
			if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
				s[j++] = (char)*p;
		s[j] = '\0';
		sc_err_clear(&err);
		if (sc_b64_decode(s, j, &out, outlen, &err) != 0)
			out = NULL;
		free(s);
	}
	xmlFree(t);
	return out;
}

static X509 *
x509_node(xmlNodePtr n)
{
	size_t len = 0;
	uint8_t *der = b64_node(n, &len);
	const unsigned char *p = der;
	X509 *x = NULL;

	if (der != NULL && len <= LONG_MAX)
		x = d2i_X509(NULL, &p, (long)len);
	free(der);
	ERR_clear_error();
	return x;
}

static const EVP_MD *
md_by_uri(const xmlChar *u)
{
	static const struct {
		const char *uri;
		int nid;
	} tab[] = {{"http://www.w3.org/2000/09/xmldsig#sha1", NID_sha1},
	    {"http://www.w3.org/2001/04/xmldsig-more#sha224", NID_sha224},
	    {"http://www.w3.org/2001/04/xmlenc#sha256", NID_sha256},
	    {"http://www.w3.org/2001/04/xmldsig-more#sha384", NID_sha384},
	    {"http://www.w3.org/2001/04/xmlenc#sha512", NID_sha512},
	    {"http://www.w3.org/2007/05/xmldsig-more#sha3-256", NID_sha3_256},
	    {"http://www.w3.org/2007/05/xmldsig-more#sha3-512", NID_sha3_512}};

	for (size_t i = 0; u != NULL && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp((const char *)u, tab[i].uri) == 0)
			return EVP_get_digestbynid(tab[i].nid);
	return NULL;
}

/* EN 319 132-1 §5.2.2: the first SigningCertificate(V2)/Cert digest
 * must be the signer's. @return 1 match, 0 absent, -1 mismatch. */
static int
signing_cert_check(xmlNodePtr ssp, X509 *signer)
{
	xmlNodePtr sc = child(ssp, NULL, "SigningCertificate");
	xmlNodePtr cert, cd, dm, dv;
	xmlChar *alg;
	const EVP_MD *md;
	uint8_t h[EVP_MAX_MD_SIZE], *v;
	unsigned int hl = 0;
	size_t vl = 0;
	int ok;

	if (sc == NULL)
		sc = child(ssp, NULL, "SigningCertificateV2");
	if (sc == NULL)
		return 0;
	if ((cert = child(sc, NULL, "Cert")) == NULL ||
	    (cd = child(cert, NULL, "CertDigest")) == NULL ||
	    (dm = child(cd, NS_DSIG, "DigestMethod")) == NULL ||
	    (dv = child(cd, NS_DSIG, "DigestValue")) == NULL)
		return -1;
	alg = xmlGetProp(dm, (const xmlChar *)"Algorithm");
	md = md_by_uri(alg);
	xmlFree(alg);
	if (md == NULL || X509_digest(signer, md, h, &hl) != 1)
		return -1;
	if ((v = b64_node(dv, &vl)) == NULL)
		return -1;
	ok = vl == hl && memcmp(v, h, hl) == 0;
	free(v);
	return ok ? 1 : -1;
}

static uint8_t *c14n_subtree(xmlDocPtr doc, xmlNodePtr root, xmlNodePtr holder,
    size_t *len);

#define XMLDSIG_MORE "http://www.w3.org/2007/05/xmldsig-more#"

/*
 * RSASSA-PSS SignatureMethods (RFC 6931 §2.3.10), unknown to xmlsec1
 * 1.2.37. @return the hash NID, or NID_undef. @rsa_uri gets the PKCS#1
 * v1.5 method with the same hash, which xmlsec does know.
 */
static int
pss_method(const xmlChar *alg, const char **rsa_uri)
{
	static const struct {
		const char *name, *rsa;
		int nid;
	} tab[] = {
	    {"sha224-rsa-MGF1",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha224",
		NID_sha224},
	    {"sha256-rsa-MGF1",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		NID_sha256},
	    {"sha384-rsa-MGF1",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
		NID_sha384},
	    {"sha512-rsa-MGF1",
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
		NID_sha512},
	};
	size_t pl = strlen(XMLDSIG_MORE);

	if (alg == NULL || strncmp((const char *)alg, XMLDSIG_MORE, pl) != 0)
		return NID_undef;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp((const char *)alg + pl, tab[i].name) == 0) {
			*rsa_uri = tab[i].rsa;
			return tab[i].nid;
		}
	return NID_undef;
}

/*
 * XML-DSig §3.2.2 by hand for RSASSA-PSS: the SignatureValue over the
 * canonicalised SignedInfo, MGF1 with the same hash, any salt length.
 * @return 1 verified, 0 not.
 */
static int
pss_verify(xmlNodePtr sn, EVP_PKEY *pk, int nid)
{
	xmlNodePtr si = child(sn, NS_DSIG, "SignedInfo");
	xmlNodePtr svn = child(sn, NS_DSIG, "SignatureValue");
	uint8_t *tbs = NULL, *sv = NULL;
	size_t tl = 0, sl = 0;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = EVP_get_digestbynid(nid);
	int ok = 0;

	if (si == NULL || svn == NULL || md == NULL)
		return 0;
	if ((tbs = c14n_subtree(si->doc, si, si, &tl)) == NULL ||
	    (sv = b64_node(svn, &sl)) == NULL)
		goto out;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pk) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0)
		goto out;
	ok = EVP_DigestVerify(mctx, sv, sl, tbs, tl) == 1;
out:
	EVP_MD_CTX_free(mctx);
	free(tbs);
	free(sv);
	ERR_clear_error();
	return ok;
}

/*
 * Runs xmlsec over one ds:Signature with the signer's key, or, when
 * there is no certificate, with the key of ds:KeyValue (XML-DSig §4.5.2;
 * the signer then stays unidentified). Manifests are not followed (their
 * references are application data, XML-DSig §5.1). When @refs is given
 * and every reference verified, it receives the references' outputs in
 * SignedInfo order (the first input of an archive time-stamp, EN 319
 * 132-1 §5.5.2.2 step 1).
 */
static void
xmlsec_verify(const struct ver_seg *detached, xmlNodePtr sn, X509 *signer,
    struct ver_sig *sig, struct sc_buf *refs)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecKeysMngrPtr mngr = NULL;
	xmlSecKeyPtr key = NULL;
	xmlSecKeyDataPtr data = NULL;
	EVP_PKEY *pk = signer != NULL ? X509_get0_pubkey(signer) : NULL;
	int refs_ok = 1, r, pss = NID_undef, pss_ok = 0;
	xmlNodePtr sm;
	xmlChar *alg = NULL;
	const char *rsa_uri = NULL;

	if (signer != NULL) {
		if (pk == NULL || EVP_PKEY_up_ref(pk) != 1)
			goto fail;
		if ((data = xmlSecOpenSSLEvpKeyAdopt(pk)) == NULL) {
			EVP_PKEY_free(pk);
			goto fail;
		}
		if ((key = xmlSecKeyCreate()) == NULL ||
		    xmlSecKeySetValue(key, data) < 0) {
			xmlSecKeyDataDestroy(data);
			goto fail;
		}
	} else if ((mngr = xmlSecKeysMngrCreate()) == NULL ||
	    xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0) {
		goto fail;
	}
	if ((ctx = xmlSecDSigCtxCreate(mngr)) == NULL)
		goto fail;
	if (key != NULL) {
		ctx->signKey = key;
		key = NULL; /* now the context's */
	} else {
		/* Only the key value: no certificate path through xmlsec. */
		ctx->keyInfoReadCtx.flags |=
		    XMLSEC_KEYINFO_FLAGS_X509DATA_DONT_VERIFY_CERTS;
	}
	ctx->flags = XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES |
	    XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	ctx->enabledReferenceUris =
	    xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument;
	if (detached != NULL)
		ctx->enabledReferenceUris |=
		    xmlSecTransformUriTypeLocal | xmlSecTransformUriTypeRemote;
	ctx->transformCtx.enabledUris = ctx->enabledReferenceUris;
	/* RSASSA-PSS: we check the SignatureValue; xmlsec checks the
	 * references under the PKCS#1 v1.5 method of the same hash, whose
	 * own (failing) signature check is then ignored. */
	sm =
	    child(child(sn, NS_DSIG, "SignedInfo"), NS_DSIG, "SignatureMethod");
	alg = sm != NULL ? xmlGetProp(sm, (const xmlChar *)"Algorithm") : NULL;
	if (pk != NULL && (pss = pss_method(alg, &rsa_uri)) != NID_undef) {
		pss_ok = pss_verify(sn, pk, pss);
		xmlSetProp(sm, (const xmlChar *)"Algorithm",
		    (const xmlChar *)rsa_uri);
	}
	tl_detached = detached;
	r = xmlSecDSigCtxVerify(ctx, sn);
	tl_detached = NULL;
	if (pss != NID_undef)
		xmlSetProp(sm, (const xmlChar *)"Algorithm", alg);
	xmlFree(alg);
	if (r < 0) {
		ver_sig_reason(sig,
		    "XML-DSig §3.2: the signature could not be "
		    "processed (unsupported algorithm or transform, a "
		    "reference outside the document, or no usable key)");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE, "FORMAT_FAILURE");
		goto out;
	}
	for (xmlSecSize i = 0;
	     i < xmlSecPtrListGetSize(&ctx->signedInfoReferences); i++) {
		xmlSecDSigReferenceCtxPtr ref =
		    xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);

		if (ref != NULL && ref->status != xmlSecDSigStatusSucceeded) {
			refs_ok = 0;
			ver_sig_reason(sig,
			    "XML-DSig §3.2.1: the digest of "
			    "reference \"%s\" does not match",
			    ref->uri != NULL ? (const char *)ref->uri : "");
		}
	}
	for (xmlSecSize i = 0; refs != NULL && refs_ok &&
	     i < xmlSecPtrListGetSize(&ctx->signedInfoReferences);
	     i++) {
		xmlSecDSigReferenceCtxPtr ref =
		    xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
		xmlSecBufferPtr b = ref != NULL
		    ? xmlSecDSigReferenceCtxGetPreDigestBuffer(ref)
		    : NULL;
		struct sc_err e;

		if (b == NULL ||
		    sc_buf_append(refs, xmlSecBufferGetData(b),
			xmlSecBufferGetSize(b), &e) != 0) {
			sc_buf_free(refs);
			break;
		}
	}
	if (pss != NID_undef) {
		if (!refs_ok)
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "HASH_FAILURE");
		else if (!pss_ok) {
			ver_sig_reason(sig,
			    "XML-DSig §3.2.2: the RSASSA-PSS signature value "
			    "does not verify (RFC 6931 §2.3.10)");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "SIG_CRYPTO_FAILURE");
		} else
			sig->crypto_intact = 1;
	} else if (ctx->status == xmlSecDSigStatusSucceeded) {
		sig->crypto_intact = 1;
	} else if (!refs_ok) {
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "HASH_FAILURE");
	} else {
		ver_sig_reason(sig,
		    "XML-DSig §3.2.2: the signature value does "
		    "not verify");
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "SIG_CRYPTO_FAILURE");
	}
	goto out;
fail:
	ver_sig_reason(sig, "the signer's key cannot be used");
	ver_sig_verdict(sig, SC_VER_INDETERMINATE, "FORMAT_FAILURE");
out:
	if (key != NULL)
		xmlSecKeyDestroy(key);
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	if (mngr != NULL)
		xmlSecKeysMngrDestroy(mngr);
	ERR_clear_error();
}

/* Visible: the element @ud and everything under it, its namespace and
 * attribute nodes included (an XPath subtree node-set, XML-DSig §4.4.3). */
static int
c14n_visible(void *ud, xmlNodePtr node, xmlNodePtr parent)
{
	const xmlNode *root = ud;
	const xmlNode *n = node;

	if (node == NULL || node->type == XML_NAMESPACE_DECL ||
	    node->type == XML_ATTRIBUTE_NODE)
		n = parent;
	for (; n != NULL; n = n->parent)
		if (n == root)
			return 1;
	return 0;
}

/*
 * Canonicalises the subtree at @root with the ds:CanonicalizationMethod
 * found under @holder (default: C14N 1.0, XML-DSig §6.5).
 * @return malloc'd bytes, or NULL for an unknown algorithm or failure.
 */
static uint8_t *
c14n_subtree(xmlDocPtr doc, xmlNodePtr root, xmlNodePtr holder, size_t *len)
{
	static const struct {
		const char *uri;
		int mode, comments;
	} tab[] = {{"http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
		       XML_C14N_1_0, 0},
	    {"http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
		XML_C14N_1_0, 1},
	    {"http://www.w3.org/2001/10/xml-exc-c14n#", XML_C14N_EXCLUSIVE_1_0,
		0},
	    {"http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
		XML_C14N_EXCLUSIVE_1_0, 1},
	    {"http://www.w3.org/2006/12/xml-c14n11", XML_C14N_1_1, 0},
	    {"http://www.w3.org/2006/12/xml-c14n11#WithComments", XML_C14N_1_1,
		1}};
	xmlNodePtr cm = child(holder, NS_DSIG, "CanonicalizationMethod");
	xmlChar *alg =
	    cm != NULL ? xmlGetProp(cm, (const xmlChar *)"Algorithm") : NULL;
	xmlOutputBufferPtr ob = NULL;
	uint8_t *out = NULL;
	size_t i = 0;

	if (alg != NULL)
		for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
			if (strcmp((const char *)alg, tab[i].uri) == 0)
				break;
	xmlFree(alg);
	if (i == sizeof(tab) / sizeof(tab[0]))
		return NULL;
	if ((ob = xmlAllocOutputBuffer(NULL)) == NULL)
		return NULL;
	if (xmlC14NExecute(doc, c14n_visible, root, tab[i].mode, NULL,
		tab[i].comments, ob) >= 0) {
		size_t n = xmlOutputBufferGetSize(ob);

		if ((out = malloc(n + 1)) != NULL) {
			memcpy(out, xmlOutputBufferGetContent(ob), n);
			*len = n;
		}
	}
	xmlOutputBufferClose(ob);
	return out;
}

/* Does a ds:Reference of @si name @obj by its Id ("#Id")? */
static int
obj_referenced(xmlNodePtr si, xmlNodePtr obj)
{
	xmlChar *id = xmlGetProp(obj, (const xmlChar *)"Id");
	int found = 0;

	for (xmlNodePtr r = si->children; id != NULL && r != NULL && !found;
	     r = r->next) {
		xmlChar *uri;

		if (!is_el(r, NS_DSIG, "Reference"))
			continue;
		uri = xmlGetProp(r, (const xmlChar *)"URI");
		found = uri != NULL && uri[0] == '#' &&
		    xmlStrEqual(uri + 1, id);
		xmlFree(uri);
	}
	xmlFree(id);
	return found;
}

/* Appends the canonical form of @node (method under @ats) to @b. */
static int
c14n_append(xmlNodePtr node, xmlNodePtr ats, struct sc_buf *b)
{
	size_t n = 0;
	uint8_t *p = c14n_subtree(node->doc, node, ats, &n);
	struct sc_err e;
	int rc = p != NULL ? sc_buf_append(b, p, n, &e) : -1;

	free(p);
	return rc;
}

/*
 * EN 319 132-1 §5.5.2.2 (the XAdES 1.4.1 xades141:ArchiveTimeStamp
 * input, §8.2.1): the references' outputs (@refs), then, canonicalised
 * with the time-stamp's own ds:CanonicalizationMethod, ds:SignedInfo,
 * ds:SignatureValue, ds:KeyInfo, every unsigned signature property
 * before @ats in document order, and every ds:Object of the signature
 * but the one holding the QualifyingProperties.
 * @return malloc'd bytes (free()), or NULL.
 */
static uint8_t *
ats_input(xmlNodePtr sn, xmlNodePtr qp, xmlNodePtr usp, xmlNodePtr ats,
    const struct sc_buf *refs, size_t *len)
{
	xmlNodePtr si = child(sn, NS_DSIG, "SignedInfo");
	xmlNodePtr sv = child(sn, NS_DSIG, "SignatureValue");
	xmlNodePtr ki = child(sn, NS_DSIG, "KeyInfo");
	struct sc_buf b;
	struct sc_err e;
	uint8_t *out = NULL;

	/* An ArchiveTimeStamp of the XAdES 1.3.2 namespace (ETSI TS 101 903
	 * v1.3.2 §7.7.1) takes only the ds:Objects that no reference
	 * covers; the 1.4.1 one (EN 319 132-1 §5.5.2.2) every ds:Object
	 * but the QualifyingProperties' (both checked on the DSS corpus). */
	int v132 = ats->ns != NULL && ats->ns->href != NULL &&
	    strcmp((const char *)ats->ns->href,
		"http://uri.etsi.org/01903/v1.3.2#") == 0;

	sc_buf_init(&b, SC_VER_MAX_DOCUMENT_DEFAULT * 2);
	if (si == NULL || sv == NULL ||
	    sc_buf_append(&b, refs->p, refs->len, &e) != 0 ||
	    c14n_append(si, ats, &b) != 0 || c14n_append(sv, ats, &b) != 0 ||
	    (ki != NULL && c14n_append(ki, ats, &b) != 0))
		goto out;
	for (xmlNodePtr n = usp->children; n != NULL && n != ats; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    c14n_append(n, ats, &b) != 0)
			goto out;
	for (xmlNodePtr n = sn->children; n != NULL; n = n->next)
		if (is_el(n, NS_DSIG, "Object") && n != qp->parent &&
		    !(v132 && obj_referenced(si, n)) &&
		    c14n_append(n, ats, &b) != 0)
			goto out;
	if ((out = malloc(b.len > 0 ? b.len : 1)) != NULL) {
		memcpy(out, b.p, b.len);
		*len = b.len;
	}
out:
	sc_buf_free(&b);
	return out;
}

/* XAdES properties: levels, signing certificate, time-stamps. */
static int
xades_props(struct ver_ctx *c, xmlNodePtr sn, X509 *signer, struct ver_sig *sig,
    const struct sc_buf *refs)
{
	xmlNodePtr sp = own_signed_props(sn);
	xmlNodePtr qp =
	    sp != NULL ? sp->parent : find(sn, NULL, "QualifyingProperties", 0);
	xmlNodePtr ssp, up, usp;

	if (qp == NULL) {
		sig->not_etsi = 1; /* XML-NOT-ETSI */
		return 0;
	}
	if (sp == NULL)
		sp = child(qp, NULL, "SignedProperties");
	ssp = child(sp, NULL, "SignedSignatureProperties");
	if (ssp != NULL) {
		xmlNodePtr st = child(ssp, NULL, "SigningTime");

		if (st != NULL) {
			xmlChar *t = xmlNodeGetContent(st);

			if (t != NULL)
				snprintf(sig->signing_time,
				    sizeof(sig->signing_time), "%s", t);
			xmlFree(t);
		}
		if (signer != NULL) {
			int r = signing_cert_check(ssp, signer);

			sig->has_signing_cert_attr = r != 0;
			if (r < 0) {
				ver_sig_reason(sig,
				    "EN 319 132-1 §5.2.2: the "
				    "SigningCertificate digest does not match "
				    "the certificate used");
				ver_sig_verdict(sig, SC_VER_INDETERMINATE,
				    "NO_SIGNING_CERTIFICATE_FOUND");
			}
		}
	}
	up = child(qp, NULL, "UnsignedProperties");
	usp = child(up, NULL, "UnsignedSignatureProperties");
	for (xmlNodePtr n = usp != NULL ? usp->children : NULL; n != NULL;
	     n = n->next) {
		const char *type = NULL;
		xmlNodePtr et, sv = child(sn, NS_DSIG, "SignatureValue");
		uint8_t *der, *cv;
		size_t len = 0, cvlen = 0;
		struct ver_seg seg;

		if (is_xades(n, "SignatureTimeStamp")) {
			type = "signature";
			sig->has_sig_ts = 1;
		} else if (is_xades(n, "ArchiveTimeStamp")) {
			type = "archive";
			sig->has_archive_ts = 1;
		} else if (is_xades(n, "RevocationValues") ||
		    is_xades(n, "TimeStampValidationData")) {
			sig->has_revocation_data = 1;
		}
		if (type == NULL || sig->nts >= SC_VER_MAX_TIMESTAMPS ||
		    (et = child(n, NULL, "EncapsulatedTimeStamp")) == NULL)
			continue;
		if ((der = b64_node(et, &len)) == NULL)
			continue;
		/* EN 319 132-1 §5.3: a SignatureTimeStamp covers the
		 * canonicalised ds:SignatureValue; an ArchiveTimeStamp the
		 * input of §5.5.2.2 (ats_input). */
		cv = NULL;
		if (strcmp(type, "signature") == 0 && sv != NULL)
			cv = c14n_subtree(sn->doc, sv, n, &cvlen);
		else if (strcmp(type, "archive") == 0 && refs != NULL &&
		    refs->len > 0)
			cv = ats_input(sn, qp, usp, n, refs, &cvlen);
		seg.p = cv;
		seg.n = cvlen;
		if (ver_tst(c, der, len, cv != NULL ? &seg : NULL, 1, type,
			&sig->ts[sig->nts++], sig) != 0) {
			free(cv);
			free(der);
			return -1;
		}
		free(cv);
		free(der);
	}
	return 0;
}

#define TRANSFORM_BASE64 "http://www.w3.org/2000/09/xmldsig#base64"

/* Does this ds:Reference use the base64 transform (XML-DSig §6.6.2)? */
static int
ref_has_base64(xmlNodePtr ref)
{
	xmlNodePtr ts = child(ref, NS_DSIG, "Transforms");

	for (xmlNodePtr t = ts != NULL ? ts->children : NULL; t != NULL;
	     t = t->next) {
		xmlChar *a;
		int b;

		if (!is_el(t, NS_DSIG, "Transform"))
			continue;
		a = xmlGetProp(t, (const xmlChar *)"Algorithm");
		b = a != NULL &&
		    xmlStrEqual(a, (const xmlChar *)TRANSFORM_BASE64);
		xmlFree(a);
		if (b)
			return 1;
	}
	return 0;
}

/*
 * The element a base64 transform decodes must hold base64 text only.
 * Anything else makes xmlsec1 1.2.37 fail while closing an output buffer
 * and leak it (fixed upstream in xmlsec PR #1210), so such a reference
 * is refused before xmlsec sees it.
 */
static int
base64_text_only(xmlNodePtr e)
{
	size_t len = 0;
	uint8_t *der;

	for (const xmlNode *c = e->children; c != NULL; c = c->next) {
		if (c->type != XML_TEXT_NODE)
			return 0;
		/* RFC 4648 §4 alphabet only (sc_b64_decode would also take
		 * base64url, which xmlsec does not). */
		for (const xmlChar *p = c->content; p != NULL && *p != '\0';
		     p++)
			if (!((*p >= 'A' && *p <= 'Z') ||
				(*p >= 'a' && *p <= 'z') ||
				(*p >= '0' && *p <= '9') || *p == '+' ||
				*p == '/' || *p == '=' || *p == ' ' ||
				*p == '\n' || *p == '\r' || *p == '\t'))
				return 0;
	}
	/* It must also decode: a bad quartet takes the same leaking path. */
	if ((der = b64_node(e, &len)) == NULL)
		return 0;
	free(der);
	return 1;
}

static int
has_xslt(xmlNodePtr n, int depth)
{
	if (depth > XML_MAX_DEPTH)
		return 1;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(c, NS_DSIG, "Transform")) {
			xmlChar *a =
			    xmlGetProp(c, (const xmlChar *)"Algorithm");
			int x = a != NULL &&
			    xmlStrEqual(a,
				(const xmlChar *)"http://www.w3.org/TR/1999/"
						 "REC-xslt-19991116");

			xmlFree(a);
			if (x)
				return 1;
		}
		if (has_xslt(c, depth + 1))
			return 1;
	}
	return 0;
}

/* XAdES CertificateValues and RevocationValues (EN 319 132-1 §5.5.1,
 * §5.5.2): base64 DER certificates, CRLs and OCSP responses. */
static void
xades_material(xmlNodePtr sn, struct ver_material *m)
{
	static const struct {
		const char *name;
		int kind; /* 0 cert, 1 CRL, 2 OCSP */
	} tab[] = {{"EncapsulatedX509Certificate", 0},
	    {"EncapsulatedCRLValue", 1}, {"EncapsulatedOCSPValue", 2}};
	xmlNodePtr usp = find(sn, NULL, "UnsignedSignatureProperties", 0);

	for (size_t t = 0; usp != NULL && t < 3; t++) {
		xmlNodePtr stack[XML_MAX_DEPTH];
		size_t top = 0, seen = 0;

		/* Depth-first walk of the unsigned properties, bounded. */
		stack[top++] = usp;
		while (top > 0 && seen < 4096) {
			xmlNodePtr n = stack[--top];

			seen++;
			if (is_xades(n, tab[t].name)) {
				size_t len = 0;
				uint8_t *der = b64_node(n, &len);

				if (der != NULL) {
					if (tab[t].kind == 0)
						ver_mat_add_cert(m, der, len);
					else if (tab[t].kind == 1)
						ver_mat_add_crl(m, der, len);
					else
						ver_mat_add_ocsp(m, der, len);
				}
				free(der);
				continue;
			}
			for (xmlNodePtr ch = n->children;
			     ch != NULL && top < XML_MAX_DEPTH; ch = ch->next)
				if (ch->type == XML_ELEMENT_NODE)
					stack[top++] = ch;
		}
	}
}

/* One ds:Signature. */
static int
xml_signature(struct ver_ctx *c, struct xml_ctx *x, xmlNodePtr sn,
    struct ver_sig *parent)
{
	struct ver_sig *sig;
	xmlNodePtr si, ki, n;
	X509 *signer = NULL;
	STACK_OF(X509) *pool = NULL;
	int has_sp_ref = 0, detached_missing = 0, bad_base64 = 0, rc = -1;
	int rc_props;
	struct ver_seg dseg = {c->o->detached, c->o->detached_len};
	const struct ver_seg *det = c->o->detached != NULL ? &dseg : NULL;
	struct sc_buf refs; /* the references' outputs, for archive ts */

	sc_buf_init(&refs, SC_VER_MAX_DOCUMENT_DEFAULT * 2);
	if ((sig = ver_sig_add(c->rep, "XAdES", c->err)) == NULL)
		return -1;
	if (parent != NULL) {
		sig->counter = 1;
		sig->parent = strdup(parent->id);
	}
	if ((pool = sk_X509_new_null()) == NULL) {
		sc_err_set(c->err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	si = child(sn, NS_DSIG, "SignedInfo");
	if (si == NULL) {
		ver_sig_reason(sig, "XML-DSig §4.1: no SignedInfo");
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
		rc = 0;
		goto out;
	}
	/* Certificates of ds:KeyInfo; the first is taken as the signer's. */
	ki = child(sn, NS_DSIG, "KeyInfo");
	for (xmlNodePtr xd = ki != NULL ? ki->children : NULL; xd != NULL;
	     xd = xd->next) {
		if (!is_el(xd, NS_DSIG, "X509Data"))
			continue;
		for (n = xd->children; n != NULL; n = n->next) {
			X509 *xc;

			if (!is_el(n, NS_DSIG, "X509Certificate") ||
			    sk_X509_num(pool) >= SC_VER_MAX_CERTS)
				continue;
			if ((xc = x509_node(n)) == NULL)
				continue;
			if (sk_X509_push(pool, xc) <= 0) {
				X509_free(xc);
				continue;
			}
			if (signer == NULL)
				signer = xc;
		}
	}
	/* Wrapping checks over the references (EN 319 132-1 §4.3.1). */
	for (n = si->children; n != NULL; n = n->next) {
		xmlChar *uri, *type;
		xmlNodePtr target;

		if (!is_el(n, NS_DSIG, "Reference"))
			continue;
		uri = xmlGetProp(n, (const xmlChar *)"URI");
		type = xmlGetProp(n, (const xmlChar *)"Type");
		target = resolve(x, uri);
		if (uri != NULL && uri[0] != '\0' && uri[0] != '#' &&
		    det == NULL)
			detached_missing = 1;
		if (ref_has_base64(n) &&
		    (uri == NULL || uri[0] == '\0' ||
			(uri[0] == '#' &&
			    (target == NULL || !base64_text_only(target)))))
			bad_base64 = 1;
		if (is_dup(x, uri)) {
			ver_sig_reason(sig,
			    "XML-DSig §4.4.3.3: reference \"%s\" "
			    "names an ID that occurs twice (signature "
			    "wrapping)",
			    uri);
			ver_sig_verdict(sig, SC_VER_INDETERMINATE,
			    "SIGNED_DATA_NOT_FOUND");
		}
		/* Type Object: some signers point it at their ds:KeyInfo;
		 * either way the target is a child of this signature. */
		if (type != NULL &&
		    xmlStrEqual(type, (const xmlChar *)TYPE_OBJECT) &&
		    (target == NULL || target->parent != sn)) {
			ver_sig_reason(sig,
			    "XML-DSig §4.5: reference \"%s\" "
			    "of type Object does not resolve to a child of "
			    "this signature (signature wrapping)",
			    uri);
			ver_sig_verdict(sig, SC_VER_INDETERMINATE,
			    "SIGNED_DATA_NOT_FOUND");
		}
		if (type != NULL &&
		    xmlStrEqual(type, (const xmlChar *)TYPE_MANIFEST) &&
		    (!is_el(target, NS_DSIG, "Manifest") ||
			!own_object(sn, target->parent))) {
			ver_sig_reason(sig,
			    "XML-DSig §5.1: reference \"%s\" "
			    "of type Manifest does not resolve to a "
			    "ds:Manifest of this signature (signature "
			    "wrapping)",
			    uri);
			ver_sig_verdict(sig, SC_VER_INDETERMINATE,
			    "SIGNED_DATA_NOT_FOUND");
		}
		if (target != NULL &&
		    (target == own_signed_props(sn) ||
			props_in_own_object(sn, target)))
			has_sp_ref = 1;
		else if (is_signed_props_type(type)) {
			has_sp_ref = 1;
			ver_sig_reason(sig,
			    "EN 319 132-1 §4.3.1: the "
			    "SignedProperties reference does not resolve "
			    "inside this signature");
			ver_sig_verdict(sig, SC_VER_INDETERMINATE,
			    "SIGNED_DATA_NOT_FOUND");
		}
		xmlFree(uri);
		xmlFree(type);
	}
	if (has_xslt(sn, 0)) {
		/* XSLT can read other documents (document()) and run
		 * arbitrarily long: refused, as DSS does by default. */
		ver_sig_reason(sig,
		    "XML-DSig §6.6.5: XSLT transforms are "
		    "refused");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE, "FORMAT_FAILURE");
		rc = 0;
		goto out;
	}
	if (bad_base64) {
		ver_sig_reason(sig,
		    "XML-DSig §6.6.2: a base64 transform "
		    "applies to something that is not base64 text");
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
	} else if (detached_missing) {
		ver_sig_reason(sig,
		    "detached signature and no signed data "
		    "given: the references outside the document are not "
		    "checked");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "SIGNED_DATA_NOT_FOUND");
	} else if (signer == NULL) {
		ver_sig_reason(sig,
		    "EN 319 102-1 §5.2.3: no certificate in "
		    "ds:KeyInfo");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "NO_SIGNING_CERTIFICATE_FOUND");
		if (ki != NULL && child(ki, NS_DSIG, "KeyValue") != NULL)
			xmlsec_verify(det, sn, NULL, sig, NULL);
	} else {
		xmlsec_verify(det, sn, signer, sig, &refs);
		free(sig->subject);
		free(sig->issuer);
		sig->subject = ver_name(X509_get_subject_name(signer));
		sig->issuer = ver_name(X509_get_issuer_name(signer));
	}
	rc_props = xades_props(c, sn, signer, sig, &refs);
	sc_buf_free(&refs);
	if (rc_props != 0)
		goto out;
	if (!sig->not_etsi && !has_sp_ref) {
		sig->not_etsi = 1; /* unsigned properties: XML-NOT-ETSI */
		ver_sig_reason(sig,
		    "EN 319 132-1 §4.3.1: the "
		    "SignedProperties are not signed");
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
	}
	if (signer != NULL && sig->crypto_intact) {
		struct ver_material m;

		if (ver_mat_init(&m) != 0) {
			ver_mat_free(&m);
			sc_err_set(c->err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		for (int i = 0; i < sk_X509_num(pool); i++)
			if (X509_up_ref(sk_X509_value(pool, i)) == 1 &&
			    sk_X509_push(m.certs, sk_X509_value(pool, i)) <= 0)
				X509_free(sk_X509_value(pool, i));
		xades_material(sn, &m);
		ver_x509_eval(c, signer, &m, c->now, sig);
		ver_mat_free(&m);
	}
	rc = 0;
out:
	sc_buf_free(&refs);
	sk_X509_pop_free(pool, X509_free);
	return rc;
}

/* The ds:SignatureValue of a ds:Signature. */
static xmlNodePtr
sig_value(xmlNodePtr sn)
{
	return child(sn, NS_DSIG, "SignatureValue");
}

/* Counter-signatures must sign the parent's SignatureValue (EN 319
 * 132-1 §5.2.7.2): one of their references resolves to it. */
static void
counter_binding(struct xml_ctx *x, xmlNodePtr cs, xmlNodePtr parent,
    struct ver_sig *sig)
{
	xmlNodePtr si = child(cs, NS_DSIG, "SignedInfo"), psv;
	int bound = 0;

	psv = sig_value(parent);
	for (xmlNodePtr n = si != NULL ? si->children : NULL; n != NULL;
	     n = n->next) {
		xmlChar *uri;

		if (!is_el(n, NS_DSIG, "Reference"))
			continue;
		uri = xmlGetProp(n, (const xmlChar *)"URI");
		if (psv != NULL && resolve(x, uri) == psv)
			bound = 1;
		xmlFree(uri);
	}
	if (!bound) {
		ver_sig_reason(sig,
		    "EN 319 132-1 §5.2.7.2: the "
		    "counter-signature does not sign its parent's "
		    "SignatureValue");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "SIGNED_DATA_NOT_FOUND");
	}
}

/* Walks the tree; ds:Signature inside another is a counter-signature. */
static int
walk(struct ver_ctx *c, struct xml_ctx *x, xmlNodePtr n, xmlNodePtr psn,
    struct ver_sig *parent, int depth)
{
	if (depth > XML_MAX_DEPTH)
		return 0;
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(n, NS_DSIG, "Signature")) {
			struct ver_sig *s;

			if (xml_signature(c, x, n, parent) != 0)
				return -1;
			s = c->rep->sigs[c->rep->nsigs - 1];
			if (parent != NULL)
				counter_binding(x, n, psn, s);
			if (walk(c, x, n->children, n, s, depth + 1) != 0)
				return -1;
			continue;
		}
		if (walk(c, x, n->children, psn, parent, depth + 1) != 0)
			return -1;
	}
	return 0;
}

int
ver_xml_document(struct ver_ctx *c, const uint8_t *doc, size_t len)
{
	struct xml_ctx x = {0};
	xmlGenericErrorFunc old_generic;
	xmlStructuredErrorFunc old_structured;
	void *old_generic_ctx, *old_structured_ctx;
	int rc = -1;

	if (pthread_once(&xml_once, xml_init) != 0 || !xml_ready)
		return sc_err_set(c->err, SC_E_INTERNAL,
		    "XML security library unavailable");
	if (len > INT_MAX)
		return sc_err_set(c->err, SC_E_TOO_LARGE, "XML too large");
	/* libxml2's error handlers are per thread: silence them for this
	 * call and give the caller's back at the end. */
	old_generic = xmlGenericError;
	old_generic_ctx = xmlGenericErrorContext;
	old_structured = xmlStructuredError;
	old_structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, xml_silent_generic);
	xmlSetStructuredErrorFunc(NULL, xml_silent_structured);
	/* STYLE.md rule 14: NONET; never NOENT, DTDLOAD, DTDATTR, HUGE. */
	x.doc = xmlReadMemory((const char *)doc, (int)len, "document.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (x.doc == NULL) {
		sc_err_set(c->err, SC_E_INVALID_XML, "not well-formed XML");
		goto out;
	}
	if (x.doc->intSubset != NULL || x.doc->extSubset != NULL) {
		sc_err_set(c->err, SC_E_INVALID_XML,
		    "a DOCTYPE is refused "
		    "(external entities and DTDs are never loaded)");
		goto out;
	}
	c->rep->format = "XAdES";
	register_ids(&x, xmlDocGetRootElement(x.doc), 0);
	if (walk(c, &x, xmlDocGetRootElement(x.doc), NULL, NULL, 0) != 0)
		goto out;
	if (c->rep->nsigs == 0) {
		sc_err_set(c->err, SC_E_UNSUPPORTED_DOCUMENT,
		    "the XML holds no ds:Signature");
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < x.ndup; i++)
		xmlFree(x.dup[i]);
	if (x.doc != NULL)
		xmlFreeDoc(x.doc);
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
	return rc;
}
