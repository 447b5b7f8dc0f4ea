/*
 * signer_xades.c: XAdES baseline signatures (ETSI EN 319 132-1 v1.1.1):
 * the B-B template with its signed properties, enveloped, enveloping and
 * detached packaging, counter-signatures, then the levels above B-B
 * (signer_xades_ext.c) and the verification before release.
 */
/* xmlsec1 1.2.37's OpenSSL headers still name RSA, DSA and EC_KEY: this
 * file is compiled with the deprecated declarations visible. */
#undef OPENSSL_NO_DEPRECATED

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#include "sceau/hsm.h"
#include "sceau/tsa.h"

#include "xades_int.h"

static const char *const level_names[] = {"B-B", "B-T", "B-LT", "B-LTA"};
static const char *const pack_names[] = {"enveloped", "enveloping", "detached"};

int
sc_xades_level_parse(const char *s, enum sc_xades_level *out,
    struct sc_err *err)
{
	for (size_t i = 0; s != NULL && i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum sc_xades_level)i;
			return 0;
		}
	return sc_err_set(err, SC_E_USAGE,
	    "unknown level \"%.40s\" (B-B, B-T, B-LT, B-LTA)", s ? s : "");
}

const char *
sc_xades_level_name(enum sc_xades_level l)
{
	return (unsigned)l < 4 ? level_names[l] : "?";
}

int
sc_xades_packaging_parse(const char *s, enum sc_xades_packaging *out,
    struct sc_err *err)
{
	for (size_t i = 0; s != NULL && i < 3; i++)
		if (strcasecmp(s, pack_names[i]) == 0) {
			*out = (enum sc_xades_packaging)i;
			return 0;
		}
	return sc_err_set(err, SC_E_USAGE,
	    "unknown packaging \"%.40s\" (enveloped, enveloping, detached)",
	    s ? s : "");
}

const char *
sc_xades_packaging_name(enum sc_xades_packaging p)
{
	return (unsigned)p < 3 ? pack_names[p] : "?";
}

int
sc_xades_digest_parse(const char *s, enum sc_xades_digest *out,
    struct sc_err *err)
{
	static const char *const n[] = {"sha256", "sha384", "sha512"};

	for (size_t i = 0; s != NULL && i < 3; i++)
		if (strcasecmp(s, n[i]) == 0) {
			*out = (enum sc_xades_digest)i;
			return 0;
		}
	return sc_err_set(err, SC_E_USAGE,
	    "unknown digest \"%.40s\" (sha256, sha384, sha512)", s ? s : "");
}

/* ------------------------------------------------------------------ */
/* Signed properties (EN 319 132-1 §5.2)                               */

static xmlSecTransformId
digest_tid(enum sc_xades_digest d)
{
	switch (d) {
	case SC_XADES_SHA384:
		return xmlSecTransformSha384Id;
	case SC_XADES_SHA512:
		return xmlSecTransformSha512Id;
	default:
		return xmlSecTransformSha256Id;
	}
}

static int
add_digest(xmlNodePtr parent, xmlNsPtr ds, const struct xades_algs *a,
    const EVP_MD *md, const char *md_uri, const uint8_t *p, size_t len,
    struct sc_err *err)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	xmlNodePtr dm;
	char *b64;

	(void)a;
	if (EVP_Digest(p, len, h, &hl, md, NULL) != 1)
		return sc_err_crypto(err, SC_E_CRYPTO, "digest failed");
	dm = xml_add(parent, ds, "DigestMethod", NULL);
	b64 = sc_b64_encode(h, hl, 0);
	if (dm == NULL || b64 == NULL ||
	    xmlSetProp(dm, XC "Algorithm", XC md_uri) == NULL ||
	    xml_add(parent, ds, "DigestValue", b64) == NULL) {
		free(b64);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	free(b64);
	return 0;
}

/*
 * IssuerSerialV2 (EN 319 132-1 §5.2.2): base64 of the DER IssuerSerial of
 * RFC 5035, SEQUENCE { GeneralNames { [4] directoryName }, serial }.
 */
static char *
issuer_serial_v2(X509 *cert)
{
	GENERAL_NAMES *gns = NULL;
	GENERAL_NAME *gn = NULL;
	X509_NAME *nm = NULL;
	unsigned char *a = NULL, *b = NULL, *der = NULL, *p;
	int la, lb, total;
	char *res = NULL;

	gns = GENERAL_NAMES_new();
	gn = GENERAL_NAME_new();
	nm = X509_NAME_dup(X509_get_issuer_name(cert));
	if (gns == NULL || gn == NULL || nm == NULL)
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_DIRNAME, nm);
	nm = NULL; /* owned by gn */
	if (sk_GENERAL_NAME_push(gns, gn) <= 0)
		goto out;
	gn = NULL; /* owned by gns */
	la = i2d_GENERAL_NAMES(gns, &a);
	lb = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &b);
	if (la <= 0 || lb <= 0 || la > 65536 || lb > 1024)
		goto out;
	total = ASN1_object_size(1, la + lb, V_ASN1_SEQUENCE);
	if (total <= 0 || (der = malloc((size_t)total)) == NULL)
		goto out;
	p = der;
	ASN1_put_object(&p, 1, la + lb, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, a, (size_t)la);
	memcpy(p + la, b, (size_t)lb);
	res = sc_b64_encode(der, (size_t)total, 0);
out:
	free(der);
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_NAME_free(nm);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gns);
	return res;
}

static int
is_oid(const char *s)
{
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return 0;
	return 1;
}

/* An xades:Identifier, OIDs as URNs (XAdES §7.1.2 "OIDAsURN"). */
static int
add_identifier(xmlNodePtr parent, xmlNsPtr x, const char *id,
    struct sc_err *err)
{
	char urn[160];
	xmlNodePtr n;

	if (is_oid(id)) {
		if ((size_t)snprintf(urn, sizeof(urn), "urn:oid:%s", id) >=
		    sizeof(urn))
			return sc_err_set(err, SC_E_USAGE, "OID too long");
		n = xml_add(parent, x, "Identifier", urn);
		if (n != NULL &&
		    xmlSetProp(n, XC "Qualifier", XC "OIDAsURN") == NULL)
			n = NULL;
	} else {
		n = xml_add(parent, x, "Identifier", id);
	}
	return n != NULL ? 0 : sc_err_set(err, SC_E_NOMEM, "out of memory");
}

/* Short names of the commitment types of EN 319 122-1 §5.2.3 / XAdES. */
static const char *
commitment_uri(const char *c)
{
	static const struct {
		const char *name, *uri;
	} t[] = {
	    {"origin", "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin"},
	    {"receipt", "http://uri.etsi.org/01903/v1.2.2#ProofOfReceipt"},
	    {"delivery", "http://uri.etsi.org/01903/v1.2.2#ProofOfDelivery"},
	    {"sender", "http://uri.etsi.org/01903/v1.2.2#ProofOfSender"},
	    {"approval", "http://uri.etsi.org/01903/v1.2.2#ProofOfApproval"},
	    {"creation", "http://uri.etsi.org/01903/v1.2.2#ProofOfCreation"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(c, t[i].name) == 0)
			return t[i].uri;
	return c;
}

struct build {
	const struct sc_xades_opts *o;
	const struct xades_algs *a;
	X509 *cert;
	X509 *const *chain;
	size_t nchain;
	xmlNsPtr ds, x;
	char sig_id[XADES_ID_MAX];
	char sp_id[XADES_ID_MAX];
	char sv_id[XADES_ID_MAX];
	/* data references: Id and MimeType, for DataObjectFormat */
	char ref_id[XADES_MAX_DETACHED][XADES_ID_MAX];
	const char *ref_mime[XADES_MAX_DETACHED];
	size_t nrefs;
};

static int
add_signed_props(struct build *b, xmlNodePtr qp, struct sc_err *err)
{
	const struct sc_xades_opts *o = b->o;
	xmlNodePtr sp, ssp, sc, cert, cd, sdop, n;
	unsigned char *der = NULL;
	struct sc_time now = sc_time_now();
	char st[32], *is2 = NULL;
	int derlen, rc = -1;

	sp = xml_add(qp, b->x, "SignedProperties", NULL);
	if (sp == NULL || xmlSetProp(sp, XC "Id", XC b->sp_id) == NULL)
		goto nomem;
	ssp = xml_add(sp, b->x, "SignedSignatureProperties", NULL);
	/* SigningTime: UTC, no fraction (brief §1.2). */
	sc_time_fmt(now, 0, st);
	if (ssp == NULL || xml_add(ssp, b->x, "SigningTime", st) == NULL)
		goto nomem;
	/* SigningCertificateV2 without Cert/@URI (§6.3 requirement i). */
	sc = xml_add(ssp, b->x, "SigningCertificateV2", NULL);
	cert = sc != NULL ? xml_add(sc, b->x, "Cert", NULL) : NULL;
	cd = cert != NULL ? xml_add(cert, b->x, "CertDigest", NULL) : NULL;
	if (cd == NULL)
		goto nomem;
	derlen = i2d_X509(b->cert, &der);
	if (derlen <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot encode the certificate");
		goto out;
	}
	if (add_digest(cd, b->ds, b->a, b->a->md, b->a->digest_uri, der,
		(size_t)derlen, err) != 0)
		goto out;
	is2 = issuer_serial_v2(b->cert);
	if (is2 == NULL || xml_add(cert, b->x, "IssuerSerialV2", is2) == NULL)
		goto nomem;
	if (o->policy_id != NULL || o->policy_implied) {
		xmlNodePtr spi =
		    xml_add(ssp, b->x, "SignaturePolicyIdentifier", NULL);

		if (spi == NULL)
			goto nomem;
		if (o->policy_id == NULL) {
			if (xml_add(spi, b->x, "SignaturePolicyImplied",
				NULL) == NULL)
				goto nomem;
		} else {
			xmlNodePtr pid, h, dm, q;
			char *b64;

			if (o->policy_hash == NULL ||
			    o->policy_hash_len != 32) {
				sc_err_set(err, SC_E_USAGE,
				    "a signature policy needs its SHA-256 "
				    "hash (SigPolicyHash)");
				goto out;
			}
			pid = xml_add(spi, b->x, "SignaturePolicyId", NULL);
			n = pid != NULL
			    ? xml_add(pid, b->x, "SigPolicyId", NULL)
			    : NULL;
			if (n == NULL ||
			    add_identifier(n, b->x, o->policy_id, err) != 0)
				goto nomem;
			h = xml_add(pid, b->x, "SigPolicyHash", NULL);
			dm = h != NULL ? xml_add(h, b->ds, "DigestMethod", NULL)
				       : NULL;
			b64 = sc_b64_encode(o->policy_hash, 32, 0);
			if (dm == NULL || b64 == NULL ||
			    xmlSetProp(dm, XC "Algorithm",
				XC "http://www.w3.org/2001/04/"
				   "xmlenc#sha256") == NULL ||
			    xml_add(h, b->ds, "DigestValue", b64) == NULL) {
				free(b64);
				goto nomem;
			}
			free(b64);
			if (o->policy_uri != NULL) {
				q = xml_add(pid, b->x, "SigPolicyQualifiers",
				    NULL);
				q = q != NULL ? xml_add(q, b->x,
						    "SigPolicyQualifier", NULL)
					      : NULL;
				if (q == NULL ||
				    xml_add(q, b->x, "SPURI", o->policy_uri) ==
					NULL)
					goto nomem;
			}
		}
	}
	if (o->nroles > 0) {
		xmlNodePtr r = xml_add(ssp, b->x, "SignerRoleV2", NULL);

		r = r != NULL ? xml_add(r, b->x, "ClaimedRoles", NULL) : NULL;
		if (r == NULL)
			goto nomem;
		for (size_t i = 0; i < o->nroles; i++)
			if (o->roles[i] == NULL ||
			    xml_add(r, b->x, "ClaimedRole", o->roles[i]) ==
				NULL)
				goto nomem;
	}
	/* One DataObjectFormat per data reference (§6.3 requirement k). */
	if (b->nrefs > 0 || o->commitment != NULL) {
		sdop = xml_add(sp, b->x, "SignedDataObjectProperties", NULL);
		if (sdop == NULL)
			goto nomem;
		for (size_t i = 0; i < b->nrefs; i++) {
			char oref[XADES_ID_MAX + 1];

			snprintf(oref, sizeof(oref), "#%s", b->ref_id[i]);
			n = xml_add(sdop, b->x, "DataObjectFormat", NULL);
			if (n == NULL ||
			    xmlSetProp(n, XC "ObjectReference", XC oref) ==
				NULL ||
			    xml_add(n, b->x, "MimeType", b->ref_mime[i]) ==
				NULL)
				goto nomem;
		}
		if (o->commitment != NULL) {
			n = xml_add(sdop, b->x, "CommitmentTypeIndication",
			    NULL);
			n = n != NULL
			    ? xml_add(n, b->x, "CommitmentTypeId", NULL)
			    : NULL;
			if (n == NULL ||
			    add_identifier(n, b->x,
				commitment_uri(o->commitment), err) != 0 ||
			    xml_add(n->parent, b->x, "AllSignedDataObjects",
				NULL) == NULL)
				goto nomem;
		}
	}
	rc = 0;
	goto out;
nomem:
	sc_err_set(err, SC_E_NOMEM, "out of memory");
out:
	free(is2);
	OPENSSL_free(der);
	return rc;
}

/* ds:KeyInfo/X509Data with the certificate, and the chain if asked. */
static int
add_key_info(struct build *b, xmlNodePtr sig, struct sc_err *err)
{
	xmlNodePtr sv = xml_child(sig, NS_DS, "SignatureValue");
	xmlNodePtr ki, xd;
	size_t n = b->o->key_info_chain ? b->nchain : 0;

	ki = xmlNewDocNode(sig->doc, b->ds, XC "KeyInfo", NULL);
	if (ki == NULL || sv == NULL || xmlAddNextSibling(sv, ki) == NULL) {
		xmlFreeNode(ki);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	xd = xml_add(ki, b->ds, "X509Data", NULL);
	if (xd == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	for (size_t i = 0; i <= n; i++) {
		X509 *x = i == 0 ? b->cert : b->chain[i - 1];
		unsigned char *der = NULL;
		int len = i2d_X509(x, &der);
		char *b64 = len > 0 ? sc_b64_encode(der, (size_t)len, 0) : NULL;
		xmlNodePtr c = b64 != NULL
		    ? xml_add(xd, b->ds, "X509Certificate", b64)
		    : NULL;

		free(b64);
		OPENSSL_free(der);
		if (c == NULL)
			return sc_err_crypto(err, SC_E_NOMEM,
			    "cannot encode a certificate");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Finding signatures                                                  */

/* 1 if @n sits inside a xades:CounterSignature. */
static int
nested(xmlNodePtr n)
{
	for (n = n->parent; n != NULL; n = n->parent)
		if (xml_is(n, NS_XADES, "CounterSignature"))
			return 1;
	return 0;
}

struct sig_search {
	const char *id; /* NULL: top-level ones */
	xmlNodePtr found;
	size_t count;
};

static void
find_sigs(xmlNodePtr root, struct sig_search *s)
{
	xmlNodePtr n = root;

	while (n != NULL) {
		if (xml_is(n, NS_DS, "Signature")) {
			if (s->id != NULL) {
				xmlChar *v = xmlGetProp(n, XC "Id");

				if (v != NULL &&
				    strcmp((const char *)v, s->id) == 0) {
					s->found = n;
					s->count++;
				}
				xmlFree(v);
			} else if (!nested(n)) {
				s->found = n;
				s->count++;
			}
		}
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != NULL && n != root && n->next == NULL)
			n = n->parent;
		if (n == NULL || n == root)
			break;
		n = n->next;
	}
}

/* The signature @id, or the only top-level one when @id is NULL/"*". */
static xmlNodePtr
sig_find(xmlDocPtr doc, const char *id, struct sc_err *err)
{
	struct sig_search s = {0};

	s.id = id != NULL && strcmp(id, "*") != 0 ? id : NULL;
	find_sigs(xmlDocGetRootElement(doc), &s);
	if (s.count == 1)
		return s.found;
	if (s.id != NULL)
		sc_err_set(err, SC_E_INVALID_INPUT, "no signature \"%.60s\"",
		    s.id);
	else
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the document has %zu signatures: name one", s.count);
	return NULL;
}

/* The QualifyingProperties of @sig that targets it (brief §4). */
static xmlNodePtr
sig_qp(xmlNodePtr sig)
{
	xmlChar *id = xmlGetProp(sig, XC "Id");
	xmlNodePtr found = NULL;
	size_t count = 0;

	for (xmlNodePtr o = xml_first_el(sig); id != NULL && o != NULL;
	     o = xml_next_el(o)) {
		if (!xml_is(o, NS_DS, "Object"))
			continue;
		for (xmlNodePtr q = xml_first_el(o); q != NULL;
		     q = xml_next_el(q)) {
			xmlChar *t;

			if (!xml_is(q, NS_XADES, "QualifyingProperties"))
				continue;
			t = xmlGetProp(q, XC "Target");
			if (t != NULL && t[0] == '#' &&
			    strcmp((const char *)t + 1, (const char *)id) ==
				0) {
				found = q;
				count++;
			}
			xmlFree(t);
		}
	}
	xmlFree(id);
	return count == 1 ? found : NULL;
}

/*
 * Registers the Id of the ds:SignatureValue that a counter-signature
 * references (outside its own subtree, so xmlsec does not add it).
 */
static int
register_cs_target(xmlNodePtr cs_sig, struct sc_err *err)
{
	xmlNodePtr si = xml_child(cs_sig, NS_DS, "SignedInfo");

	for (xmlNodePtr r = xml_first_el(si); r != NULL; r = xml_next_el(r)) {
		xmlChar *type = xmlGetProp(r, XC "Type");
		xmlChar *uri = xmlGetProp(r, XC "URI");
		int cs = type != NULL &&
		    strcmp((const char *)type, TYPE_COUNTERSIGNED) == 0;
		xmlNodePtr sig, sv = NULL;
		xmlAttrPtr at = NULL;

		xmlFree(type);
		if (!cs || uri == NULL || uri[0] != '#') {
			xmlFree(uri);
			continue;
		}
		/* The target: the ds:Signature enclosing this one's
		 * xades:CounterSignature (EN 319 132-1 §5.4.2). */
		for (sig = cs_sig->parent; sig != NULL; sig = sig->parent)
			if (xml_is(sig, NS_DS, "Signature"))
				break;
		if (sig != NULL)
			sv = xml_child(sig, NS_DS, "SignatureValue");
		if (sv != NULL)
			at = xmlHasProp(sv, XC "Id");
		if (at != NULL) {
			xmlChar *v = xmlGetProp(sv, XC "Id");

			if (!xmlStrEqual(v, uri + 1))
				at = NULL;
			xmlFree(v);
		}
		if (at == NULL) {
			xmlFree(uri);
			return sc_err_set(err, SC_E_CRYPTO,
			    "the counter-signature does not reference its "
			    "parent's SignatureValue");
		}
		if (xmlGetID(sv->doc, uri + 1) == NULL &&
		    xmlAddID(NULL, sv->doc, uri + 1, at) == NULL) {
			xmlFree(uri);
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		}
		xmlFree(uri);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Levels above B-B, and verification before release                  */

/* The current level of a signature, from its unsigned properties. */
static enum sc_xades_level
sig_level(const struct xades_sig *s)
{
	enum sc_xades_level l = SC_XADES_B_B;

	for (xmlNodePtr n = xml_first_el(s->usp); n != NULL;
	     n = xml_next_el(n)) {
		if (xml_is(n, NS_XADES141, "ArchiveTimeStamp"))
			return SC_XADES_B_LTA;
		if ((xml_is(n, NS_XADES, "CertificateValues") ||
			xml_is(n, NS_XADES, "RevocationValues")) &&
		    l < SC_XADES_B_LT)
			l = SC_XADES_B_LT;
		if (xml_is(n, NS_XADES, "SignatureTimeStamp") &&
		    l < SC_XADES_B_T)
			l = SC_XADES_B_T;
	}
	return l;
}

static int
xades_sig_init(struct xades_sig *s, xmlNodePtr sig, X509 *cert,
    struct sc_err *err)
{
	xmlNodePtr si = xml_child(sig, NS_DS, "SignedInfo");
	xmlChar *c = NULL;

	memset(s, 0, sizeof(*s));
	s->sig = sig;
	s->cert = cert;
	s->qp = sig_qp(sig);
	if (s->qp == NULL)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "EN 319 132-1 §4.3: no single QualifyingProperties "
		    "targets the signature");
	s->xades = xmlSearchNsByHref(sig->doc, s->qp, XC NS_XADES);
	c = xmlGetProp(xml_child(si, NS_DS, "CanonicalizationMethod"),
	    XC "Algorithm");
	s->excl = c == NULL || strcmp((const char *)c, C14N_INCL) != 0;
	xmlFree(c);
	{
		xmlNodePtr up =
		    xml_child(s->qp, NS_XADES, "UnsignedProperties");

		s->usp = xml_child(up, NS_XADES, "UnsignedSignatureProperties");
	}
	return 0;
}

/*
 * Raises @s from its level to @o->level. @refs: ATS step 1 (needed for
 * B-LTA only). @chain: the signer's CA certificates, for collection.
 */
static int
raise_level(struct xades_sig *s, const struct sc_xades_opts *o,
    X509 *const *chain, size_t nchain, const struct sc_buf *refs,
    struct sc_xades_info *info, struct sc_err *err)
{
	enum sc_xades_level cur = s->usp != NULL ? sig_level(s) : SC_XADES_B_B;
	struct sc_ltv sl, tl;
	struct sc_xades_der *sd = NULL, *td = NULL;
	struct sc_xades_vdata sv, tv;
	const struct sc_xades_vdata *v = o->vdata, *t = o->tsa_vdata;
	int rc = -1;

	memset(&sl, 0, sizeof(sl));
	memset(&tl, 0, sizeof(tl));
	if (o->level > SC_XADES_B_B && o->tsa == NULL) {
		sc_err_set(err, SC_E_USAGE,
		    "level %s needs a time-stamping authority",
		    sc_xades_level_name(o->level));
		goto out;
	}
	if (cur < SC_XADES_B_T && o->level >= SC_XADES_B_T &&
	    xades_add_sig_tst(s, o->tsa, info, err) != 0)
		goto out;
	if (o->level >= SC_XADES_B_LT) {
		/* The material, given or collected (sceau/ltv.h). */
		if (v == NULL && cur < SC_XADES_B_LT) {
			if (xades_collect(s, o, chain, nchain, 0, &sl, &sd, &sv,
				err) != 0)
				goto out;
			v = &sv;
		}
		if (t == NULL) {
			if (xades_collect(s, o, NULL, 0, 1, &tl, &td, &tv,
				err) != 0)
				goto out;
			t = &tv;
		}
	}
	if (cur < SC_XADES_B_LT && o->level >= SC_XADES_B_LT) {
		if (v == NULL || (v->ncrls == 0 && v->nocsps == 0)) {
			sc_err_set(err, SC_E_USAGE,
			    "EN 319 132-1 §6.3: level B-LT needs revocation "
			    "data (CRL or OCSP) for the signer's chain");
			goto out;
		}
		if (xades_add_lt(s, v, t, err) != 0)
			goto out;
	}
	if (o->level == SC_XADES_B_LTA) {
		/* Renewal: the validation data of the earlier archive
		 * time-stamps goes in first, so the new one covers it. */
		if (cur == SC_XADES_B_LTA && t != NULL &&
		    xades_add_lt(s, NULL, t, err) != 0)
			goto out;
		if (xades_add_ats(s, refs, o->tsa, info, err) != 0)
			goto out;
	}
	info->level = o->level > cur ? o->level : cur;
	rc = 0;
out:
	free(sd);
	free(td);
	sc_ltv_free(&sl);
	sc_ltv_free(&tl);
	return rc;
}

/*
 * Verification before release: parse the bytes we are about to return,
 * as anybody will, and verify the signature @id in them.
 */
static int
verify_output(const uint8_t *p, size_t len, const char *id, X509 *cert,
    const struct sc_xades_detached *det, size_t ndet, struct sc_err *err)
{
	xmlDocPtr doc;
	xmlNodePtr sig;
	int rc = -1;

	doc = xml_parse(p, len, len + 1, err);
	if (doc == NULL)
		return -1;
	sig = sig_find(doc, id, err);
	if (sig != NULL && register_cs_target(sig, err) == 0 &&
	    xades_verify_core(sig, cert, det, ndet, NULL, err) == 0)
		rc = 0;
	xmlFreeDoc(doc);
	if (rc != 0)
		sc_err_set(err, SC_E_CRYPTO,
		    "the new signature did not verify: not released");
	return rc;
}

static int
check_opts(const struct sc_xades_opts *o, struct sc_err *err)
{
	if ((unsigned)o->level > SC_XADES_B_LTA ||
	    (unsigned)o->packaging > SC_XADES_DETACHED ||
	    (unsigned)o->digest > SC_XADES_SHA512)
		return sc_err_set(err, SC_E_USAGE, "bad XAdES options");
	if (o->packaging == SC_XADES_DETACHED && o->countersign == NULL) {
		if (o->ndetached == 0 || o->ndetached > XADES_MAX_DETACHED)
			return sc_err_set(err, SC_E_USAGE,
			    "a detached signature needs 1 to %d data objects",
			    XADES_MAX_DETACHED);
		for (size_t i = 0; i < o->ndetached; i++) {
			const struct sc_xades_detached *d = &o->detached[i];

			if (d->uri == NULL || d->uri[0] == '\0' ||
			    d->uri[0] == '#' || strlen(d->uri) > 1024 ||
			    (d->data == NULL && d->digest == NULL))
				return sc_err_set(err, SC_E_USAGE,
				    "a detached data object needs a URI (not "
				    "\"#...\") and its data or digest");
		}
	}
	return 0;
}

/*
 * 1 if every canonicalisation in @sig is exclusive c14n: SignedInfo, the
 * reference transforms, and the time-stamps (whose default, without a
 * CanonicalizationMethod, is inclusive c14n 1.0: XAdES §7.1.4.3). Only
 * then can the signature move under another parent unchanged.
 */
static int
only_excl(xmlNodePtr sig)
{
	static const char enveloped[] =
	    "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
	xmlNodePtr n = sig;

	while (n != NULL) {
		if (xml_is(n, NS_DS, "CanonicalizationMethod") ||
		    xml_is(n, NS_DS, "Transform")) {
			xmlChar *a = xmlGetProp(n, XC "Algorithm");
			int ok = a != NULL &&
			    (strcmp((const char *)a, C14N_EXCL) == 0 ||
				strcmp((const char *)a, enveloped) == 0);

			xmlFree(a);
			if (!ok)
				return 0;
		}
		if ((xml_is(n, NS_XADES, "SignatureTimeStamp") ||
			xml_is(n, NS_XADES141, "ArchiveTimeStamp") ||
			xml_is(n, NS_XADES, "ArchiveTimeStamp")) &&
		    xml_child(n, NS_DS, "CanonicalizationMethod") == NULL)
			return 0;
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != NULL && n != sig && n->next == NULL)
			n = n->parent;
		if (n == NULL || n == sig)
			break;
		n = n->next;
	}
	return 1;
}

/*
 * Parallel detached signatures: the root asic:XAdESSignatures (ETSI EN
 * 319 162-1 §A.5), made from a lone ds:Signature root if needed.
 * @return the element that receives the new signature, or NULL.
 */
static xmlNodePtr
parallel_root(xmlDocPtr doc, struct sc_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), w;
	xmlNsPtr ns;

	if (xml_is(root, NS_ASIC, "XAdESSignatures"))
		return root;
	if (!xml_is(root, NS_DS, "Signature")) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "a parallel signature goes beside a detached signature "
		    "(root ds:Signature or asic:XAdESSignatures)");
		return NULL;
	}
	if (!only_excl(root)) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the existing signature uses inclusive c14n: moving it "
		    "under asic:XAdESSignatures would break it");
		return NULL;
	}
	w = xmlNewDocNode(doc, NULL, XC "XAdESSignatures", NULL);
	ns = w != NULL ? xmlNewNs(w, XC NS_ASIC, XC "asic") : NULL;
	if (ns == NULL) {
		xmlFreeNode(w);
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	xmlSetNs(w, ns);
	root = xmlDocSetRootElement(doc, w);
	if (root == NULL || xmlAddChild(w, root) == NULL) {
		sc_err_set(err, SC_E_INTERNAL, "cannot move the signature");
		return NULL;
	}
	return w;
}

/* Enveloping: the input's root element inside ds:Object (XMLDSig §2.3). */
static int
envelop(xmlDocPtr in, xmlNodePtr obj, struct sc_err *err)
{
	xmlNodePtr c = xmlDocCopyNode(xmlDocGetRootElement(in), obj->doc, 1);

	if (c == NULL || xmlAddChild(obj, c) == NULL) {
		xmlFreeNode(c);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	return 0;
}

int
sc_xades_sign(struct sc_hsm *hsm, const char *key_alias, X509 *cert,
    X509 *const *chain, size_t nchain, const uint8_t *in, size_t len,
    const struct sc_xades_opts *o, uint8_t **out, size_t *outlen,
    struct sc_xades_info *info, struct sc_err *err)
{
	struct xades_dref dr[XADES_MAX_DETACHED];
	struct sc_xades_info tmp_info;
	struct xades_algs a;
	struct xades_sig xs;
	struct build b;
	struct sc_buf refs;
	xmlDocPtr src = NULL, doc = NULL;
	xmlNodePtr sig = NULL, ref, obj, qp, target = NULL;
	EVP_PKEY *key = NULL, *pub = NULL;
	uint8_t *res = NULL;
	size_t reslen = 0, ndr = 0;
	char obj_id[XADES_ID_MAX], uri[XADES_ID_MAX + 1];
	int rc = -1, detached;

	*out = NULL;
	*outlen = 0;
	if (info == NULL)
		info = &tmp_info;
	memset(info, 0, sizeof(*info));
	memset(&b, 0, sizeof(b));
	sc_buf_init(&refs, SIZE_MAX / 2);
	if (xml_init(err) != 0 || check_opts(o, err) != 0)
		goto out;
	if (cert == NULL || (nchain > 0 && chain == NULL) || nchain > 16) {
		sc_err_set(err, SC_E_USAGE, "no signing certificate");
		goto out;
	}
	detached = o->packaging == SC_XADES_DETACHED && o->countersign == NULL;

	/* The certificate must be the key's, and valid now. */
	pub = sc_hsm_pubkey_get1(hsm, key_alias, err);
	if (pub == NULL)
		goto out;
	if (EVP_PKEY_eq(pub, X509_get0_pubkey(cert)) != 1) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the certificate is not the certificate of key %.64s",
		    key_alias);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the signing certificate is not valid now");
		goto out;
	}
	if (xades_algs_init(&a, o->digest, pub, !o->inclusive_c14n, err) != 0)
		goto out;
	b.o = o;
	b.a = &a;
	b.cert = cert;
	b.chain = chain;
	b.nchain = nchain;
	if (xml_new_id("sig", b.sig_id, err) != 0)
		goto out;
	snprintf(b.sp_id, sizeof(b.sp_id), "%.24s-sp", b.sig_id);
	snprintf(b.sv_id, sizeof(b.sv_id), "%.24s-sv", b.sig_id);
	snprintf(obj_id, sizeof(obj_id), "%.24s-obj", b.sig_id);
	snprintf(info->id, sizeof(info->id), "%s", b.sig_id);

	if (detached && o->detached[0].data != NULL)
		sc_sha256(o->detached[0].data, o->detached[0].len,
		    info->doc_sha256);
	if (!detached || o->parallel) {
		if (!detached)
			sc_sha256(in, len, info->doc_sha256);
		src = xml_parse(in, len, o->max_input, err);
		if (src == NULL)
			goto out;
		if (xmlGetID(src, XC b.sig_id) != NULL) {
			sc_err_set(err, SC_E_INVALID_XML, "identifier clash");
			goto out;
		}
	}
	if (o->packaging == SC_XADES_ENVELOPED || o->countersign != NULL ||
	    (detached && o->parallel)) {
		doc = src; /* signed in place */
		src = NULL;
	} else {
		doc = xmlNewDoc(XC "1.0");
		if (doc == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (o->countersign != NULL) {
		target = sig_find(doc, o->countersign, err);
		if (target == NULL)
			goto out;
	}

	/* The template (XMLDSig §4): SignedInfo, SignatureValue, Objects. */
	sig = xmlSecTmplSignatureCreateNsPref(doc,
	    a.excl ? xmlSecTransformExclC14NId : xmlSecTransformInclC14NId,
	    a.is_ec
		? (o->digest == SC_XADES_SHA384 ? xmlSecTransformEcdsaSha384Id
			  : o->digest == SC_XADES_SHA512
			  ? xmlSecTransformEcdsaSha512Id
			  : xmlSecTransformEcdsaSha256Id)
		: (o->digest == SC_XADES_SHA384 ? xmlSecTransformRsaSha384Id
			  : o->digest == SC_XADES_SHA512
			  ? xmlSecTransformRsaSha512Id
			  : xmlSecTransformRsaSha256Id),
	    XC b.sig_id, XC "ds");
	if (sig == NULL) {
		sc_err_set(err, SC_E_NOMEM, "cannot create the signature");
		goto out;
	}
	if (o->countersign != NULL) {
		struct xades_sig ts;
		xmlNodePtr cs, tsv;
		xmlChar *tid;

		if (xades_sig_init(&ts, target, NULL, err) != 0 ||
		    xades_usp(&ts, err) != 0) {
			xmlFreeNode(sig);
			goto out;
		}
		cs = xml_add(ts.usp, ts.xades, "CounterSignature", NULL);
		if (cs == NULL || xmlAddChild(cs, sig) == NULL) {
			xmlFreeNode(sig);
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		tsv = xml_child(target, NS_DS, "SignatureValue");
		tid = tsv != NULL ? xmlGetProp(tsv, XC "Id") : NULL;
		if (tid == NULL) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "the counter-signed SignatureValue has no Id");
			goto out;
		}
		snprintf(uri, sizeof(uri), "#%.46s", (const char *)tid);
		xmlFree(tid);
		ref = xmlSecTmplSignatureAddReference(sig,
		    digest_tid(o->digest), NULL, XC uri, XC TYPE_COUNTERSIGNED);
		if (ref == NULL ||
		    xmlSecTmplReferenceAddTransform(ref,
			a.excl ? xmlSecTransformExclC14NId
			       : xmlSecTransformInclC14NId) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
	} else if (o->packaging == SC_XADES_ENVELOPED) {
		xmlAddChild(xmlDocGetRootElement(doc), sig);
	} else if (detached && o->parallel) {
		xmlNodePtr w = parallel_root(doc, err);

		if (w == NULL) {
			xmlFreeNode(sig);
			goto out;
		}
		xmlAddChild(w, sig);
	} else {
		xmlDocSetRootElement(doc, sig);
	}
	b.ds = sig->ns;

	if (o->countersign == NULL && !detached) {
		snprintf(b.ref_id[0], XADES_ID_MAX, "%.24s-ref-0", b.sig_id);
		b.ref_mime[0] = o->mime != NULL ? o->mime : "text/xml";
		b.nrefs = 1;
		if (o->packaging == SC_XADES_ENVELOPED) {
			ref = xmlSecTmplSignatureAddReference(sig,
			    digest_tid(o->digest), XC b.ref_id[0], XC "", NULL);
			if (ref != NULL &&
			    xmlSecTmplReferenceAddTransform(ref,
				xmlSecTransformEnvelopedId) == NULL)
				ref = NULL;
		} else {
			snprintf(uri, sizeof(uri), "#%s", obj_id);
			ref = xmlSecTmplSignatureAddReference(sig,
			    digest_tid(o->digest), XC b.ref_id[0], XC uri,
			    XC TYPE_OBJECT);
		}
		if (ref == NULL ||
		    xmlSecTmplReferenceAddTransform(ref,
			a.excl ? xmlSecTransformExclC14NId
			       : xmlSecTransformInclC14NId) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; detached && i < o->ndetached; i++) {
		const struct sc_xades_detached *d = &o->detached[i];
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned int hl = 0;
		char *b64;

		snprintf(b.ref_id[i], XADES_ID_MAX, "%.24s-ref-%u", b.sig_id,
		    (unsigned)i);
		b.ref_mime[i] =
		    d->mime != NULL ? d->mime : "application/octet-stream";
		b.nrefs = i + 1;
		ref = xmlSecTmplSignatureAddReference(sig,
		    digest_tid(o->digest), XC b.ref_id[i], XC d->uri, NULL);
		if (ref == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		if (d->data != NULL) {
			if (EVP_Digest(d->data, d->len, h, &hl, a.md, NULL) !=
			    1) {
				sc_err_crypto(err, SC_E_CRYPTO, "digest");
				goto out;
			}
		} else {
			if (d->digest_len != (size_t)EVP_MD_get_size(a.md)) {
				sc_err_set(err, SC_E_USAGE,
				    "the digest of \"%.60s\" is not a %s "
				    "digest",
				    d->uri, EVP_MD_get0_name(a.md));
				goto out;
			}
			memcpy(h, d->digest, d->digest_len);
			hl = (unsigned int)d->digest_len;
		}
		b64 = sc_b64_encode(h, hl, 0);
		if (b64 == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		xmlNodeSetContent(xml_child(ref, NS_DS, "DigestValue"), XC b64);
		free(b64);
		dr[ndr].ref = ref;
		dr[ndr].d = d;
		ndr++;
	}
	snprintf(uri, sizeof(uri), "#%s", b.sp_id);
	ref = xmlSecTmplSignatureAddReference(sig, digest_tid(o->digest), NULL,
	    XC uri, XC TYPE_SIGNED_PROPS);
	if (ref == NULL ||
	    xmlSecTmplReferenceAddTransform(ref,
		a.excl ? xmlSecTransformExclC14NId
		       : xmlSecTransformInclC14NId) == NULL ||
	    xmlSetProp(xml_child(sig, NS_DS, "SignatureValue"), XC "Id",
		XC b.sv_id) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (o->packaging == SC_XADES_ENVELOPING && o->countersign == NULL) {
		obj = xmlSecTmplSignatureAddObject(sig, XC obj_id,
		    XC "text/xml", NULL);
		if (obj == NULL || envelop(src, obj, err) != 0) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
	}
	obj = xmlSecTmplSignatureAddObject(sig, NULL, NULL, NULL);
	qp = obj != NULL
	    ? xmlNewChild(obj, NULL, XC "QualifyingProperties", NULL)
	    : NULL;
	b.x = qp != NULL ? xmlNewNs(qp, XC NS_XADES, XC "xades") : NULL;
	snprintf(uri, sizeof(uri), "#%s", b.sig_id);
	if (b.x == NULL || xmlSetProp(qp, XC "Target", XC uri) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	xmlSetNs(qp, b.x);
	if (add_signed_props(&b, qp, err) != 0)
		goto out;
	if (o->countersign != NULL && register_cs_target(sig, err) != 0)
		goto out;

	/* Sign: xmlsec digests, the HSM signs (route A of the brief). */
	key = sc_hsm_key_get1(hsm, key_alias, err);
	if (key == NULL)
		goto out;
	if (xades_sign_core(sig, key, &a, dr, ndr, err) != 0)
		goto out;
	if (add_key_info(&b, sig, err) != 0)
		goto out;
	{
		struct sc_time t = sc_time_now();

		sc_time_fmt(t, 0, info->signing_time);
	}
	info->level = SC_XADES_B_B;
	if (o->level > SC_XADES_B_B) {
		if (xades_sig_init(&xs, sig, cert, err) != 0)
			goto out;
		/* B-LTA: the references' output, from a verification. */
		if (o->level == SC_XADES_B_LTA &&
		    xades_verify_core(sig, cert, o->detached, o->ndetached,
			&refs, err) != 0)
			goto out;
		if (raise_level(&xs, o, chain, nchain, &refs, info, err) != 0)
			goto out;
	}
	if (xml_dump(doc, &res, &reslen, err) != 0)
		goto out;
	if (verify_output(res, reslen, b.sig_id, cert, o->detached,
		o->ndetached, err) != 0)
		goto out;
	*out = res; /* ownership moves to the caller */
	*outlen = reslen;
	res = NULL;
	rc = 0;
out:
	free(res);
	sc_buf_free(&refs);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	xmlFreeDoc(src);
	xmlFreeDoc(doc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Extension of an existing signature                                  */

/*
 * The signer's certificate: the ds:KeyInfo X509Certificate whose digest
 * is SigningCertificateV2's CertDigest (EN 319 132-1 §5.2.2; brief §4
 * "key substitution").
 */
static X509 *
signing_cert(const struct xades_sig *s, struct sc_err *err)
{
	xmlNodePtr ssp, scv2, cd, ki, xd;
	const EVP_MD *md;
	uint8_t *want = NULL;
	size_t wantlen = 0;
	xmlChar *alg = NULL;
	X509 *found = NULL;

	ssp = xml_child(xml_child(s->qp, NS_XADES, "SignedProperties"),
	    NS_XADES, "SignedSignatureProperties");
	scv2 = xml_child(ssp, NS_XADES, "SigningCertificateV2");
	cd = xml_child(xml_child(scv2, NS_XADES, "Cert"), NS_XADES,
	    "CertDigest");
	alg = xmlGetProp(xml_child(cd, NS_DS, "DigestMethod"), XC "Algorithm");
	md = xades_md_from_uri((const char *)alg);
	xmlFree(alg);
	if (md == NULL ||
	    xml_b64_content(xml_child(cd, NS_DS, "DigestValue"), &want,
		&wantlen, err) != 0) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "EN 319 132-1 §5.2.2: no usable SigningCertificateV2");
		goto out;
	}
	ki = xml_child(s->sig, NS_DS, "KeyInfo");
	xd = xml_child(ki, NS_DS, "X509Data");
	for (xmlNodePtr c = xml_first_el(xd); c != NULL && found == NULL;
	     c = xml_next_el(c)) {
		uint8_t *der = NULL, h[EVP_MAX_MD_SIZE];
		unsigned int hl = 0;
		const unsigned char *p;
		size_t dl = 0;

		if (!xml_is(c, NS_DS, "X509Certificate") ||
		    xml_b64_content(c, &der, &dl, NULL) != 0)
			continue;
		if (EVP_Digest(der, dl, h, &hl, md, NULL) == 1 &&
		    hl == wantlen && sc_ct_equal(h, want, hl)) {
			p = der;
			found = d2i_X509(NULL, &p, (long)dl);
			if (found != NULL && p != der + dl) {
				X509_free(found);
				found = NULL;
			}
		}
		free(der);
	}
	if (found == NULL)
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the certificate that SigningCertificateV2 names is not "
		    "in ds:KeyInfo");
out:
	free(want);
	return found;
}

int
sc_xades_extend(const uint8_t *in, size_t len, const char *sig_id,
    const struct sc_xades_opts *o, uint8_t **out, size_t *outlen,
    struct sc_xades_info *info, struct sc_err *err)
{
	struct sc_xades_info tmp_info;
	struct xades_sig xs;
	struct sc_buf refs;
	xmlDocPtr doc = NULL;
	xmlNodePtr sig;
	X509 *cert = NULL;
	uint8_t *res = NULL;
	size_t reslen = 0;
	xmlChar *id = NULL;
	char want[256];
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	sc_buf_init(&refs, SIZE_MAX / 2);
	/* @sig_id may point into @info (the caller's previous result). */
	if (sig_id != NULL) {
		if (strlen(sig_id) >= sizeof(want)) {
			sc_err_set(err, SC_E_USAGE, "signature Id too long");
			goto out;
		}
		snprintf(want, sizeof(want), "%s", sig_id);
		sig_id = want;
	}
	if (info == NULL)
		info = &tmp_info;
	memset(info, 0, sizeof(*info));
	if (xml_init(err) != 0)
		goto out;
	if ((unsigned)o->level > SC_XADES_B_LTA) {
		sc_err_set(err, SC_E_USAGE, "bad level");
		goto out;
	}
	sc_sha256(in, len, info->doc_sha256);
	doc = xml_parse(in, len, o->max_input, err);
	if (doc == NULL)
		goto out;
	sig = sig_find(doc, sig_id, err);
	if (sig == NULL || xades_sig_init(&xs, sig, NULL, err) != 0)
		goto out;
	cert = signing_cert(&xs, err);
	if (cert == NULL)
		goto out;
	xs.cert = cert;
	if (xs.usp != NULL && sig_level(&xs) > o->level) {
		sc_err_set(err, SC_E_USAGE, "the signature is already at %s",
		    sc_xades_level_name(sig_level(&xs)));
		goto out;
	}
	if (register_cs_target(sig, err) != 0 ||
	    xades_verify_core(sig, cert, o->detached, o->ndetached,
		o->level == SC_XADES_B_LTA ? &refs : NULL, err) != 0)
		goto out;
	id = xmlGetProp(sig, XC "Id");
	if (id == NULL) {
		sc_err_set(err, SC_E_INVALID_INPUT, "the signature has no Id");
		goto out;
	}
	snprintf(info->id, sizeof(info->id), "%s", (const char *)id);
	if (raise_level(&xs, o, NULL, 0, &refs, info, err) != 0)
		goto out;
	if (xml_dump(doc, &res, &reslen, err) != 0 ||
	    verify_output(res, reslen, (const char *)id, cert, o->detached,
		o->ndetached, err) != 0)
		goto out;
	*out = res; /* ownership moves to the caller */
	*outlen = reslen;
	res = NULL;
	rc = 0;
out:
	xmlFree(id);
	free(res);
	sc_buf_free(&refs);
	X509_free(cert);
	xmlFreeDoc(doc);
	return rc;
}

int
sc_xades_inspect(const uint8_t *in, size_t len, size_t max, struct sc_err *err)
{
	struct sig_search s = {0};
	xmlDocPtr doc;

	if (xml_init(err) != 0)
		return -1;
	doc = xml_parse(in, len, max, err);
	if (doc == NULL)
		return -1;
	find_sigs(xmlDocGetRootElement(doc), &s);
	/* Exercise the reading code of extension on each signature. */
	if (s.count == 1) {
		struct xades_sig xs;
		X509 *c;

		if (xades_sig_init(&xs, s.found, NULL, NULL) == 0) {
			c = signing_cert(&xs, NULL);
			X509_free(c);
			if (xs.usp != NULL)
				(void)sig_level(&xs);
		}
	}
	xmlFreeDoc(doc);
	return s.count > (size_t)INT32_MAX ? INT32_MAX : (int)s.count;
}
