/*
 * verify_cms.c: the cryptographic check of CMS signatures (CAdES, the
 * CMS inside PAdES, RFC 3161 tokens), done by hand on top of OpenSSL's
 * decoders. CMS_verify() is not used as a verdict (validation brief
 * §2.2): it hashes signed attributes as received, trusts digestAlgorithm
 * over signatureAlgorithm and rejects a DigestInfo without NULL.
 *
 * Per SignerInfo, in order (RFC 5652 §5.4 and §5.6, EN 319 102-1 §5.2.7):
 *  1. the signer certificate is found among the certificates;
 *  2. digestAlgorithm is an allow-listed digest, signatureAlgorithm is
 *     consistent with it and with the key;
 *  3. contentType, messageDigest, signingTime and the ESS signing
 *     certificate attributes occur once with one value (RFC 5652 §11,
 *     EN 319 122-1 §5.2);
 *  4. messageDigest equals the digest of the content;
 *  5. the signature value verifies over the DER encoding of the signed
 *     attributes, re-sorted into DER SET OF order (X.690 §11.6);
 *  6. the ESS signing-certificate(-v2) attribute names the certificate
 *     used (RFC 5035, EN 319 102-1 §5.2.3 ISC).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "verify_asn1.h"
#include "verify_int.h"

/* OIDs OpenSSL 3.0 does not name. */
#define OID_ARCHIVE_TS_V2 "1.2.840.113549.1.9.16.2.48" /* RFC 5126 */
#define OID_ARCHIVE_TS_V3 "0.4.0.1733.2.4"             /* EN 319 122-1 */
#define OID_CONTENT_TS "1.2.840.113549.1.9.16.2.20"    /* RFC 5126 */
#define OID_ATS_HASH_INDEX "0.4.0.1733.2.5"            /* TS 101 733 */
#define OID_ATS_HASH_INDEX_V3 "0.4.0.19122.1.5"        /* EN 319 122-1 */
#define OID_REVOCATION_VALUES "1.2.840.113549.1.9.16.2.24"
#define OID_CERT_VALUES "1.2.840.113549.1.9.16.2.23"
#define OID_ADBE_REVINFO "1.2.840.113583.1.1.8"  /* ISO 32000-1 §12.8.3.3.2 */
#define OID_PLAIN_ECDSA "0.4.0.127.0.7.1.1.4.1." /* BSI TR-03111 */

/* The digests accepted as digestAlgorithm (RFC 5754, FIPS 202). */
static const EVP_MD *
digest_by_nid(int nid)
{
	switch (nid) {
	case NID_sha1:
	case NID_sha224:
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
	case NID_sha3_224:
	case NID_sha3_256:
	case NID_sha3_384:
	case NID_sha3_512:
		return EVP_get_digestbynid(nid);
	default:
		break;
	}
	return NULL;
}

static int
algor_nid(const X509_ALGOR *a)
{
	const ASN1_OBJECT *obj = NULL;

	if (a == NULL)
		return NID_undef;
	X509_ALGOR_get0(&obj, NULL, NULL, a);
	return obj == NULL ? NID_undef : OBJ_obj2nid(obj);
}

static void
algor_txt(const X509_ALGOR *a, char *buf, int len)
{
	const ASN1_OBJECT *obj = NULL;

	buf[0] = '\0';
	if (a != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, a);
	if (obj != NULL)
		OBJ_obj2txt(buf, len, obj, 1);
}

static int
obj_is(const ASN1_OBJECT *obj, const char *oid)
{
	char buf[80];

	if (obj == NULL || OBJ_obj2txt(buf, sizeof(buf), obj, 1) <= 0)
		return 0;
	return strcmp(buf, oid) == 0;
}

/* Hashes the segments with @md. @return the length, or 0 on failure. */
static unsigned int
hash_segs(const EVP_MD *md, const struct ver_seg *seg, size_t nseg,
    uint8_t out[EVP_MAX_MD_SIZE])
{
	EVP_MD_CTX *ctx;
	unsigned int olen = 0;
	int ok = 0;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto out;
	for (size_t i = 0; i < nseg; i++)
		if (EVP_DigestUpdate(ctx, seg[i].p, seg[i].n) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out, &olen) != 1)
		goto out;
	ok = 1;
out:
	EVP_MD_CTX_free(ctx);
	return ok ? olen : 0;
}

CMS_ContentInfo *
ver_cms_decode(const uint8_t *p, size_t len, int trail_zero_ok,
    int *trail_garbage)
{
	const unsigned char *q = p;
	CMS_ContentInfo *cms;

	if (len == 0 || len > LONG_MAX)
		return NULL;
	if ((cms = d2i_CMS_ContentInfo(NULL, &q, (long)len)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	/* rpki-client cms.c: reject trailing garbage (unless the caller
	 * wants to report it itself). */
	for (; q < p + len; q++) {
		if (trail_zero_ok && *q == 0)
			continue;
		if (trail_garbage == NULL)
			goto bad;
		*trail_garbage = 1;
		break;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		goto bad;
	return cms;
bad:
	CMS_ContentInfo_free(cms);
	return NULL;
}

int
ver_cms_is_tst(CMS_ContentInfo *cms)
{
	return OBJ_obj2nid(CMS_get0_eContentType(cms)) ==
	    NID_id_smime_ct_TSTInfo;
}

/* ------------------------------------------------------------------ */
/* Signed attributes                                                   */

struct der_item {
	uint8_t *p;
	size_t n;
};

/* X.690 §11.6: SET OF components sorted as octet strings. */
static int
der_cmp(const void *a, const void *b)
{
	const struct der_item *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* Writes a DER tag and length; @return bytes written (at most 6). */
static size_t
der_header(uint8_t tag, size_t len, uint8_t *out)
{
	size_t i = 0, n = 0;

	out[i++] = tag;
	if (len < 0x80) {
		out[i++] = (uint8_t)len;
		return i;
	}
	for (size_t l = len; l > 0; l >>= 8)
		n++;
	out[i++] = (uint8_t)(0x80 | n);
	while (n-- > 0)
		out[i++] = (uint8_t)(len >> (8 * n));
	return i;
}

/*
 * RFC 5652 §5.4: the signature covers "the DER encoding of the
 * SignedAttrs value" with an EXPLICIT SET OF tag. OpenSSL encodes the
 * attributes in the order received (CMS_Attributes_Verify keeps the
 * order); DER requires them sorted. Each attribute is re-encoded by
 * i2d_X509_ATTRIBUTE (which sorts its values) and the set is sorted.
 * @return 1 with *out malloc'd, 0 when there are no signed attributes,
 *     -1 on failure.
 */
static int
signed_attrs_der(CMS_SignerInfo *si, uint8_t **out, size_t *outlen,
    int *was_sorted)
{
	struct der_item *it = NULL;
	int n, rc = -1;
	size_t total = 0, hl, pos;
	uint8_t hdr[8], *buf = NULL;

	*out = NULL;
	*was_sorted = 1;
	n = CMS_signed_get_attr_count(si);
	if (n <= 0)
		return 0;
	if ((it = calloc((size_t)n, sizeof(*it))) == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		unsigned char *p = NULL;
		int l = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &p);

		if (l <= 0)
			goto out;
		it[i].p = p;
		it[i].n = (size_t)l;
		total += (size_t)l;
	}
	for (int i = 1; i < n; i++)
		if (der_cmp(&it[i - 1], &it[i]) > 0)
			*was_sorted = 0;
	qsort(it, (size_t)n, sizeof(*it), der_cmp);
	hl = der_header(0x31, total, hdr);
	if ((buf = malloc(hl + total)) == NULL)
		goto out;
	memcpy(buf, hdr, hl);
	pos = hl;
	for (int i = 0; i < n; i++) {
		memcpy(buf + pos, it[i].p, it[i].n);
		pos += it[i].n;
	}
	*out = buf;
	*outlen = pos;
	buf = NULL; /* now the caller's */
	rc = 1;
out:
	for (int i = 0; i < n; i++)
		OPENSSL_free(it[i].p);
	free(it);
	free(buf);
	return rc;
}

/*
 * Finds the single signed attribute @nid with a single value.
 * @return 1 with *val set, 0 when absent, -1 when repeated or
 *     multi-valued (RFC 5652 §11.1-§11.3: "MUST have a single value";
 *     "MUST NOT include multiple instances").
 */
static int
single_attr(CMS_SignerInfo *si, int nid, ASN1_TYPE **val)
{
	int i, j;
	X509_ATTRIBUTE *a;

	*val = NULL;
	i = CMS_signed_get_attr_by_NID(si, nid, -1);
	if (i < 0)
		return 0;
	j = CMS_signed_get_attr_by_NID(si, nid, i);
	if (j >= 0)
		return -1;
	a = CMS_signed_get_attr(si, i);
	if (a == NULL || X509_ATTRIBUTE_count(a) != 1)
		return -1;
	*val = X509_ATTRIBUTE_get0_type(a, 0);
	return *val != NULL ? 1 : -1;
}

/* ------------------------------------------------------------------ */
/* The signature value                                                 */

/* RFC 8017 §8.2.2 step 4 by verify-recover, so that a DigestInfo with
 * absent parameters (accepted by DSS and BouncyCastle, cf. RFC 8017
 * §9.2 note 2) is judged by us, not rejected by OpenSSL. */
static int
verify_pkcs1(EVP_PKEY *pk, int mdnid, const uint8_t *h, size_t hlen,
    const ASN1_OCTET_STRING *sv, const char **why)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	size_t blen = 0;
	const unsigned char *p;
	X509_SIG *di = NULL;
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *dig = NULL;
	const ASN1_OBJECT *aobj = NULL;
	int ptype = V_ASN1_UNDEF, ok = 0;

	*why = "RSA signature value does not verify (RFC 8017 §8.2.2)";
	if ((ctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_verify_recover_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (EVP_PKEY_verify_recover(ctx, NULL, &blen, ASN1_STRING_get0_data(sv),
		(size_t)ASN1_STRING_length(sv)) != 1)
		goto out;
	if (blen == 0 || blen > 16384 || (buf = malloc(blen)) == NULL)
		goto out;
	if (EVP_PKEY_verify_recover(ctx, buf, &blen, ASN1_STRING_get0_data(sv),
		(size_t)ASN1_STRING_length(sv)) != 1)
		goto out;
	p = buf;
	if ((di = d2i_X509_SIG(NULL, &p, (long)blen)) == NULL ||
	    p != buf + blen) {
		*why = "RSA DigestInfo is malformed (RFC 8017 §9.2)";
		goto out;
	}
	X509_SIG_get0(di, &alg, &dig);
	X509_ALGOR_get0(&aobj, &ptype, NULL, alg);
	if (OBJ_obj2nid(aobj) != mdnid) {
		*why = "RSA DigestInfo names another digest than the one "
		       "declared (RFC 8017 §9.2)";
		goto out;
	}
	if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
		*why = "RSA DigestInfo has non-NULL parameters";
		goto out;
	}
	if ((size_t)ASN1_STRING_length(dig) != hlen ||
	    CRYPTO_memcmp(ASN1_STRING_get0_data(dig), h, hlen) != 0)
		goto out;
	ok = 1;
out:
	X509_SIG_free(di);
	free(buf);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* RSASSA-PSS-params (RFC 4055 §3.1); @return 1 when understood. */
static int
pss_params(const X509_ALGOR *salg, int *hnid, int *mgfnid, int *salt)
{
	const ASN1_OBJECT *obj;
	int ptype;
	const void *pval;
	const ASN1_STRING *s;
	const unsigned char *p;
	RSA_PSS_PARAMS *pp = NULL;
	X509_ALGOR *mh = NULL;
	int ok = 0;
	int64_t v;

	*hnid = NID_sha1;
	*mgfnid = NID_sha1;
	*salt = 20;
	X509_ALGOR_get0(&obj, &ptype, &pval, salg);
	if (ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL)
		return 1;
	if (ptype != V_ASN1_SEQUENCE)
		return 0;
	s = pval;
	p = ASN1_STRING_get0_data(s);
	if ((pp = d2i_RSA_PSS_PARAMS(NULL, &p, ASN1_STRING_length(s))) == NULL)
		goto out;
	if (pp->hashAlgorithm != NULL)
		*hnid = algor_nid(pp->hashAlgorithm);
	if (pp->maskGenAlgorithm != NULL) {
		const ASN1_OBJECT *mobj;
		int mptype;
		const void *mpval;

		X509_ALGOR_get0(&mobj, &mptype, &mpval, pp->maskGenAlgorithm);
		if (OBJ_obj2nid(mobj) != NID_mgf1 || mptype != V_ASN1_SEQUENCE)
			goto out;
		s = mpval;
		p = ASN1_STRING_get0_data(s);
		if ((mh = d2i_X509_ALGOR(NULL, &p, ASN1_STRING_length(s))) ==
		    NULL)
			goto out;
		*mgfnid = algor_nid(mh);
	}
	if (pp->saltLength != NULL) {
		if (ASN1_INTEGER_get_int64(&v, pp->saltLength) != 1 || v < 0 ||
		    v > 1024)
			goto out;
		*salt = (int)v;
	}
	if (pp->trailerField != NULL && ASN1_INTEGER_get(pp->trailerField) != 1)
		goto out;
	ok = 1;
out:
	X509_ALGOR_free(mh);
	RSA_PSS_PARAMS_free(pp);
	ERR_clear_error();
	return ok;
}

/* BSI TR-03111 §5.2.1: plain r||s; @return the hash NID or NID_undef. */
static int
plain_ecdsa_md(const ASN1_OBJECT *obj)
{
	static const struct {
		const char *suffix;
		int nid;
	} tab[] = {{"1", NID_sha1}, {"2", NID_sha224}, {"3", NID_sha256},
	    {"4", NID_sha384}, {"5", NID_sha512}};
	char buf[80];
	size_t pl = strlen(OID_PLAIN_ECDSA);

	if (OBJ_obj2txt(buf, sizeof(buf), obj, 1) <= 0 ||
	    strncmp(buf, OID_PLAIN_ECDSA, pl) != 0)
		return NID_undef;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(buf + pl, tab[i].suffix) == 0)
			return tab[i].nid;
	return NID_undef;
}

/* Converts plain r||s to a DER ECDSA-Sig-Value. */
static uint8_t *
plain_to_der(const ASN1_OCTET_STRING *sv, size_t *outlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int n = ASN1_STRING_length(sv), dl;
	const uint8_t *p = ASN1_STRING_get0_data(sv);

	if (n <= 0 || n % 2 != 0 || n > 264)
		return NULL;
	r = BN_bin2bn(p, n / 2, NULL);
	s = BN_bin2bn(p + n / 2, n / 2, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by es */
	if ((dl = i2d_ECDSA_SIG(es, &der)) <= 0) {
		der = NULL;
		goto out;
	}
	*outlen = (size_t)dl;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return der;
}

enum scheme { SCH_PKCS1, SCH_PSS, SCH_ECDSA, SCH_ECDSA_PLAIN, SCH_DSA };

/*
 * Verifies the signature value @sv over the digest @h (computed with
 * digestAlgorithm @dnid) under @salg and @pk. Checks that the
 * signatureAlgorithm agrees with the digest and the key first (RFC 5652
 * §5.3; DSS rejects sha3-256WithRSA over a SHA-256 digest).
 * @return 1 verified, 0 not (reason in *why).
 */
static int
verify_value(EVP_PKEY *pk, const X509_ALGOR *salg, int dnid, const uint8_t *h,
    size_t hlen, const ASN1_OCTET_STRING *sv, const char **why)
{
	const ASN1_OBJECT *obj = NULL;
	int snid, mdnid = dnid, pknid = NID_undef, ktype, ok = 0;
	int mgfnid = NID_undef, salt = 0;
	enum scheme sch;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *der = NULL;
	const uint8_t *sig = ASN1_STRING_get0_data(sv);
	size_t siglen = (size_t)ASN1_STRING_length(sv);

	X509_ALGOR_get0(&obj, NULL, NULL, salg);
	snid = obj == NULL ? NID_undef : OBJ_obj2nid(obj);
	ktype = EVP_PKEY_get_base_id(pk);
	if (snid == NID_rsaEncryption) {
		sch = SCH_PKCS1;
	} else if (snid == NID_rsassaPss) {
		sch = SCH_PSS;
		if (pss_params(salg, &mdnid, &mgfnid, &salt) != 1) {
			*why = "RSASSA-PSS parameters not understood "
			       "(RFC 4055 §3.1)";
			return 0;
		}
	} else if (snid == NID_X9_62_id_ecPublicKey) {
		sch = SCH_ECDSA;
	} else if (obj != NULL && (mdnid = plain_ecdsa_md(obj)) != NID_undef) {
		sch = SCH_ECDSA_PLAIN;
	} else if (snid != NID_undef &&
	    OBJ_find_sigid_algs(snid, &mdnid, &pknid) == 1) {
		if (pknid == NID_rsaEncryption)
			sch = SCH_PKCS1;
		else if (pknid == NID_X9_62_id_ecPublicKey)
			sch = SCH_ECDSA;
		else if (pknid == NID_dsa)
			sch = SCH_DSA;
		else {
			*why = "signatureAlgorithm not supported";
			return 0;
		}
	} else {
		*why = "signatureAlgorithm is not a signature algorithm "
		       "(RFC 5652 §10.1.2)";
		return 0;
	}
	if (mdnid != dnid) {
		*why = "signatureAlgorithm names another digest than "
		       "digestAlgorithm (RFC 5652 §5.3, RFC 4056 §2)";
		return 0;
	}
	if (((sch == SCH_PKCS1 || sch == SCH_PSS) && ktype != EVP_PKEY_RSA &&
		ktype != EVP_PKEY_RSA_PSS) ||
	    ((sch == SCH_ECDSA || sch == SCH_ECDSA_PLAIN) &&
		ktype != EVP_PKEY_EC) ||
	    (sch == SCH_DSA && ktype != EVP_PKEY_DSA)) {
		*why = "signatureAlgorithm does not match the signer's key";
		return 0;
	}
	if (sch == SCH_PKCS1)
		return verify_pkcs1(pk, mdnid, h, hlen, sv, why);

	*why = "signature value does not verify";
	if (sch == SCH_ECDSA_PLAIN) {
		if ((der = plain_to_der(sv, &siglen)) == NULL)
			goto out;
		sig = der;
	}
	if ((ctx = EVP_PKEY_CTX_new(pk, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) != 1)
		goto out;
	if (sch == SCH_PSS) {
		const EVP_MD *md = digest_by_nid(mdnid);
		const EVP_MD *mgf = digest_by_nid(mgfnid);

		if (md == NULL || mgf == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <=
			0 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, mgf) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) <= 0)
			goto out;
	}
	if (EVP_PKEY_verify(ctx, sig, siglen, h, hlen) == 1)
		ok = 1;
out:
	EVP_PKEY_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok;
}

/* ------------------------------------------------------------------ */
/* One SignerInfo                                                      */

struct cms_in {
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;
	const ASN1_OBJECT *ctype; /* eContentType */
	const struct ver_seg *seg;
	size_t nseg;
};

static X509 *
find_signer(CMS_SignerInfo *si, STACK_OF(X509) *certs)
{
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			return sk_X509_value(certs, i);
	return NULL;
}

/* Validation material from the attributes of one SignerInfo. */
static void
attr_material(CMS_SignerInfo *si, struct ver_material *m)
{
	int n = CMS_unsigned_get_attr_count(si);

	for (int i = -1; i < n && i < 64; i++) {
		X509_ATTRIBUTE *a;
		ASN1_OBJECT *obj;
		ASN1_TYPE *v;
		const unsigned char *p;
		long len;

		/* i == -1: the signed adbe-revocationInfoArchival. */
		if (i < 0) {
			ASN1_OBJECT *o = OBJ_txt2obj(OID_ADBE_REVINFO, 1);
			int k = o != NULL
			    ? CMS_signed_get_attr_by_OBJ(si, o, -1)
			    : -1;

			ASN1_OBJECT_free(o);
			if (k < 0)
				continue;
			a = CMS_signed_get_attr(si, k);
		} else {
			a = CMS_unsigned_get_attr(si, i);
		}
		obj = X509_ATTRIBUTE_get0_object(a);
		v = X509_ATTRIBUTE_get0_type(a, 0);
		if (v == NULL || v->type != V_ASN1_SEQUENCE)
			continue;
		p = ASN1_STRING_get0_data(v->value.sequence);
		len = ASN1_STRING_length(v->value.sequence);
		if (obj_is(obj, OID_CERT_VALUES)) {
			STACK_OF(ASN1_TYPE) *seq =
			    d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);

			for (int j = 0;
			     seq != NULL && j < sk_ASN1_TYPE_num(seq); j++) {
				ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, j);

				if (t->type == V_ASN1_SEQUENCE)
					ver_mat_add_cert(m,
					    ASN1_STRING_get0_data(
						t->value.sequence),
					    (size_t)ASN1_STRING_length(
						t->value.sequence));
			}
			sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
		} else if (obj_is(obj, OID_REVOCATION_VALUES) ||
		    obj_is(obj, OID_ADBE_REVINFO)) {
			int adbe = obj_is(obj, OID_ADBE_REVINFO);
			SC_REVVALS *rv =
			    adbe ? NULL : d2i_SC_REVVALS(NULL, &p, len);
			SC_ADBE_RIA *ria =
			    adbe ? d2i_SC_ADBE_RIA(NULL, &p, len) : NULL;
			STACK_OF(X509_CRL) *crls = rv != NULL ? rv->crls
			    : ria != NULL                     ? ria->crls
							      : NULL;
			OPENSSL_STACK *oc = rv != NULL ? rv->ocsps
			    : ria != NULL              ? ria->ocsps
						       : NULL;

			for (int j = 0; j < sk_X509_CRL_num(crls); j++) {
				X509_CRL *x = sk_X509_CRL_value(crls, j);
				unsigned char *der = NULL;
				int dl = i2d_X509_CRL(x, &der);

				if (dl > 0)
					ver_mat_add_crl(m, der, (size_t)dl);
				OPENSSL_free(der);
			}
			for (int j = 0; oc != NULL && j < OPENSSL_sk_num(oc);
			     j++) {
				unsigned char *der = NULL;
				int dl = adbe
				    ? i2d_OCSP_RESPONSE(OPENSSL_sk_value(oc, j),
					  &der)
				    : i2d_OCSP_BASICRESP(OPENSSL_sk_value(oc,
							     j),
					  &der);

				if (dl > 0)
					ver_mat_add_ocsp(m, der, (size_t)dl);
				OPENSSL_free(der);
			}
			SC_REVVALS_free(rv);
			SC_ADBE_RIA_free(ria);
			if (crls != NULL || oc != NULL)
				m->has_revocation = 1;
		}
		ERR_clear_error();
	}
}

/*
 * ESS signing-certificate attributes, decoded with our own templates
 * because OpenSSL's ESS types are opaque and OSSL_ESS_check_signing_certs
 * wants EVERY ESSCertID to be among the certificates, while RFC 5035 §3
 * (and EN 319 102-1 §5.2.3.4) only bind the FIRST one to the signer.
 *
 * ESSCertID   ::= SEQUENCE { certHash OCTET STRING,
 *                            issuerSerial IssuerSerial OPTIONAL }
 * ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier
 *                                DEFAULT sha256,
 *                            certHash OCTET STRING,
 *                            issuerSerial IssuerSerial OPTIONAL }
 * SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2),
 *                            policies SEQUENCE OF ... OPTIONAL }
 * The templates are in verify_asn1.c.
 */
static SC_SIGNINGCERT *
signing_cert_decode(const ASN1_TYPE *v)
{
	const unsigned char *p;
	SC_SIGNINGCERT *sc;
	int len;

	if (v == NULL || v->type != V_ASN1_SEQUENCE)
		return NULL;
	p = ASN1_STRING_get0_data(v->value.sequence);
	len = ASN1_STRING_length(v->value.sequence);
	sc = d2i_SC_SIGNINGCERT(NULL, &p, len);
	if (sc != NULL &&
	    (p != ASN1_STRING_get0_data(v->value.sequence) + len ||
		OPENSSL_sk_num(sc->certs) < 1)) {
		SC_SIGNINGCERT_free(sc);
		sc = NULL;
	}
	ERR_clear_error();
	return sc;
}

/* RFC 5035 §4: IssuerSerial names the issuer (a directoryName, compared
 * as X.501 names, not bytes) and the serial of the signer. */
static int
issuer_serial_match(const SC_ISSUERSERIAL *is, X509 *signer)
{
	if (ASN1_INTEGER_cmp(is->serial, X509_get0_serialNumber(signer)) != 0)
		return 0;
	for (int i = 0; i < sk_GENERAL_NAME_num(is->issuer); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(is->issuer, i);

		if (gn->type == GEN_DIRNAME &&
		    X509_NAME_cmp(gn->d.directoryName,
			X509_get_issuer_name(signer)) == 0)
			return 1;
	}
	return 0;
}

/* RFC 5035 §3: the first ESSCertID(v2) must name the signer. */
static int
esscertid_match(const SC_ESSCERTID *id, X509 *signer, int v2)
{
	const EVP_MD *md = EVP_sha1();
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;

	if (v2)
		md = id->alg != NULL ? digest_by_nid(algor_nid(id->alg))
				     : EVP_sha256();
	if (md == NULL || X509_digest(signer, md, h, &hl) != 1)
		return 0;
	if ((size_t)ASN1_STRING_length(id->hash) != hl ||
	    memcmp(ASN1_STRING_get0_data(id->hash), h, hl) != 0)
		return 0;
	return id->issuer_serial == NULL ||
	    issuer_serial_match(id->issuer_serial, signer);
}

/*
 * The ESS signing-certificate attributes (RFC 2634 §5.4, RFC 5035):
 * @return 1 matches, 0 absent, -1 present and not matching.
 */
static int
ess_check(CMS_SignerInfo *si, X509 *signer)
{
	ASN1_TYPE *v1 = NULL, *v2 = NULL;
	SC_SIGNINGCERT *s1 = NULL, *s2 = NULL;
	int r1, r2, rc = -1;

	r1 = single_attr(si, NID_id_smime_aa_signingCertificate, &v1);
	r2 = single_attr(si, NID_id_smime_aa_signingCertificateV2, &v2);
	if (r1 == 0 && r2 == 0)
		return 0;
	if (r1 < 0 || r2 < 0 || signer == NULL)
		return -1;
	if (v1 != NULL &&
	    ((s1 = signing_cert_decode(v1)) == NULL ||
		!esscertid_match((SC_ESSCERTID *)OPENSSL_sk_value(s1->certs, 0),
		    signer, 0)))
		goto out;
	if (v2 != NULL &&
	    ((s2 = signing_cert_decode(v2)) == NULL ||
		!esscertid_match((SC_ESSCERTID *)OPENSSL_sk_value(s2->certs, 0),
		    signer, 1)))
		goto out;
	rc = 1;
out:
	SC_SIGNINGCERT_free(s1);
	SC_SIGNINGCERT_free(s2);
	return rc;
}

static void
signer_facts(X509 *x, struct ver_sig *sig)
{
	const ASN1_INTEGER *sn;
	BIGNUM *bn = NULL;
	char *hex = NULL;

	free(sig->subject);
	free(sig->issuer);
	sig->subject = ver_name(X509_get_subject_name(x));
	sig->issuer = ver_name(X509_get_issuer_name(x));
	sn = X509_get0_serialNumber(x);
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL)
		snprintf(sig->serial, sizeof(sig->serial), "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

static int check_signer(struct ver_ctx *c, CMS_SignerInfo *si,
    const struct cms_in *in, struct ver_sig *sig, int depth);

/* Wraps a lone SignerInfo (a counter-signature) in a SignedData so that
 * OpenSSL's decoder can read it: RFC 5652 §11.4 gives it the SignerInfo
 * syntax, and OpenSSL exports no d2i for that type alone. */
static CMS_ContentInfo *
wrap_signer_info(const uint8_t *si, size_t silen)
{
	static const uint8_t oid_signed[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x07, 0x02};
	static const uint8_t body[] = {0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b,
	    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
	uint8_t h1[8], h2[8], h3[8], h4[8], *buf = NULL, *p;
	size_t l1, l2, l3, l4, n1, n2, n3, n4;
	CMS_ContentInfo *cms = NULL;

	if (silen > 16 * 1024 * 1024)
		return NULL;
	l1 = der_header(0x31, silen, h1);
	n1 = sizeof(body) + l1 + silen;
	l2 = der_header(0x30, n1, h2);
	n2 = l2 + n1;
	l3 = der_header(0xa0, n2, h3);
	n3 = sizeof(oid_signed) + l3 + n2;
	l4 = der_header(0x30, n3, h4);
	n4 = l4 + n3;
	if ((buf = malloc(n4)) == NULL)
		return NULL;
	p = buf;
	memcpy(p, h4, l4), p += l4;
	memcpy(p, oid_signed, sizeof(oid_signed)), p += sizeof(oid_signed);
	memcpy(p, h3, l3), p += l3;
	memcpy(p, h2, l2), p += l2;
	memcpy(p, body, sizeof(body)), p += sizeof(body);
	memcpy(p, h1, l1), p += l1;
	memcpy(p, si, silen);
	cms = ver_cms_decode(buf, n4, 0, NULL);
	free(buf);
	return cms;
}

static TS_TST_INFO *tst_info(CMS_ContentInfo *cms);

static int
buf_add(struct sc_buf *b, const void *p, size_t n)
{
	return sc_buf_append(b, p, n, NULL);
}

/* Appends the DER an i2d function just wrote to *der, and frees it.
 * (*der is read here, after the i2d call: arguments are evaluated in no
 * set order, so the buffer itself cannot be passed.) */
static int
buf_add_i2d(struct sc_buf *b, int len, unsigned char **der)
{
	int rc = len > 0 && *der != NULL ? buf_add(b, *der, (size_t)len) : -1;

	OPENSSL_free(*der);
	*der = NULL;
	return rc;
}

/*
 * Hashes of what an ats-hash-index lists: each certificate's DER
 * (@certs), or each unsigned attribute of @si: its whole DER for the
 * TS 101 733 index, attrType then each attrValue for ats-hash-index-v3
 * (EN 319 122-1 §5.5.2, @v3). @return a malloc'd array of *n rows.
 */
static uint8_t (*item_hashes(const EVP_MD *md, STACK_OF(X509) *certs,
    CMS_SignerInfo *si, int v3, int *n))[EVP_MAX_MD_SIZE]
{
	uint8_t(*h)[EVP_MAX_MD_SIZE];
	int na = certs != NULL ? 0 : CMS_unsigned_get_attr_count(si), max = 0;

	*n = 0;
	if (certs != NULL)
		max = sk_X509_num(certs);
	for (int i = 0; i < na; i++)
		max +=
		    v3 ? X509_ATTRIBUTE_count(CMS_unsigned_get_attr(si, i)) : 1;
	if (max <= 0 || max > 4096 ||
	    (h = calloc((size_t)max, sizeof(*h))) == NULL)
		return NULL;
	for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++) {
		unsigned char *der = NULL;
		int dl = i2d_X509(sk_X509_value(certs, i), &der);

		if (dl > 0 && *n < max)
			hash_segs(md, &(struct ver_seg){der, (size_t)dl}, 1,
			    h[(*n)++]);
		OPENSSL_free(der);
	}
	for (int i = 0; i < na; i++) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, i);
		unsigned char *der = NULL, *oid = NULL;
		int dl, ol;

		if (!v3) {
			dl = i2d_X509_ATTRIBUTE(a, &der);
			if (dl > 0 && *n < max)
				hash_segs(md,
				    &(struct ver_seg){der, (size_t)dl}, 1,
				    h[(*n)++]);
			OPENSSL_free(der);
			continue;
		}
		ol = i2d_ASN1_OBJECT(X509_ATTRIBUTE_get0_object(a), &oid);
		for (int j = 0; ol > 0 && j < X509_ATTRIBUTE_count(a); j++) {
			der = NULL;
			dl =
			    i2d_ASN1_TYPE(X509_ATTRIBUTE_get0_type(a, j), &der);
			if (dl > 0 && *n < max) {
				struct ver_seg seg[2] = {{oid, (size_t)ol},
				    {der, (size_t)dl}};

				hash_segs(md, seg, 2, h[(*n)++]);
			}
			OPENSSL_free(der);
		}
		OPENSSL_free(oid);
	}
	return h;
}

/* Every hash of @idx is one of the @n rows of @h. */
static int
all_in(const OPENSSL_STACK *idx, uint8_t (*h)[EVP_MAX_MD_SIZE], int n,
    size_t hl)
{
	for (int i = 0; i < OPENSSL_sk_num(idx); i++) {
		const ASN1_OCTET_STRING *o = OPENSSL_sk_value(idx, i);
		int found = 0;

		for (int j = 0; j < n && !found; j++)
			found = (size_t)ASN1_STRING_length(o) == hl &&
			    memcmp(ASN1_STRING_get0_data(o), h[j], hl) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

/*
 * EN 319 122-1 §5.5.2: every certificate and unsigned attribute that the
 * ats-hash-index lists must still be in the signature (nothing the
 * archive time-stamp protected was removed). CRL entries are not matched:
 * OpenSSL does not expose the other RevocationInfoChoices (OCSP).
 * @return 1 all found, 0 some missing, -1 index unreadable.
 */
static int
ats_index_present(const ASN1_TYPE *hiv, CMS_SignerInfo *si,
    const struct cms_in *in, int v3)
{
	const unsigned char *p0 = ASN1_STRING_get0_data(hiv->value.sequence);
	long len = ASN1_STRING_length(hiv->value.sequence);
	const unsigned char *p = p0;
	SC_ATSHASHINDEX_DEF *d = d2i_SC_ATSHASHINDEX_DEF(NULL, &p, len);
	SC_ATSHASHINDEX *x = NULL;
	uint8_t(*hc)[EVP_MAX_MD_SIZE] = NULL, (*ha)[EVP_MAX_MD_SIZE] = NULL;
	const OPENSSL_STACK *icerts, *iattrs;
	const EVP_MD *md = EVP_sha256();
	int rc = -1, nc = 0, na = 0;
	size_t hl;

	if (d == NULL || p != p0 + len) {
		p = p0;
		if ((x = d2i_SC_ATSHASHINDEX(NULL, &p, len)) == NULL ||
		    p != p0 + len)
			goto out;
		md = digest_by_nid(algor_nid(x->alg));
	}
	if (md == NULL)
		goto out;
	icerts = x != NULL ? x->certs : d->certs;
	iattrs = x != NULL ? x->attrs : d->attrs;
	hl = (size_t)EVP_MD_get_size(md);
	hc = item_hashes(md, in->certs, si, 0, &nc);
	ha = item_hashes(md, NULL, si, v3, &na);
	rc = all_in(icerts, hc, hc != NULL ? nc : 0, hl) &&
	    all_in(iattrs, ha, ha != NULL ? na : 0, hl);
out:
	free(hc);
	free(ha);
	SC_ATSHASHINDEX_free(x);
	SC_ATSHASHINDEX_DEF_free(d);
	ERR_clear_error();
	return rc;
}

/*
 * EN 319 122-1 §5.5.3: the input of an archive-time-stamp-v3's message
 * imprint, the concatenation of (1) the DER eContentType, (2) the hash of
 * the signed content with the imprint's algorithm, (3) version, sid,
 * digestAlgorithm, signedAttrs, signatureAlgorithm and signature of the
 * SignerInfo, (4) the ats-hash-index(-v3) value found in the token's
 * unsigned attributes (whose entries ats_index_present() checks).
 * @return malloc'd bytes, or NULL when it cannot be computed.
 */
static uint8_t *
atsv3_input(CMS_SignerInfo *si, const struct cms_in *in, const uint8_t *tok,
    size_t toklen, size_t *outlen, int *no_index, int *index_bad)
{
	CMS_ContentInfo *t = NULL;
	TS_TST_INFO *ti = NULL;
	const EVP_MD *md;
	CMS_SignerInfo *tsi;
	ASN1_OBJECT *o1 = OBJ_txt2obj(OID_ATS_HASH_INDEX_V3, 1);
	ASN1_OBJECT *o2 = OBJ_txt2obj(OID_ATS_HASH_INDEX, 1);
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;
	X509_ALGOR *dalg = NULL, *salg = NULL;
	const ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
	ASN1_TYPE *hiv = NULL;
	struct sc_buf b, sid;
	uint8_t h[EVP_MAX_MD_SIZE], hdr[8], *attrs = NULL, *out = NULL;
	unsigned char *der;
	size_t alen = 0;
	unsigned int hl;
	int k, sorted, dl;

	sc_buf_init(&b, (size_t)64 * 1024 * 1024);
	sc_buf_init(&sid, (size_t)1024 * 1024);
	if (in->ctype == NULL || in->seg == NULL || o1 == NULL || o2 == NULL)
		goto out;
	if ((t = ver_cms_decode(tok, toklen, 1, NULL)) == NULL ||
	    (ti = tst_info(t)) == NULL ||
	    sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(t)) != 1)
		goto out;
	tsi = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(t), 0);
	k = CMS_unsigned_get_attr_by_OBJ(tsi, o1, -1);
	if (k < 0)
		k = CMS_unsigned_get_attr_by_OBJ(tsi, o2, -1);
	*no_index = k < 0;
	if (k < 0 ||
	    (hiv = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(tsi, k),
		 0)) == NULL ||
	    hiv->type != V_ASN1_SEQUENCE)
		goto out;
	*index_bad = ats_index_present(hiv, si, in,
			 CMS_unsigned_get_attr_by_OBJ(tsi, o1, -1) >= 0) != 1;
	md = digest_by_nid(algor_nid(
	    TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(ti))));
	if (md == NULL || (hl = hash_segs(md, in->seg, in->nseg, h)) == 0)
		goto out;
	/* (1) and (2) */
	der = NULL;
	if (buf_add_i2d(&b, i2d_ASN1_OBJECT(in->ctype, &der), &der) != 0 ||
	    buf_add(&b, h, hl) != 0)
		goto out;
	/* (3) version and sid (RFC 5652 §5.3: 1 with issuerAndSerialNumber,
	 * 3 with subjectKeyIdentifier [0]) */
	if (CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &sno) != 1)
		goto out;
	if (keyid != NULL) {
		size_t n = (size_t)ASN1_STRING_length(keyid);

		if (buf_add(&b, "\x02\x01\x03", 3) != 0 ||
		    buf_add(&b, hdr, der_header(0x80, n, hdr)) != 0 ||
		    buf_add(&b, ASN1_STRING_get0_data(keyid), n) != 0)
			goto out;
	} else {
		der = NULL;
		if (buf_add(&b, "\x02\x01\x01", 3) != 0 ||
		    buf_add_i2d(&sid, i2d_X509_NAME(issuer, &der), &der) != 0)
			goto out;
		der = NULL;
		if (buf_add_i2d(&sid, i2d_ASN1_INTEGER(sno, &der), &der) != 0 ||
		    buf_add(&b, hdr, der_header(0x30, sid.len, hdr)) != 0 ||
		    buf_add(&b, sid.p, sid.len) != 0)
			goto out;
	}
	/* digestAlgorithm, [0] signedAttrs (DER), signatureAlgorithm */
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dalg, &salg);
	der = NULL;
	if (buf_add_i2d(&b, i2d_X509_ALGOR(dalg, &der), &der) != 0)
		goto out;
	if (signed_attrs_der(si, &attrs, &alen, &sorted) > 0) {
		attrs[0] = 0xa0; /* [0] IMPLICIT SET OF */
		if (buf_add(&b, attrs, alen) != 0)
			goto out;
	}
	der = NULL;
	if (buf_add_i2d(&b, i2d_X509_ALGOR(salg, &der), &der) != 0)
		goto out;
	/* signature OCTET STRING */
	dl = ASN1_STRING_length(sv);
	if (buf_add(&b, hdr, der_header(0x04, (size_t)dl, hdr)) != 0 ||
	    buf_add(&b, ASN1_STRING_get0_data(sv), (size_t)dl) != 0)
		goto out;
	/* (4) the index value, as encoded in the token */
	if (buf_add(&b, ASN1_STRING_get0_data(hiv->value.sequence),
		(size_t)ASN1_STRING_length(hiv->value.sequence)) != 0)
		goto out;
	out = sc_buf_steal(&b, outlen);
out:
	free(attrs);
	sc_buf_free(&b);
	sc_buf_free(&sid);
	TS_TST_INFO_free(ti);
	CMS_ContentInfo_free(t);
	ASN1_OBJECT_free(o1);
	ASN1_OBJECT_free(o2);
	ERR_clear_error();
	return out;
}

/* Unsigned attributes: time-stamps and counter-signatures. */
static int
unsigned_attrs(struct ver_ctx *c, CMS_SignerInfo *si, const struct cms_in *in,
    struct ver_sig *sig, int depth)
{
	const ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);
	struct ver_seg sseg = {ASN1_STRING_get0_data(sv),
	    (size_t)ASN1_STRING_length(sv)};
	int n = CMS_unsigned_get_attr_count(si);

	for (int i = 0; i < n && i < 64; i++) {
		X509_ATTRIBUTE *a = CMS_unsigned_get_attr(si, i);
		ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(a);
		int nid = OBJ_obj2nid(obj);
		const char *type = NULL;
		int nv = X509_ATTRIBUTE_count(a);

		if (nid == NID_id_smime_aa_timeStampToken)
			type = "signature";
		else if (obj_is(obj, OID_ARCHIVE_TS_V2) ||
		    obj_is(obj, OID_ARCHIVE_TS_V3))
			type = "archive";
		if (obj_is(obj, OID_REVOCATION_VALUES))
			sig->has_revocation_data = 1;
		for (int j = 0; j < nv && j < 16; j++) {
			ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(a, j);
			struct ver_ts *ts;
			const uint8_t *p;
			size_t len;

			/* A token wrapped in an OCTET STRING is seen in
			 * the wild (ETSI plugtests); it is read, and said. */
			if (v != NULL && type != NULL &&
			    v->type == V_ASN1_OCTET_STRING) {
				ver_sig_reason(sig,
				    "warning: %s time-stamp token wrapped in "
				    "an "
				    "OCTET STRING (RFC 3161 §2.4.2 wants the "
				    "ContentInfo itself)",
				    type);
			} else if (v == NULL || v->type != V_ASN1_SEQUENCE)
				continue;
			p = ASN1_STRING_get0_data(v->value.asn1_string);
			len = (size_t)ASN1_STRING_length(v->value.asn1_string);
			if (type != NULL && depth < VER_MAX_COUNTER_DEPTH &&
			    sig->nts < SC_VER_MAX_TIMESTAMPS) {
				ts = &sig->ts[sig->nts++];
				/* EN 319 122-1 §5.3: the signature
				 * time-stamp covers the signature value;
				 * §5.5.3: archive v3 as atsv3_input() says;
				 * archive v2 imprints are not computed. */
				if (strcmp(type, "signature") == 0) {
					sig->has_sig_ts = 1;
					if (ver_tst(c, p, len, &sseg, 1, type,
						ts, sig) != 0)
						return -1;
				} else {
					size_t al = 0;
					int noidx = 0, badidx = 0;
					uint8_t *ad =
					    obj_is(obj, OID_ARCHIVE_TS_V3)
					    ? atsv3_input(si, in, p, len, &al,
						  &noidx, &badidx)
					    : NULL;
					struct ver_seg aseg = {ad, al};
					int r = ver_tst(c, p, len,
					    ad != NULL ? &aseg : NULL, 1, type,
					    ts, sig);

					sig->has_archive_ts = 1;
					free(ad);
					if (r != 0)
						return -1;
					if (badidx) {
						ts->valid = 0;
						ver_sig_reason(sig,
						    "EN 319 122-1 §5.5.2: the "
						    "ats-hash-index lists a "
						    "certificate or attribute "
						    "no longer in the "
						    "signature");
					}
					if (noidx) {
						/* Nothing it could cover. */
						ts->imprint = "mismatch";
						ts->valid = 0;
						ver_sig_reason(sig,
						    "EN 319 122-1 §5.5.3: "
						    "archive-time-stamp-v3 "
						    "without "
						    "ats-hash-index-v3");
					}
				}
			} else if (type == NULL &&
			    nid == NID_pkcs9_countersignature &&
			    depth < VER_MAX_COUNTER_DEPTH) {
				CMS_ContentInfo *w = wrap_signer_info(p, len);
				struct ver_sig *cs;
				struct cms_in cin = *in;
				STACK_OF(CMS_SignerInfo) *sis;

				if ((cs = ver_sig_add(c->rep, sig->format,
					 c->err)) == NULL) {
					CMS_ContentInfo_free(w);
					return -1;
				}
				cs->counter = 1;
				cs->parent = strdup(sig->id);
				if (w == NULL) {
					ver_sig_reason(cs,
					    "RFC 5652 §11.4: "
					    "counter-signature is not a "
					    "SignerInfo");
					ver_sig_verdict(cs, SC_VER_TOTAL_FAILED,
					    "FORMAT_FAILURE");
					continue;
				}
				/* RFC 5652 §11.4: it signs the parent's
				 * signature value; no contentType attr. */
				cin.ctype = NULL;
				cin.seg = &sseg;
				cin.nseg = 1;
				sis = CMS_get0_SignerInfos(w);
				if (sk_CMS_SignerInfo_num(sis) == 1 &&
				    check_signer(c,
					sk_CMS_SignerInfo_value(sis, 0), &cin,
					cs, depth + 1) != 0) {
					CMS_ContentInfo_free(w);
					return -1;
				}
				CMS_ContentInfo_free(w);
			}
		}
	}
	return 0;
}

static int
check_signer(struct ver_ctx *c, CMS_SignerInfo *si, const struct cms_in *in,
    struct ver_sig *sig, int depth)
{
	X509_ALGOR *dalg = NULL, *salg = NULL;
	EVP_PKEY *pk = NULL;
	const EVP_MD *md;
	X509 *signer;
	ASN1_TYPE *v;
	uint8_t *attrs = NULL, h[EVP_MAX_MD_SIZE], hc[EVP_MAX_MD_SIZE];
	size_t alen = 0;
	unsigned int hl = 0, hcl = 0;
	int dnid, r, sorted = 1, md_ok = 0, sig_ok = 0, struct_ok = 1;
	const char *why = NULL;
	char txt[80];
	const ASN1_OCTET_STRING *sv = CMS_SignerInfo_get0_signature(si);

	if (sk_X509_num(in->certs) > SC_VER_MAX_CERTS) {
		ver_sig_reason(sig, "more than %d certificates",
		    SC_VER_MAX_CERTS);
		ver_sig_verdict(sig, SC_VER_INDETERMINATE, "FORMAT_FAILURE");
		return 0;
	}
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dalg, &salg);
	signer = find_signer(si, in->certs);
	if (signer != NULL)
		signer_facts(signer, sig);

	/* Step 2: the digest algorithm (RFC 5652 §5.3). */
	dnid = algor_nid(dalg);
	if ((md = digest_by_nid(dnid)) == NULL) {
		algor_txt(dalg, txt, sizeof(txt));
		ver_sig_reason(sig,
		    "RFC 5652 §5.3: digestAlgorithm %s is not "
		    "an accepted digest algorithm",
		    txt);
		ver_sig_verdict(sig, SC_VER_TOTAL_FAILED, "SIG_CRYPTO_FAILURE");
		struct_ok = 0;
		goto ess;
	}

	/* Step 3: single-valued attributes. */
	if (CMS_signed_get_attr_count(si) > 0) {
		static const int once[] = {NID_pkcs9_contentType,
		    NID_pkcs9_messageDigest, NID_pkcs9_signingTime,
		    NID_id_smime_aa_signingCertificate,
		    NID_id_smime_aa_signingCertificateV2};

		for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
			if (single_attr(si, once[i], &v) < 0) {
				ver_sig_reason(sig,
				    "RFC 5652 §11 / EN 319 "
				    "122-1 §5.2: signed attribute %s is "
				    "repeated or has several values",
				    OBJ_nid2sn(once[i]));
				struct_ok = 0;
			}
		if (single_attr(si, NID_pkcs9_contentType, &v) == 1 &&
		    in->ctype != NULL &&
		    (v->type != V_ASN1_OBJECT ||
			OBJ_cmp(v->value.object, in->ctype) != 0)) {
			ver_sig_reason(sig,
			    "RFC 5652 §11.1: content-type "
			    "attribute differs from eContentType");
			struct_ok = 0;
		}
		if (single_attr(si, NID_pkcs9_signingTime, &v) == 1 &&
		    (v->type == V_ASN1_UTCTIME ||
			v->type == V_ASN1_GENERALIZEDTIME)) {
			struct tm tm;

			ver_asn1_time(v->value.asn1_string, sig->signing_time);
			if (ASN1_TIME_to_tm(v->value.asn1_string, &tm) == 1)
				sig->signing_epoch = (int64_t)timegm(&tm);
		}
		if (!struct_ok)
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
	}

	/* Step 4: messageDigest over the content (RFC 5652 §5.4, §11.2). */
	if (in->seg != NULL)
		hcl = hash_segs(md, in->seg, in->nseg, hc);
	r = signed_attrs_der(si, &attrs, &alen, &sorted);
	if (r < 0) {
		sc_err_set(c->err, SC_E_NOMEM, "out of memory");
		return -1;
	}
	if (r > 0) {
		if (single_attr(si, NID_pkcs9_messageDigest, &v) != 1 ||
		    v->type != V_ASN1_OCTET_STRING) {
			ver_sig_reason(sig,
			    "RFC 5652 §5.3: signed attributes "
			    "without a message-digest attribute");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "FORMAT_FAILURE");
			struct_ok = 0;
		} else if (in->seg == NULL) {
			ver_sig_reason(sig,
			    "detached signature and no signed "
			    "data given: message digest not checked");
			ver_sig_verdict(sig, SC_VER_INDETERMINATE,
			    "SIGNED_DATA_NOT_FOUND");
		} else if (hcl == 0 ||
		    (size_t)ASN1_STRING_length(v->value.octet_string) != hcl ||
		    CRYPTO_memcmp(ASN1_STRING_get0_data(v->value.octet_string),
			hc, hcl) != 0) {
			ver_sig_reason(sig,
			    "RFC 5652 §11.2: message digest "
			    "does not match the signed content");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "HASH_FAILURE");
		} else {
			md_ok = 1;
		}
		if (!sorted)
			ver_sig_reason(sig,
			    "signed attributes stored out of "
			    "DER order; verified over the DER re-encoding "
			    "(RFC 5652 §5.4, X.690 §11.6)");
		hl = hash_segs(md, &(struct ver_seg){attrs, alen}, 1, h);
	} else {
		/* RFC 5652 §5.4: without signed attributes the signature
		 * is over the content itself. */
		if (in->seg == NULL) {
			ver_sig_reason(sig,
			    "detached signature and no signed "
			    "data given");
			ver_sig_verdict(sig, SC_VER_INDETERMINATE,
			    "SIGNED_DATA_NOT_FOUND");
		} else {
			memcpy(h, hc, hcl);
			hl = hcl;
			md_ok = hcl != 0;
		}
	}

	/* Step 5: the signature value. */
	if (signer == NULL) {
		ver_sig_reason(sig,
		    "EN 319 102-1 §5.2.3: the signer's "
		    "certificate is not in the signature");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "NO_SIGNING_CERTIFICATE_FOUND");
	} else if (hl != 0) {
		if ((pk = X509_get0_pubkey(signer)) == NULL) {
			ver_sig_reason(sig, "signer's public key unreadable");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "SIG_CRYPTO_FAILURE");
		} else if (verify_value(pk, salg, dnid, h, hl, sv, &why) == 1) {
			sig_ok = 1;
		} else {
			algor_txt(salg, txt, sizeof(txt));
			ver_sig_reason(sig, "RFC 5652 §5.6: %s (%s)", why, txt);
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "SIG_CRYPTO_FAILURE");
		}
	}
	sig->crypto_intact = md_ok && sig_ok && struct_ok;

ess:
	/* Step 6: ESS signing certificate (RFC 5035, EN 319 102-1 ISC). */
	r = ess_check(si, signer);
	sig->has_signing_cert_attr = r != 0;
	if (r < 0 && signer != NULL) {
		ver_sig_reason(sig,
		    "EN 319 102-1 §5.2.3.4: the "
		    "signing-certificate attribute does not match the "
		    "certificate used");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "NO_SIGNING_CERTIFICATE_FOUND");
	}
	if (depth < VER_MAX_COUNTER_DEPTH) {
		/* Content time-stamps sign the content (RFC 5126 §5.11.4). */
		int ci = -1;
		ASN1_OBJECT *cto = OBJ_txt2obj(OID_CONTENT_TS, 1);

		if (cto != NULL)
			ci = CMS_signed_get_attr_by_OBJ(si, cto, -1);
		ASN1_OBJECT_free(cto);
		if (ci >= 0) {
			X509_ATTRIBUTE *a = CMS_signed_get_attr(si, ci);

			v = X509_ATTRIBUTE_get0_type(a, 0);
			if (v != NULL && v->type == V_ASN1_SEQUENCE &&
			    sig->nts < SC_VER_MAX_TIMESTAMPS &&
			    ver_tst(c, ASN1_STRING_get0_data(v->value.sequence),
				(size_t)ASN1_STRING_length(v->value.sequence),
				in->seg, in->seg != NULL ? in->nseg : 0,
				"content", &sig->ts[sig->nts++], sig) != 0) {
				free(attrs);
				return -1;
			}
		}
	}
	free(attrs);
	if (in->crls != NULL && sk_X509_CRL_num(in->crls) > 0)
		sig->has_revocation_data = 1;
	if (unsigned_attrs(c, si, in, sig, depth) != 0)
		return -1;
	if (signer != NULL && sig->crypto_intact) {
		struct ver_material m;

		if (ver_mat_init(&m) != 0) {
			ver_mat_free(&m);
			sc_err_set(c->err, SC_E_NOMEM, "out of memory");
			return -1;
		}
		for (int i = 0; i < sk_X509_num(in->certs); i++)
			if (X509_up_ref(sk_X509_value(in->certs, i)) == 1 &&
			    sk_X509_push(m.certs,
				sk_X509_value(in->certs, i)) <= 0)
				X509_free(sk_X509_value(in->certs, i));
		for (int i = 0; i < sk_X509_CRL_num(in->crls); i++)
			if (X509_CRL_up_ref(sk_X509_CRL_value(in->crls, i)) ==
				1 &&
			    sk_X509_CRL_push(m.crls,
				sk_X509_CRL_value(in->crls, i)) <= 0)
				X509_CRL_free(sk_X509_CRL_value(in->crls, i));
		attr_material(si, &m);
		if (m.has_revocation)
			sig->has_revocation_data = 1;
		ver_mat_merge(&m, c->doc_mat);
		ver_x509_eval(c, signer, &m, c->now, sig);
		ver_mat_free(&m);
	} else if (signer != NULL) {
		signer_facts(signer, sig);
	}
	return 0;
}

/* Certificates and CRLs of a SignedData; never NULL stacks on success. */
static int
cms_material(CMS_ContentInfo *cms, STACK_OF(X509) **certs,
    STACK_OF(X509_CRL) **crls)
{
	*certs = CMS_get1_certs(cms);
	*crls = CMS_get1_crls(cms);
	if (*certs == NULL)
		*certs = sk_X509_new_null();
	if (*crls == NULL)
		*crls = sk_X509_CRL_new_null();
	ERR_clear_error();
	return *certs != NULL && *crls != NULL ? 0 : -1;
}

int
ver_cms_signer(struct ver_ctx *c, CMS_ContentInfo *cms, CMS_SignerInfo *si,
    const struct ver_seg *seg, size_t nseg, struct ver_sig *sig, int depth)
{
	struct cms_in in = {0};
	ASN1_OCTET_STRING **pos;
	struct ver_seg econt;
	int rc = -1;

	if (cms_material(cms, &in.certs, &in.crls) != 0) {
		sc_err_set(c->err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	in.ctype = CMS_get0_eContentType(cms);
	pos = CMS_get0_content(cms);
	if (seg != NULL) {
		if (pos != NULL && *pos != NULL) {
			ver_sig_reason(sig,
			    "content is both encapsulated and "
			    "given as detached data; the detached data is "
			    "checked");
		}
		in.seg = seg;
		in.nseg = nseg;
	} else if (pos != NULL && *pos != NULL) {
		econt.p = ASN1_STRING_get0_data(*pos);
		econt.n = (size_t)ASN1_STRING_length(*pos);
		in.seg = &econt;
		in.nseg = 1;
	} else if (c->o->detached != NULL) {
		econt.p = c->o->detached;
		econt.n = c->o->detached_len;
		in.seg = &econt;
		in.nseg = 1;
	}
	rc = check_signer(c, si, &in, sig, depth);
out:
	sk_X509_pop_free(in.certs, X509_free);
	sk_X509_CRL_pop_free(in.crls, X509_CRL_free);
	return rc;
}

/* ------------------------------------------------------------------ */
/* RFC 3161 time-stamp tokens                                          */

/* Decodes the TSTInfo of a token; NULL when it is none. */
static TS_TST_INFO *
tst_info(CMS_ContentInfo *cms)
{
	ASN1_OCTET_STRING **pos;
	const unsigned char *p;
	TS_TST_INFO *ti;

	if (!ver_cms_is_tst(cms))
		return NULL;
	pos = CMS_get0_content(cms);
	if (pos == NULL || *pos == NULL)
		return NULL;
	p = ASN1_STRING_get0_data(*pos);
	ti = d2i_TS_TST_INFO(NULL, &p, ASN1_STRING_length(*pos));
	if (ti == NULL)
		ERR_clear_error();
	else if (p != ASN1_STRING_get0_data(*pos) + ASN1_STRING_length(*pos)) {
		TS_TST_INFO_free(ti);
		ti = NULL;
	}
	return ti;
}

/* Compares the message imprint with the hash of @seg (RFC 3161 §2.4.2).
 * @return 1 match, 0 mismatch, -1 unknown algorithm. */
static int
imprint_check(TS_TST_INFO *ti, const struct ver_seg *seg, size_t nseg)
{
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(ti);
	ASN1_OCTET_STRING *m = TS_MSG_IMPRINT_get_msg(mi);
	const EVP_MD *md =
	    digest_by_nid(algor_nid(TS_MSG_IMPRINT_get_algo(mi)));
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl;

	if (md == NULL)
		return -1;
	hl = hash_segs(md, seg, nseg, h);
	if (hl == 0 || (size_t)ASN1_STRING_length(m) != hl)
		return 0;
	return CRYPTO_memcmp(ASN1_STRING_get0_data(m), h, hl) == 0;
}

/*
 * Checks a decoded token: one SignerInfo (RFC 3161 §2.4.2), its CMS
 * signature (into @tsig), the TSTInfo, the imprint. Fills @ts.
 */
static int
tst_check(struct ver_ctx *c, CMS_ContentInfo *cms, const struct ver_seg *seg,
    size_t nseg, struct ver_ts *ts, struct ver_sig *tsig, int depth)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	TS_TST_INFO *ti = NULL;
	int r;

	ts->imprint = "not-checked";
	if ((ti = tst_info(cms)) == NULL) {
		ver_sig_reason(tsig, "RFC 3161 §2.4.2: not a TSTInfo token");
		ver_sig_verdict(tsig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
		return 0;
	}
	ver_asn1_time(TS_TST_INFO_get_time(ti), ts->time);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		ver_sig_reason(tsig,
		    "RFC 3161 §2.4.2: a token has exactly "
		    "one signer");
		ver_sig_verdict(tsig, SC_VER_TOTAL_FAILED, "FORMAT_FAILURE");
	} else if (ver_cms_signer(c, cms, sk_CMS_SignerInfo_value(sis, 0), NULL,
		       0, tsig, depth) != 0) {
		TS_TST_INFO_free(ti);
		return -1;
	}
	ts->token_intact = tsig->crypto_intact;
	if (tsig->subject != NULL)
		ts->tsa = strdup(tsig->subject);
	{
		struct tm tm;

		if (ASN1_TIME_to_tm(TS_TST_INFO_get_time(ti), &tm) == 1)
			ts->gen = (int64_t)timegm(&tm);
	}
	/* The TSA chains to an anchor (its own revocation is not required
	 * here: a TRY_LATER on the TSA still leaves the chain proven). */
	ts->trusted = tsig->crypto_intact && tsig->nchain > 0 &&
	    (tsig->ind == SC_VER_TOTAL_PASSED ||
		(tsig->ind == SC_VER_INDETERMINATE && tsig->sub != NULL &&
		    strcmp(tsig->sub, "TRY_LATER") == 0));
	if (!tsig->has_signing_cert_attr) {
		ver_sig_reason(tsig,
		    "RFC 3161 §2.4.1: no ESS "
		    "signing-certificate attribute");
	}
	if (seg != NULL) {
		r = imprint_check(ti, seg, nseg);
		ts->imprint = r == 1 ? "match"
		    : r == 0         ? "mismatch"
				     : "not-checked";
	}
	ts->valid = ts->token_intact && strcmp(ts->imprint, "match") == 0;
	TS_TST_INFO_free(ti);
	return 0;
}

int
ver_tst(struct ver_ctx *c, const uint8_t *der, size_t len,
    const struct ver_seg *seg, size_t nseg, const char *type, struct ver_ts *ts,
    struct ver_sig *detail)
{
	CMS_ContentInfo *cms;
	struct ver_sig *tsig;
	int rc;

	memset(ts, 0, sizeof(*ts));
	ts->type = type;
	ts->imprint = "not-checked";
	if ((tsig = calloc(1, sizeof(*tsig))) == NULL)
		return sc_err_set(c->err, SC_E_NOMEM, "out of memory");
	tsig->format = "TST";
	tsig->revocation = "not-checked";
	/* A PDF /Contents is zero-padded (ISO 32000-1 §12.8.1). */
	if ((cms = ver_cms_decode(der, len, 1, NULL)) == NULL) {
		ver_sig_reason(detail, "%s time-stamp: not a CMS token", type);
		free(tsig);
		return 0;
	}
	rc = tst_check(c, cms, seg, nseg, ts, tsig, VER_MAX_COUNTER_DEPTH);
	if (rc == 0 && !ts->token_intact)
		ver_sig_reason(detail,
		    "%s time-stamp: token signature not "
		    "intact%s%s",
		    type, tsig->nreasons > 0 ? ": " : "",
		    tsig->nreasons > 0 ? tsig->reasons[0] : "");
	if (rc == 0 && strcmp(ts->imprint, "mismatch") == 0)
		ver_sig_reason(detail,
		    "%s time-stamp: message imprint does "
		    "not match (RFC 3161 §2.4.2)",
		    type);
	CMS_ContentInfo_free(cms);
	for (size_t i = 0; i < tsig->nreasons; i++)
		free(tsig->reasons[i]);
	for (size_t i = 0; i < tsig->nchain; i++)
		free(tsig->chain[i]);
	for (size_t i = 0; i < tsig->nts; i++)
		free(tsig->ts[i].tsa);
	free(tsig->subject);
	free(tsig->issuer);
	free(tsig->parent);
	free(tsig);
	return rc;
}

/* A TimeStampResp (RFC 3161 §2.4.2) holding a granted token. */
static CMS_ContentInfo *
from_ts_resp(const uint8_t *doc, size_t len)
{
	const unsigned char *p = doc;
	TS_RESP *resp;
	PKCS7 *tok;
	unsigned char *der = NULL;
	int dl;
	CMS_ContentInfo *cms = NULL;

	if (len > LONG_MAX)
		return NULL;
	if ((resp = d2i_TS_RESP(NULL, &p, (long)len)) == NULL || p != doc + len)
		goto out;
	if ((tok = TS_RESP_get_token(resp)) == NULL)
		goto out;
	if ((dl = i2d_PKCS7(tok, &der)) <= 0) {
		der = NULL;
		goto out;
	}
	cms = ver_cms_decode(der, (size_t)dl, 0, NULL);
out:
	OPENSSL_free(der);
	TS_RESP_free(resp);
	ERR_clear_error();
	return cms;
}

int
ver_cms_document(struct ver_ctx *c, const uint8_t *doc, size_t len)
{
	CMS_ContentInfo *cms;
	STACK_OF(CMS_SignerInfo) *sis;
	struct ver_sig *sig;
	int rc = -1, n;

	/* Zero padding after the DER is tolerated (and carries nothing):
	 * CMS cut out of a PDF /Contents often keeps it. */
	if ((cms = ver_cms_decode(doc, len, 1, NULL)) == NULL &&
	    (cms = from_ts_resp(doc, len)) == NULL)
		return sc_err_set(c->err, SC_E_UNSUPPORTED_DOCUMENT,
		    "not a CMS SignedData nor a time-stamp token");
	sis = CMS_get0_SignerInfos(cms);
	n = sk_CMS_SignerInfo_num(sis);
	if (n <= 0) {
		sc_err_set(c->err, SC_E_UNSUPPORTED_DOCUMENT,
		    "SignedData without any SignerInfo");
		goto out;
	}
	if (ver_cms_is_tst(cms)) {
		struct ver_ts ts = {0};
		struct ver_seg dseg = {c->o->detached, c->o->detached_len};

		c->rep->format = "TST";
		if ((sig = ver_sig_add(c->rep, "TST", c->err)) == NULL)
			goto out;
		if (tst_check(c, cms, c->o->detached != NULL ? &dseg : NULL, 1,
			&ts, sig, 0) != 0)
			goto out;
		if (sig->nts < SC_VER_MAX_TIMESTAMPS) {
			ts.type = "document";
			sig->ts[sig->nts++] = ts;
			ts.tsa = NULL; /* now the signature's */
		}
		free(ts.tsa);
		snprintf(sig->signing_time, sizeof(sig->signing_time), "%s",
		    ts.time);
		if (c->o->detached == NULL)
			ver_sig_reason(sig,
			    "no time-stamped data given: "
			    "message imprint not checked");
		else if (strcmp(ts.imprint, "mismatch") == 0) {
			ver_sig_reason(sig,
			    "RFC 3161 §2.4.2: message imprint "
			    "does not match the data");
			ver_sig_verdict(sig, SC_VER_TOTAL_FAILED,
			    "HASH_FAILURE");
			sig->crypto_intact = 0;
		}
		rc = 0;
		goto out;
	}
	c->rep->format = "CAdES";
	for (int i = 0; i < n; i++) {
		if ((sig = ver_sig_add(c->rep, "CAdES", c->err)) == NULL)
			goto out;
		if (ver_cms_signer(c, cms, sk_CMS_SignerInfo_value(sis, i),
			NULL, 0, sig, 0) != 0)
			goto out;
	}
	rc = 0;
out:
	CMS_ContentInfo_free(cms);
	return rc;
}
