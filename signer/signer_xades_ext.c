/*
 * signer_xades_ext.c: the unsigned properties of the levels above B-B
 * (ETSI EN 319 132-1 §5.3, §5.5, §6.3): SignatureTimeStamp,
 * CertificateValues, RevocationValues, xades141:TimeStampValidationData
 * and xades141:ArchiveTimeStamp.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sceau/tsa.h"

#include "xades_int.h"

int
xades_usp(struct xades_sig *s, struct sc_err *err)
{
	xmlNodePtr up;

	if (s->usp != NULL)
		return 0;
	if (s->xades == NULL)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "no XAdES namespace in scope");
	up = xml_child(s->qp, NS_XADES, "UnsignedProperties");
	if (up == NULL)
		up = xml_add(s->qp, s->xades, "UnsignedProperties", NULL);
	if (up != NULL)
		s->usp = xml_child(up, NS_XADES, "UnsignedSignatureProperties");
	if (up != NULL && s->usp == NULL) {
		/* UnsignedSignatureProperties comes first (XAdES §6.2). */
		xmlNodePtr n = xmlNewDocNode(s->qp->doc, s->xades,
		    XC "UnsignedSignatureProperties", NULL);

		if (n != NULL && up->children != NULL)
			s->usp = xmlAddPrevSibling(up->children, n);
		else if (n != NULL)
			s->usp = xmlAddChild(up, n);
		if (s->usp == NULL)
			xmlFreeNode(n);
	}
	return s->usp != NULL ? 0
			      : sc_err_set(err, SC_E_NOMEM, "out of memory");
}

static xmlNsPtr
ds_ns(const struct xades_sig *s)
{
	return xmlSearchNsByHref(s->sig->doc, s->sig, XC NS_DS);
}

/* An xades141 element appended to the unsigned signature properties. */
static xmlNodePtr
add141(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, XC name, NULL);
	xmlNsPtr ns;

	if (n == NULL)
		return NULL;
	ns = xmlSearchNsByHref(parent->doc, parent, XC NS_XADES141);
	if (ns == NULL)
		ns = xmlNewNs(n, XC NS_XADES141, XC "xades141");
	if (ns == NULL) {
		xmlUnlinkNode(n);
		xmlFreeNode(n);
		return NULL;
	}
	xmlSetNs(n, ns);
	return n;
}

static int
add_b64(xmlNodePtr parent, xmlNsPtr ns, const char *name, const uint8_t *p,
    size_t len, struct sc_err *err)
{
	char *b64 = sc_b64_encode(p, len, 0);
	xmlNodePtr n = b64 != NULL ? xml_add(parent, ns, name, b64) : NULL;

	free(b64);
	return n != NULL ? 0 : sc_err_set(err, SC_E_NOMEM, "out of memory");
}

/*
 * Time-stamps @len bytes of @input (its SHA-256) and appends the
 * XAdESTimeStampType element @el (XAdES §7.1.4.3): ds:CanonicalizationMethod
 * exc-c14n, then one EncapsulatedTimeStamp with the TimeStampToken.
 */
static int
add_timestamp(struct xades_sig *s, xmlNodePtr el, const struct sc_buf *input,
    const struct sc_tsa_client *tsa, char gen_time[40], struct sc_err *err)
{
	struct sc_tsa_token tok;
	char id[XADES_ID_MAX];
	uint8_t h[32];
	xmlNodePtr cm;
	int rc = -1;

	memset(&tok, 0, sizeof(tok));
	sc_sha256(input->p, input->len, h);
	if (sc_tsa_timestamp(tsa, SC_TSA_SHA256, h, sizeof(h), &tok, err) != 0)
		goto out;
	if (xml_new_id("ts", id, err) != 0)
		goto out;
	cm = xml_add(el, ds_ns(s), "CanonicalizationMethod", NULL);
	if (cm == NULL || xmlSetProp(el, XC "Id", XC id) == NULL ||
	    xmlSetProp(cm, XC "Algorithm",
		XC(s->excl ? C14N_EXCL : C14N_INCL)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (add_b64(el, s->xades, "EncapsulatedTimeStamp", tok.token,
		tok.token_len, err) != 0)
		goto out;
	snprintf(gen_time, 40, "%s", tok.gen_time);
	rc = 0;
out:
	sc_tsa_token_free(&tok);
	return rc;
}

int
xades_add_sig_tst(struct xades_sig *s, const struct sc_tsa_client *tsa,
    struct sc_xades_info *info, struct sc_err *err)
{
	xmlNodePtr sv = xml_child(s->sig, NS_DS, "SignatureValue");
	xmlNodePtr el = NULL;
	struct sc_buf in;
	int rc = -1;

	sc_buf_init(&in, 1u << 20);
	if (sv == NULL || xades_usp(s, err) != 0)
		goto out;
	/* §5.3: the input is c14n of the whole ds:SignatureValue element,
	 * with the time-stamp's own canonicalisation (written explicitly). */
	if (xml_c14n(sv, s->excl, &in, err) != 0)
		goto out;
	el = xml_add(s->usp, s->xades, "SignatureTimeStamp", NULL);
	if (el == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (add_timestamp(s, el, &in, tsa, info->tst_time, err) != 0)
		goto out;
	el = NULL;
	rc = 0;
out:
	if (el != NULL) {
		xmlUnlinkNode(el);
		xmlFreeNode(el);
	}
	sc_buf_free(&in);
	return rc;
}

/* 1 if the DER certificate is already in ds:KeyInfo. */
static int
in_key_info(xmlNodePtr sig, const struct sc_xades_der *c)
{
	xmlNodePtr xd =
	    xml_child(xml_child(sig, NS_DS, "KeyInfo"), NS_DS, "X509Data");
	int found = 0;

	for (xmlNodePtr n = xml_first_el(xd); n != NULL && !found;
	     n = xml_next_el(n)) {
		uint8_t *der = NULL;
		size_t len = 0;

		if (!xml_is(n, NS_DS, "X509Certificate") ||
		    xml_b64_content(n, &der, &len, NULL) != 0)
			continue;
		found = len == c->len && memcmp(der, c->p, len) == 0;
		free(der);
	}
	return found;
}

/* CertificateValues and RevocationValues (§5.5.1, §5.5.2) into @parent. */
static int
add_values(struct xades_sig *s, xmlNodePtr parent,
    const struct sc_xades_vdata *v, int skip_key_info, struct sc_err *err)
{
	xmlNodePtr cv = NULL, rv, l;

	for (size_t i = 0; i < v->ncerts; i++) {
		if (skip_key_info && in_key_info(s->sig, &v->certs[i]))
			continue;
		if (cv == NULL &&
		    (cv = xml_add(parent, s->xades, "CertificateValues",
			 NULL)) == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		if (add_b64(cv, s->xades, "EncapsulatedX509Certificate",
			v->certs[i].p, v->certs[i].len, err) != 0)
			return -1;
	}
	if (v->ncrls == 0 && v->nocsps == 0)
		return 0;
	rv = xml_add(parent, s->xades, "RevocationValues", NULL);
	if (rv == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	if (v->ncrls > 0) {
		l = xml_add(rv, s->xades, "CRLValues", NULL);
		if (l == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		for (size_t i = 0; i < v->ncrls; i++)
			if (add_b64(l, s->xades, "EncapsulatedCRLValue",
				v->crls[i].p, v->crls[i].len, err) != 0)
				return -1;
	}
	if (v->nocsps > 0) {
		l = xml_add(rv, s->xades, "OCSPValues", NULL);
		if (l == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		for (size_t i = 0; i < v->nocsps; i++)
			if (add_b64(l, s->xades, "EncapsulatedOCSPValue",
				v->ocsps[i].p, v->ocsps[i].len, err) != 0)
				return -1;
	}
	return 0;
}

/* The Id of the last time-stamp among the unsigned properties. */
static xmlChar *
last_ts_id(const struct xades_sig *s)
{
	xmlChar *id = NULL;

	for (xmlNodePtr n = xml_first_el(s->usp); n != NULL;
	     n = xml_next_el(n)) {
		if (xml_is(n, NS_XADES, "SignatureTimeStamp") ||
		    xml_is(n, NS_XADES141, "ArchiveTimeStamp")) {
			xmlFree(id);
			id = xmlGetProp(n, XC "Id");
		}
	}
	return id;
}

int
xades_add_lt(struct xades_sig *s, const struct sc_xades_vdata *v,
    const struct sc_xades_vdata *tv, struct sc_err *err)
{
	xmlNodePtr tsvd;
	xmlChar *tid;

	if (xades_usp(s, err) != 0)
		return -1;
	if (v != NULL && add_values(s, s->usp, v, 1, err) != 0)
		return -1;
	if (tv == NULL ||
	    (tv->ncerts == 0 && tv->ncrls == 0 && tv->nocsps == 0))
		return 0;
	/* xades141:TimeStampValidationData (EN 319 132-1 §5.5.4) for the
	 * TSA's chain, naming the time-stamp it serves. */
	tsvd = add141(s->usp, "TimeStampValidationData");
	if (tsvd == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	tid = last_ts_id(s);
	if (tid != NULL) {
		char uri[XADES_ID_MAX + 2];

		snprintf(uri, sizeof(uri), "#%.46s", (const char *)tid);
		xmlFree(tid);
		if (xmlSetProp(tsvd, XC "URI", XC uri) == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	return add_values(s, tsvd, tv, 0, err);
}

int
xades_ats_rest(struct xades_sig *s, xmlNodePtr before, struct sc_buf *out,
    struct sc_err *err)
{
	xmlNodePtr si = xml_child(s->sig, NS_DS, "SignedInfo");
	xmlNodePtr sv = xml_child(s->sig, NS_DS, "SignatureValue");
	xmlNodePtr ki = xml_child(s->sig, NS_DS, "KeyInfo");

	/* Steps 2, 3, 4: SignedInfo, SignatureValue, KeyInfo. */
	if (si == NULL || sv == NULL || xml_c14n(si, s->excl, out, err) != 0 ||
	    xml_c14n(sv, s->excl, out, err) != 0 ||
	    (ki != NULL && xml_c14n(ki, s->excl, out, err) != 0))
		return sc_err_set(err, SC_E_INTERNAL,
		    "archive time-stamp "
		    "input");
	/* Step 5: the unsigned signature properties before this ATS. */
	for (xmlNodePtr n = xml_first_el(s->usp); n != NULL && n != before;
	     n = xml_next_el(n))
		if (xml_c14n(n, s->excl, out, err) != 0)
			return -1;
	/* Step 6 (XAdES 1.4.1 §8.2.1): every ds:Object but the one holding
	 * the QualifyingProperties. */
	for (xmlNodePtr n = xml_first_el(s->sig); n != NULL;
	     n = xml_next_el(n)) {
		if (!xml_is(n, NS_DS, "Object") || n == s->qp->parent)
			continue;
		if (xml_c14n(n, s->excl, out, err) != 0)
			return -1;
	}
	return 0;
}

int
xades_add_ats(struct xades_sig *s, const struct sc_buf *refs,
    const struct sc_tsa_client *tsa, struct sc_xades_info *info,
    struct sc_err *err)
{
	struct sc_buf in;
	xmlNodePtr el = NULL;
	int rc = -1;

	sc_buf_init(&in, SIZE_MAX / 2);
	if (xades_usp(s, err) != 0)
		goto out;
	/* Step 1: the references' output, as verified. */
	if (refs == NULL || refs->len == 0) {
		sc_err_set(err, SC_E_INTERNAL, "no reference output");
		goto out;
	}
	if (sc_buf_append(&in, refs->p, refs->len, err) != 0 ||
	    xades_ats_rest(s, NULL, &in, err) != 0)
		goto out;
	el = add141(s->usp, "ArchiveTimeStamp");
	if (el == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (add_timestamp(s, el, &in, tsa, info->ats_time, err) != 0)
		goto out;
	el = NULL;
	rc = 0;
out:
	if (el != NULL) {
		xmlUnlinkNode(el);
		xmlFreeNode(el);
	}
	sc_buf_free(&in);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Collection of validation material (sceau/ltv.h)                     */

struct xlist {
	X509 **v;
	size_t n, cap;
};

static int
xlist_add(struct xlist *l, X509 *x, struct sc_err *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 16 : 2 * l->cap;
		X509 **v;

		if (cap > 4096)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "too many certificates");
		v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return sc_err_set(err, SC_E_NOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

static void
xlist_free(struct xlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		X509_free(l->v[i]);
	free(l->v);
}

static int
xlist_der(struct xlist *l, const uint8_t *p, size_t len, struct sc_err *err)
{
	const unsigned char *q = p;
	X509 *x = d2i_X509(NULL, &q, (long)len);

	if (x == NULL || q != p + len) {
		X509_free(x);
		return sc_err_crypto(err, SC_E_INVALID_INPUT,
		    "a certificate is not DER");
	}
	if (xlist_add(l, x, err) != 0) {
		X509_free(x);
		return -1;
	}
	return 0;
}

static int
xlist_ref(struct xlist *l, X509 *x, struct sc_err *err)
{
	if (X509_up_ref(x) != 1)
		return sc_err_crypto(err, SC_E_CRYPTO, "X509_up_ref");
	if (xlist_add(l, x, err) != 0) {
		X509_free(x);
		return -1;
	}
	return 0;
}

/* The certificates inside the TimeStampToken of a time-stamp element. */
static int
token_certs(xmlNodePtr ts, struct xlist *l, struct sc_err *err)
{
	xmlNodePtr e = xml_child(ts, NS_XADES, "EncapsulatedTimeStamp");
	STACK_OF(X509) *certs = NULL;
	CMS_ContentInfo *cms = NULL;
	const unsigned char *q;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (e == NULL || xml_b64_content(e, &der, &len, err) != 0)
		goto out;
	q = der;
	cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
	if (cms == NULL || q != der + len) {
		sc_err_crypto(err, SC_E_INVALID_INPUT,
		    "RFC 3161: a time-stamp token is not DER CMS");
		goto out;
	}
	certs = CMS_get1_certs(cms);
	for (int i = 0; certs != NULL && i < sk_X509_num(certs); i++)
		if (xlist_ref(l, sk_X509_value(certs, i), err) != 0)
			goto out;
	rc = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	free(der);
	return rc;
}

int
xades_collect(struct xades_sig *s, const struct sc_xades_opts *o,
    X509 *const *extra, size_t nextra, int tsa_side, struct sc_ltv *l,
    struct sc_xades_der **ders, struct sc_xades_vdata *v, struct sc_err *err)
{
	struct xlist xl = {0};
	struct sc_xades_der *d;
	size_t total;
	int rc = -1;

	*ders = NULL;
	memset(v, 0, sizeof(*v));
	if (!tsa_side) {
		xmlNodePtr xd = xml_child(xml_child(s->sig, NS_DS, "KeyInfo"),
		    NS_DS, "X509Data");

		for (xmlNodePtr n = xml_first_el(xd); n != NULL;
		     n = xml_next_el(n)) {
			uint8_t *der = NULL;
			size_t len = 0;
			int r;

			if (!xml_is(n, NS_DS, "X509Certificate"))
				continue;
			if (xml_b64_content(n, &der, &len, err) != 0)
				goto out;
			r = xlist_der(&xl, der, len, err);
			free(der);
			if (r != 0)
				goto out;
		}
		for (size_t i = 0; i < nextra; i++)
			if (xlist_ref(&xl, extra[i], err) != 0)
				goto out;
	} else {
		for (xmlNodePtr n = xml_first_el(s->usp); n != NULL;
		     n = xml_next_el(n))
			if ((xml_is(n, NS_XADES, "SignatureTimeStamp") ||
				xml_is(n, NS_XADES141, "ArchiveTimeStamp")) &&
			    token_certs(n, &xl, err) != 0)
				goto out;
		for (size_t i = 0; o->tsa != NULL && i < o->tsa->ntrust; i++)
			if (xlist_der(&xl, o->tsa->trust[i].p,
				o->tsa->trust[i].len, err) != 0)
				goto out;
		for (size_t i = 0; o->tsa != NULL && i < o->tsa->nuntrusted;
		     i++)
			if (xlist_der(&xl, o->tsa->untrusted[i].p,
				o->tsa->untrusted[i].len, err) != 0)
				goto out;
	}
	for (size_t i = 0; i < o->nltv_certs; i++)
		if (xlist_ref(&xl, o->ltv_certs[i], err) != 0)
			goto out;
	if (sc_ltv_collect(xl.v, xl.n, o->ltv, l, err) != 0)
		goto out;
	total = l->certs.n + l->crls.n + l->ocsps.n;
	d = calloc(total + 1, sizeof(*d));
	if (d == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	*ders = d;
	v->certs = d;
	v->ncerts = l->certs.n;
	for (size_t i = 0; i < l->certs.n; i++, d++) {
		d->p = l->certs.v[i].p;
		d->len = l->certs.v[i].len;
	}
	v->crls = d;
	v->ncrls = l->crls.n;
	for (size_t i = 0; i < l->crls.n; i++, d++) {
		d->p = l->crls.v[i].p;
		d->len = l->crls.v[i].len;
	}
	v->ocsps = d;
	v->nocsps = l->ocsps.n;
	for (size_t i = 0; i < l->ocsps.n; i++, d++) {
		d->p = l->ocsps.v[i].p;
		d->len = l->ocsps.v[i].len;
	}
	rc = 0;
out:
	xlist_free(&xl);
	return rc;
}
