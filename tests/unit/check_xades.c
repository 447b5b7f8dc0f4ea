/*
 * check_xades.c: the XAdES signer (ETSI EN 319 132-1) against a throw-away
 * hierarchy whose keys are in SoftHSM2, with independent checkers:
 * `xmlsec1 --verify` for the XMLDSig core, xadesjs on Node
 * (tests/xades/verify.js) for the XAdES properties, `openssl ts -verify`
 * for the time-stamps, and an archive time-stamp input recomputed here
 * without the signer's code.
 *
 * xadesjs needs `npm ci` in tests/xades. Without it the other checks run
 * and the suite then exits 77 (skip), or fails when SCEAU_E2E_REQUIRED=1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/hsm.h"
#include "sceau/tsa.h"
#include "sceau/xades.h"

#include "testenv.h"
#include "testpki.h"

#define POLICY "2.16.466.1.1.3.1"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define NS_XADES "http://uri.etsi.org/01903/v1.3.2#"
#define NS_XADES141 "http://uri.etsi.org/01903/v1.4.1#"
#define IDATTR "--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties"

static const char doc_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- décision -->\n"
    "<decision xmlns=\"urn:example:sceau\" xmlns:m=\"urn:example:meta\" "
    "numero=\"2026-042\">\n"
    "  <m:ministere>Ministère de l'Économie numérique</m:ministere>\n"
    "  <objet>Attribution</objet>\n"
    "  <montant devise=\"XOF\">1500000</montant>\n"
    "</decision>\n";
static const char payload[] = "%PDF-1.7 not really a PDF, detached data\n";

static struct sc_config cfg;
static struct sc_hsm *hsm;
static X509 *root, *ica, *sig_ec, *sig_rsa, *tsu;
static char ra[80], ia[80], ea[80], rsa_a[80], ua[80];
static uint8_t *root_der, *ica_der, *tsu_der, *crl_der, *ocsp_der;
static size_t root_len, ica_len, tsu_len, crl_len, ocsp_len;
static struct sc_tsa *tsa;
static struct sc_tsa_client tsac;
static struct sc_tsa_der trust[1], inter[1];
static char tmpdir[64];
static int have_xadesjs;

static size_t
to_der(X509 *x, uint8_t **out)
{
	int n = i2d_X509(x, out);

	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static void
put(const char *name, const void *p, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static void
pem_put(const char *name, X509 *x)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* A CRL of the issuing CA, signed in the HSM (nothing revoked). */
static void
make_crl(void)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	ASN1_TIME *t2 = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
	struct sc_err err;
	EVP_PKEY *k;
	int n;

	sc_err_clear(&err);
	k = sc_hsm_key_get1(hsm, ia, &err);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(X509_CRL_set_version(crl, 1), 1);
	ck_assert_int_eq(X509_CRL_set_issuer_name(crl,
			     X509_get_subject_name(ica)),
	    1);
	ck_assert_int_eq(X509_CRL_set1_lastUpdate(crl, t1), 1);
	ck_assert_int_eq(X509_CRL_set1_nextUpdate(crl, t2), 1);
	ck_assert_int_gt(X509_CRL_sign(crl, k, EVP_sha256()), 0);
	crl_der = NULL;
	n = i2d_X509_CRL(crl, &crl_der);
	ck_assert_int_gt(n, 0);
	crl_len = (size_t)n;
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
	EVP_PKEY_free(k);
}

/* An OCSP response "good" for @cert from its issuer (RFC 6960 §4.2). */
static void
make_ocsp(X509 *cert)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, ica);
	ASN1_TIME *t1 = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	ASN1_TIME *t2 = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
	OCSP_RESPONSE *r;
	struct sc_err err;
	EVP_PKEY *k;
	int n;

	sc_err_clear(&err);
	k = sc_hsm_key_get1(hsm, ia, &err);
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id,
	    V_OCSP_CERTSTATUS_GOOD, 0, NULL, t1, t2));
	ck_assert_int_eq(OCSP_basic_sign(bs, ica, k, EVP_sha256(), NULL, 0), 1);
	r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	ck_assert_ptr_nonnull(r);
	ocsp_der = NULL;
	n = i2d_OCSP_RESPONSE(r, &ocsp_der);
	ck_assert_int_gt(n, 0);
	ocsp_len = (size_t)n;
	OCSP_RESPONSE_free(r);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	EVP_PKEY_free(k);
}

static void
setup(void)
{
	struct testpki_spec ca = {"xades test root", 1, NULL, 0, 30, NULL};
	struct testpki_spec sub = {"xades test issuing", 1, NULL, 0, 30, NULL};
	struct testpki_spec ec = {"Awa Traoré", 0, NULL, 0, 30, "ec-p256"};
	struct testpki_spec rsa = {"Ministère des tests", 0, NULL, 0, 30,
	    "rsa-2048"};
	struct testpki_spec tu = {"xades test TSA", 0, "critical,timeStamping",
	    0, 30, NULL};
	struct sc_tsa_der chain[2];
	struct sc_tsa_opts o = {POLICY, 1000, 0, "adjtimex"};
	struct sc_err err;

	testenv_config(&cfg);
	sc_err_clear(&err);
	hsm = sc_hsm_open(&cfg, &err);
	ck_assert_msg(hsm != NULL, "hsm: %s", err.msg);
	testpki_alias("xa-root", ra);
	testpki_alias("xa-ica", ia);
	testpki_alias("xa-ec", ea);
	testpki_alias("xa-rsa", rsa_a);
	testpki_alias("xa-tsa", ua);
	root = testpki_issue(hsm, ra, &ca, NULL, NULL);
	ica = testpki_issue(hsm, ia, &sub, root, ra);
	sig_ec = testpki_issue(hsm, ea, &ec, ica, ia);
	sig_rsa = testpki_issue(hsm, rsa_a, &rsa, ica, ia);
	tsu = testpki_issue(hsm, ua, &tu, ica, ia);
	root_der = ica_der = tsu_der = NULL;
	root_len = to_der(root, &root_der);
	ica_len = to_der(ica, &ica_der);
	tsu_len = to_der(tsu, &tsu_der);
	chain[0].p = ica_der;
	chain[0].len = ica_len;
	chain[1].p = root_der;
	chain[1].len = root_len;
	tsa = sc_tsa_new(hsm, ua, tsu_der, tsu_len, chain, 2, &o, &err);
	ck_assert_msg(tsa != NULL, "sc_tsa_new: %s (%s)", err.msg, err.detail);
	trust[0].p = root_der;
	trust[0].len = root_len;
	inter[0].p = ica_der;
	inter[0].len = ica_len;
	memset(&tsac, 0, sizeof(tsac));
	tsac.local = tsa;
	tsac.trust = trust;
	tsac.ntrust = 1;
	tsac.untrusted = inter;
	tsac.nuntrusted = 1;
	make_crl();
	make_ocsp(sig_ec);

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_xades.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	pem_put("root.pem", root);
	pem_put("ica.pem", ica);
	put("payload.bin", payload, strlen(payload));
}

static void
teardown(void)
{
	sc_tsa_free(tsa);
	X509_free(tsu);
	X509_free(sig_rsa);
	X509_free(sig_ec);
	X509_free(ica);
	X509_free(root);
	OPENSSL_free(root_der);
	OPENSSL_free(ica_der);
	OPENSSL_free(tsu_der);
	OPENSSL_free(crl_der);
	OPENSSL_free(ocsp_der);
	sc_hsm_close(hsm);
	if (getenv("SCEAU_KEEP_TMP") != NULL)
		fprintf(stderr, "kept %s\n", tmpdir);
	else if (run("rm -rf '%s'", tmpdir) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* ------------------------------------------------------------------ */
/* Checkers                                                            */

static int
xmlsec1_verify(const char *file, int detached)
{
	return run("cd %s && xmlsec1 --verify --enabled-key-data x509 "
		   "--enabled-reference-uris %s --trusted-pem root.pem "
		   "--untrusted-pem ica.pem " IDATTR " %s >%s.xmlsec1 2>&1",
	    tmpdir, detached ? "empty,same-doc,remote" : "empty,same-doc", file,
	    file);
}

static int
xadesjs_verify(const char *file, int detached)
{
	if (!have_xadesjs)
		return -2;
	return run("cd %s && node %s/tests/xades/verify.js %s %s >%s.xadesjs "
		   "2>&1",
	    tmpdir, SCEAU_SOURCE_DIR, file,
	    detached ? "--data payload.bin=payload.bin" : "", file);
}

static void
both_accept(const char *file, int detached)
{
	int rc = xmlsec1_verify(file, detached);

	ck_assert_msg(rc == 0, "xmlsec1 rejects %s (see %s/%s.xmlsec1)", file,
	    tmpdir, file);
	rc = xadesjs_verify(file, detached);
	ck_assert_msg(rc == 0 || rc == -2, "xadesjs rejects %s: %d", file, rc);
}

static void
both_reject(const char *file, int detached, const char *what)
{
	ck_assert_msg(xmlsec1_verify(file, detached) != 0,
	    "xmlsec1 accepts %s (%s)", file, what);
	ck_assert_msg(xadesjs_verify(file, detached) != 0,
	    "xadesjs accepts %s (%s)", file, what);
}

/* Flips one byte at the first @after + @skip in a copy of @p. */
static void
tamper(const uint8_t *p, size_t n, const char *after, size_t skip,
    const char *name)
{
	char *c = malloc(n + 1), *at;

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, n);
	c[n] = '\0';
	at = strstr(c, after);
	ck_assert_msg(at != NULL, "no %s in the output", after);
	at += strlen(after) + skip;
	if (*at >= '0' && *at <= '9')
		*at = (char)('0' + (*at - '0' + 1) % 10);
	else
		*at = *at == 'A' ? 'B' : 'A';
	put(name, c, n);
	free(c);
}

/* ------------------------------------------------------------------ */
/* Independent recomputation (TS 101 903 v1.4.1 §8.2.1, brief §1.5)    */

static xmlNodePtr
first(xmlNodePtr n, const char *ns, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL;
	     c = c->next) {
		xmlNodePtr r;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (c->ns != NULL &&
		    strcmp((const char *)c->ns->href, ns) == 0 &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
		if ((r = first(c, ns, name)) != NULL)
			return r;
	}
	return NULL;
}

static int
is(xmlNodePtr c, const char *ns, const char *name)
{
	return c != NULL && c->type == XML_ELEMENT_NODE && c->ns != NULL &&
	    strcmp((const char *)c->ns->href, ns) == 0 &&
	    strcmp((const char *)c->name, name) == 0;
}

/* Exclusive c14n of the subtree, copied alone into a new document. */
static void
c14n_alone(xmlNodePtr n, struct sc_buf *out)
{
	xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr c = xmlDocCopyNode(n, d, 1);
	xmlChar *mem = NULL;
	int len;

	ck_assert_ptr_nonnull(c);
	xmlDocSetRootElement(d, c);
	len = xmlC14NDocDumpMemory(d, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0,
	    &mem);
	ck_assert_int_ge(len, 0);
	ck_assert_int_eq(sc_buf_append(out, mem, (size_t)len, NULL), 0);
	xmlFree(mem);
	xmlFreeDoc(d);
}

static void
token_out(xmlNodePtr ts, const char *name)
{
	xmlNodePtr e = first(ts, NS_XADES, "EncapsulatedTimeStamp");
	xmlChar *t = xmlNodeGetContent(e);
	uint8_t *der = NULL;
	size_t len = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(sc_b64_decode((const char *)t, strlen((char *)t), &der,
			     &len, NULL),
	    0);
	put(name, der, len);
	free(der);
	xmlFree(t);
}

/*
 * Checks the SignatureTimeStamp and the last ArchiveTimeStamp of the
 * signature in @file with `openssl ts -verify` over inputs computed here.
 */
static void
check_timestamps(const uint8_t *p, size_t n, enum sc_xades_packaging pk,
    int want_ats)
{
	xmlDocPtr doc =
	    xmlReadMemory((const char *)p, (int)n, NULL, NULL, XML_PARSE_NONET);
	xmlNodePtr sig, si, sv, ki, usp, n1, ats = NULL, qpobj;
	struct sc_buf in;

	ck_assert_ptr_nonnull(doc);
	sig = first((xmlNodePtr)doc, NS_DS, "Signature");
	if (is(xmlDocGetRootElement(doc), NS_DS, "Signature"))
		sig = xmlDocGetRootElement(doc);
	si = first(sig, NS_DS, "SignedInfo");
	sv = first(sig, NS_DS, "SignatureValue");
	ki = first(sig, NS_DS, "KeyInfo");
	usp = first(sig, NS_XADES, "UnsignedSignatureProperties");
	ck_assert_ptr_nonnull(usp);

	/* SignatureTimeStamp: c14n of ds:SignatureValue (§5.3). */
	sc_buf_init(&in, 1u << 30);
	c14n_alone(sv, &in);
	put("sv.bin", in.p, in.len);
	sc_buf_free(&in);
	token_out(first(usp, NS_XADES, "SignatureTimeStamp"), "tst.der");
	ck_assert_int_eq(run("cd %s && openssl ts -verify -data sv.bin -in "
			     "tst.der -token_in -CAfile root.pem -untrusted "
			     "ica.pem >ts1.log 2>&1",
			     tmpdir),
	    0);
	if (!want_ats) {
		xmlFreeDoc(doc);
		return;
	}
	for (xmlNodePtr c = usp->children; c != NULL; c = c->next)
		if (is(c, NS_XADES141, "ArchiveTimeStamp"))
			ats = c;
	ck_assert_ptr_nonnull(ats);

	/* Step 1: each reference's output, by this test's own means. */
	sc_buf_init(&in, 1u << 30);
	for (xmlNodePtr r = si->children; r != NULL; r = r->next) {
		xmlChar *uri, *type;

		if (!is(r, NS_DS, "Reference"))
			continue;
		uri = xmlGetProp(r, (const xmlChar *)"URI");
		type = xmlGetProp(r, (const xmlChar *)"Type");
		ck_assert_ptr_nonnull(uri);
		if (uri[0] == '\0') {
			/* enveloped: the document without the signature */
			xmlDocPtr cp = xmlCopyDoc(doc, 1);
			xmlNodePtr s2 =
			    first((xmlNodePtr)cp, NS_DS, "Signature");
			xmlChar *mem = NULL;
			int len;

			xmlUnlinkNode(s2);
			xmlFreeNode(s2);
			len = xmlC14NDocDumpMemory(cp, NULL,
			    XML_C14N_EXCLUSIVE_1_0, NULL, 0, &mem);
			ck_assert_int_gt(len, 0);
			sc_buf_append(&in, mem, (size_t)len, NULL);
			xmlFree(mem);
			xmlFreeDoc(cp);
		} else if (uri[0] == '#') {
			xmlNodePtr t = NULL;

			for (xmlNodePtr c = sig->children; c != NULL && !t;
			     c = c->next) {
				/* the Object, or SignedProperties in one */
				xmlChar *id = NULL;

				if (c->type == XML_ELEMENT_NODE)
					id = xmlGetProp(c, (const xmlChar *)"Id");
				if (id != NULL &&
				    strcmp((char *)id, (char *)uri + 1) == 0)
					t = c;
				xmlFree(id);
			}
			if (t == NULL) {
				t = first(sig, NS_XADES, "SignedProperties");
				ck_assert_ptr_nonnull(type);
				ck_assert_str_eq((char *)type,
				    "http://uri.etsi.org/01903#"
				    "SignedProperties");
			}
			c14n_alone(t, &in);
		} else {
			ck_assert_int_eq(pk, SC_XADES_DETACHED);
			sc_buf_append(&in, payload, strlen(payload), NULL);
		}
		xmlFree(uri);
		xmlFree(type);
	}
	/* Steps 2-4 */
	c14n_alone(si, &in);
	c14n_alone(sv, &in);
	c14n_alone(ki, &in);
	/* Step 5: unsigned signature properties before the ATS */
	for (n1 = usp->children; n1 != NULL && n1 != ats; n1 = n1->next)
		if (n1->type == XML_ELEMENT_NODE)
			c14n_alone(n1, &in);
	/* Step 6: the Objects, but the one of QualifyingProperties */
	qpobj = first(sig, NS_XADES, "QualifyingProperties")->parent;
	for (n1 = sig->children; n1 != NULL; n1 = n1->next)
		if (is(n1, NS_DS, "Object") && n1 != qpobj)
			c14n_alone(n1, &in);
	put("ats-input.bin", in.p, in.len);
	sc_buf_free(&in);
	token_out(ats, "ats.der");
	ck_assert_msg(run("cd %s && openssl ts -verify -data ats-input.bin "
			  "-in ats.der -token_in -CAfile root.pem -untrusted "
			  "ica.pem >ats.log 2>&1",
			  tmpdir) == 0,
	    "openssl ts -verify rejects the archive time-stamp over the "
	    "input recomputed independently (%s/ats.log)",
	    tmpdir);
	xmlFreeDoc(doc);
}

/* ------------------------------------------------------------------ */

static void
opts_init(struct sc_xades_opts *o, struct sc_xades_detached *d,
    struct sc_xades_vdata *v, struct sc_xades_vdata *tv,
    struct sc_xades_der *certs, struct sc_xades_der *crls,
    struct sc_xades_der *ocsps)
{
	memset(o, 0, sizeof(*o));
	memset(d, 0, sizeof(*d));
	d->uri = "payload.bin";
	d->mime = "application/pdf";
	d->data = (const uint8_t *)payload;
	d->len = strlen(payload);
	certs[0].p = ica_der;
	certs[0].len = ica_len;
	certs[1].p = root_der;
	certs[1].len = root_len;
	crls[0].p = crl_der;
	crls[0].len = crl_len;
	ocsps[0].p = ocsp_der;
	ocsps[0].len = ocsp_len;
	memset(v, 0, sizeof(*v));
	v->certs = certs;
	v->ncerts = 2;
	v->crls = crls;
	v->ncrls = 1;
	v->ocsps = ocsps;
	v->nocsps = 1;
	memset(tv, 0, sizeof(*tv));
	tv->certs = certs;
	tv->ncerts = 2;
	tv->crls = crls;
	tv->ncrls = 1;
	o->detached = d;
	o->ndetached = 1;
	o->tsa = &tsac;
	o->vdata = v;
	o->tsa_vdata = tv;
}

/* Each packaging at each level (12 runs), alternately EC and RSA. */
START_TEST(test_matrix)
{
	enum sc_xades_packaging pk = (enum sc_xades_packaging)(_i / 4);
	enum sc_xades_level lv = (enum sc_xades_level)(_i % 4);
	int ec = _i % 2 == 0, det = pk == SC_XADES_DETACHED;
	struct sc_xades_der certs[2], crls[1], ocsps[1];
	struct sc_xades_vdata v, tv;
	struct sc_xades_detached d;
	struct sc_xades_opts o;
	struct sc_xades_info info;
	struct sc_err err;
	X509 *chain[1] = {ica};
	uint8_t *out = NULL;
	size_t outlen = 0;
	char *s;

	opts_init(&o, &d, &v, &tv, certs, crls, ocsps);
	o.level = lv;
	o.packaging = pk;
	sc_err_clear(&err);
	ck_assert_msg(sc_xades_sign(hsm, ec ? ea : rsa_a, ec ? sig_ec : sig_rsa,
			  chain, 1, (const uint8_t *)doc_xml, strlen(doc_xml),
			  &o, &out, &outlen, &info, &err) == 0,
	    "%s %s: %s (%s)", sc_xades_packaging_name(pk),
	    sc_xades_level_name(lv), err.msg, err.detail);
	ck_assert_int_eq(info.level, lv);
	put("signed.xml", out, outlen);
	s = (char *)out;
	ck_assert_ptr_nonnull(
	    strstr(s, "http://uri.etsi.org/01903#SignedProperties"));
	ck_assert_ptr_nonnull(strstr(s, "<xades:SigningCertificateV2>"));
	ck_assert_ptr_nonnull(strstr(s, "<xades:IssuerSerialV2>"));
	ck_assert_ptr_nonnull(strstr(s, "<xades:MimeType>"));
	ck_assert_ptr_null(strstr(s, "KeyValue"));
	ck_assert_ptr_null(strstr(s, "<!DOCTYPE"));
	if (pk == SC_XADES_ENVELOPED)
		ck_assert_ptr_nonnull(strstr(s, "<!-- décision -->"));
	both_accept("signed.xml", det);

	/* One byte changed in the signed properties, the data and the
	 * SignatureValue: both checkers reject each. */
	tamper(out, outlen, "<xades:SigningTime>", 3, "t-sp.xml");
	both_reject("t-sp.xml", det, "SigningTime");
	tamper(out, outlen, "-sv\">", 2, "t-sv.xml");
	both_reject("t-sv.xml", det, "SignatureValue");
	if (det) {
		char *c = strdup(payload);

		c[3] = 'X';
		put("payload.bin", c, strlen(c));
		both_reject("signed.xml", det, "detached data");
		put("payload.bin", payload, strlen(payload));
		free(c);
	} else {
		tamper(out, outlen, "devise=\"XOF\">", 0, "t-data.xml");
		both_reject("t-data.xml", det, "document");
	}

	if (lv >= SC_XADES_B_T) {
		ck_assert_ptr_nonnull(strstr(s, "<xades:SignatureTimeStamp"));
		ck_assert_str_ne(info.tst_time, "");
	}
	if (lv >= SC_XADES_B_LT) {
		ck_assert_ptr_nonnull(strstr(s,
		    "<xades:CertificateValues>"
		    "<xades:EncapsulatedX509Certificate>"));
		ck_assert_ptr_nonnull(
		    strstr(s, "<xades:EncapsulatedCRLValue>"));
		ck_assert_ptr_nonnull(
		    strstr(s, "<xades:EncapsulatedOCSPValue>"));
		ck_assert_ptr_nonnull(
		    strstr(s, "xades141:TimeStampValidationData"));
	}
	if (lv >= SC_XADES_B_T)
		check_timestamps(out, outlen, pk, lv == SC_XADES_B_LTA);
	free(out);
}
END_TEST

/* Algorithms: SHA-384/512, P-384, inclusive c14n, chain in KeyInfo,
 * the optional signed properties. */
START_TEST(test_algorithms)
{
	struct testpki_spec p384 = {"Awa P-384", 0, NULL, 0, 30, "ec-p384"};
	static const char *const roles[] = {"Directrice des affaires "
					    "juridiques"};
	static const uint8_t ph[32] = {1, 2, 3};
	struct sc_xades_opts o;
	struct sc_err err;
	X509 *chain[1] = {ica}, *c384;
	uint8_t *out = NULL;
	size_t outlen;
	char a384[80];

	testpki_alias("xa-p384", a384);
	c384 = testpki_issue(hsm, a384, &p384, ica, ia);
	for (int k = 0; k < 4; k++) {
		memset(&o, 0, sizeof(o));
		o.digest = k == 0 ? SC_XADES_SHA384 : SC_XADES_SHA512;
		o.inclusive_c14n = k == 2;
		o.key_info_chain = 1;
		o.policy_id = POLICY;
		o.policy_hash = ph;
		o.policy_hash_len = 32;
		o.commitment = "approval";
		o.roles = roles;
		o.nroles = 1;
		o.packaging = k == 3 ? SC_XADES_ENVELOPING : SC_XADES_ENVELOPED;
		sc_err_clear(&err);
		ck_assert_msg(sc_xades_sign(hsm,
				  k == 1 ? rsa_a : (k == 3 ? ea : a384),
				  k == 1 ? sig_rsa : (k == 3 ? sig_ec : c384),
				  chain, 1, (const uint8_t *)doc_xml,
				  strlen(doc_xml), &o, &out, &outlen, NULL,
				  &err) == 0,
		    "k=%d: %s (%s)", k, err.msg, err.detail);
		ck_assert_ptr_nonnull(strstr((char *)out, "OIDAsURN"));
		ck_assert_ptr_nonnull(strstr((char *)out, "ProofOfApproval"));
		ck_assert_ptr_nonnull(
		    strstr((char *)out, "<xades:ClaimedRole>"));
		ck_assert_ptr_nonnull(strstr((char *)out,
		    k == 2 ? "REC-xml-c14n-20010315" : "xml-exc-c14n#"));
		put("alg.xml", out, outlen);
		both_accept("alg.xml", 0);
		free(out);
	}
	/* SPURI: xadesjs 2.6.8 cannot read SigPolicyQualifier ("doesn't
	 * have required 'parser'"), so xmlsec1 alone checks this one. */
	o.policy_uri = "https://pki.example.ml/politique.pdf";
	sc_err_clear(&err);
	ck_assert_msg(sc_xades_sign(hsm, ea, sig_ec, chain, 1,
			  (const uint8_t *)doc_xml, strlen(doc_xml), &o, &out,
			  &outlen, NULL, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_ptr_nonnull(strstr((char *)out, "<xades:SPURI>"));
	put("spuri.xml", out, outlen);
	ck_assert_int_eq(xmlsec1_verify("spuri.xml", 0), 0);
	free(out);
	X509_free(c384);
}
END_TEST

/* Detached by digest only: the caller keeps the data. */
START_TEST(test_detached_digest)
{
	struct sc_xades_detached d = {"payload.bin", "application/pdf", NULL, 0,
	    NULL, 0};
	struct sc_xades_opts o;
	struct sc_err err;
	uint8_t h[32], *out = NULL;
	size_t outlen;

	sc_sha256(payload, strlen(payload), h);
	d.digest = h;
	d.digest_len = 32;
	memset(&o, 0, sizeof(o));
	o.packaging = SC_XADES_DETACHED;
	o.detached = &d;
	o.ndetached = 1;
	sc_err_clear(&err);
	ck_assert_msg(sc_xades_sign(hsm, ea, sig_ec, NULL, 0, NULL, 0, &o, &out,
			  &outlen, NULL, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	put("dd.xml", out, outlen);
	both_accept("dd.xml", 1);
	free(out);
	/* a digest of the wrong length is refused */
	d.digest_len = 20;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0, NULL, 0, &o,
			     &out, &outlen, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_USAGE);
	/* B-LTA needs the data itself */
	d.digest_len = 32;
	o.level = SC_XADES_B_LTA;
	o.tsa = &tsac;
	{
		struct sc_xades_der certs[2], crls[1], ocsps[1];
		struct sc_xades_vdata v, tv;
		struct sc_xades_detached d2;
		struct sc_xades_opts o2;

		opts_init(&o2, &d2, &v, &tv, certs, crls, ocsps);
		o.vdata = &v;
		sc_err_clear(&err);
		ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0, NULL,
				     0, &o, &out, &outlen, NULL, &err),
		    -1);
		ck_assert_int_eq(err.code, SC_E_USAGE);
	}
}
END_TEST

/* B-B now, raised later to B-LTA, then the archive time-stamp renewed. */
START_TEST(test_extend_renew)
{
	struct sc_xades_der certs[2], crls[1], ocsps[1];
	struct sc_xades_vdata v, tv;
	struct sc_xades_detached d;
	struct sc_xades_opts o;
	struct sc_xades_info info;
	struct sc_err err;
	uint8_t *b = NULL, *lta = NULL, *lta2 = NULL;
	size_t bl, ll, l2;
	char *p;
	int n = 0;

	opts_init(&o, &d, &v, &tv, certs, crls, ocsps);
	o.level = SC_XADES_B_B;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0,
			     (const uint8_t *)doc_xml, strlen(doc_xml), &o, &b,
			     &bl, &info, &err),
	    0);
	o.level = SC_XADES_B_LTA;
	ck_assert_msg(sc_xades_extend(b, bl, NULL, &o, &lta, &ll, &info,
			  &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_int_eq(info.level, SC_XADES_B_LTA);
	put("lta.xml", lta, ll);
	both_accept("lta.xml", 0);
	check_timestamps(lta, ll, SC_XADES_ENVELOPED, 1);
	/* renewal: validation data for the first ATS, then a second ATS */
	ck_assert_msg(sc_xades_extend(lta, ll, info.id, &o, &lta2, &l2, &info,
			  &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	for (p = (char *)lta2;
	     (p = strstr(p, "<xades141:ArchiveTimeStamp")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 2);
	put("lta2.xml", lta2, l2);
	both_accept("lta2.xml", 0);
	check_timestamps(lta2, l2, SC_XADES_ENVELOPED, 1);
	/* lowering is refused */
	o.level = SC_XADES_B_T;
	sc_err_clear(&err);
	free(b);
	ck_assert_int_eq(sc_xades_extend(lta2, l2, NULL, &o, &b, &bl, NULL,
			     &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_USAGE);
	free(lta);
	free(lta2);
}
END_TEST

/* A counter-signature (EN 319 132-1 §5.4.2) by a second signer. */
START_TEST(test_countersign)
{
	struct sc_xades_opts o;
	struct sc_xades_info i1, i2;
	struct sc_err err;
	uint8_t *a = NULL, *b = NULL;
	size_t al, bl;

	memset(&o, 0, sizeof(o));
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0,
			     (const uint8_t *)doc_xml, strlen(doc_xml), &o, &a,
			     &al, &i1, &err),
	    0);
	o.countersign = "*";
	ck_assert_msg(sc_xades_sign(hsm, rsa_a, sig_rsa, NULL, 0, a, al, &o, &b,
			  &bl, &i2, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_ptr_nonnull(strstr((char *)b, "<xades:CounterSignature>"));
	ck_assert_ptr_nonnull(strstr((char *)b, "#CountersignedSignature"));
	put("cs.xml", b, bl);
	/* the first signature still verifies, and so does the second */
	both_accept("cs.xml", 0);
	ck_assert_int_eq(run("cd %s && xmlsec1 --verify --enabled-key-data "
			     "x509 --trusted-pem root.pem --untrusted-pem "
			     "ica.pem --id-attr:Id "
			     "http://www.w3.org/2000/09/xmldsig#:Signature "
			     "--id-attr:Id "
			     "http://www.w3.org/2000/09/"
			     "xmldsig#:SignatureValue " IDATTR
			     " --node-id %s cs.xml >cs.log 2>&1",
			     tmpdir, i2.id),
	    0);
	/* an unknown target is refused */
	o.countersign = "sig-nope";
	free(a);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, rsa_a, sig_rsa, NULL, 0, b, bl, &o,
			     &a, &al, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	free(b);
}
END_TEST

/* Parallel detached signatures (asic:XAdESSignatures, EN 319 162-1). */
START_TEST(test_parallel)
{
	struct sc_xades_der certs[2], crls[1], ocsps[1];
	struct sc_xades_vdata v, tv;
	struct sc_xades_detached d;
	struct sc_xades_opts o;
	struct sc_xades_info i1, i2, i3;
	struct sc_err err;
	uint8_t *a = NULL, *b = NULL, *c = NULL;
	size_t al, bl, cl;

	opts_init(&o, &d, &v, &tv, certs, crls, ocsps);
	o.packaging = SC_XADES_DETACHED;
	o.level = SC_XADES_B_T;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0, NULL, 0, &o,
			     &a, &al, &i1, &err),
	    0);
	o.parallel = 1;
	o.level = SC_XADES_B_B;
	ck_assert_msg(sc_xades_sign(hsm, rsa_a, sig_rsa, NULL, 0, a, al, &o, &b,
			  &bl, &i2, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_msg(sc_xades_sign(hsm, ea, sig_ec, NULL, 0, b, bl, &o, &c,
			  &cl, &i3, &err) == 0,
	    "%s (%s)", err.msg, err.detail);
	ck_assert_ptr_nonnull(strstr((char *)c, "<asic:XAdESSignatures"));
	put("par.xml", c, cl);
	/* each of the three verifies on its own, with both checkers */
	for (int k = 0; k < 3; k++)
		ck_assert_msg(
		    run("cd %s && xmlsec1 --verify --enabled-key-data "
			"x509 --enabled-reference-uris "
			"same-doc,remote --trusted-pem root.pem "
			"--untrusted-pem ica.pem --id-attr:Id "
			"http://www.w3.org/2000/09/xmldsig#:Signature " IDATTR
			" --node-id %s par.xml >par%d.log 2>&1",
			tmpdir, k == 0 ? i1.id : (k == 1 ? i2.id : i3.id),
			k) == 0,
		    "xmlsec1 rejects parallel signature %d", k);
	ck_assert_int_ne(xadesjs_verify("par.xml", 1), 1);
	/* not beside a document that is no detached signature */
	free(b);
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0,
			     (const uint8_t *)doc_xml, strlen(doc_xml), &o, &b,
			     &bl, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	free(a);
	free(c);
}
END_TEST

/* The certificate must be the key's. */
START_TEST(test_wrong_cert)
{
	struct sc_xades_opts o;
	struct sc_err err;
	uint8_t *out = NULL;
	size_t outlen;

	memset(&o, 0, sizeof(o));
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_rsa, NULL, 0,
			     (const uint8_t *)doc_xml, strlen(doc_xml), &o,
			     &out, &outlen, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_INVALID_INPUT);
	o.level = SC_XADES_B_T; /* no TSA given */
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0,
			     (const uint8_t *)doc_xml, strlen(doc_xml), &o,
			     &out, &outlen, NULL, &err),
	    -1);
	ck_assert_int_eq(err.code, SC_E_USAGE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hostile input: no HSM needed, but the same entry point.             */

static void
bad(const char *xml, size_t len, size_t max, enum sc_code want)
{
	struct sc_err err;
	struct sc_xades_opts o;
	uint8_t *out = NULL;
	size_t outlen;

	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_inspect((const uint8_t *)xml, len, max, &err),
	    -1);
	ck_assert_msg(err.code == want, "%s: %s", sc_code_name(err.code),
	    err.msg);
	memset(&o, 0, sizeof(o));
	o.max_input = max;
	sc_err_clear(&err);
	ck_assert_int_eq(sc_xades_sign(hsm, ea, sig_ec, NULL, 0,
			     (const uint8_t *)xml, len, &o, &out, &outlen, NULL,
			     &err),
	    -1);
	ck_assert_msg(err.code == want, "sign: %s: %s", sc_code_name(err.code),
	    err.msg);
}

START_TEST(test_hostile)
{
	static const char laughs[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
	    "]><lolz>&lol9;</lolz>";
	static const char xxe[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
	    "\"file:///etc/passwd\">]><d>&x;</d>";
	static const char ext_dtd[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE d SYSTEM "
	    "\"http://127.0.0.1:9/evil.dtd\"><d/>";
	static const char param[] =
	    "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY % p SYSTEM "
	    "\"http://127.0.0.1:9/p\"> %p;]><d/>";
	static const char undef[] = "<d>&undefined;</d>";
	static const char dup[] = "<d><a Id=\"x\"/><b ID=\"x\"/></d>";
	static const char xmlid[] = "<d><a xml:id=\"x\"/><b Id=\"x\"/></d>";
	static const char broken[] = "<d><a></d>";
	static const char notxml[] = "%PDF-1.4\n";
	char *deep, *big;
	size_t k = 0;

	bad(laughs, sizeof(laughs) - 1, 0, SC_E_INVALID_XML);
	bad(xxe, sizeof(xxe) - 1, 0, SC_E_INVALID_XML);
	bad(ext_dtd, sizeof(ext_dtd) - 1, 0, SC_E_INVALID_XML);
	bad(param, sizeof(param) - 1, 0, SC_E_INVALID_XML);
	bad(undef, sizeof(undef) - 1, 0, SC_E_INVALID_XML);
	bad(dup, sizeof(dup) - 1, 0, SC_E_INVALID_XML);
	bad(xmlid, sizeof(xmlid) - 1, 0, SC_E_INVALID_XML);
	bad(broken, sizeof(broken) - 1, 0, SC_E_INVALID_XML);
	bad(notxml, sizeof(notxml) - 1, 0, SC_E_INVALID_XML);
	bad("", 0, 0, SC_E_INVALID_XML);
	/* depth: libxml2's limit (256) without XML_PARSE_HUGE */
	deep = malloc(100000 * 7 + 16);
	ck_assert_ptr_nonnull(deep);
	for (int i = 0; i < 100000; i++) {
		memcpy(deep + k, "<a>", 3);
		k += 3;
	}
	bad(deep, k, 0, SC_E_INVALID_XML);
	free(deep);
	/* over the caller's cap */
	big = malloc(4096);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 4096);
	memcpy(big, "<d>", 3);
	memcpy(big + 4092, "</d>", 4);
	bad(big, 4096, 4095, SC_E_TOO_LARGE);
	free(big);
	/* a good one goes through inspect */
	{
		struct sc_err err;

		sc_err_clear(&err);
		ck_assert_int_eq(sc_xades_inspect((const uint8_t *)doc_xml,
				     strlen(doc_xml), 0, &err),
		    0);
	}
}
END_TEST

static Suite *
xades_suite(void)
{
	Suite *s = suite_create("xades");
	TCase *tc;

	tc = tcase_create("interop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_matrix, 0, 12);
	tcase_add_test(tc, test_algorithms);
	tcase_add_test(tc, test_detached_digest);
	tcase_add_test(tc, test_extend_renew);
	tcase_add_test(tc, test_countersign);
	tcase_add_test(tc, test_parallel);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_wrong_cert);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	struct stat st;
	SRunner *sr;
	int failed;

	have_xadesjs = stat(SCEAU_SOURCE_DIR "/tests/xades/node_modules/"
					     "xadesjs",
			   &st) == 0 &&
	    system("node --version >/dev/null 2>&1") == 0;
	if (!have_xadesjs && getenv("SCEAU_E2E_REQUIRED") != NULL &&
	    strcmp(getenv("SCEAU_E2E_REQUIRED"), "1") == 0) {
		fprintf(stderr,
		    "FAIL: xadesjs not installed, run npm ci in "
		    "tests/xades (SCEAU_E2E_REQUIRED=1)\n");
		return 1;
	}
	if (system("xmlsec1 --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIPPED: xmlsec1 not installed\n");
		return getenv("SCEAU_E2E_REQUIRED") != NULL ? 1 : 77;
	}
	sr = srunner_create(xades_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed != 0)
		return 1;
	if (!have_xadesjs) {
		fprintf(stderr,
		    "SKIPPED: xadesjs not installed, run npm ci "
		    "in tests/xades\n");
		return 77;
	}
	return 0;
}
