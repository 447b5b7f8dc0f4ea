/*
 * verify_x509.c: trust anchors, X.509 path validation (RFC 5280 §6,
 * EN 319 102-1 §5.2.6 XCV) and the qualified-certificate statements
 * (ETSI EN 319 412-5) read from the signer's certificate.
 *
 * Revocation (EN 319 102-1 §5.2.6.4, RFC 5280 §6.3), for every
 * certificate of the path but the anchor: the OCSP responses and CRLs
 * embedded in the document first, then (unless offline) those fetched
 * online (verify_online.c). A certificate revoked after a trusted
 * signature time-stamp proves the signature existed still validates
 * (past signature validation, §5.6.2.1); without such proof the answer
 * is INDETERMINATE REVOKED_NO_POE (REVOKED_CA_NO_POE for a CA). An
 * expired certificate is validated at the time a trusted signature
 * time-stamp proves (§5.6.2.4, simplified).
 */
#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "verify_asn1.h"
#include "verify_int.h"

#define OID_QC_STATEMENTS "1.3.6.1.5.5.7.1.3"
#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"
#define OID_QC_SSCD "0.4.0.1862.1.4"
#define OID_QC_LEGISLATION "0.4.0.1862.1.7"

static int
oid_is(const ASN1_OBJECT *o, const char *txt)
{
	char buf[80];

	return o != NULL && OBJ_obj2txt(buf, sizeof(buf), o, 1) > 0 &&
	    strcmp(buf, txt) == 0;
}

/*
 * EN 319 412-5 §4.2.4: QcCClegislation ::= SEQUENCE OF CountryName
 * (PrintableString SIZE(2)): the countries under whose law the
 * certificate is qualified. Law 2016-012 art. 115 wants "ML".
 */
static void
qc_legislation(const ASN1_TYPE *info, struct ver_sig *sig)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	const unsigned char *p;
	int n;

	if (info == NULL || info->type != V_ASN1_SEQUENCE)
		return;
	p = ASN1_STRING_get0_data(info->value.sequence);
	n = ASN1_STRING_length(info->value.sequence);
	seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
	for (int i = 0; seq != NULL && i < sk_ASN1_TYPE_num(seq) && i < 16;
	     i++) {
		const ASN1_TYPE *c = sk_ASN1_TYPE_value(seq, i);
		size_t l = strlen(sig->qc_legislation);

		if (c->type != V_ASN1_PRINTABLESTRING ||
		    ASN1_STRING_length(c->value.printablestring) != 2 ||
		    l + 3 >= sizeof(sig->qc_legislation))
			continue;
		snprintf(sig->qc_legislation + l,
		    sizeof(sig->qc_legislation) - l, "%s%.2s", l ? "," : "",
		    (const char *)ASN1_STRING_get0_data(
			c->value.printablestring));
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	ERR_clear_error();
}

/* EN 319 412-5 §4.2.1 QcCompliance and §4.2.2 QcSSCD. */
static void
qc_statements(X509 *x, struct ver_sig *sig)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_QC_STATEMENTS, 1);
	X509_EXTENSION *ext;
	const ASN1_OCTET_STRING *d;
	const unsigned char *p;
	QCSTATEMENTS *qs = NULL;
	int i;

	sig->qc_compliance = sig->qc_sscd = 0;
	sig->qc_legislation[0] = '\0';
	if (obj == NULL)
		return;
	i = X509_get_ext_by_OBJ(x, obj, -1);
	ASN1_OBJECT_free(obj);
	if (i < 0 || (ext = X509_get_ext(x, i)) == NULL)
		return;
	d = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(d);
	qs = d2i_QCSTATEMENTS(NULL, &p, ASN1_STRING_length(d));
	if (qs == NULL) {
		ver_sig_reason(sig,
		    "EN 319 412-5: QCStatements extension "
		    "is malformed");
		ERR_clear_error();
		return;
	}
	for (int j = 0; j < OPENSSL_sk_num(qs) && j < 64; j++) {
		QCSTATEMENT *q = (QCSTATEMENT *)OPENSSL_sk_value(qs, j);

		if (oid_is(q->id, OID_QC_COMPLIANCE))
			sig->qc_compliance = 1;
		else if (oid_is(q->id, OID_QC_SSCD))
			sig->qc_sscd = 1;
		else if (oid_is(q->id, OID_QC_LEGISLATION))
			qc_legislation(q->info, sig);
	}
	QCSTATEMENTS_free(qs);
}

int
ver_mat_init(struct ver_material *m)
{
	memset(m, 0, sizeof(*m));
	m->certs = sk_X509_new_null();
	m->crls = sk_X509_CRL_new_null();
	return m->certs != NULL && m->crls != NULL ? 0 : -1;
}

void
ver_mat_free(struct ver_material *m)
{
	if (m == NULL)
		return;
	sk_X509_pop_free(m->certs, X509_free);
	sk_X509_CRL_pop_free(m->crls, X509_CRL_free);
	for (size_t i = 0; i < m->nocsp; i++)
		OCSP_BASICRESP_free(m->ocsp[i]);
	memset(m, 0, sizeof(*m));
}

static int
has_cert(const struct ver_material *m, const X509 *x)
{
	for (int i = 0; i < sk_X509_num(m->certs); i++)
		if (X509_cmp(sk_X509_value(m->certs, i), x) == 0)
			return 1;
	return 0;
}

static void
push_cert(struct ver_material *m, X509 *x)
{
	if (x == NULL)
		return;
	if (m->certs == NULL || sk_X509_num(m->certs) >= SC_VER_MAX_CERTS ||
	    has_cert(m, x) || sk_X509_push(m->certs, x) <= 0)
		X509_free(x);
}

static void
push_crl(struct ver_material *m, X509_CRL *x)
{
	if (x == NULL)
		return;
	if (m->crls == NULL || sk_X509_CRL_num(m->crls) >= SC_VER_MAX_CERTS ||
	    sk_X509_CRL_push(m->crls, x) <= 0)
		X509_CRL_free(x);
}

static void
push_ocsp(struct ver_material *m, OCSP_BASICRESP *b)
{
	if (b == NULL)
		return;
	if (m->nocsp >= VER_MAX_OCSP)
		OCSP_BASICRESP_free(b);
	else
		m->ocsp[m->nocsp++] = b;
}

void
ver_mat_add_cert(struct ver_material *m, const uint8_t *p, size_t n)
{
	const unsigned char *q = p;

	if (n > 0 && n < 1024 * 1024)
		push_cert(m, d2i_X509(NULL, &q, (long)n));
	ERR_clear_error();
}

void
ver_mat_add_crl(struct ver_material *m, const uint8_t *p, size_t n)
{
	const unsigned char *q = p;

	if (n > 0 && n < 16 * 1024 * 1024)
		push_crl(m, d2i_X509_CRL(NULL, &q, (long)n));
	ERR_clear_error();
}

void
ver_mat_add_ocsp(struct ver_material *m, const uint8_t *p, size_t n)
{
	const unsigned char *q = p;
	OCSP_RESPONSE *r;

	if (n == 0 || n >= 1024 * 1024)
		return;
	if ((r = d2i_OCSP_RESPONSE(NULL, &q, (long)n)) != NULL) {
		if (OCSP_response_status(r) == OCSP_RESPONSE_STATUS_SUCCESSFUL)
			push_ocsp(m, OCSP_response_get1_basic(r));
		OCSP_RESPONSE_free(r);
	} else {
		q = p;
		push_ocsp(m, d2i_OCSP_BASICRESP(NULL, &q, (long)n));
	}
	ERR_clear_error();
}

void
ver_mat_merge(struct ver_material *dst, const struct ver_material *src)
{
	if (src == NULL)
		return;
	for (int i = 0; i < sk_X509_num(src->certs); i++) {
		X509 *x = sk_X509_value(src->certs, i);

		if (X509_up_ref(x) == 1)
			push_cert(dst, x);
	}
	for (int i = 0; i < sk_X509_CRL_num(src->crls); i++) {
		X509_CRL *x = sk_X509_CRL_value(src->crls, i);

		if (X509_CRL_up_ref(x) == 1)
			push_crl(dst, x);
	}
	for (size_t i = 0; i < src->nocsp; i++)
		push_ocsp(dst,
		    ASN1_item_dup(ASN1_ITEM_rptr(OCSP_BASICRESP),
			src->ocsp[i]));
}

/* An ASN1_TIME as seconds since the epoch; 0 when absent or bad. */
static int64_t
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/*
 * RFC 6960 §3.2: an OCSP response about @x (issued by @issuer) that
 * verifies to the anchors. @return 1 good, 0 revoked, -1 none usable.
 */
static int
ocsp_status(struct ver_ctx *c, const struct ver_material *m,
    STACK_OF(X509) *pool, X509 *x, X509 *issuer, int64_t at, int64_t fresh,
    int64_t *rev_at)
{
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, x, issuer);
	int rc = -1;

	if (id == NULL)
		return -1;
	for (size_t i = 0; i < m->nocsp && rc < 0; i++) {
		int status = -1, reason = -1;
		ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL,
				     *nextupd = NULL;

		struct tm tm;

		if (OCSP_resp_find_status(m->ocsp[i], id, &status, &reason,
			&rev, &thisupd, &nextupd) != 1)
			continue;
		/* EN 319 102-1 §5.2.5 (freshness, simplified): a "good"
		 * issued before the signature proves nothing about it. */
		if (status == V_OCSP_CERTSTATUS_GOOD && fresh > 0 &&
		    (ASN1_TIME_to_tm(thisupd, &tm) != 1 ||
			(int64_t)timegm(&tm) < fresh))
			continue;
		/* The responder's signature and certificate, verified at
		 * the validation time against the anchors. */
		X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(c->anchors),
		    (time_t)at);
		if (OCSP_basic_verify(m->ocsp[i], pool, c->anchors, 0) != 1)
			continue;
		if (status == V_OCSP_CERTSTATUS_GOOD) {
			rc = 1;
		} else if (status == V_OCSP_CERTSTATUS_REVOKED) {
			rc = 0;
			*rev_at = asn1_epoch(rev);
		}
	}
	OCSP_CERTID_free(id);
	ERR_clear_error();
	return rc;
}

/*
 * RFC 5280 §6.3 (simplified to complete, direct CRLs): a CRL issued and
 * signed by @issuer (whose key may sign CRLs, §4.2.1.3) that lists @x or,
 * for "good", was issued no earlier than @fresh or is current at @at. Delta CRLs (§5.2.4) are
 * not used. @return 1 good, 0 revoked (*rev_at set), -1 none usable.
 */
static int
crl_status(const struct ver_material *m, X509 *x, X509 *issuer, int64_t at,
    int64_t fresh, int64_t *rev_at)
{
	EVP_PKEY *ik = X509_get0_pubkey(issuer);
	int rc = -1;

	if (m == NULL || m->crls == NULL || ik == NULL ||
	    (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0)
		return -1;
	for (int i = 0; i < sk_X509_CRL_num(m->crls) && rc != 0; i++) {
		X509_CRL *crl = sk_X509_CRL_value(m->crls, i);
		X509_REVOKED *rv = NULL;
		int64_t this_upd = asn1_epoch(X509_CRL_get0_lastUpdate(crl));
		int64_t next_upd = asn1_epoch(X509_CRL_get0_nextUpdate(crl));

		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			X509_get_subject_name(issuer)) != 0 ||
		    X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0 ||
		    X509_CRL_verify(crl, ik) != 1)
			continue;
		if (X509_CRL_get0_by_cert(crl, &rv, x) == 1 && rv != NULL) {
			*rev_at = asn1_epoch(
			    X509_REVOKED_get0_revocationDate(rv));
			rc = 0;
		} else if (fresh <= 0 || this_upd >= fresh ||
		    (this_upd <= at && next_upd > at)) {
			/* Issued after the signature (EN 319 102-1 §5.2.5
			 * freshness), or current at the validation time
			 * (RFC 5280 §6.3.3 (a)). */
			rc = 1;
		}
	}
	ERR_clear_error();
	return rc;
}

/*
 * The status of @x from @m, OCSP first; @pool helps to verify the
 * responders' certificates. @return 1 good, 0 revoked, -1 unknown.
 */
static int
rev_status(struct ver_ctx *c, const struct ver_material *m,
    STACK_OF(X509) *pool, X509 *x, X509 *issuer, int64_t at, int64_t fresh,
    int64_t *rev_at)
{
	int r = -1;

	if (m == NULL)
		return -1;
	if (m->nocsp > 0)
		r = ocsp_status(c, m, pool, x, issuer, at, fresh, rev_at);
	if (r < 0)
		r = crl_status(m, x, issuer, at, fresh, rev_at);
	return r;
}

int
ver_anchors_load(const char *trust, X509_STORE **out, struct sc_err *err)
{
	BIO *b = NULL;
	X509_STORE *st = NULL;
	X509 *x;
	int n = 0, rc = -1;

	*out = NULL;
	if (trust == NULL)
		return 0;
	if (strncmp(trust, "-----BEGIN", 10) == 0)
		b = BIO_new_mem_buf(trust, -1);
	else
		b = BIO_new_file(trust, "r");
	if (b == NULL) {
		sc_err_crypto(err, SC_E_IO, "cannot read the trust anchors");
		goto out;
	}
	if ((st = X509_STORE_new()) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x) != 1) {
			X509_free(x);
			sc_err_crypto(err, SC_E_CONFIG, "bad trust anchor");
			goto out;
		}
		X509_free(x);
		if (++n > SC_VER_MAX_CERTS) {
			sc_err_set(err, SC_E_CONFIG, "too many trust anchors");
			goto out;
		}
	}
	ERR_clear_error();
	if (n == 0) {
		sc_err_set(err, SC_E_CONFIG,
		    "no certificate in the trust "
		    "anchors");
		goto out;
	}
	*out = st;
	st = NULL; /* now the caller's */
	rc = 0;
out:
	X509_STORE_free(st);
	BIO_free(b);
	return rc;
}

/* Display chain from the certificates present, issuer by issuer. */
static void
display_chain(X509 *signer, STACK_OF(X509) *pool, struct ver_sig *sig)
{
	X509 *cur = signer;

	while (cur != NULL && sig->nchain < VER_MAX_CHAIN) {
		X509 *next = NULL;
		char *n = ver_name(X509_get_subject_name(cur));

		if (n != NULL)
			sig->chain[sig->nchain++] = n;
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break;
		for (int i = 0; i < sk_X509_num(pool); i++) {
			X509 *c = sk_X509_value(pool, i);

			if (c != cur &&
			    X509_check_issued(c, cur) == X509_V_OK) {
				next = c;
				break;
			}
		}
		cur = next;
	}
	ERR_clear_error();
}

/* The last certificate reached from @x through issuers in @pool. */
static X509 *
chain_top(X509 *x, STACK_OF(X509) *pool)
{
	for (int depth = 0; depth < VER_MAX_CHAIN; depth++) {
		X509 *next = NULL;

		if (X509_check_issued(x, x) == X509_V_OK)
			break;
		for (int i = 0; i < sk_X509_num(pool) && next == NULL; i++) {
			X509 *c = sk_X509_value(pool, i);

			if (c != x && X509_check_issued(c, x) == X509_V_OK)
				next = c;
		}
		if (next == NULL)
			break;
		x = next;
	}
	ERR_clear_error();
	return x;
}

/* The certificates of @m and @net together (borrowed pointers). */
static STACK_OF(X509) *
pool_of(const struct ver_material *m, const struct ver_material *net)
{
	STACK_OF(X509) *p = m->certs != NULL ? sk_X509_dup(m->certs)
					     : sk_X509_new_null();

	for (int i = 0; p != NULL && net != NULL && i < sk_X509_num(net->certs);
	     i++)
		if (sk_X509_push(p, sk_X509_value(net->certs, i)) <= 0) {
			sk_X509_free(p);
			return NULL;
		}
	return p;
}

/* Runs X509_verify_cert; @return its X509_V_* result. */
static int
run_verify(X509_STORE *st, X509 *signer, STACK_OF(X509) *pool,
    STACK_OF(X509_CRL) *crls, int64_t at, int crl_check, STACK_OF(X509) **chain)
{
	X509_STORE_CTX *ctx;
	X509_VERIFY_PARAM *vp;
	int r = X509_V_ERR_UNSPECIFIED;

	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return r;
	if (X509_STORE_CTX_init(ctx, st, signer, pool) != 1)
		goto out;
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, (time_t)at);
	if (crl_check) {
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_CRL_CHECK);
	}
	if (X509_verify_cert(ctx) == 1) {
		r = X509_V_OK;
		if (chain != NULL)
			*chain = X509_STORE_CTX_get1_chain(ctx);
	} else {
		r = X509_STORE_CTX_get_error(ctx);
	}
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

int64_t
ver_sig_poe(const struct ver_sig *sig)
{
	int64_t best = 0;

	for (size_t i = 0; i < sig->nts; i++) {
		const struct ver_ts *t = &sig->ts[i];

		if (strcmp(t->type, "signature") == 0 && t->valid &&
		    t->trusted && t->gen > 0 && (best == 0 || t->gen < best))
			best = t->gen;
	}
	return best;
}

/*
 * The revocation status of chain element @x (@depth 0: the signer),
 * issued by @issuer, and what it means for @sig (EN 319 102-1
 * §5.2.6.4 and §5.6.2.1). @return 0 to go on up the chain, 1 when the
 * verdict is settled.
 */
static int
chain_rev(struct ver_ctx *c, const struct ver_material *m,
    STACK_OF(X509) *pool, X509 *x, X509 *issuer, int depth, int64_t at,
    struct ver_sig *sig)
{
	/* §5.2.5 freshness: a "good" about the signer must postdate the
	 * signature (the claimed time, or the time it is validated at in
	 * the past); for CAs any status current at @at is enough. */
	int64_t fresh =
	    depth == 0 ? (at < c->now ? at : sig->signing_epoch) : 0;
	int64_t rev_at = 0, poe;
	const char *source = "embedded";
	char t[32], p[32];
	int r;

	r = rev_status(c, m, pool, x, issuer, at, fresh, &rev_at);
	if (r < 0 && c->doc_mat != NULL && c->doc_mat != m)
		r = rev_status(c, c->doc_mat, pool, x, issuer, at, fresh, &rev_at);
	if (r < 0) {
		source = "online";
		r = rev_status(c, c->net, pool, x, issuer, at, fresh, &rev_at);
		if (r < 0 && ver_net_fetch(c, x, issuer, 1, sig))
			r = rev_status(c, c->net, pool, x, issuer, at, fresh,
			    &rev_at);
		if (r < 0 && ver_net_fetch(c, x, issuer, 0, sig))
			r = rev_status(c, c->net, pool, x, issuer, at, fresh,
			    &rev_at);
	}
	if (depth == 0) {
		sig->revocation = r > 0 ? "good" : r == 0 ? "revoked" : "unknown";
		sig->rev_source = r >= 0 ? source : NULL;
	}
	if (r > 0)
		return 0;
	if (r == 0) {
		sc_time_fmt((struct sc_time){rev_at, 0}, 0, t);
		if (depth == 0)
			snprintf(sig->rev_time, sizeof(sig->rev_time), "%s", t);
		poe = ver_sig_poe(sig);
		if (poe > 0 && rev_at > 0 && poe < rev_at) {
			sc_time_fmt((struct sc_time){poe, 0}, 0, p);
			ver_sig_reason(sig,
			    "EN 319 102-1 §5.6.2.1: %s was revoked at %s, "
			    "after %s, when a time-stamp proves the signature "
			    "existed: the signature stays valid",
			    depth == 0 ? "the signer's certificate"
				       : "a CA certificate of the chain",
			    t, p);
			return 0;
		}
		ver_sig_reason(sig,
		    "RFC 5280 §6.3: %s is revoked since %s; nothing proves "
		    "that the signature existed before",
		    depth == 0 ? "the signer's certificate"
			       : "a CA certificate of the chain",
		    t);
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    depth == 0 ? "REVOKED_NO_POE" : "REVOKED_CA_NO_POE");
		return 1;
	}
	if (depth > 0) {
		/* Simplification, said in the report: many signers embed
		 * data for their own certificate only. */
		ver_sig_reason(sig,
		    "EN 319 102-1 §5.2.6.4: no revocation data for the CA "
		    "certificate at depth %d%s",
		    depth, c->o->offline ? " (--offline)" : "");
		return 0;
	}
	ver_sig_reason(sig,
	    "EN 319 102-1 §5.2.6.4: no revocation data for the signer's "
	    "certificate%s",
	    c->o->offline ? " (--offline)" : "");
	ver_sig_verdict(sig, SC_VER_INDETERMINATE, "TRY_LATER");
	return 1;
}

void
ver_x509_eval(struct ver_ctx *c, X509 *signer, const struct ver_material *m,
    int64_t at, struct ver_sig *sig)
{
	STACK_OF(X509) *chain = NULL;
	STACK_OF(X509) *pool = NULL;
	STACK_OF(X509) *rpool = NULL;
	int64_t poe;
	int r;

	qc_statements(signer, sig);
	if (sig->serial[0] == '\0') {
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(signer),
		    NULL);
		char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

		if (hex != NULL)
			snprintf(sig->serial, sizeof(sig->serial), "%s", hex);
		OPENSSL_free(hex);
		BN_free(bn);
	}
	if ((pool = pool_of(m, c->net)) == NULL)
		goto nomem;
	if (c->anchors == NULL) {
		display_chain(signer, pool, sig);
		ver_sig_reason(sig,
		    "EN 319 102-1 §5.2.6: no trust anchor "
		    "configured (--trust), the chain cannot be validated");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "NO_CERTIFICATE_CHAIN_FOUND");
		goto out;
	}
	r = run_verify(c->anchors, signer, pool, NULL, at, 0, &chain);
	/* EN 319 102-1 §5.2.5: CA certificates the document lacks, from
	 * the caIssuers URLs (online only), one level at a time. */
	for (int k = 0; k < VER_MAX_CHAIN &&
	     (r == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		 r == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) &&
	     ver_net_issuer(c, chain_top(signer, pool), sig);
	     k++) {
		sk_X509_free(pool);
		if ((pool = pool_of(m, c->net)) == NULL)
			goto nomem;
		r = run_verify(c->anchors, signer, pool, NULL, at, 0, &chain);
	}
	if (r == X509_V_ERR_CERT_HAS_EXPIRED && (poe = ver_sig_poe(sig)) > 0 &&
	    poe < at) {
		/* EN 319 102-1 §5.6.2.4: expired now, but a time-stamp
		 * proves the signature existed at poe: validate there. */
		r = run_verify(c->anchors, signer, pool, NULL, poe, 0, &chain);
		if (r == X509_V_OK) {
			char t[32];

			sc_time_fmt((struct sc_time){poe, 0}, 0, t);
			ver_sig_reason(sig,
			    "EN 319 102-1 §5.6.2.4: the certificate has "
			    "expired; validated at %s, the time proven by "
			    "the signature time-stamp",
			    t);
			at = poe;
		}
	}
	if (r == X509_V_OK) {
		for (int i = 0;
		     i < sk_X509_num(chain) && sig->nchain < VER_MAX_CHAIN;
		     i++) {
			char *n = ver_name(
			    X509_get_subject_name(sk_X509_value(chain, i)));

			if (n != NULL)
				sig->chain[sig->nchain++] = n;
		}
	} else {
		display_chain(signer, pool, sig);
	}
	switch (r) {
	case X509_V_OK:
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		ver_sig_reason(sig,
		    "RFC 5280 §6: no path to a trust anchor "
		    "(%s)",
		    X509_verify_cert_error_string(r));
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "NO_CERTIFICATE_CHAIN_FOUND");
		goto out;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		ver_sig_reason(sig,
		    "EN 319 102-1 §5.2.6: a certificate of "
		    "the chain has expired at validation time and no proof "
		    "of existence is available");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "OUT_OF_BOUNDS_NO_POE");
		goto out;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		ver_sig_reason(sig,
		    "RFC 5280 §6.1.3: a certificate is not "
		    "yet valid at validation time");
		ver_sig_verdict(sig, SC_VER_INDETERMINATE, "NOT_YET_VALID");
		goto out;
	default:
		ver_sig_reason(sig, "RFC 5280 §6: chain not valid (%s)",
		    X509_verify_cert_error_string(r));
		ver_sig_verdict(sig, SC_VER_INDETERMINATE,
		    "CERTIFICATE_CHAIN_GENERAL_FAILURE");
		goto out;
	}
	/* Revocation (EN 319 102-1 §5.2.6.4, RFC 5280 §6.3). */
	if (sk_X509_num(chain) == 1) {
		sig->revocation = "not-needed";
		goto out;
	}
	/* The responders' certificates may chain through any of these. */
	if ((rpool = sk_X509_dup(chain)) == NULL)
		goto nomem;
	for (int i = 0; i < sk_X509_num(pool); i++)
		if (sk_X509_push(rpool, sk_X509_value(pool, i)) <= 0)
			goto nomem;
	for (int i = 0; i + 1 < sk_X509_num(chain); i++)
		if (chain_rev(c, m, rpool, sk_X509_value(chain, i),
			sk_X509_value(chain, i + 1), i, at, sig) != 0)
			break;
	goto out;
nomem:
	/* Never a pass by default: what could not be checked is not. */
	ver_sig_reason(sig, "out of memory while validating the chain");
	ver_sig_verdict(sig, SC_VER_INDETERMINATE,
	    "CERTIFICATE_CHAIN_GENERAL_FAILURE");
out:
	sk_X509_free(pool);  /* borrowed pointers */
	sk_X509_free(rpool); /* borrowed pointers */
	sk_X509_pop_free(chain, X509_free);
}
