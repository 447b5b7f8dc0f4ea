/*
 * hsm_p11.c: key type names, alias rules and the raw PKCS#11 helpers
 * (sessions, object search, CK_RV names). Function and attribute
 * semantics: PKCS#11 Base Specification v2.40 (OASIS), §5.
 */
#include <string.h>

#include "hsm_int.h"

static const struct {
	enum sc_hsm_keytype type;
	const char *name;
} keytypes[] = {
    {SC_HSM_EC_P256, "ec-p256"},
    {SC_HSM_EC_P384, "ec-p384"},
    {SC_HSM_RSA_2048, "rsa-2048"},
    {SC_HSM_RSA_3072, "rsa-3072"},
    {SC_HSM_RSA_4096, "rsa-4096"},
};

int
sc_hsm_keytype_parse(const char *s, enum sc_hsm_keytype *out,
    struct sc_err *err)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(keytypes) / sizeof(keytypes[0]);
	     i++) {
		if (strcmp(s, keytypes[i].name) == 0) {
			*out = keytypes[i].type;
			return 0;
		}
	}
	return sc_err_set(err, SC_E_UNKNOWN_KEY_TYPE,
	    "unknown key type '%.32s' (ec-p256, ec-p384, rsa-2048, "
	    "rsa-3072, rsa-4096)",
	    s != NULL ? s : "");
}

const char *
sc_hsm_keytype_name(enum sc_hsm_keytype t)
{
	size_t i;

	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		if (keytypes[i].type == t)
			return keytypes[i].name;
	}
	return "unknown";
}

int
hsm_alias_check(const char *alias, struct sc_err *err)
{
	size_t i, len;

	if (alias == NULL)
		return sc_err_set(err, SC_E_INVALID_INPUT, "key alias missing");
	len = strnlen(alias, SC_HSM_ALIAS_MAX + 1);
	if (len == 0 || len > SC_HSM_ALIAS_MAX)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "key alias must have 1 to %d characters", SC_HSM_ALIAS_MAX);
	for (i = 0; i < len; i++) {
		char c = alias[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			continue;
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "key alias may only hold A-Z a-z 0-9 . _ -");
	}
	return 0;
}

void
hsm_alias_id(const char *alias, CK_BYTE id[SC_HSM_ID_LEN])
{
	uint8_t md[32];

	sc_sha256(alias, strlen(alias), md);
	memcpy(id, md, SC_HSM_ID_LEN);
}

const char *
hsm_ckr_name(CK_RV rv)
{
	static const struct {
		CK_RV rv;
		const char *name;
	} names[] = {
	    {CKR_OK, "CKR_OK"},
	    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
	    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
	    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
	    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
	    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
	    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
	    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
	    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
	    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
	    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
	    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
	    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
	    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
	    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
	    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
	    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
	    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
	    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
	    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
	    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
	    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
	    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
	    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
	    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
	    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
	    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
	    {CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID"},
	    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].rv == rv)
			return names[i].name;
	}
	return NULL;
}

int
hsm_ckr_err(struct sc_err *err, enum sc_code code, CK_RV rv, const char *what)
{
	const char *name = hsm_ckr_name(rv);

	sc_err_set(err, code, "%s failed", what);
	if (name != NULL)
		sc_err_detail(err, "%s: %s", what, name);
	else
		sc_err_detail(err, "%s: CKR 0x%08lx", what, (unsigned long)rv);
	return -1;
}

int
hsm_session_open(struct sc_hsm *hsm, int rw, CK_SESSION_HANDLE *s,
    struct sc_err *err)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION;
	CK_RV rv;

	if (rw)
		flags |= CKF_RW_SESSION;
	rv = hsm->p11->C_OpenSession(hsm->slot_id, flags, NULL, NULL, s);
	if (rv != CKR_OK)
		return hsm_ckr_err(err, SC_E_HSM, rv, "C_OpenSession");
	return 0;
}

/*
 * Never closes the last session: libp11's pool keeps at least the one
 * used for C_Login open, so the login survives (PKCS#11 §5.6).
 */
void
hsm_session_close(struct sc_hsm *hsm, CK_SESSION_HANDLE s)
{
	(void)hsm->p11->C_CloseSession(s);
}

int
hsm_find_one(struct sc_hsm *hsm, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
    CK_ULONG n, CK_OBJECT_HANDLE *obj, struct sc_err *err)
{
	CK_ULONG count = 0;
	CK_RV rv;

	rv = hsm->p11->C_FindObjectsInit(s, tmpl, n);
	if (rv != CKR_OK)
		return hsm_ckr_err(err, SC_E_HSM, rv, "C_FindObjectsInit");
	rv = hsm->p11->C_FindObjects(s, obj, 1, &count);
	(void)hsm->p11->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return hsm_ckr_err(err, SC_E_HSM, rv, "C_FindObjects");
	return count > 0 ? 1 : 0;
}
