/*
 * ca_qc.c: the qcStatements extension (RFC 3739 §3.2.6, ETSI EN
 * 319 412-5), encoded and decoded with OpenSSL ASN.1 templates as
 * rpki-client does for its eContent (rpki-asn1.h) — no hand-made DER.
 *
 *   QCStatements ::= SEQUENCE OF QCStatement
 *   QCStatement ::= SEQUENCE { statementId OBJECT IDENTIFIER,
 *                              statementInfo ANY DEFINED BY statementId
 *                                  OPTIONAL }
 *
 * Statements sceau writes (Law 2016-012 Art. 115 (1) and (7)):
 *   QcCompliance      0.4.0.1862.1.1  (no info)
 *   QcLimitValue      0.4.0.1862.1.2  MonetaryValue {currency, amount,
 *                                     exponent}, currency "XOF" (ISO 4217
 *                                     alphabetic)
 *   QcRetentionPeriod 0.4.0.1862.1.3  INTEGER (years)
 *   QcSSCD            0.4.0.1862.1.4  (no info)
 *   QcPDS             0.4.0.1862.1.5  SEQUENCE OF {url IA5String,
 *                                     language PrintableString (SIZE(2))}
 *   QcType            0.4.0.1862.1.6  SEQUENCE OF OID (.6.1 esign,
 *                                     .6.2 eseal)
 *   QcCClegislation   0.4.0.1862.1.7  SEQUENCE OF PrintableString ("ML")
 *   id-qcs-pkixQCSyntax-v2 1.3.6.1.5.5.7.11.2 SemanticsInformation
 *                                     {semanticsIdentifier} with
 *                                     0.4.0.194121.1.1 (natural person)
 *                                     or .1.2 (legal person) — not the
 *                                     eIDAS .1.3/.1.4 (ETSI EN 319 412-1
 *                                     §5.1).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"
#define OID_QC_LIMIT "0.4.0.1862.1.2"
#define OID_QC_RETENTION "0.4.0.1862.1.3"
#define OID_QC_SSCD "0.4.0.1862.1.4"
#define OID_QC_PDS "0.4.0.1862.1.5"
#define OID_QC_TYPE "0.4.0.1862.1.6"
#define OID_QC_TYPE_ESIGN "0.4.0.1862.1.6.1"
#define OID_QC_TYPE_ESEAL "0.4.0.1862.1.6.2"
#define OID_QC_CCLEG "0.4.0.1862.1.7"
#define OID_QC_SYNTAX2 "1.3.6.1.5.5.7.11.2"
#define OID_SEM_NATURAL "0.4.0.194121.1.1"
#define OID_SEM_LEGAL "0.4.0.194121.1.2"

/* Decoding caps (STYLE.md rule 12): counts bounded before use. */
#define QC_MAX_STATEMENTS 32
#define QC_MAX_ITEMS 8

typedef struct {
	ASN1_OBJECT *id;
	ASN1_TYPE *info;
} QC_STATEMENT;

typedef STACK_OF(QC_STATEMENT) QC_STATEMENTS;

typedef struct {
	ASN1_TYPE *currency; /* PrintableString (alphabetic) or INTEGER */
	ASN1_INTEGER *amount;
	ASN1_INTEGER *exponent;
} QC_MONETARY;

typedef struct {
	ASN1_IA5STRING *url;
	ASN1_PRINTABLESTRING *language;
} QC_PDS_LOCATION;

typedef struct {
	ASN1_OBJECT *id;
	STACK_OF(GENERAL_NAME) *nras;
} QC_SEMANTICS;

typedef STACK_OF(QC_PDS_LOCATION) QC_PDS_LOCATIONS;
typedef STACK_OF(ASN1_OBJECT) QC_TYPES;
typedef STACK_OF(ASN1_PRINTABLESTRING) QC_CCLEG;

DEFINE_STACK_OF(QC_STATEMENT)
DEFINE_STACK_OF(QC_PDS_LOCATION)
DEFINE_STACK_OF(ASN1_PRINTABLESTRING)

DECLARE_ASN1_FUNCTIONS(QC_STATEMENT)
DECLARE_ASN1_FUNCTIONS(QC_STATEMENTS)
DECLARE_ASN1_FUNCTIONS(QC_MONETARY)
DECLARE_ASN1_FUNCTIONS(QC_PDS_LOCATION)
DECLARE_ASN1_FUNCTIONS(QC_PDS_LOCATIONS)
DECLARE_ASN1_FUNCTIONS(QC_SEMANTICS)
DECLARE_ASN1_FUNCTIONS(QC_TYPES)
DECLARE_ASN1_FUNCTIONS(QC_CCLEG)

ASN1_SEQUENCE(QC_STATEMENT) = {
	ASN1_SIMPLE(QC_STATEMENT, id, ASN1_OBJECT),
	ASN1_OPT(QC_STATEMENT, info, ASN1_ANY),
} ASN1_SEQUENCE_END(QC_STATEMENT)

ASN1_ITEM_TEMPLATE(QC_STATEMENTS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, QCStatements,
	    QC_STATEMENT)
ASN1_ITEM_TEMPLATE_END(QC_STATEMENTS)

ASN1_SEQUENCE(QC_MONETARY) = {
	ASN1_SIMPLE(QC_MONETARY, currency, ASN1_ANY),
	ASN1_SIMPLE(QC_MONETARY, amount, ASN1_INTEGER),
	ASN1_SIMPLE(QC_MONETARY, exponent, ASN1_INTEGER),
} ASN1_SEQUENCE_END(QC_MONETARY)

ASN1_SEQUENCE(QC_PDS_LOCATION) = {
	ASN1_SIMPLE(QC_PDS_LOCATION, url, ASN1_IA5STRING),
	ASN1_SIMPLE(QC_PDS_LOCATION, language, ASN1_PRINTABLESTRING),
} ASN1_SEQUENCE_END(QC_PDS_LOCATION)

ASN1_ITEM_TEMPLATE(QC_PDS_LOCATIONS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, PdsLocations,
	    QC_PDS_LOCATION)
ASN1_ITEM_TEMPLATE_END(QC_PDS_LOCATIONS)

ASN1_SEQUENCE(QC_SEMANTICS) = {
	ASN1_OPT(QC_SEMANTICS, id, ASN1_OBJECT),
	ASN1_SEQUENCE_OF_OPT(QC_SEMANTICS, nras, GENERAL_NAME),
} ASN1_SEQUENCE_END(QC_SEMANTICS)

ASN1_ITEM_TEMPLATE(QC_TYPES) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, QcType, ASN1_OBJECT)
ASN1_ITEM_TEMPLATE_END(QC_TYPES)

ASN1_ITEM_TEMPLATE(QC_CCLEG) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, QcCClegislation,
	    ASN1_PRINTABLESTRING)
ASN1_ITEM_TEMPLATE_END(QC_CCLEG)

IMPLEMENT_ASN1_FUNCTIONS(QC_STATEMENT)
IMPLEMENT_ASN1_FUNCTIONS(QC_STATEMENTS)
IMPLEMENT_ASN1_FUNCTIONS(QC_MONETARY)
IMPLEMENT_ASN1_FUNCTIONS(QC_PDS_LOCATION)
IMPLEMENT_ASN1_FUNCTIONS(QC_PDS_LOCATIONS)
IMPLEMENT_ASN1_FUNCTIONS(QC_SEMANTICS)
IMPLEMENT_ASN1_FUNCTIONS(QC_TYPES)
IMPLEMENT_ASN1_FUNCTIONS(QC_CCLEG)

static ASN1_OBJECT *
oid(const char *txt)
{
	return OBJ_txt2obj(txt, 1);
}

static int
oid_is(const ASN1_OBJECT *o, const char *txt)
{
	char buf[80];

	if (OBJ_obj2txt(buf, sizeof(buf), o, 1) <= 0)
		return 0;
	return strcmp(buf, txt) == 0;
}

/* Appends statement @id with @info (stolen; may be NULL). */
static int
push(QC_STATEMENTS *sts, const char *id, ASN1_TYPE *info, struct sc_err *err)
{
	QC_STATEMENT *st = QC_STATEMENT_new();

	if (st == NULL || (st->id = oid(id)) == NULL) {
		QC_STATEMENT_free(st);
		ASN1_TYPE_free(info);
		return sc_err_crypto(err, SC_E_NOMEM, "out of memory");
	}
	st->info = info; /* owned by st now */
	if (sk_QC_STATEMENT_push(sts, st) <= 0) {
		QC_STATEMENT_free(st);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	return 0;
}

/* Wraps the DER of @item/@val as an ASN1_TYPE SEQUENCE. */
static ASN1_TYPE *
pack(const ASN1_ITEM *it, void *val, struct sc_err *err)
{
	ASN1_TYPE *t = NULL;

	if (ASN1_TYPE_pack_sequence(it, val, &t) == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode a QCStatement");
		return NULL;
	}
	return t;
}

static int
add_limit(QC_STATEMENTS *sts, const struct ca_qc *qc, struct sc_err *err)
{
	QC_MONETARY *m = QC_MONETARY_new();
	ASN1_PRINTABLESTRING *cur = NULL;
	ASN1_TYPE *info = NULL;
	BIGNUM *bn = NULL;
	int rc = -1;

	if (m == NULL || (cur = ASN1_PRINTABLESTRING_new()) == NULL ||
	    ASN1_STRING_set(cur, qc->limit_currency, 3) != 1 ||
	    (m->currency == NULL && (m->currency = ASN1_TYPE_new()) == NULL)) {
		sc_err_crypto(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	ASN1_TYPE_set(m->currency, V_ASN1_PRINTABLESTRING, cur);
	cur = NULL; /* owned by m->currency */
	if ((bn = BN_new()) == NULL ||
	    BN_set_word(bn, (BN_ULONG)qc->limit_amount) != 1 ||
	    BN_to_ASN1_INTEGER(bn, m->amount) == NULL ||
	    ASN1_INTEGER_set_int64(m->exponent,
		(int64_t)qc->limit_exponent) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode QcLimitValue");
		goto out;
	}
	if ((info = pack(ASN1_ITEM_rptr(QC_MONETARY), m, err)) == NULL)
		goto out;
	rc = push(sts, OID_QC_LIMIT, info, err);
out:
	BN_free(bn);
	ASN1_PRINTABLESTRING_free(cur);
	QC_MONETARY_free(m);
	return rc;
}

static int
add_pds(QC_STATEMENTS *sts, const struct ca_qc *qc, struct sc_err *err)
{
	QC_PDS_LOCATIONS *locs = sk_QC_PDS_LOCATION_new_null();
	ASN1_TYPE *info = NULL;
	int rc = -1;

	if (locs == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < qc->npds; i++) {
		QC_PDS_LOCATION *l = QC_PDS_LOCATION_new();

		if (l == NULL ||
		    ASN1_STRING_set(l->url, qc->pds_url[i], -1) != 1 ||
		    ASN1_STRING_set(l->language, qc->pds_lang[i], 2) != 1 ||
		    sk_QC_PDS_LOCATION_push(locs, l) <= 0) {
			QC_PDS_LOCATION_free(l);
			sc_err_crypto(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((info = pack(ASN1_ITEM_rptr(QC_PDS_LOCATIONS), locs, err)) == NULL)
		goto out;
	rc = push(sts, OID_QC_PDS, info, err);
out:
	sk_QC_PDS_LOCATION_pop_free(locs, QC_PDS_LOCATION_free);
	return rc;
}

static int
add_type(QC_STATEMENTS *sts, int type, struct sc_err *err)
{
	QC_TYPES *types = sk_ASN1_OBJECT_new_null();
	ASN1_OBJECT *o = NULL;
	ASN1_TYPE *info = NULL;
	int rc = -1;

	o = oid(type == CA_QC_ESEAL ? OID_QC_TYPE_ESEAL : OID_QC_TYPE_ESIGN);
	if (types == NULL || o == NULL || sk_ASN1_OBJECT_push(types, o) <= 0) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	o = NULL; /* owned by types */
	if ((info = pack(ASN1_ITEM_rptr(QC_TYPES), types, err)) == NULL)
		goto out;
	rc = push(sts, OID_QC_TYPE, info, err);
out:
	ASN1_OBJECT_free(o);
	sk_ASN1_OBJECT_pop_free(types, ASN1_OBJECT_free);
	return rc;
}

static int
add_ccleg(QC_STATEMENTS *sts, const char *cc, struct sc_err *err)
{
	QC_CCLEG *l = sk_ASN1_PRINTABLESTRING_new_null();
	ASN1_PRINTABLESTRING *s = ASN1_PRINTABLESTRING_new();
	ASN1_TYPE *info = NULL;
	int rc = -1;

	if (l == NULL || s == NULL || ASN1_STRING_set(s, cc, 2) != 1 ||
	    sk_ASN1_PRINTABLESTRING_push(l, s) <= 0) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	s = NULL; /* owned by l */
	if ((info = pack(ASN1_ITEM_rptr(QC_CCLEG), l, err)) == NULL)
		goto out;
	rc = push(sts, OID_QC_CCLEG, info, err);
out:
	ASN1_PRINTABLESTRING_free(s);
	sk_ASN1_PRINTABLESTRING_pop_free(l, ASN1_PRINTABLESTRING_free);
	return rc;
}

static int
add_semantics(QC_STATEMENTS *sts, int sem, struct sc_err *err)
{
	QC_SEMANTICS *si = QC_SEMANTICS_new();
	ASN1_TYPE *info = NULL;
	int rc = -1;

	if (si == NULL || (si->id = oid(sem == CA_SEM_LEGAL
				   ? OID_SEM_LEGAL
				   : OID_SEM_NATURAL)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if ((info = pack(ASN1_ITEM_rptr(QC_SEMANTICS), si, err)) == NULL)
		goto out;
	rc = push(sts, OID_QC_SYNTAX2, info, err);
out:
	QC_SEMANTICS_free(si);
	return rc;
}

static int
add_retention(QC_STATEMENTS *sts, int years, struct sc_err *err)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	ASN1_TYPE *info = ASN1_TYPE_new();

	if (i == NULL || info == NULL || ASN1_INTEGER_set(i, years) != 1) {
		ASN1_INTEGER_free(i);
		ASN1_TYPE_free(info);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	ASN1_TYPE_set(info, V_ASN1_INTEGER, i); /* info owns i */
	return push(sts, OID_QC_RETENTION, info, err);
}

int
ca_qc_encode(const struct ca_qc *qc, uint8_t **der, size_t *len,
    struct sc_err *err)
{
	QC_STATEMENTS *sts = sk_QC_STATEMENT_new_null();
	unsigned char *out = NULL;
	int n, rc = -1;

	*der = NULL;
	if (sts == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (qc->compliance && push(sts, OID_QC_COMPLIANCE, NULL, err) != 0)
		goto out;
	if (qc->legislation[0] != '\0' &&
	    add_ccleg(sts, qc->legislation, err) != 0)
		goto out;
	if (qc->type >= 0 && add_type(sts, qc->type, err) != 0)
		goto out;
	if (qc->sscd && push(sts, OID_QC_SSCD, NULL, err) != 0)
		goto out;
	if (qc->npds > 0 && add_pds(sts, qc, err) != 0)
		goto out;
	if (qc->retention >= 0 && add_retention(sts, qc->retention, err) != 0)
		goto out;
	if (qc->has_limit && add_limit(sts, qc, err) != 0)
		goto out;
	if (qc->semantics >= 0 && add_semantics(sts, qc->semantics, err) != 0)
		goto out;
	n = i2d_QC_STATEMENTS(sts, &out);
	if (n <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode QCStatements");
		goto out;
	}
	if ((*der = malloc((size_t)n)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*der, out, (size_t)n); /* the caller free()s it */
	*len = (size_t)n;
	rc = 0;
out:
	OPENSSL_free(out);
	sk_QC_STATEMENT_pop_free(sts, QC_STATEMENT_free);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */

static int
bad(struct sc_err *err, const char *what)
{
	return sc_err_set(err, SC_E_INVALID_INPUT,
	    "QCStatements: %s (ETSI EN 319 412-5 §4)", what);
}

/*
 * Unpacks a SEQUENCE info. ASN1_TYPE_unpack_sequence() ignores bytes
 * after the value; re-encoding to the same length refuses them.
 */
static void *
unpack(const ASN1_ITEM *it, const ASN1_TYPE *info)
{
	unsigned char *re = NULL;
	void *v;
	int n;

	if (info == NULL || info->type != V_ASN1_SEQUENCE)
		return NULL;
	if ((v = ASN1_TYPE_unpack_sequence(it, info)) == NULL)
		return NULL;
	n = ASN1_item_i2d(v, &re, it);
	OPENSSL_free(re);
	if (n != ASN1_STRING_length(info->value.sequence)) {
		ASN1_item_free(v, it);
		return NULL;
	}
	return v;
}

static int
dec_limit(const ASN1_TYPE *info, struct ca_qc *qc, struct sc_err *err)
{
	QC_MONETARY *m = unpack(ASN1_ITEM_rptr(QC_MONETARY), info);
	int64_t amount, exp;
	int rc = -1;

	if (m == NULL) {
		bad(err, "QcLimitValue is not a MonetaryValue");
		goto out;
	}
	if (m->currency->type == V_ASN1_PRINTABLESTRING &&
	    ASN1_STRING_length(m->currency->value.printablestring) == 3) {
		memcpy(qc->limit_currency,
		    ASN1_STRING_get0_data(m->currency->value.printablestring),
		    3);
		qc->limit_currency[3] = '\0';
	} else if (m->currency->type == V_ASN1_INTEGER) {
		snprintf(qc->limit_currency, sizeof(qc->limit_currency),
		    "###");
	} else {
		bad(err, "QcLimitValue currency is not ISO 4217");
		goto out;
	}
	if (ASN1_INTEGER_get_int64(&amount, m->amount) != 1 || amount < 0 ||
	    ASN1_INTEGER_get_int64(&exp, m->exponent) != 1 || exp < 0 ||
	    exp > 18) {
		bad(err, "QcLimitValue amount or exponent out of range");
		goto out;
	}
	qc->has_limit = 1;
	qc->limit_amount = (uint64_t)amount;
	qc->limit_exponent = (unsigned)exp;
	rc = 0;
out:
	QC_MONETARY_free(m);
	return rc;
}

static int
dec_pds(const ASN1_TYPE *info, struct ca_qc *qc, struct sc_err *err)
{
	QC_PDS_LOCATIONS *l = unpack(ASN1_ITEM_rptr(QC_PDS_LOCATIONS), info);
	int n, rc = -1;

	if (l == NULL || (n = sk_QC_PDS_LOCATION_num(l)) < 1 ||
	    n > QC_MAX_ITEMS) {
		bad(err, "QcPDS is not 1..8 PdsLocations");
		goto out;
	}
	qc->npds = 0;
	for (int i = 0; i < n; i++) {
		const QC_PDS_LOCATION *p = sk_QC_PDS_LOCATION_value(l, i);
		int ul = ASN1_STRING_length(p->url);

		if (ASN1_STRING_length(p->language) != 2 || ul < 1 ||
		    ul >= (int)sizeof(qc->pds_url[0])) {
			bad(err, "QcPDS location malformed");
			goto out;
		}
		if (qc->npds < 2) {
			memcpy(qc->pds_url[qc->npds],
			    ASN1_STRING_get0_data(p->url), (size_t)ul);
			qc->pds_url[qc->npds][ul] = '\0';
			memcpy(qc->pds_lang[qc->npds],
			    ASN1_STRING_get0_data(p->language), 2);
			qc->pds_lang[qc->npds][2] = '\0';
			qc->npds++;
		}
	}
	rc = 0;
out:
	sk_QC_PDS_LOCATION_pop_free(l, QC_PDS_LOCATION_free);
	return rc;
}

static int
dec_type(const ASN1_TYPE *info, struct ca_qc *qc, struct sc_err *err)
{
	QC_TYPES *t = unpack(ASN1_ITEM_rptr(QC_TYPES), info);
	int rc = -1;

	if (t == NULL || sk_ASN1_OBJECT_num(t) != 1) {
		bad(err, "QcType is not exactly one type");
		goto out;
	}
	if (oid_is(sk_ASN1_OBJECT_value(t, 0), OID_QC_TYPE_ESIGN))
		qc->type = CA_QC_ESIGN;
	else if (oid_is(sk_ASN1_OBJECT_value(t, 0), OID_QC_TYPE_ESEAL))
		qc->type = CA_QC_ESEAL;
	else
		qc->type = 99;
	rc = 0;
out:
	sk_ASN1_OBJECT_pop_free(t, ASN1_OBJECT_free);
	return rc;
}

static int
dec_ccleg(const ASN1_TYPE *info, struct ca_qc *qc, struct sc_err *err)
{
	QC_CCLEG *l = unpack(ASN1_ITEM_rptr(QC_CCLEG), info);
	const ASN1_PRINTABLESTRING *s;
	int rc = -1;

	if (l == NULL || sk_ASN1_PRINTABLESTRING_num(l) < 1 ||
	    sk_ASN1_PRINTABLESTRING_num(l) > QC_MAX_ITEMS) {
		bad(err, "QcCClegislation is not 1..8 country codes");
		goto out;
	}
	s = sk_ASN1_PRINTABLESTRING_value(l, 0);
	if (ASN1_STRING_length(s) != 2) {
		bad(err, "QcCClegislation country code is not 2 letters");
		goto out;
	}
	memcpy(qc->legislation, ASN1_STRING_get0_data(s), 2);
	qc->legislation[2] = '\0';
	rc = 0;
out:
	sk_ASN1_PRINTABLESTRING_pop_free(l, ASN1_PRINTABLESTRING_free);
	return rc;
}

static int
dec_semantics(const ASN1_TYPE *info, struct ca_qc *qc, struct sc_err *err)
{
	QC_SEMANTICS *si = unpack(ASN1_ITEM_rptr(QC_SEMANTICS), info);
	int rc = -1;

	if (si == NULL || si->id == NULL) {
		bad(err, "SemanticsInformation without semanticsIdentifier");
		goto out;
	}
	if (oid_is(si->id, OID_SEM_NATURAL))
		qc->semantics = CA_SEM_NATURAL;
	else if (oid_is(si->id, OID_SEM_LEGAL))
		qc->semantics = CA_SEM_LEGAL;
	else
		qc->semantics = 99;
	rc = 0;
out:
	QC_SEMANTICS_free(si);
	return rc;
}

int
ca_qc_decode(const uint8_t *der, size_t len, struct ca_qc *qc,
    struct sc_err *err)
{
	const unsigned char *p = der;
	QC_STATEMENTS *sts = NULL;
	int n, rc = -1;

	memset(qc, 0, sizeof(*qc));
	qc->type = -1;
	qc->retention = -1;
	qc->semantics = -1;
	if (len > 65536)
		return bad(err, "extension too large");
	sts = d2i_QC_STATEMENTS(NULL, &p, (long)len);
	if (sts == NULL) {
		sc_err_crypto(err, SC_E_INVALID_INPUT,
		    "QCStatements: not a SEQUENCE OF QCStatement (RFC 3739 "
		    "§3.2.6)");
		goto out;
	}
	if (p != der + len) {
		bad(err, "trailing bytes after the SEQUENCE");
		goto out;
	}
	n = sk_QC_STATEMENT_num(sts);
	if (n < 1 || n > QC_MAX_STATEMENTS) {
		bad(err, "1..32 statements expected");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const QC_STATEMENT *st = sk_QC_STATEMENT_value(sts, i);
		const ASN1_TYPE *info = st->info;
		int r = 0;

		if (oid_is(st->id, OID_QC_COMPLIANCE)) {
			if (info != NULL)
				r = bad(err, "QcCompliance carries info");
			qc->compliance = 1;
		} else if (oid_is(st->id, OID_QC_SSCD)) {
			if (info != NULL)
				r = bad(err, "QcSSCD carries info");
			qc->sscd = 1;
		} else if (oid_is(st->id, OID_QC_RETENTION)) {
			int64_t y;

			if (info == NULL || info->type != V_ASN1_INTEGER ||
			    ASN1_INTEGER_get_int64(&y, info->value.integer) !=
				1 ||
			    y < 0 || y > 1000)
				r = bad(err, "QcRetentionPeriod not an INTEGER");
			else
				qc->retention = (int)y;
		} else if (oid_is(st->id, OID_QC_LIMIT)) {
			r = dec_limit(info, qc, err);
		} else if (oid_is(st->id, OID_QC_PDS)) {
			r = dec_pds(info, qc, err);
		} else if (oid_is(st->id, OID_QC_TYPE)) {
			r = dec_type(info, qc, err);
		} else if (oid_is(st->id, OID_QC_CCLEG)) {
			r = dec_ccleg(info, qc, err);
		} else if (oid_is(st->id, OID_QC_SYNTAX2)) {
			r = dec_semantics(info, qc, err);
		} else {
			qc->unknown++;
		}
		if (r != 0)
			goto out;
	}
	rc = 0;
out:
	sk_QC_STATEMENT_pop_free(sts, QC_STATEMENT_free);
	return rc;
}
