/*
 * ca_lint.c: sceau's own pre-issuance lint table (CA/B S/MIME BR
 * 4.3.1.2; Boulder's linter/). Each lint reads the throw-away-signed
 * certificate as a relying party would, through OpenSSL's decoders, and
 * reports the first finding with the clause it enforces. A finding
 * aborts the issuance: it is a near miss to fix upstream, not a
 * condition to work around.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/hsm.h"

#include "ca_int.h"

/* What one lint sees. */
struct lint {
	X509 *x;
	X509 *issuer; /* NULL: self-signed */
	const struct ca_profile *prof;
	int key_in_hsm;
	const char *oid_arc;
	char *finding;
	size_t flen;
};

static int finding(struct lint *l, const char *fmt, ...) SC_ATTR_PRINTF(2, 3);

/* Records the finding. @return 1 (a finding) */
static int
finding(struct lint *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->finding, l->flen, fmt, ap);
	va_end(ap);
	return 1;
}

static int
lint_version_serial(struct lint *l)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(l->x);
	char hex[SC_CA_SERIAL_HEX_MAX];
	BIGNUM *bn;
	int bits;

	if (X509_get_version(l->x) != X509_VERSION_3)
		return finding(l, "RFC 5280 §4.1.2.1: version must be v3");
	if (sc_ca_serial_hex(s, hex) != 0)
		return finding(l, "RFC 5280 §4.1.2.2: serial must be positive "
				  "and at most 20 octets");
	if ((bn = ASN1_INTEGER_to_BN(s, NULL)) == NULL)
		return finding(l, "RFC 5280 §4.1.2.2: serial undecodable");
	bits = BN_num_bits(bn);
	BN_free(bn);
	if (bits < 64)
		return finding(l, "CA/B BR 7.1: serial has %d bits, fewer "
				  "than 64",
		    bits);
	return 0;
}

static int
lint_sigalg(struct lint *l)
{
	const X509_ALGOR *outer = NULL;
	const ASN1_BIT_STRING *sig = NULL;

	X509_get0_signature(&sig, &outer, l->x);
	if (outer == NULL ||
	    X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(l->x)) != 0)
		return finding(l, "RFC 5280 §4.1.1.2: signatureAlgorithm "
				  "differs from the TBS signature field");
	switch (X509_get_signature_nid(l->x)) {
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_sha256WithRSAEncryption:
		return 0;
	default:
		return finding(l, "RFC 5280 §4.1.1.2: signature algorithm %s "
				  "not allowed",
		    OBJ_nid2sn(X509_get_signature_nid(l->x)));
	}
}

/* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
static int
time_ok(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	if (tm.tm_year + 1900 < 2050)
		return ASN1_STRING_type(t) == V_ASN1_UTCTIME;
	return ASN1_STRING_type(t) == V_ASN1_GENERALIZEDTIME;
}

static int
lint_validity(struct lint *l)
{
	const ASN1_TIME *nb = X509_get0_notBefore(l->x);
	const ASN1_TIME *na = X509_get0_notAfter(l->x);
	int day, sec;

	if (!time_ok(nb) || !time_ok(na))
		return finding(l, "RFC 5280 §4.1.2.5: UTCTime through 2049 "
				  "and GeneralizedTime from 2050");
	if (ASN1_TIME_diff(&day, &sec, nb, na) != 1 || day < 0 ||
	    (day == 0 && sec <= 0))
		return finding(l, "RFC 5280 §4.1.2.5: notAfter is not after "
				  "notBefore");
	if (day > (int)l->prof->validity_days ||
	    (day == (int)l->prof->validity_days && sec > 0))
		return finding(l, "profile %s: validity over %u days",
		    l->prof->name, l->prof->validity_days);
	if (l->issuer != NULL) {
		if (ASN1_TIME_compare(nb, X509_get0_notBefore(l->issuer)) < 0 ||
		    ASN1_TIME_compare(na, X509_get0_notAfter(l->issuer)) > 0)
			return finding(l, "RFC 5280 §6.1.3: validity outside "
					  "the issuer's");
	}
	return 0;
}

/* An attribute's string type and length bound. */
static int
check_entry(struct lint *l, const X509_NAME_ENTRY *e, const char *which)
{
	const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
	int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
	int type = ASN1_STRING_type(v), want, max;
	unsigned char *u = NULL;
	int n;

	switch (nid) {
	case NID_countryName:
		want = V_ASN1_PRINTABLESTRING;
		max = 2;
		break;
	case NID_serialNumber:
		want = V_ASN1_PRINTABLESTRING;
		max = 64;
		break;
	case NID_commonName:
	case NID_organizationName:
	case NID_title:
	case NID_givenName:
	case NID_surname:
	case NID_organizationIdentifier:
		want = V_ASN1_UTF8STRING;
		max = 64;
		break;
	case NID_localityName:
		want = V_ASN1_UTF8STRING;
		max = 128;
		break;
	default:
		return finding(l, "%s: attribute %s not in sceau's profiles",
		    which, OBJ_nid2sn(nid));
	}
	if (type != want)
		return finding(l, "RFC 5280 §4.1.2.4: %s %s must be %s",
		    which, OBJ_nid2sn(nid),
		    want == V_ASN1_UTF8STRING ? "UTF8String"
					      : "PrintableString");
	n = ASN1_STRING_to_UTF8(&u, v);
	OPENSSL_free(u);
	if (n < 1)
		return finding(l, "%s %s: empty or undecodable", which,
		    OBJ_nid2sn(nid));
	/* bytes bound the characters from above: count characters */
	{
		const unsigned char *p = ASN1_STRING_get0_data(v);
		int chars = 0;

		for (int i = 0; i < ASN1_STRING_length(v); i++)
			if ((p[i] & 0xc0) != 0x80)
				chars++;
		if (chars > max)
			return finding(l, "RFC 5280 Appendix A: %s %s longer "
					  "than %d characters",
			    which, OBJ_nid2sn(nid), max);
	}
	return 0;
}

/* The text of the first @nid entry of @n, or "" (bounded). */
static void
entry_text(const X509_NAME *n, int nid, char *out, size_t outlen)
{
	int i = X509_NAME_get_index_by_NID(n, nid, -1);
	const ASN1_STRING *v;
	size_t len;

	out[0] = '\0';
	if (i < 0)
		return;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	len = (size_t)ASN1_STRING_length(v);
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, ASN1_STRING_get0_data(v), len);
	out[len] = '\0';
}

static int
lint_names(struct lint *l)
{
	const X509_NAME *s = X509_get_subject_name(l->x);
	const X509_NAME *is = X509_get_issuer_name(l->x);
	char buf[80];

	if (X509_NAME_entry_count(s) < 1)
		return finding(l, "RFC 5280 §4.1.2.6: empty subject");
	for (int i = 0; i < X509_NAME_entry_count(s); i++)
		if (check_entry(l, X509_NAME_get_entry(s, i), "subject"))
			return 1;
	if (X509_NAME_get_index_by_NID(s, NID_commonName, -1) < 0)
		return finding(l, "Law 2016-012 Art. 115 (3): subject has no "
				  "commonName");
	entry_text(s, NID_countryName, buf, sizeof(buf));
	if (buf[0] == '\0')
		return finding(l, "ETSI EN 319 412-2 §4.2.4: subject has no "
				  "countryName");
	if (l->issuer != NULL &&
	    X509_NAME_cmp(is, X509_get_subject_name(l->issuer)) != 0)
		return finding(l, "RFC 5280 §4.1.2.4: issuer differs from the "
				  "issuer's subject");
	if (l->issuer == NULL && X509_NAME_cmp(is, s) != 0)
		return finding(l, "RFC 5280 §4.1.2.4: self-signed but issuer "
				  "differs from subject");
	/* Art. 115 (2): the provider's identity and country. */
	entry_text(is, NID_countryName, buf, sizeof(buf));
	if (strcmp(buf, "ML") != 0)
		return finding(l, "Law 2016-012 Art. 115 (2): issuer "
				  "countryName is not ML");
	if (X509_NAME_get_index_by_NID(is, NID_organizationName, -1) < 0 ||
	    X509_NAME_get_index_by_NID(is, NID_organizationIdentifier, -1) <
		0)
		return finding(l, "Law 2016-012 Art. 115 (2), ETSI EN 319 "
				  "412-3: issuer without organizationName and "
				  "organizationIdentifier");
	return 0;
}

static int
lint_key(struct lint *l)
{
	EVP_PKEY *pk = X509_get0_pubkey(l->x);
	char msg[256];
	struct sc_err e;

	if (pk == NULL)
		return finding(l, "Law 2016-012 Art. 115 (4): no usable "
				  "public key");
	sc_err_clear(&e);
	if (ca_key_check(pk, l->prof->key_types, SC_E_INVALID_INPUT, &e) !=
	    0) {
		snprintf(msg, sizeof(msg), "%s", e.msg);
		return finding(l, "profile %s: %s", l->prof->name, msg);
	}
	return 0;
}

/* No unknown critical extension, none twice (RFC 5280 §4.2). */
static int
lint_ext_set(struct lint *l)
{
	int n = X509_get_ext_count(l->x);

	for (int i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(l->x, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));

		if (X509_get_ext_by_OBJ(l->x, X509_EXTENSION_get_object(e),
			i) >= 0)
			return finding(l, "RFC 5280 §4.2: extension %s twice",
			    OBJ_nid2sn(nid));
		if (X509_EXTENSION_get_critical(e) &&
		    nid != NID_basic_constraints && nid != NID_key_usage &&
		    nid != NID_ext_key_usage)
			return finding(l, "RFC 5280 §4.2: unexpected critical "
					  "extension %s",
			    nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
		if (nid == NID_undef)
			return finding(l, "RFC 5280 §4.2: unknown extension");
	}
	return 0;
}

static int
lint_bc_ku(struct lint *l)
{
	const struct ca_profile *p = l->prof;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	int crit = 0, r = 0;
	unsigned got = 0;

	bc = X509_get_ext_d2i(l->x, NID_basic_constraints, &crit, NULL);
	if (p->bc == CA_BC_LEAF) {
		if (bc != NULL && bc->ca)
			r = finding(l, "RFC 5280 §4.2.1.9: end-entity "
				       "certificate with cA TRUE");
	} else if (bc == NULL || !crit || !bc->ca) {
		r = finding(l, "RFC 5280 §4.2.1.9: CA certificate without a "
			       "critical basicConstraints cA TRUE");
	} else if (p->bc == CA_BC_CA0 &&
	    (bc->pathlen == NULL || ASN1_INTEGER_get(bc->pathlen) != 0)) {
		r = finding(l, "profile %s: pathLenConstraint must be 0",
		    p->name);
	} else if (p->bc == CA_BC_CA && bc->pathlen != NULL) {
		r = finding(l, "profile %s: no pathLenConstraint expected",
		    p->name);
	}
	BASIC_CONSTRAINTS_free(bc);
	if (r)
		return r;
	ku = X509_get_ext_d2i(l->x, NID_key_usage, &crit, NULL);
	if (ku == NULL) {
		return finding(l, "RFC 5280 §4.2.1.3: keyUsage missing");
	}
	for (int b = 0; b < 9; b++)
		if (ASN1_BIT_STRING_get_bit(ku, b))
			got |= 1u << b;
	ASN1_BIT_STRING_free(ku);
	if (!crit)
		return finding(l, "RFC 5280 §4.2.1.3: keyUsage not critical");
	if (got != p->key_usage)
		return finding(l, "profile %s: keyUsage differs (ETSI EN 319 "
				  "412-2 §4.3.2)",
		    p->name);
	return 0;
}

static int
lint_eku(struct lint *l)
{
	EXTENDED_KEY_USAGE *eku;
	unsigned got = 0;
	int crit = 0, n, r = 0;

	eku = X509_get_ext_d2i(l->x, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL)
		return l->prof->eku == 0
		    ? 0
		    : finding(l, "profile %s: extendedKeyUsage missing",
			  l->prof->name);
	n = sk_ASN1_OBJECT_num(eku);
	for (int i = 0; i < n; i++) {
		switch (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))) {
		case NID_time_stamp:
			got |= CA_EKU_TSA;
			break;
		case NID_OCSP_sign:
			got |= CA_EKU_OCSP;
			break;
		case NID_email_protect:
			got |= CA_EKU_EMAIL;
			break;
		case NID_client_auth:
			got |= CA_EKU_CLIENT;
			break;
		default:
			r = finding(l, "profile %s: unexpected EKU",
			    l->prof->name);
		}
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	if (r)
		return r;
	if (got != l->prof->eku || crit != l->prof->eku_critical)
		return finding(l, "profile %s: extendedKeyUsage differs",
		    l->prof->name);
	/* RFC 3161 §2.3: timeStamping alone, critical. */
	if ((got & CA_EKU_TSA) && (got != CA_EKU_TSA || !crit))
		return finding(l, "RFC 3161 §2.3: the TSA EKU must be the only "
				  "one and critical");
	return 0;
}

static int
lint_key_ids(struct lint *l)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(l->x);
	const ASN1_OCTET_STRING *aki, *iski;

	if (ski == NULL)
		return finding(l, "RFC 5280 §4.2.1.2: subjectKeyIdentifier "
				  "missing");
	if (l->issuer == NULL)
		return 0;
	aki = X509_get0_authority_key_id(l->x);
	iski = X509_get0_subject_key_id(l->issuer);
	if (aki == NULL)
		return finding(l, "RFC 5280 §4.2.1.1: authorityKeyIdentifier "
				  "keyIdentifier missing");
	if (iski == NULL || ASN1_OCTET_STRING_cmp(aki, iski) != 0)
		return finding(l, "RFC 5280 §4.2.1.1: authorityKeyIdentifier "
				  "differs from the issuer's SKI");
	return 0;
}

static int
lint_policies(struct lint *l)
{
	CERTIFICATEPOLICIES *pols;
	const POLICYINFO *pi;
	char want[128], got[128];
	int has_cps = 0, has_notice = 0, r = 0;

	pols = X509_get_ext_d2i(l->x, NID_certificate_policies, NULL, NULL);
	if (l->prof->policy[0] == '\0') {
		if (pols != NULL)
			r = finding(l, "profile %s: no certificatePolicies "
				       "expected",
			    l->prof->name);
		CERTIFICATEPOLICIES_free(pols);
		return r;
	}
	if (pols == NULL || sk_POLICYINFO_num(pols) != 1) {
		CERTIFICATEPOLICIES_free(pols);
		return finding(l, "Law 2016-012 Art. 115 (7), ETSI EN 319 "
				  "412-2 §4.3.3: certificatePolicies missing");
	}
	pi = sk_POLICYINFO_value(pols, 0);
	if (strcmp(l->prof->policy, "any") == 0)
		snprintf(want, sizeof(want), "2.5.29.32.0");
	else
		snprintf(want, sizeof(want), "%s.%s", l->oid_arc,
		    l->prof->policy);
	OBJ_obj2txt(got, sizeof(got), pi->policyid, 1);
	if (strcmp(got, want) != 0)
		r = finding(l, "profile %s: policy %s, expected %s",
		    l->prof->name, got, want);
	for (int i = 0; !r && i < sk_POLICYQUALINFO_num(pi->qualifiers);
	     i++) {
		const POLICYQUALINFO *q =
		    sk_POLICYQUALINFO_value(pi->qualifiers, i);

		if (OBJ_obj2nid(q->pqualid) == NID_id_qt_cps)
			has_cps = 1;
		else if (OBJ_obj2nid(q->pqualid) == NID_id_qt_unotice &&
		    q->d.usernotice->exptext != NULL &&
		    ASN1_STRING_type(q->d.usernotice->exptext) ==
			V_ASN1_UTF8STRING)
			has_notice = 1;
	}
	CERTIFICATEPOLICIES_free(pols);
	if (r)
		return r;
	if (strcmp(l->prof->policy, "any") != 0 && !has_cps)
		return finding(l, "Law 2016-012 Art. 115 (7): no CPS URI");
	if (l->prof->user_notice[0] != '\0' && !has_notice)
		return finding(l, "Law 2016-012 Art. 115 (7), RFC 5280 "
				  "§4.2.1.4: no UTF8String user notice");
	return 0;
}

static int
lint_urls(struct lint *l)
{
	int crldp = X509_get_ext_by_NID(l->x, NID_crl_distribution_points,
			-1) >= 0;
	int aia = X509_get_ext_by_NID(l->x, NID_info_access, -1) >= 0;
	int nocheck = X509_get_ext_by_NID(l->x, NID_id_pkix_OCSP_noCheck,
			  -1) >= 0;

	if (crldp != l->prof->crldp)
		return finding(l, "profile %s: cRLDistributionPoints %s",
		    l->prof->name, crldp ? "unexpected" : "missing");
	if (aia != l->prof->aia)
		return finding(l, "profile %s: authorityInfoAccess %s",
		    l->prof->name, aia ? "unexpected" : "missing");
	if (nocheck != l->prof->ocsp_nocheck)
		return finding(l, "RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck "
				  "%s",
		    nocheck ? "unexpected" : "missing");
	return 0;
}

static int
lint_qc(struct lint *l)
{
	const struct ca_profile *p = l->prof;
	int i = X509_get_ext_by_NID(l->x, NID_qcStatements, -1);
	const ASN1_OCTET_STRING *os;
	X509_EXTENSION *e;
	struct ca_qc qc;
	struct sc_err qe;
	char sn[80];
	int want_sscd;

	if (!p->qc)
		return i < 0 ? 0
			     : finding(l, "profile %s: qcStatements in a "
					  "non-qualified certificate",
				   p->name);
	if (i < 0)
		return finding(l, "Law 2016-012 Art. 115 (1): qcStatements "
				  "missing");
	e = X509_get_ext(l->x, i);
	if (X509_EXTENSION_get_critical(e))
		return finding(l, "ETSI EN 319 412-5 §4: qcStatements must not "
				  "be critical");
	os = X509_EXTENSION_get_data(e);
	sc_err_clear(&qe);
	if (ca_qc_decode(ASN1_STRING_get0_data(os),
		(size_t)ASN1_STRING_length(os), &qc, &qe) != 0)
		return finding(l, "%s", qe.msg);
	if (!qc.compliance)
		return finding(l, "Law 2016-012 Art. 115 (1), ETSI EN 319 "
				  "412-5 §4.2.1: QcCompliance missing");
	if (strcmp(qc.legislation, "ML") != 0)
		return finding(l, "ETSI EN 319 412-5 §4.2.4: QcCClegislation "
				  "is not ML");
	if (qc.type != (int)p->qc_type)
		return finding(l, "ETSI EN 319 412-5 §4.2.3: QcType differs "
				  "from the profile");
	want_sscd = p->sscd == CA_SSCD_YES ||
	    (p->sscd == CA_SSCD_BY_KEY && l->key_in_hsm);
	if (qc.sscd != want_sscd)
		return finding(l, "ETSI EN 319 412-5 §4.2.2: QcSSCD %s",
		    qc.sscd ? "without a secure device" : "missing");
	if (qc.npds < 2 || strcmp(qc.pds_lang[0], "fr") != 0 ||
	    strcmp(qc.pds_lang[1], "en") != 0)
		return finding(l, "ETSI EN 319 412-5 §4.3.4: QcPDS needs fr "
				  "and en");
	if (qc.retention != (int)p->retention_years)
		return finding(l, "ETSI EN 319 412-5 §4.3.3: "
				  "QcRetentionPeriod differs");
	if ((p->limit_amount > 0) != qc.has_limit ||
	    (qc.has_limit &&
		(strcmp(qc.limit_currency, "XOF") != 0 ||
		    qc.limit_amount != p->limit_amount ||
		    qc.limit_exponent != p->limit_exponent)))
		return finding(l, "Law 2016-012 Art. 146, ETSI EN 319 412-5 "
				  "§4.3.2: QcLimitValue differs");
	if (qc.semantics != (int)p->semantics)
		return finding(l, "ETSI EN 319 412-1 §5.1: semantics "
				  "identifier differs");
	if (qc.unknown != 0)
		return finding(l, "profile %s: unknown QCStatement", p->name);
	if (p->semantics == CA_SEM_NATURAL) {
		entry_text(X509_get_subject_name(l->x), NID_serialNumber, sn,
		    sizeof(sn));
		if (strncmp(sn, "PNOML-", 6) != 0)
			return finding(l, "ETSI EN 319 412-1 §5.1.3: "
					  "serialNumber is not PNOML-...");
	} else {
		entry_text(X509_get_subject_name(l->x),
		    NID_organizationIdentifier, sn, sizeof(sn));
		if (strlen(sn) < 7 || sn[5] != '-')
			return finding(l, "ETSI EN 319 412-1 §5.1.4: "
					  "organizationIdentifier malformed");
	}
	return 0;
}

int
ca_lint(X509 *x, const struct ca_profile *prof, X509 *issuer, int key_in_hsm,
    const char *oid_arc, char *out, size_t flen, struct sc_err *err)
{
	static int (*const table[])(struct lint *) = {
		lint_version_serial,
		lint_sigalg,
		lint_validity,
		lint_names,
		lint_key,
		lint_ext_set,
		lint_bc_ku,
		lint_eku,
		lint_key_ids,
		lint_policies,
		lint_urls,
		lint_qc,
	};
	struct lint l = {x, issuer, prof, key_in_hsm, oid_arc, out, flen};

	(void)err;
	out[0] = '\0';
	/* Caches the decoded extensions; a malformed one fails here. */
	if (X509_check_purpose(x, -1, 0) != 1 ||
	    (X509_get_extension_flags(x) & EXFLAG_INVALID) != 0)
		return finding(&l, "RFC 5280 §4.2: an extension does not "
				   "decode");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i](&l) != 0)
			return 1;
	return 0;
}
