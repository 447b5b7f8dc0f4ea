/*
 * ca_csr.c: PKCS#10 certification requests (RFC 2986) from outside the
 * service. Hostile input: size capped before decoding, DER only through
 * OpenSSL, trailing bytes refused (as rpki-client's cms.c), the
 * self-signature checked, keys and signature algorithms allow-listed
 * (CA/B BR 6.1.5: RSA ≥ 2048, P-256/P-384).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sceau/hsm.h"

#include "ca_int.h"

int
ca_key_check(EVP_PKEY *pk, unsigned allowed, enum sc_code code,
    struct sc_err *err)
{
	char group[64];
	size_t glen = 0;
	enum sc_hsm_keytype t;
	int bits = EVP_PKEY_get_bits(pk);

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		if (bits < 2048)
			return sc_err_set(err, code,
			    "RSA key of %d bits: at least 2048 are required "
			    "(CA/B BR 6.1.5)",
			    bits);
		if (bits > 4096)
			return sc_err_set(err, code,
			    "RSA key of %d bits: at most 4096 are supported",
			    bits);
		t = bits <= 2048 ? SC_HSM_RSA_2048
		    : bits <= 3072 ? SC_HSM_RSA_3072
				   : SC_HSM_RSA_4096;
		if (bits != 2048 && bits != 3072 && bits != 4096)
			return sc_err_set(err, code,
			    "RSA key of %d bits: 2048, 3072 or 4096 only", bits);
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pk,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			&glen) != 1)
			return sc_err_set(err, code,
			    "EC key without a named curve (RFC 5480 §2.1.1)");
		if (strcmp(group, "prime256v1") == 0)
			t = SC_HSM_EC_P256;
		else if (strcmp(group, "secp384r1") == 0)
			t = SC_HSM_EC_P384;
		else
			return sc_err_set(err, code,
			    "unsupported curve %.40s: only P-256 and P-384 "
			    "(CA/B BR 6.1.5)",
			    group);
		break;
	default:
		return sc_err_set(err, code,
		    "unsupported key algorithm %.40s: RSA or EC P-256/P-384",
		    OBJ_nid2sn(EVP_PKEY_get_base_id(pk)));
	}
	if (allowed != 0 && (allowed & CA_KT_BIT(t)) == 0)
		return sc_err_set(err, code,
		    "key type %s is not allowed by the profile",
		    sc_hsm_keytype_name(t));
	return 0;
}

/* The signature algorithms accepted on a CSR (no MD5, no SHA-1). */
static int
sigalg_ok(int nid)
{
	switch (nid) {
	case NID_sha256WithRSAEncryption:
	case NID_sha384WithRSAEncryption:
	case NID_sha512WithRSAEncryption:
	case NID_rsassaPss:
	case NID_ecdsa_with_SHA256:
	case NID_ecdsa_with_SHA384:
	case NID_ecdsa_with_SHA512:
		return 1;
	default:
		return 0;
	}
}

/* PEM to DER: exactly one CERTIFICATE REQUEST block, only white space
 * around it. */
static int
pem_to_der(const uint8_t *in, size_t len, uint8_t **der, long *derlen,
    struct sc_err *err)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	BIO *bio = NULL;
	long n = 0;
	int rc = -1;
	char c;

	if ((bio = BIO_new_mem_buf(in, (int)len)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (PEM_read_bio(bio, &name, &header, &data, &n) != 1) {
		sc_err_crypto(err, SC_E_INVALID_CSR,
		    "not a PEM certification request (RFC 7468 §7)");
		goto out;
	}
	if (strcmp(name, "CERTIFICATE REQUEST") != 0 &&
	    strcmp(name, "NEW CERTIFICATE REQUEST") != 0) {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "PEM block \"%.40s\" is not a CERTIFICATE REQUEST (RFC "
		    "7468 §7)",
		    name);
		goto out;
	}
	if (header != NULL && header[0] != '\0') {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "PEM headers are not allowed (RFC 7468 §2)");
		goto out;
	}
	while (BIO_read(bio, &c, 1) == 1)
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			sc_err_set(err, SC_E_INVALID_CSR,
			    "trailing garbage after the PEM block");
			goto out;
		}
	*der = data; /* the caller OPENSSL_free()s it */
	*derlen = n;
	data = NULL;
	rc = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

/*
 * ca_csr_parse() and ca_csr_stored_key(): the same decoding and checks;
 * @verify says whether the self-signature is checked.
 */
static EVP_PKEY *
csr_decode(const uint8_t *in, size_t len, int verify, uint8_t **der_out,
    size_t *derlen_out, struct sc_err *err)
{
	uint8_t *pem_der = NULL, *copy = NULL;
	const unsigned char *p, *der;
	EVP_PKEY *pk = NULL, *ret = NULL;
	X509_REQ *req = NULL;
	long derlen;
	int vr;

	if (der_out != NULL)
		*der_out = NULL;
	if (in == NULL || len == 0) {
		sc_err_set(err, SC_E_INVALID_CSR, "empty certification request");
		goto out;
	}
	if (len > CA_CSR_MAX) {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "certification request larger than %d KiB",
		    CA_CSR_MAX / 1024);
		goto out;
	}
	if (len >= 10 && memcmp(in, "-----BEGIN", 10) == 0) {
		if (pem_to_der(in, len, &pem_der, &derlen, err) != 0)
			goto out;
		der = pem_der;
	} else {
		der = in;
		derlen = (long)len;
	}
	if (derlen < 2 || der[0] != 0x30) {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "not a DER or PEM certification request (RFC 2986)");
		goto out;
	}
	p = der;
	req = d2i_X509_REQ(NULL, &p, derlen);
	if (req == NULL) {
		sc_err_crypto(err, SC_E_INVALID_CSR,
		    "not a DER certification request (RFC 2986 §4)");
		goto out;
	}
	if (p != der + derlen) {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "trailing garbage after the certification request");
		goto out;
	}
	if (X509_REQ_get_version(req) != X509_REQ_VERSION_1) {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "certification request version must be 0 (RFC 2986 §4.1)");
		goto out;
	}
	if (!sigalg_ok(X509_REQ_get_signature_nid(req))) {
		sc_err_set(err, SC_E_INVALID_CSR,
		    "signature algorithm %.40s not accepted (SHA-256 or "
		    "better with RSA or ECDSA)",
		    OBJ_nid2sn(X509_REQ_get_signature_nid(req)));
		goto out;
	}
	if ((pk = X509_REQ_get_pubkey(req)) == NULL) {
		sc_err_crypto(err, SC_E_INVALID_CSR,
		    "the public key of the request cannot be decoded");
		goto out;
	}
	if (ca_key_check(pk, 0, SC_E_INVALID_CSR, err) != 0)
		goto out;
	vr = verify ? X509_REQ_verify(req, pk) : 1;
	if (vr != 1) {
		sc_err_crypto(err, SC_E_INVALID_CSR,
		    "the self-signature of the request does not verify "
		    "(RFC 2986 §3: proof of possession)");
		goto out;
	}
	if (der_out != NULL) {
		if ((copy = malloc((size_t)derlen)) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(copy, der, (size_t)derlen);
		*der_out = copy; /* the caller free()s it */
		*derlen_out = (size_t)derlen;
		copy = NULL;
	}
	ret = pk; /* the caller EVP_PKEY_free()s it */
	pk = NULL;
out:
	free(copy);
	EVP_PKEY_free(pk);
	X509_REQ_free(req);
	OPENSSL_free(pem_der);
	return ret;
}

EVP_PKEY *
ca_csr_parse(const uint8_t *in, size_t len, uint8_t **der_out,
    size_t *derlen_out, struct sc_err *err)
{
	return csr_decode(in, len, 1, der_out, derlen_out, err);
}

EVP_PKEY *
ca_csr_stored_key(const uint8_t *der, size_t len, struct sc_err *err)
{
	/*
	 * Only for requests.csr_der: sc_ca_request_submit() is the one
	 * entry point of CSR bytes from outside, and it stores exactly the
	 * bytes whose self-signature ca_csr_parse() verified, in the
	 * transaction that creates the row (the only statement that writes
	 * the column). Checking the signature again proves nothing new:
	 * whoever could change the row could as well store a CSR of a key
	 * they hold. The structural checks are cheap and kept.
	 */
	return csr_decode(der, len, 0, NULL, NULL, err);
}
