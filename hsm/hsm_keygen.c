/*
 * hsm_keygen.c: key pair generation and key attributes, in raw PKCS#11
 * (libp11 0.4.12's PKCS11_generate_key is deprecated and RSA-only).
 *
 * Mechanisms and attributes: PKCS#11 Current Mechanisms v2.40 §2.1.4
 * (CKM_RSA_PKCS_KEY_PAIR_GEN) and §2.3.5 (CKM_EC_KEY_PAIR_GEN); object
 * attributes: PKCS#11 Base v2.40 §4.9 (private keys).
 */
#include <string.h>

#include "hsm_int.h"

/* DER OBJECT IDENTIFIERs for CKA_EC_PARAMS (RFC 5480 §2.1.1.1). */
static const CK_BYTE oid_p256[] = {/* 1.2.840.10045.3.1.7 */
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE oid_p384[] = {/* 1.3.132.0.34 */
    0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const CK_BYTE rsa_e[] = {0x01, 0x00, 0x01}; /* 65537 */

/* Is any object labelled @alias or carrying its CKA_ID? 1, 0 or -1. */
static int
alias_taken(struct sc_hsm *hsm, CK_SESSION_HANDLE s, const char *alias,
    CK_BYTE *id, struct sc_err *err)
{
	CK_ATTRIBUTE by_label[] = {
	    {CKA_LABEL, (void *)(uintptr_t)alias, strlen(alias)},
	};
	CK_ATTRIBUTE by_id[] = {
	    {CKA_ID, id, SC_HSM_ID_LEN},
	};
	CK_OBJECT_HANDLE obj;
	int r;

	r = hsm_find_one(hsm, s, by_label, 1, &obj, err);
	if (r != 0)
		return r;
	return hsm_find_one(hsm, s, by_id, 1, &obj, err);
}

int
sc_hsm_key_generate(struct sc_hsm *hsm, const char *alias,
    enum sc_hsm_keytype type, struct sc_err *err)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BYTE id[SC_HSM_ID_LEN];
	CK_ULONG bits = 0;
	CK_MECHANISM mech = {0, NULL, 0};
	CK_ATTRIBUTE pub[8], priv[10];
	CK_ULONG npub = 0, npriv = 0;
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv;
	const CK_BYTE *oid = NULL;
	size_t oidlen = 0;
	int locked = 0, r, rc = -1;

	if (hsm_alias_check(alias, err) != 0)
		return -1;
	switch (type) {
	case SC_HSM_EC_P256:
		oid = oid_p256;
		oidlen = sizeof(oid_p256);
		break;
	case SC_HSM_EC_P384:
		oid = oid_p384;
		oidlen = sizeof(oid_p384);
		break;
	case SC_HSM_RSA_2048:
		bits = 2048;
		break;
	case SC_HSM_RSA_3072:
		bits = 3072;
		break;
	case SC_HSM_RSA_4096:
		bits = 4096;
		break;
	default:
		return sc_err_set(err, SC_E_UNKNOWN_KEY_TYPE,
		    "unknown key type");
	}
	hsm_alias_id(alias, id);

	/* Both halves: the same label and id. */
	pub[npub++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	pub[npub++] = (CK_ATTRIBUTE){CKA_VERIFY, &yes, sizeof(yes)};
	/* signing keys only: no encryption, wrapping or derivation */
	pub[npub++] = (CK_ATTRIBUTE){CKA_ENCRYPT, &no, sizeof(no)};
	pub[npub++] = (CK_ATTRIBUTE){CKA_WRAP, &no, sizeof(no)};
	pub[npub++] =
	    (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)alias, strlen(alias)};
	pub[npub++] = (CK_ATTRIBUTE){CKA_ID, id, sizeof(id)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_TOKEN, &yes, sizeof(yes)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_PRIVATE, &yes, sizeof(yes)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_SENSITIVE, &yes, sizeof(yes)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &no, sizeof(no)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_SIGN, &yes, sizeof(yes)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_DECRYPT, &no, sizeof(no)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_UNWRAP, &no, sizeof(no)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_DERIVE, &no, sizeof(no)};
	priv[npriv++] =
	    (CK_ATTRIBUTE){CKA_LABEL, (void *)(uintptr_t)alias, strlen(alias)};
	priv[npriv++] = (CK_ATTRIBUTE){CKA_ID, id, sizeof(id)};
	if (oid != NULL) {
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		pub[npub++] = (CK_ATTRIBUTE){CKA_EC_PARAMS,
		    (void *)(uintptr_t)oid, oidlen};
	} else {
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		pub[npub++] =
		    (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
		pub[npub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT,
		    (void *)(uintptr_t)rsa_e, sizeof(rsa_e)};
	}

	/* Check-then-create must not interleave with another generation. */
	pthread_mutex_lock(&hsm->gen_lock);
	locked = 1;
	if (hsm_session_open(hsm, 1, &s, err) != 0)
		goto out;
	r = alias_taken(hsm, s, alias, id, err);
	if (r < 0)
		goto out;
	if (r > 0) {
		sc_err_set(err, SC_E_KEY_EXISTS, "a key named '%s' exists",
		    alias);
		goto out;
	}
	rv = hsm->p11->C_GenerateKeyPair(s, &mech, pub, npub, priv, npriv,
	    &hpub, &hpriv);
	if (rv != CKR_OK) {
		hsm_ckr_err(err, SC_E_HSM, rv, "C_GenerateKeyPair");
		goto out;
	}
	sc_log(SC_LOG_NOTICE, "hsm: generated %s key '%s'",
	    sc_hsm_keytype_name(type), alias);
	rc = 0;
out:
	if (s != CK_INVALID_HANDLE)
		hsm_session_close(hsm, s);
	if (locked)
		pthread_mutex_unlock(&hsm->gen_lock);
	return rc;
}

int
sc_hsm_key_info(struct sc_hsm *hsm, const char *alias,
    struct sc_hsm_key_info *info, struct sc_err *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)(uintptr_t)alias, 0},
	};
	CK_BBOOL sens = CK_FALSE, extr = CK_TRUE, asens = CK_FALSE,
		 nextr = CK_FALSE;
	CK_ATTRIBUTE get[] = {
	    {CKA_SENSITIVE, &sens, sizeof(sens)},
	    {CKA_EXTRACTABLE, &extr, sizeof(extr)},
	    {CKA_ALWAYS_SENSITIVE, &asens, sizeof(asens)},
	    {CKA_NEVER_EXTRACTABLE, &nextr, sizeof(nextr)},
	};
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	CK_RV rv;
	int r, rc = -1;

	memset(info, 0, sizeof(*info));
	if (hsm_alias_check(alias, err) != 0)
		return -1;
	find[1].ulValueLen = strlen(alias);
	if (hsm_session_open(hsm, 0, &s, err) != 0)
		goto out;
	r = hsm_find_one(hsm, s, find, 2, &obj, err);
	if (r < 0)
		goto out;
	if (r == 0) {
		rc = 0; /* info->found = 0 */
		goto out;
	}
	rv = hsm->p11->C_GetAttributeValue(s, obj, get, 4);
	if (rv != CKR_OK) {
		hsm_ckr_err(err, SC_E_HSM, rv, "C_GetAttributeValue");
		goto out;
	}
	info->found = 1;
	info->sensitive = sens == CK_TRUE;
	info->extractable = extr == CK_TRUE;
	info->always_sensitive = asens == CK_TRUE;
	info->never_extractable = nextr == CK_TRUE;
	rc = 0;
out:
	if (s != CK_INVALID_HANDLE)
		hsm_session_close(hsm, s);
	return rc;
}
