/*
 * ca_cert.c: building a certificate from a profile (RFC 5280 §4.1,
 * ETSI EN 319 412-2/-3/-5, Law 2016-012 Art. 115), serials, times and
 * the small helpers the issuance cycle needs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

/* The CPS and PDS locations under the public URL. */
#define CPS_PATH "/pki/cps"
#define PDS_PATH_FR "/pki/pds/fr"
#define PDS_PATH_EN "/pki/pds/en"

int
ca_serial_new(uint8_t serial[20], size_t *len, char hex[41],
    struct sc_err *err)
{
	/*
	 * RFC 5280 §4.1.2.2: positive, at most 20 octets. CA/B BR 7.1: at
	 * least 64 bits from a CSPRNG. 159 random bits with the top bit
	 * clear, so the INTEGER needs no sign octet; a draw whose first
	 * octet is zero is redrawn (1 in 128), so every serial is exactly
	 * 20 octets and its hex 40 digits.
	 */
	do {
		if (sc_rand_bytes(serial, 20, err) != 0)
			return -1;
		serial[0] &= 0x7f;
	} while (serial[0] == 0);
	*len = 20;
	sc_hex_encode(serial, 20, hex);
	return 0;
}

int
sc_ca_serial_hex(const ASN1_INTEGER *serial, char out[SC_CA_SERIAL_HEX_MAX])
{
	BIGNUM *bn = NULL;
	uint8_t b[21];
	int n, rc = -1;

	out[0] = '\0';
	if (serial == NULL || (bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
		goto out;
	if (BN_is_negative(bn) || BN_is_zero(bn) || BN_num_bytes(bn) > 20)
		goto out;
	n = BN_bn2bin(bn, b + 1);
	if (n <= 0)
		goto out;
	if (b[1] & 0x80) { /* DER content octets carry a sign octet */
		b[0] = 0;
		if (n + 1 > 20)
			goto out;
		sc_hex_encode(b, (size_t)n + 1, out);
	} else {
		sc_hex_encode(b + 1, (size_t)n, out);
	}
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

const EVP_MD *
ca_sign_md(EVP_PKEY *pk)
{
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(pk) >= 384)
		return EVP_sha384();
	return EVP_sha256();
}

/*
 * The throw-away linting keys: one per (algorithm, curve or size) per
 * process, made on first use and kept in memory only (never written to a
 * file, never exported). They sign nothing but the copy that ca_lint()
 * reads; ca_issue() re-signs that copy in the HSM and checks the result
 * with the CA's public key, so nothing these keys sign is ever trusted,
 * and reusing them across issuances gives nothing away (the lint copy is
 * discarded). A key that failed to be made is tried again on the next
 * call. The mutex is held only to read a slot (and, once per slot, for
 * the key generation); the keys are only read afterwards, which OpenSSL
 * 3 allows from several threads at once. They are not freed: they live
 * as long as the process (global state by design, see docs/ca.md).
 */
enum { TK_EC_P256, TK_EC_P384, TK_RSA_2048, TK__COUNT };

static pthread_mutex_t tk_mu = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *tk_keys[TK__COUNT];

EVP_PKEY *
ca_throwaway_key(EVP_PKEY *pk, struct sc_err *err)
{
	EVP_PKEY *k = NULL;
	int slot;

	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
		slot = EVP_PKEY_get_bits(pk) >= 384 ? TK_EC_P384 : TK_EC_P256;
	else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
		slot = TK_RSA_2048;
	else {
		sc_err_set(err, SC_E_CRYPTO, "unsupported issuer key type");
		return NULL;
	}
	if (pthread_mutex_lock(&tk_mu) != 0) {
		sc_err_set(err, SC_E_INTERNAL, "throw-away key lock");
		return NULL;
	}
	if (tk_keys[slot] == NULL) {
		if (slot == TK_RSA_2048)
			tk_keys[slot] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
			    (size_t)2048);
		else
			tk_keys[slot] = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
			    slot == TK_EC_P384 ? "P-384" : "P-256");
	}
	if (tk_keys[slot] != NULL && EVP_PKEY_up_ref(tk_keys[slot]) == 1)
		k = tk_keys[slot]; /* a reference: the caller EVP_PKEY_free()s */
	(void)pthread_mutex_unlock(&tk_mu);
	if (k == NULL)
		sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot make the throw-away linting key");
	return k;
}

int
ca_tbs_der(X509 *x, uint8_t **der, size_t *len, struct sc_err *err)
{
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	n = i2d_re_X509_tbs(x, &p);
	if (n <= 0)
		return sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot encode the TBSCertificate");
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(p);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	memcpy(*der, p, (size_t)n); /* the caller free()s it */
	*len = (size_t)n;
	OPENSSL_free(p);
	return 0;
}

int
ca_time_str(const ASN1_TIME *t, char out[32])
{
	struct tm tm;

	out[0] = '\0';
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	if (strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

char *
ca_name_str(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *p;
	long len;

	if (b == NULL)
		return NULL;
	/* RFC 2253 escaping, but UTF-8 kept as is (no \XX for accents). */
	if (X509_NAME_print_ex(b, n, 0,
		XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	len = BIO_get_mem_data(b, &p);
	if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
		goto out;
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
out:
	BIO_free(b);
	return out;
}

/* Adds an extension from OpenSSL's v3 configuration syntax. */
static int
add_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
    struct sc_err *err)
{
	X509_EXTENSION *e;
	int rc = 0;

	e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (e == NULL || X509_add_ext(x, e, -1) != 1)
		rc = sc_err_crypto(err, SC_E_CRYPTO, "cannot add %s",
		    OBJ_nid2sn(nid));
	X509_EXTENSION_free(e);
	return rc;
}

static int
add_key_usage(X509 *x, X509V3_CTX *ctx, unsigned ku, struct sc_err *err)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{CA_KU_DIGSIG, "digitalSignature"},
		{CA_KU_NONREP, "nonRepudiation"},
		{CA_KU_KEYENC, "keyEncipherment"},
		{CA_KU_KEYAGREE, "keyAgreement"},
		{CA_KU_CERTSIGN, "keyCertSign"},
		{CA_KU_CRLSIGN, "cRLSign"},
	};
	char v[160] = "critical";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ku & names[i].bit) {
			strncat(v, ",", sizeof(v) - strlen(v) - 1);
			strncat(v, names[i].name, sizeof(v) - strlen(v) - 1);
		}
	/* RFC 5280 §4.2.1.3: SHOULD be critical; ETSI EN 319 412-2 §4.3.2 */
	return add_conf(x, ctx, NID_key_usage, v, err);
}

static int
add_eku(X509 *x, X509V3_CTX *ctx, unsigned eku, int critical,
    struct sc_err *err)
{
	char v[160] = "";

	if (critical)
		strncat(v, "critical", sizeof(v) - 1);
	if (eku & CA_EKU_TSA)
		strncat(v, v[0] ? ",timeStamping" : "timeStamping",
		    sizeof(v) - strlen(v) - 1);
	if (eku & CA_EKU_OCSP)
		strncat(v, v[0] ? ",OCSPSigning" : "OCSPSigning",
		    sizeof(v) - strlen(v) - 1);
	if (eku & CA_EKU_EMAIL)
		strncat(v, v[0] ? ",emailProtection" : "emailProtection",
		    sizeof(v) - strlen(v) - 1);
	if (eku & CA_EKU_CLIENT)
		strncat(v, v[0] ? ",clientAuth" : "clientAuth",
		    sizeof(v) - strlen(v) - 1);
	return add_conf(x, ctx, NID_ext_key_usage, v, err);
}

/* certificatePolicies (RFC 5280 §4.2.1.4) with a CPS pointer and a
 * French user notice (Law 2016-012 Art. 115 (7)). */
static int
add_policies(X509 *x, const struct ca_tbs_in *in, struct sc_err *err)
{
	const struct ca_profile *prof = in->prof;
	CERTIFICATEPOLICIES *pols = CERTIFICATEPOLICIES_new();
	POLICYINFO *pi = POLICYINFO_new();
	POLICYQUALINFO *q = NULL;
	char oidtxt[128], url[512];
	int rc = -1;

	if (pols == NULL || pi == NULL)
		goto nomem;
	if (strcmp(prof->policy, "any") == 0) {
		pi->policyid = OBJ_nid2obj(NID_any_policy);
	} else {
		snprintf(oidtxt, sizeof(oidtxt), "%s.%s", in->oid_arc,
		    prof->policy);
		pi->policyid = OBJ_txt2obj(oidtxt, 1);
	}
	if (pi->policyid == NULL) {
		sc_err_crypto(err, SC_E_CONFIG, "bad policy OID %s.%s",
		    in->oid_arc, prof->policy);
		goto out;
	}
	if (strcmp(prof->policy, "any") != 0) {
		if ((pi->qualifiers = sk_POLICYQUALINFO_new_null()) == NULL)
			goto nomem;
		/* CPS pointer */
		snprintf(url, sizeof(url), "%s%s", in->public_url, CPS_PATH);
		if ((q = POLICYQUALINFO_new()) == NULL ||
		    (q->pqualid = OBJ_nid2obj(NID_id_qt_cps)) == NULL ||
		    (q->d.cpsuri = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(q->d.cpsuri, url, -1) != 1 ||
		    sk_POLICYQUALINFO_push(pi->qualifiers, q) <= 0)
			goto nomem;
		q = NULL; /* owned by pi */
		if (prof->user_notice[0] != '\0') {
			/* RFC 5280 §4.2.1.4: explicitText as UTF8String */
			if ((q = POLICYQUALINFO_new()) == NULL ||
			    (q->pqualid = OBJ_nid2obj(NID_id_qt_unotice)) ==
				NULL ||
			    (q->d.usernotice = USERNOTICE_new()) == NULL ||
			    (q->d.usernotice->exptext = ASN1_UTF8STRING_new()) ==
				NULL ||
			    ASN1_STRING_set(q->d.usernotice->exptext,
				prof->user_notice, -1) != 1 ||
			    sk_POLICYQUALINFO_push(pi->qualifiers, q) <= 0)
				goto nomem;
			q = NULL;
		}
	}
	if (sk_POLICYINFO_push(pols, pi) <= 0)
		goto nomem;
	pi = NULL; /* owned by pols */
	if (X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0,
		X509V3_ADD_DEFAULT) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot add certificatePolicies");
		goto out;
	}
	rc = 0;
	goto out;
nomem:
	sc_err_crypto(err, SC_E_NOMEM, "out of memory");
out:
	POLICYQUALINFO_free(q);
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return rc;
}

static int
add_qc(X509 *x, const struct ca_tbs_in *in, struct sc_err *err)
{
	const struct ca_profile *prof = in->prof;
	struct ca_qc qc;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *obj = NULL;
	X509_EXTENSION *e = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = -1;

	memset(&qc, 0, sizeof(qc));
	qc.compliance = 1;
	snprintf(qc.legislation, sizeof(qc.legislation), "ML");
	qc.type = (int)prof->qc_type;
	qc.sscd = prof->sscd == CA_SSCD_YES ||
	    (prof->sscd == CA_SSCD_BY_KEY && in->key_in_hsm);
	snprintf(qc.pds_url[0], sizeof(qc.pds_url[0]), "%s%s",
	    in->public_url, PDS_PATH_FR);
	snprintf(qc.pds_lang[0], sizeof(qc.pds_lang[0]), "fr");
	snprintf(qc.pds_url[1], sizeof(qc.pds_url[1]), "%s%s",
	    in->public_url, PDS_PATH_EN);
	snprintf(qc.pds_lang[1], sizeof(qc.pds_lang[1]), "en");
	qc.npds = 2;
	qc.retention = (int)prof->retention_years;
	if (prof->limit_amount > 0) {
		qc.has_limit = 1;
		/* ISO 4217 alphabetic code of the CFA franc (BCEAO). */
		snprintf(qc.limit_currency, sizeof(qc.limit_currency), "XOF");
		qc.limit_amount = prof->limit_amount;
		qc.limit_exponent = prof->limit_exponent;
	}
	qc.semantics = (int)prof->semantics;
	if (ca_qc_encode(&qc, &der, &len, err) != 0)
		goto out;
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, der, (int)len) != 1 ||
	    (obj = OBJ_nid2obj(NID_qcStatements)) == NULL ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    X509_add_ext(x, e, -1) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot add qcStatements");
		goto out;
	}
	rc = 0;
out:
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	free(der);
	return rc;
}

X509 *
ca_cert_build(const struct ca_tbs_in *in, struct sc_err *err)
{
	const struct ca_profile *prof = in->prof;
	X509 *x = NULL, *ret = NULL;
	X509_NAME *subj = NULL;
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn = NULL;
	X509V3_CTX ctx;
	char v[1200];
	time_t nb, na;

	if ((x = X509_new()) == NULL || X509_set_version(x, X509_VERSION_3) !=
	    1) {
		sc_err_crypto(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if ((bn = BN_bin2bn(in->serial, (int)in->serial_len, NULL)) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_serialNumber(x, serial) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot set the serial");
		goto out;
	}
	if ((subj = ca_subject_name(in->subj, err)) == NULL)
		goto out;
	if (X509_set_subject_name(x, subj) != 1 ||
	    X509_set_issuer_name(x,
		in->issuer != NULL ? X509_get_subject_name(in->issuer)
				   : subj) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot set the names");
		goto out;
	}
	/*
	 * Validity (RFC 5280 §4.1.2.5): UTCTime through 2049, then
	 * GeneralizedTime, as ASN1_TIME_set() chooses. Never past the
	 * issuer's notAfter.
	 */
	nb = (time_t)in->not_before;
	na = nb + (time_t)prof->validity_days * 86400 - 1;
	if (in->issuer != NULL) {
		const ASN1_TIME *ina = X509_get0_notAfter(in->issuer);
		int day, sec;
		ASN1_TIME *t = ASN1_TIME_set(NULL, na);

		if (t == NULL || ASN1_TIME_diff(&day, &sec, ina, t) != 1) {
			ASN1_TIME_free(t);
			sc_err_crypto(err, SC_E_CRYPTO, "bad issuer validity");
			goto out;
		}
		ASN1_TIME_free(t);
		if (day > 0 || sec > 0)
			na -= (time_t)day * 86400 + sec;
	}
	if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot set the validity");
		goto out;
	}
	if (X509_set_pubkey(x, in->pub) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot set the public key");
		goto out;
	}

	X509V3_set_ctx(&ctx, in->issuer != NULL ? in->issuer : x, x, NULL,
	    NULL, 0);
	if (prof->bc != CA_BC_LEAF &&
	    add_conf(x, &ctx, NID_basic_constraints,
		prof->bc == CA_BC_CA0 ? "critical,CA:TRUE,pathlen:0"
				      : "critical,CA:TRUE",
		err) != 0)
		goto out;
	if (add_key_usage(x, &ctx, prof->key_usage, err) != 0)
		goto out;
	if (prof->eku != 0 &&
	    add_eku(x, &ctx, prof->eku, prof->eku_critical, err) != 0)
		goto out;
	/* RFC 5280 §4.2.1.2 (SKI) and §4.2.1.1 (AKI, not on the root) */
	if (add_conf(x, &ctx, NID_subject_key_identifier, "hash", err) != 0)
		goto out;
	if (in->issuer != NULL &&
	    add_conf(x, &ctx, NID_authority_key_identifier, "keyid:always",
		err) != 0)
		goto out;
	if (in->subj->present & CA_F_EMAIL) {
		/* RFC 5280 §4.1.2.6: e-mail in subjectAltName, not the DN */
		snprintf(v, sizeof(v), "email:%s", in->subj->email);
		if (add_conf(x, &ctx, NID_subject_alt_name, v, err) != 0)
			goto out;
	}
	if (prof->policy[0] != '\0' && add_policies(x, in, err) != 0)
		goto out;
	if (prof->crldp) {
		snprintf(v, sizeof(v), "URI:%s/pki/crl/%s.crl", in->public_url,
		    in->issuer_name);
		if (add_conf(x, &ctx, NID_crl_distribution_points, v, err) !=
		    0)
			goto out;
	}
	if (prof->aia) {
		/* OCSP only where an issuing CA's responder answers. */
		if (prof->kind == CA_KIND_EE)
			snprintf(v, sizeof(v),
			    "OCSP;URI:%s/ocsp,caIssuers;URI:%s/pki/ca/%s.crt",
			    in->public_url, in->public_url, in->issuer_name);
		else
			snprintf(v, sizeof(v), "caIssuers;URI:%s/pki/ca/%s.crt",
			    in->public_url, in->issuer_name);
		if (add_conf(x, &ctx, NID_info_access, v, err) != 0)
			goto out;
	}
	if (prof->ocsp_nocheck &&
	    add_conf(x, &ctx, NID_id_pkix_OCSP_noCheck, "ignored", err) != 0)
		goto out;
	if (prof->qc && add_qc(x, in, err) != 0)
		goto out;
	ret = x; /* the caller X509_free()s it */
	x = NULL;
out:
	X509_free(x);
	X509_NAME_free(subj);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ret;
}
