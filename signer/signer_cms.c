/*
 * signer_cms.c: detached CMS SignedData for PAdES (ETSI EN 319 142-1
 * §6.3, EN 319 122-1 §5) signed by an HSM key.
 *
 * OpenSSL's CMS_SignerInfo_sign() adds a signing-time attribute whenever
 * none is present, and PAdES baseline forbids it (EN 319 142-1 §6.3,
 * table 1, "signing-time: shall not be present"). So OpenSSL only builds
 * the structure here (CMS_PARTIAL): we add content-type and
 * message-digest, DER-encode the signed attributes as a SET OF ourselves
 * (RFC 5652 §5.4: the DER of the SET, tag 0x31), sign that with
 * EVP_DigestSign on the token, and set the signature value.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "sceau/cms.h"

#define MAX_ATTRS 16

struct der_item {
	uint8_t *p;
	size_t len;
};

/* X.690 §11.6: SET OF components sorted as octet strings, the shorter
 * one padded with trailing zero octets. */
static int
der_cmp(const void *a, const void *b)
{
	const struct der_item *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	for (size_t i = n; i < x->len; i++)
		if (x->p[i] != 0)
			return 1;
	for (size_t i = n; i < y->len; i++)
		if (y->p[i] != 0)
			return -1;
	return 0;
}

/* DER length octets of @n into @out (at most 5 bytes). */
static size_t
der_len(size_t n, uint8_t *out)
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	if (n <= 0xff) {
		out[0] = 0x81;
		out[1] = (uint8_t)n;
		return 2;
	}
	if (n <= 0xffff) {
		out[0] = 0x82;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)n;
		return 3;
	}
	out[0] = 0x83;
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return 4;
}

/* The DER of SignedAttributes as signed (RFC 5652 §5.4). */
static int
signed_attrs_der(CMS_SignerInfo *si, uint8_t **out, size_t *outlen,
    struct sc_err *err)
{
	struct der_item it[MAX_ATTRS];
	int n = CMS_signed_get_attr_count(si), rc = -1;
	size_t total = 0, hl, off;
	uint8_t hdr[8], *buf = NULL;

	memset(it, 0, sizeof(it));
	if (n <= 0 || n > MAX_ATTRS)
		return sc_err_set(err, SC_E_INTERNAL,
		    "unexpected number of signed attributes (%d)", n);
	for (int i = 0; i < n; i++) {
		unsigned char *p = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &p);

		if (l <= 0) {
			sc_err_crypto(err, SC_E_CRYPTO,
			    "cannot encode a signed attribute");
			goto out;
		}
		it[i].p = p;
		it[i].len = (size_t)l;
		total += (size_t)l;
	}
	qsort(it, (size_t)n, sizeof(it[0]), der_cmp);
	hdr[0] = 0x31;
	hl = 1 + der_len(total, hdr + 1);
	buf = malloc(hl + total);
	if (buf == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(buf, hdr, hl);
	off = hl;
	for (int i = 0; i < n; i++) {
		memcpy(buf + off, it[i].p, it[i].len);
		off += it[i].len;
	}
	*out = buf; /* the caller frees */
	*outlen = off;
	buf = NULL;
	rc = 0;
out:
	for (int i = 0; i < n && i < MAX_ATTRS; i++)
		OPENSSL_free(it[i].p);
	free(buf);
	return rc;
}

/* signatureAlgorithm RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (RFC 4056). */
static int
set_pss_alg(CMS_SignerInfo *si, struct sc_err *err)
{
	X509_ALGOR *sigalg = NULL, *mgfmd = NULL;
	RSA_PSS_PARAMS *pp = NULL;
	ASN1_STRING *mgfs = NULL, *os = NULL;
	int rc = -1;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sigalg);
	pp = RSA_PSS_PARAMS_new();
	mgfmd = X509_ALGOR_new();
	if (sigalg == NULL || pp == NULL || mgfmd == NULL)
		goto fail;
	pp->hashAlgorithm = X509_ALGOR_new();
	pp->maskGenAlgorithm = X509_ALGOR_new();
	pp->saltLength = ASN1_INTEGER_new();
	if (pp->hashAlgorithm == NULL || pp->maskGenAlgorithm == NULL ||
	    pp->saltLength == NULL ||
	    ASN1_INTEGER_set(pp->saltLength, 32) != 1)
		goto fail;
	X509_ALGOR_set_md(pp->hashAlgorithm, EVP_sha256());
	X509_ALGOR_set_md(mgfmd, EVP_sha256());
	mgfs = ASN1_item_pack(mgfmd, ASN1_ITEM_rptr(X509_ALGOR), NULL);
	if (mgfs == NULL ||
	    X509_ALGOR_set0(pp->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
		V_ASN1_SEQUENCE, mgfs) != 1)
		goto fail;
	mgfs = NULL; /* owned by pp */
	os = ASN1_item_pack(pp, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL);
	if (os == NULL ||
	    X509_ALGOR_set0(sigalg, OBJ_nid2obj(EVP_PKEY_RSA_PSS),
		V_ASN1_SEQUENCE, os) != 1)
		goto fail;
	os = NULL; /* owned by the SignerInfo */
	rc = 0;
	goto out;
fail:
	sc_err_crypto(err, SC_E_CRYPTO, "cannot set the RSASSA-PSS parameters");
out:
	ASN1_STRING_free(mgfs);
	ASN1_STRING_free(os);
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pp);
	return rc;
}

/* Signs @tbs on the token; *sig malloc'd. */
static int
hsm_sign(const struct sc_cms_signer *s, const uint8_t *tbs, size_t tbslen,
    uint8_t **sig, size_t *siglen, struct sc_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = -1;

	if (md == NULL ||
	    EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, s->key) != 1) {
		sc_err_crypto(err, SC_E_HSM, "cannot start signing");
		goto out;
	}
	if (s->pss &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) <= 0 ||
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)) {
		sc_err_crypto(err, SC_E_HSM, "the key does not do RSASSA-PSS");
		goto out;
	}
	if (EVP_DigestSign(md, NULL, &n, tbs, tbslen) != 1 ||
	    (p = malloc(n)) == NULL) {
		sc_err_crypto(err, SC_E_HSM, "cannot size the signature");
		goto out;
	}
	if (EVP_DigestSign(md, p, &n, tbs, tbslen) != 1) {
		sc_err_crypto(err, SC_E_HSM, "the HSM did not sign");
		goto out;
	}
	*sig = p; /* the caller frees */
	*siglen = n;
	p = NULL;
	rc = 0;
out:
	free(p);
	EVP_MD_CTX_free(md);
	return rc;
}

static int
has_cert(CMS_ContentInfo *cms, X509 *x)
{
	STACK_OF(X509) *st = CMS_get1_certs(cms);
	int found = 0;

	for (int i = 0; st != NULL && i < sk_X509_num(st); i++)
		if (X509_cmp(sk_X509_value(st, i), x) == 0)
			found = 1;
	sk_X509_pop_free(st, X509_free);
	return found;
}

/* Builds the CMS; with @dry, a zero signature of the key's maximum
 * size stands for the real one (for sizing, no HSM operation). */
static int
cms_build(const struct sc_cms_signer *s, const uint8_t digest[32],
    const struct sc_cms_tsa *tsa, int dry, uint8_t **der, size_t *len,
    struct sc_err *err)
{
	const unsigned flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY |
	    CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	uint8_t *attrs = NULL, *sig = NULL, *tok = NULL, *out = NULL;
	size_t attrs_len = 0, sig_len = 0, tok_len = 0;
	int n, rc = -1;

	*der = NULL;
	*len = 0;
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (cms == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot create a SignedData");
		goto out;
	}
	/* The public half stands for the key: nothing is signed here. */
	si = CMS_add1_signer(cms, s->cert, s->pub, EVP_sha256(),
	    flags | CMS_CADES);
	if (si == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "the certificate does not match the key");
		goto out;
	}
	for (size_t i = 0; i < s->nchain; i++)
		if (!has_cert(cms, s->chain[i]) &&
		    CMS_add1_cert(cms, s->chain[i]) != 1) {
			sc_err_crypto(err, SC_E_CRYPTO,
			    "cannot add a chain certificate");
			goto out;
		}
	/* RFC 5652 §11.1 content-type id-data; §11.2 message-digest. */
	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType,
		V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest,
		V_ASN1_OCTET_STRING, digest, 32) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot add signed attributes");
		goto out;
	}
	if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0 ||
	    CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2,
		-1) < 0) {
		sc_err_set(err, SC_E_INTERNAL, "EN 319 142-1 §6.3: signed "
		    "attributes are not those of PAdES baseline");
		goto out;
	}
	if (s->pss && set_pss_alg(si, err) != 0)
		goto out;
	if (signed_attrs_der(si, &attrs, &attrs_len, err) != 0)
		goto out;
	if (dry) {
		int ks = EVP_PKEY_get_size(s->pub);

		/* An ECDSA value is a SEQUENCE of two INTEGERs; its
		 * maximum DER size is what EVP_PKEY_get_size gives. */
		if (ks <= 0 || (sig = calloc(1, (size_t)ks)) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		sig_len = (size_t)ks;
	} else if (hsm_sign(s, attrs, attrs_len, &sig, &sig_len, err) != 0)
		goto out;
	if (sig_len > INT32_MAX ||
	    ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig,
		(int)sig_len) != 1) {
		sc_err_crypto(err, SC_E_NOMEM, "cannot set the signature");
		goto out;
	}
	if (!dry && tsa != NULL && tsa->fn != NULL) {
		uint8_t md[32];

		/* EN 319 122-1 §5.3: the time-stamp is over the value of
		 * the signature field of the SignerInfo. */
		sc_sha256(sig, sig_len, md);
		if (tsa->fn(tsa->arg, md, &tok, &tok_len, err) != 0)
			goto out;
		if (tok_len > INT32_MAX ||
		    CMS_unsigned_add1_attr_by_NID(si,
			NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, tok,
			(int)tok_len) != 1) {
			sc_err_crypto(err, SC_E_CRYPTO,
			    "cannot add the signature time-stamp");
			goto out;
		}
	}
	n = i2d_CMS_ContentInfo(cms, NULL);
	if (n <= 0 || (out = malloc((size_t)n)) == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode the CMS");
		goto out;
	}
	{
		unsigned char *p = out;

		if (i2d_CMS_ContentInfo(cms, &p) != n) {
			sc_err_crypto(err, SC_E_CRYPTO,
			    "cannot encode the CMS");
			goto out;
		}
	}
	*der = out; /* the caller frees */
	*len = (size_t)n;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(tok);
	free(sig);
	free(attrs);
	CMS_ContentInfo_free(cms);
	return rc;
}

int
sc_cms_sign_digest(const struct sc_cms_signer *s, const uint8_t digest[32],
    const struct sc_cms_tsa *tsa, uint8_t **der, size_t *len,
    struct sc_err *err)
{
	return cms_build(s, digest, tsa, 0, der, len, err);
}

int
sc_cms_size(const struct sc_cms_signer *s, size_t *len, struct sc_err *err)
{
	uint8_t d[32] = {0}, *der = NULL;

	if (cms_build(s, d, NULL, 1, &der, len, err) != 0)
		return -1;
	free(der);
	return 0;
}

/* Appends the certificates of @cms to *v. */
static int
push_certs(CMS_ContentInfo *cms, X509 ***v, size_t *n, struct sc_err *err)
{
	STACK_OF(X509) *st = CMS_get1_certs(cms);
	int rc = 0;

	for (int i = 0; st != NULL && i < sk_X509_num(st); i++) {
		X509 **nv = realloc(*v, (*n + 1) * sizeof(**v));

		if (nv == NULL) {
			rc = sc_err_set(err, SC_E_NOMEM, "out of memory");
			break;
		}
		*v = nv;
		if (X509_up_ref(sk_X509_value(st, i)) != 1) {
			rc = sc_err_set(err, SC_E_CRYPTO, "X509_up_ref");
			break;
		}
		(*v)[(*n)++] = sk_X509_value(st, i);
	}
	sk_X509_pop_free(st, X509_free);
	return rc;
}

/* Parses DER that may be followed by zero padding (a PDF /Contents). */
static CMS_ContentInfo *
parse_cms(const uint8_t *der, size_t len, struct sc_err *err)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms;

	if (len > (size_t)LONG_MAX)
		len = (size_t)LONG_MAX;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL) {
		sc_err_crypto(err, SC_E_INVALID_PDF,
		    "a signature's /Contents is not a CMS");
		return NULL;
	}
	for (const uint8_t *q = p; q < der + len; q++)
		if (*q != 0) {
			CMS_ContentInfo_free(cms);
			sc_err_set(err, SC_E_INVALID_PDF,
			    "trailing bytes after a signature's CMS");
			return NULL;
		}
	return cms;
}

int
sc_cms_certs(const uint8_t *der, size_t len, X509 ***certs, size_t *ncerts,
    uint8_t **tst, size_t *tst_len, struct sc_err *err)
{
	CMS_ContentInfo *cms = NULL, *tcms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	X509 **v = NULL;
	size_t n = 0;
	uint8_t *t = NULL;
	size_t tl = 0;
	int rc = -1;

	*certs = NULL;
	*ncerts = 0;
	if (tst != NULL) {
		*tst = NULL;
		*tst_len = 0;
	}
	cms = parse_cms(der, len, err);
	if (cms == NULL)
		goto out;
	if (push_certs(cms, &v, &n, err) != 0)
		goto out;
	sis = CMS_get0_SignerInfos(cms);
	if (sis != NULL && sk_CMS_SignerInfo_num(sis) >= 1) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
		int i = CMS_unsigned_get_attr_by_NID(si,
		    NID_id_smime_aa_timeStampToken, -1);
		X509_ATTRIBUTE *a = i >= 0 ? CMS_unsigned_get_attr(si, i)
					   : NULL;
		ASN1_TYPE *ty = a != NULL ? X509_ATTRIBUTE_get0_type(a, 0)
					  : NULL;

		if (ty != NULL && ty->type == V_ASN1_SEQUENCE) {
			const ASN1_STRING *s = ty->value.sequence;

			tl = (size_t)ASN1_STRING_length(s);
			t = malloc(tl);
			if (t == NULL) {
				sc_err_set(err, SC_E_NOMEM, "out of memory");
				goto out;
			}
			memcpy(t, ASN1_STRING_get0_data(s), tl);
			tcms = parse_cms(t, tl, err);
			if (tcms == NULL || push_certs(tcms, &v, &n, err) != 0)
				goto out;
		}
	}
	*certs = v; /* the caller frees */
	*ncerts = n;
	v = NULL;
	n = 0;
	if (tst != NULL) {
		*tst = t;
		*tst_len = tl;
		t = NULL;
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		X509_free(v[i]);
	free(v);
	free(t);
	CMS_ContentInfo_free(tcms);
	CMS_ContentInfo_free(cms);
	return rc;
}
