/*
 * testpki.c: see testpki.h. Uses OpenSSL's X509 API directly: tests may;
 * the product builds certificates in ca/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sceau/hsm.h"

#include "testpki.h"

static void
die(const char *what)
{
	fprintf(stderr, "testpki: %s\n", what);
	exit(1);
}

void
testpki_alias(const char *prefix, char out[80])
{
	unsigned char r[8];
	char hex[17];

	if (RAND_bytes(r, sizeof(r)) != 1)
		die("RAND_bytes");
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	snprintf(out, 80, "%.50s-%s", prefix, hex);
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL || X509_add_ext(x, e, -1) != 1)
		die("extension");
	X509_EXTENSION_free(e);
}

X509 *
testpki_issue(struct sc_hsm *hsm, const char *alias,
    const struct testpki_spec *spec, X509 *issuer, const char *issuer_alias)
{
	enum sc_hsm_keytype kt = SC_HSM_EC_P256;
	EVP_PKEY *pub = NULL, *signer = NULL;
	ASN1_INTEGER *serial = NULL;
	unsigned char sb[16];
	struct sc_err err;
	X509_NAME *name;
	BIGNUM *bn;
	X509 *x;

	sc_err_clear(&err);
	if (spec->key_type != NULL &&
	    sc_hsm_keytype_parse(spec->key_type, &kt, &err) != 0)
		die(err.msg);
	if (sc_hsm_key_generate(hsm, alias, kt, &err) != 0)
		die(err.msg);
	pub = sc_hsm_pubkey_get1(hsm, alias, &err);
	signer = sc_hsm_key_get1(hsm, issuer != NULL ? issuer_alias : alias,
	    &err);
	if (pub == NULL || signer == NULL)
		die(err.msg);
	x = X509_new();
	if (x == NULL || X509_set_version(x, 2) != 1)
		die("X509_new");
	if (RAND_bytes(sb, sizeof(sb)) != 1)
		die("RAND_bytes");
	sb[0] &= 0x7f;
	sb[0] |= 0x40;
	bn = BN_bin2bn(sb, sizeof(sb), NULL);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	if (serial == NULL || X509_set_serialNumber(x, serial) != 1)
		die("serial");
	ASN1_INTEGER_free(serial);
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8,
		(const unsigned char *)"ML", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
		(const unsigned char *)"sceau tests", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		(const unsigned char *)spec->cn, -1, -1, 0) != 1)
		die("subject");
	if (X509_set_issuer_name(x, issuer != NULL
		    ? X509_get_subject_name(issuer)
		    : name) != 1)
		die("issuer");
	if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
		(spec->days > 0 ? spec->days : 30) * 86400L) == NULL)
		die("validity");
	if (X509_set_pubkey(x, pub) != 1)
		die("pubkey");
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (spec->is_ca) {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer, NID_key_usage,
		    "critical,keyCertSign,cRLSign,digitalSignature");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage,
		    "critical,digitalSignature,nonRepudiation");
	}
	if (spec->eku != NULL)
		add_ext(x, issuer, NID_ext_key_usage, spec->eku);
	if (spec->ocsp_nocheck)
		add_ext(x, issuer, NID_id_pkix_OCSP_noCheck, "ignored");
	/* The issuer's key signs on the token. */
	if (X509_sign(x, signer, EVP_sha256()) <= 0)
		die("X509_sign in the HSM");
	EVP_PKEY_free(pub);
	EVP_PKEY_free(signer);
	return x;
}
