/*
 * signer_xades_core.c: the XMLDSig core of a XAdES signature (W3C
 * XMLDSig 1.1 §3) with the private key in the HSM, and its verification
 * before release.
 *
 * xmlsec 1.2.37 cannot sign with a token key on OpenSSL 3 (it takes a key
 * without its private components for a public key). So, as the brief
 * §2.4 "route A" says: xmlsec signs the finished template with a
 * throw-away software key of the same family, which fills every
 * DigestValue and gives the canonical SignedInfo; the HSM signs those
 * octets; the SignatureValue is replaced; and the document is verified
 * again with the real certificate so that no throw-away value can ever
 * leave.
 */
/* xmlsec1 1.2.37's OpenSSL headers still name RSA, DSA and EC_KEY: this
 * file is compiled with the deprecated declarations visible. */
#undef OPENSSL_NO_DEPRECATED

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "xades_int.h"

struct alg_row {
	enum sc_xades_digest d;
	const char *md_name;
	const char *digest_uri;
	const char *rsa_uri;
	const char *ec_uri;
};

static const struct alg_row alg_rows[] = {
    {SC_XADES_SHA256, "SHA256", "http://www.w3.org/2001/04/xmlenc#sha256",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"},
    {SC_XADES_SHA384, "SHA384", "http://www.w3.org/2001/04/xmldsig-more#sha384",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"},
    {SC_XADES_SHA512, "SHA512", "http://www.w3.org/2001/04/xmlenc#sha512",
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"},
};

int
xades_algs_init(struct xades_algs *a, enum sc_xades_digest d, EVP_PKEY *pub,
    int excl, struct sc_err *err)
{
	const struct alg_row *r = NULL;

	for (size_t i = 0; i < sizeof(alg_rows) / sizeof(alg_rows[0]); i++)
		if (alg_rows[i].d == d)
			r = &alg_rows[i];
	if (r == NULL)
		return sc_err_set(err, SC_E_USAGE, "unknown digest algorithm");
	a->md = EVP_get_digestbyname(r->md_name);
	a->digest_uri = r->digest_uri;
	a->excl = excl;
	if (EVP_PKEY_is_a(pub, "RSA")) {
		a->is_ec = 0;
		a->sig_uri = r->rsa_uri;
		if (EVP_PKEY_get_bits(pub) < 2048)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "RSA keys under 2048 bits are refused");
	} else if (EVP_PKEY_is_a(pub, "EC")) {
		a->is_ec = 1;
		a->sig_uri = r->ec_uri;
	} else {
		/* xmlsec 1.2.37 has no RSA-PSS and no EdDSA (brief §0.5). */
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "only RSA (PKCS#1 v1.5) and ECDSA keys can sign XAdES");
	}
	if (a->md == NULL)
		return sc_err_crypto(err, SC_E_CRYPTO, "digest unavailable");
	return 0;
}

const EVP_MD *
xades_md_from_uri(const char *uri)
{
	for (size_t i = 0;
	     uri != NULL && i < sizeof(alg_rows) / sizeof(alg_rows[0]); i++)
		if (strcmp(uri, alg_rows[i].digest_uri) == 0)
			return EVP_get_digestbyname(alg_rows[i].md_name);
	return NULL;
}

/* The signature algorithm of @uri: digest and family, or -1. */
static int
sig_alg(const char *uri, const EVP_MD **md, int *is_ec)
{
	for (size_t i = 0;
	     uri != NULL && i < sizeof(alg_rows) / sizeof(alg_rows[0]); i++) {
		if (strcmp(uri, alg_rows[i].rsa_uri) == 0 ||
		    strcmp(uri, alg_rows[i].ec_uri) == 0) {
			*md = EVP_get_digestbyname(alg_rows[i].md_name);
			*is_ec = strcmp(uri, alg_rows[i].ec_uri) == 0;
			return *md != NULL ? 0 : -1;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Throw-away keys: made once per process, never used for anything that
 * leaves it (their SignatureValue is always replaced, then verified). */

static pthread_once_t tk_rsa_once = PTHREAD_ONCE_INIT;
static pthread_once_t tk_ec_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *tk_rsa, *tk_ec; /* written once, in tk_*_init */

/* 1024 bits: enough room for a PKCS#1 v1.5 SHA-512 DigestInfo, and a
 * quarter of a 2048-bit key's generation time per process; its value is
 * discarded, so its strength does not matter. */
static void
tk_rsa_init(void)
{
	tk_rsa = EVP_RSA_gen(1024);
}

static void
tk_ec_init(void)
{
	tk_ec = EVP_EC_gen("P-256");
}

/* The throw-away key of the family, made on first use. */
static EVP_PKEY *
tk_get(int is_ec)
{
	if (pthread_once(is_ec ? &tk_ec_once : &tk_rsa_once,
		is_ec ? tk_ec_init : tk_rsa_init) != 0)
		return NULL;
	return is_ec ? tk_ec : tk_rsa;
}

/* An xmlsec key holding a new reference to @pk. */
static xmlSecKeyPtr
xmlsec_key(EVP_PKEY *pk, struct sc_err *err)
{
	xmlSecKeyDataPtr data;
	xmlSecKeyPtr key;

	if (pk == NULL || EVP_PKEY_up_ref(pk) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "no key for xmlsec");
		return NULL;
	}
	data = xmlSecOpenSSLEvpKeyAdopt(pk);
	if (data == NULL) {
		EVP_PKEY_free(pk);
		sc_err_set(err, SC_E_CRYPTO, "xmlsec refused the key");
		return NULL;
	}
	key = xmlSecKeyCreate();
	if (key == NULL || xmlSecKeySetValue(key, data) < 0) {
		xmlSecKeyDataDestroy(data);
		if (key != NULL)
			xmlSecKeyDestroy(key);
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	return key;
}

/* The allow-lists of brief §2.5 step 2: no XPath, XSLT, base64, SHA-1. */
static int
allow_lists(xmlSecDSigCtxPtr ctx, struct sc_err *err)
{
	xmlSecTransformId ref_ok[] = {xmlSecTransformExclC14NId,
	    xmlSecTransformInclC14NId, xmlSecTransformEnvelopedId,
	    xmlSecTransformSha256Id, xmlSecTransformSha384Id,
	    xmlSecTransformSha512Id};
	xmlSecTransformId sig_ok[] = {xmlSecTransformExclC14NId,
	    xmlSecTransformInclC14NId, xmlSecTransformRsaSha256Id,
	    xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id,
	    xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id,
	    xmlSecTransformEcdsaSha512Id, xmlSecTransformSha256Id,
	    xmlSecTransformSha384Id, xmlSecTransformSha512Id};

	ctx->enabledReferenceUris =
	    xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument;
	for (size_t i = 0; i < sizeof(ref_ok) / sizeof(ref_ok[0]); i++)
		if (xmlSecDSigCtxEnableReferenceTransform(ctx, ref_ok[i]) < 0)
			return sc_err_set(err, SC_E_INTERNAL, "xmlsec set-up");
	for (size_t i = 0; i < sizeof(sig_ok) / sizeof(sig_ok[0]); i++)
		if (xmlSecDSigCtxEnableSignatureTransform(ctx, sig_ok[i]) < 0)
			return sc_err_set(err, SC_E_INTERNAL, "xmlsec set-up");
	return 0;
}

static void
unlink_detached(struct xades_dref *dr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dr[i].prev = dr[i].ref->prev;
		xmlUnlinkNode(dr[i].ref);
	}
}

/* Back where they were: reverse order restores the original order. */
static void
relink_detached(xmlNodePtr si, struct xades_dref *dr, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		if (dr[i].prev != NULL)
			xmlAddNextSibling(dr[i].prev, dr[i].ref);
		else if (si->children != NULL)
			xmlAddPrevSibling(si->children, dr[i].ref);
		else
			xmlAddChild(si, dr[i].ref);
	}
}

/* DER ECDSA-Sig-Value to XMLDSig r||s (RFC 4050 §3.3, RFC 6931 §3.3.1). */
static int
ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t half, uint8_t **out,
    size_t *outlen, struct sc_err *err)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	uint8_t *raw;
	int rc = -1;

	es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (es == NULL || p != der + len)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	raw = malloc(2 * half);
	if (raw == NULL)
		goto out;
	if (BN_bn2binpad(r, raw, (int)half) < 0 ||
	    BN_bn2binpad(s, raw + half, (int)half) < 0) {
		free(raw);
		goto out;
	}
	*out = raw;
	*outlen = 2 * half;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	if (rc != 0)
		sc_err_crypto(err, SC_E_HSM,
		    "the HSM returned a malformed "
		    "ECDSA signature");
	return rc;
}

static int
ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **out, size_t *outlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int n;

	if (es == NULL || len == 0 || len % 2 != 0)
		goto fail;
	r = BN_bin2bn(raw, (int)(len / 2), NULL);
	s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
		goto fail;
	r = s = NULL; /* owned by es */
	n = i2d_ECDSA_SIG(es, &der);
	if (n <= 0)
		goto fail;
	ECDSA_SIG_free(es);
	*out = der;
	*outlen = (size_t)n;
	return 0;
fail:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return -1;
}

int
xades_sign_core(xmlNodePtr sig, EVP_PKEY *key, const struct xades_algs *a,
    struct xades_dref *dr, size_t ndr, struct sc_err *err)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlNodePtr si, sv;
	struct sc_buf c14n;
	EVP_MD_CTX *md = NULL;
	uint8_t *s = NULL, *raw = NULL;
	size_t slen = 0, rawlen = 0;
	char *b64 = NULL;
	int rc = -1, unlinked = 0;

	sc_buf_init(&c14n, 1u << 20);
	si = xml_child(sig, NS_DS, "SignedInfo");
	sv = xml_child(sig, NS_DS, "SignatureValue");
	if (si == NULL || sv == NULL) {
		sc_err_set(err, SC_E_INTERNAL, "incomplete signature template");
		goto out;
	}
	if (tk_get(a->is_ec) == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot make the xmlsec "
		    "working keys");
		goto out;
	}
	ctx = xmlSecDSigCtxCreate(NULL);
	if (ctx == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (allow_lists(ctx, err) != 0)
		goto out;
	ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNATURE;
	ctx->signKey = xmlsec_key(tk_get(a->is_ec), err);
	if (ctx->signKey == NULL)
		goto out;
	unlink_detached(dr, ndr);
	unlinked = 1;
	if (xmlSecDSigCtxSign(ctx, sig) < 0 ||
	    ctx->status != xmlSecDSigStatusSucceeded) {
		sc_err_set(err, SC_E_CRYPTO,
		    "xmlsec could not process the "
		    "signature template");
		goto out;
	}
	relink_detached(si, dr, ndr);
	unlinked = 0;

	/* The canonical SignedInfo, ours; xmlsec's must be the same. */
	if (xml_c14n(si, a->excl, &c14n, err) != 0)
		goto out;
	if (ndr == 0) {
		xmlSecBufferPtr pre = xmlSecDSigCtxGetPreSignBuffer(ctx);

		if (pre == NULL || xmlSecBufferGetSize(pre) != c14n.len ||
		    memcmp(xmlSecBufferGetData(pre), c14n.p, c14n.len) != 0) {
			sc_err_set(err, SC_E_INTERNAL,
			    "canonical SignedInfo differs from xmlsec's");
			goto out;
		}
	}

	/* The HSM signs (EVP_PKEY whose operations run on the token). */
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, a->md, NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &slen, c14n.p, c14n.len) != 1) {
		sc_err_crypto(err, SC_E_HSM, "cannot start signing in the HSM");
		goto out;
	}
	s = malloc(slen);
	if (s == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(md, s, &slen, c14n.p, c14n.len) != 1) {
		sc_err_crypto(err, SC_E_HSM, "the HSM did not sign");
		goto out;
	}
	if (a->is_ec) {
		size_t half = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;

		if (ecdsa_der_to_raw(s, slen, half, &raw, &rawlen, err) != 0)
			goto out;
		b64 = sc_b64_encode(raw, rawlen, 0);
	} else {
		b64 = sc_b64_encode(s, slen, 0);
	}
	if (b64 == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	xmlNodeSetContent(sv, XC b64);
	rc = 0;
out:
	if (unlinked)
		relink_detached(si, dr, ndr);
	free(b64);
	free(raw);
	free(s);
	EVP_MD_CTX_free(md);
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	sc_buf_free(&c14n);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Verification                                                        */

static const struct sc_xades_detached *
find_detached(const char *uri, const struct sc_xades_detached *det, size_t ndet)
{
	for (size_t i = 0; i < ndet; i++)
		if (det[i].uri != NULL && strcmp(det[i].uri, uri) == 0)
			return &det[i];
	return NULL;
}

static char *
attr(xmlNodePtr n, const char *name)
{
	return (char *)xmlGetProp(n, XC name);
}

static char *
child_alg(xmlNodePtr n, const char *name)
{
	xmlNodePtr c = xml_child(n, NS_DS, name);

	return c != NULL ? attr(c, "Algorithm") : NULL;
}

/* A detached reference: its DigestValue against the caller's data. */
static int
check_detached(xmlNodePtr ref, const struct sc_xades_detached *d,
    struct sc_err *err)
{
	char *alg = child_alg(ref, "DigestMethod");
	const EVP_MD *md = xades_md_from_uri(alg);
	uint8_t h[EVP_MAX_MD_SIZE], *dv = NULL;
	unsigned int hl = 0;
	size_t dvl = 0;
	int rc = -1;

	if (md == NULL || xml_child(ref, NS_DS, "Transforms") != NULL) {
		sc_err_set(err, SC_E_CRYPTO,
		    "detached reference with an "
		    "unsupported digest or transform");
		goto out;
	}
	if (d->data != NULL) {
		if (EVP_Digest(d->data, d->len, h, &hl, md, NULL) != 1) {
			sc_err_crypto(err, SC_E_CRYPTO, "digest failed");
			goto out;
		}
	} else {
		if (d->digest == NULL || d->digest_len > sizeof(h)) {
			sc_err_set(err, SC_E_USAGE, "no detached data");
			goto out;
		}
		memcpy(h, d->digest, d->digest_len);
		hl = (unsigned int)d->digest_len;
	}
	if (xml_b64_content(xml_child(ref, NS_DS, "DigestValue"), &dv, &dvl,
		err) != 0)
		goto out;
	if (dvl != hl || !sc_ct_equal(dv, h, hl)) {
		sc_err_set(err, SC_E_CRYPTO,
		    "the detached data \"%.100s\" "
		    "does not match its digest",
		    d->uri);
		goto out;
	}
	rc = 0;
out:
	free(dv);
	xmlFree(alg);
	return rc;
}

/* SignatureValue over our own c14n of SignedInfo, with OpenSSL only. */
static int
check_sigvalue(xmlNodePtr sig, EVP_PKEY *pub, struct sc_err *err)
{
	xmlNodePtr si = xml_child(sig, NS_DS, "SignedInfo");
	xmlNodePtr sv = xml_child(sig, NS_DS, "SignatureValue");
	char *c14n_alg = child_alg(si, "CanonicalizationMethod");
	char *sm = child_alg(si, "SignatureMethod");
	uint8_t *v = NULL, *der = NULL;
	size_t vl = 0, derl = 0;
	const EVP_MD *md = NULL;
	EVP_MD_CTX *mctx = NULL;
	struct sc_buf c;
	int is_ec = 0, excl, rc = -1;

	sc_buf_init(&c, 1u << 20);
	if (c14n_alg == NULL || sm == NULL || sv == NULL) {
		sc_err_set(err, SC_E_CRYPTO, "incomplete ds:SignedInfo");
		goto out;
	}
	if (strcmp(c14n_alg, C14N_EXCL) == 0)
		excl = 1;
	else if (strcmp(c14n_alg, C14N_INCL) == 0)
		excl = 0;
	else {
		sc_err_set(err, SC_E_CRYPTO, "canonicalisation not allowed");
		goto out;
	}
	if (sig_alg(sm, &md, &is_ec) != 0 ||
	    is_ec != EVP_PKEY_is_a(pub, "EC")) {
		sc_err_set(err, SC_E_CRYPTO, "signature method not allowed");
		goto out;
	}
	if (xml_c14n(si, excl, &c, err) != 0 ||
	    xml_b64_content(sv, &v, &vl, err) != 0)
		goto out;
	if (is_ec) {
		if (ecdsa_raw_to_der(v, vl, &der, &derl) != 0) {
			sc_err_set(err, SC_E_CRYPTO, "malformed ECDSA value");
			goto out;
		}
	}
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL ||
	    EVP_DigestVerifyInit(mctx, NULL, md, NULL, pub) != 1 ||
	    EVP_DigestVerify(mctx, is_ec ? der : v, is_ec ? derl : vl, c.p,
		c.len) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "XMLDSig §3.2.2: the SignatureValue does not verify");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	free(v);
	xmlFree(c14n_alg);
	xmlFree(sm);
	sc_buf_free(&c);
	return rc;
}

int
xades_verify_core(xmlNodePtr sig, X509 *cert,
    const struct sc_xades_detached *det, size_t ndet, struct sc_buf *refs,
    struct sc_err *err)
{
	struct xades_dref dr[XADES_MAX_DETACHED];
	xmlNodePtr refnodes[XADES_MAX_REFS];
	xmlSecDSigCtxPtr ctx = NULL;
	xmlNodePtr si;
	EVP_PKEY *pub;
	size_t nref = 0, ndr = 0, k = 0;
	int rc = -1, unlinked = 0;

	pub = X509_get0_pubkey(cert);
	si = xml_child(sig, NS_DS, "SignedInfo");
	if (pub == NULL || si == NULL) {
		sc_err_set(err, SC_E_CRYPTO, "no ds:SignedInfo or key");
		goto out;
	}
	for (xmlNodePtr r = xml_first_el(si); r != NULL; r = xml_next_el(r)) {
		char *uri;
		const struct sc_xades_detached *d;

		if (!xml_is(r, NS_DS, "Reference"))
			continue;
		if (nref == XADES_MAX_REFS) {
			sc_err_set(err, SC_E_CRYPTO, "over %d references",
			    XADES_MAX_REFS);
			goto out;
		}
		refnodes[nref++] = r;
		uri = attr(r, "URI");
		if (uri == NULL || uri[0] == '\0' || uri[0] == '#') {
			xmlFree(uri);
			continue;
		}
		d = find_detached(uri, det, ndet);
		xmlFree(uri);
		if (d == NULL || ndr == XADES_MAX_DETACHED) {
			sc_err_set(err, SC_E_USAGE,
			    "a detached reference has "
			    "no data to check it");
			goto out;
		}
		if (check_detached(r, d, err) != 0)
			goto out;
		dr[ndr].ref = r;
		dr[ndr].d = d;
		ndr++;
	}

	ctx = xmlSecDSigCtxCreate(NULL);
	if (ctx == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (allow_lists(ctx, err) != 0)
		goto out;
	if (refs != NULL)
		ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
	ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	/* The key is the certificate's: ds:KeyInfo is never read. */
	ctx->signKey = xmlsec_key(pub, err);
	if (ctx->signKey == NULL)
		goto out;
	unlink_detached(dr, ndr);
	unlinked = 1;
	if (xmlSecDSigCtxVerify(ctx, sig) < 0) {
		sc_err_set(err, SC_E_CRYPTO,
		    "xmlsec could not process the "
		    "signature");
		goto out;
	}
	relink_detached(si, dr, ndr);
	unlinked = 0;
	if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != nref - ndr) {
		sc_err_set(err, SC_E_CRYPTO,
		    "XMLDSig §3.2.1: a reference "
		    "does not verify");
		goto out;
	}
	for (xmlSecSize i = 0; i < nref - ndr; i++) {
		xmlSecDSigReferenceCtxPtr rc1 =
		    xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);

		if (rc1 == NULL || rc1->status != xmlSecDSigStatusSucceeded) {
			sc_err_set(err, SC_E_CRYPTO,
			    "XMLDSig §3.2.1: "
			    "reference %u does not "
			    "verify",
			    (unsigned)i);
			goto out;
		}
	}
	/* With detached references taken out, xmlsec's SignatureValue check
	 * cannot succeed; ours below is the one that counts then. */
	if (ndr == 0 && ctx->status != xmlSecDSigStatusSucceeded) {
		sc_err_set(err, SC_E_CRYPTO,
		    "XMLDSig §3.2.2: the SignatureValue does not verify");
		goto out;
	}
	if (check_sigvalue(sig, pub, err) != 0)
		goto out;

	/* ATS step 1: every reference's output, in SignedInfo order. */
	for (size_t i = 0; refs != NULL && i < nref; i++) {
		const struct sc_xades_detached *d = NULL;
		xmlSecDSigReferenceCtxPtr r1;
		xmlSecBufferPtr b;

		for (size_t j = 0; j < ndr; j++)
			if (dr[j].ref == refnodes[i])
				d = dr[j].d;
		if (d != NULL) {
			if (d->data == NULL) {
				sc_err_set(err, SC_E_USAGE,
				    "an archive time-stamp needs the detached "
				    "data, not only its digest");
				goto out;
			}
			if (sc_buf_append(refs, d->data, d->len, err) != 0)
				goto out;
			continue;
		}
		r1 = xmlSecPtrListGetItem(&ctx->signedInfoReferences,
		    (xmlSecSize)k++);
		b = r1 != NULL ? xmlSecDSigReferenceCtxGetPreDigestBuffer(r1)
			       : NULL;
		if (b == NULL ||
		    sc_buf_append(refs, xmlSecBufferGetData(b),
			xmlSecBufferGetSize(b), err) != 0) {
			sc_err_set(err, SC_E_INTERNAL,
			    "no reference output for the archive time-stamp");
			goto out;
		}
	}
	rc = 0;
out:
	if (unlinked)
		relink_detached(si, dr, ndr);
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	return rc;
}
