/*
 * hsm_int.h: internals shared by the hsm/ files. Only hsm/ includes
 * libp11 and the PKCS#11 header (STYLE.md rule 3).
 *
 * Two views of the same loaded module coexist in the process:
 * - libp11 (PKCS11_CTX_load) owns the module's initialisation, the user
 *   login and a per-slot session pool that its RSA_METHOD/EC_KEY_METHOD
 *   use for signing;
 * - a raw CK_FUNCTION_LIST, obtained by dlopen()ing the same path (the
 *   loader returns the same library, hence the same module state), used
 *   for what libp11 0.4.12 cannot do well: key generation with exact
 *   templates (PKCS11_generate_key is RSA-only and deprecated), attribute
 *   reads and the liveness check. Login state is per application
 *   (PKCS#11 v2.40 §5.6, "C_Login"), so libp11's login covers our own
 *   sessions; sc_hsm_open() checks it.
 */
#ifndef SCEAU_HSM_INT_H
#define SCEAU_HSM_INT_H

#include <pthread.h>

#include <p11-kit/pkcs11.h>
#include <libp11.h>

#include "sceau/hsm.h"

/*
 * libp11 0.4.12 keeps, per key it hands out and per login, objects that
 * it never frees (tests/lsan.supp). LeakSanitizer ignores what is
 * allocated between HSM_LSAN_OFF() and HSM_LSAN_ON() (per thread), and
 * hsm/ brackets only its calls into libp11 with them: no suppression by
 * library name is then needed, so the sanitizer runs can keep ASan's fast
 * unwinder (libcrypto has no frame pointers: matching "libp11.so" needs
 * the slow one, which doubles the time of the whole suite).
 */
#if defined(__SANITIZE_ADDRESS__)
#define HSM_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HSM_LSAN 1
#endif
#endif
#ifdef HSM_LSAN
#include <sanitizer/lsan_interface.h>
#define HSM_LSAN_OFF() __lsan_disable()
#define HSM_LSAN_ON() __lsan_enable()
#else
#define HSM_LSAN_OFF() ((void)0)
#define HSM_LSAN_ON() ((void)0)
#endif

/*
 * Another process sharing the token (the CLI beside the server, a second
 * server) may be rewriting it while we read: SoftHSM2 and network HSMs
 * then fail one C_GetSlotList / C_GetTokenInfo / C_FindObjects /
 * C_GetAttributeValue for a moment. Read-only listings are tried
 * HSM_RETRIES more times, hsm_retry_pause(attempt) apart (20 ms, 40 ms,
 * ...; the OpenSSL error queue is cleared).
 */
#define HSM_RETRIES 4
void hsm_retry_pause(int attempt);

#define SC_HSM_ALIAS_MAX 64
#define SC_HSM_ID_LEN 16 /* CKA_ID: first 16 bytes of SHA-256(alias) */

/* One cached HSM-backed key handle. */
struct hsm_cache_ent {
	char alias[SC_HSM_ALIAS_MAX + 1];
	EVP_PKEY *pkey; /* our wrapper key; the cache holds one reference */
	struct hsm_cache_ent *next;
};

struct sc_hsm {
	/* libp11 */
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots; /* owned: PKCS11_release_all_slots */
	unsigned int nslots;
	PKCS11_SLOT *slot; /* borrowed from slots: our token's slot */
	/* raw PKCS#11 over the same module */
	void *dl;              /* dlopen handle (a reference, not a load) */
	CK_FUNCTION_LIST *p11; /* borrowed from the module */
	CK_SLOT_ID slot_id;
	/* serialises sc_hsm_key_generate (check-then-create) */
	pthread_mutex_t gen_lock;
	/*
	 * Guards libp11 key enumeration and the cache: in libp11 0.4.12
	 * PKCS11_enumerate_keys() reallocates the slot's PKCS11_KEY array,
	 * so no PKCS11_KEY pointer is used outside this lock.
	 */
	pthread_mutex_t key_lock;
	struct hsm_cache_ent *cache;
	/* the signing gate: a counting semaphore of sessions_max */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	unsigned sessions_max;
	unsigned sessions_busy;
	unsigned long long sign_ops;
	/* our wrapping methods (one per handle) */
	RSA_METHOD *rsa_meth;
	EC_KEY_METHOD *ec_meth;
	int locks_ok; /* the mutexes above were initialised */
};

/* hsm_p11.c: raw PKCS#11 helpers */

/** A short name for a CK_RV ("CKR_PIN_INCORRECT"), or NULL. */
const char *hsm_ckr_name(CK_RV rv);
/** Sets @err to @code with @what, the CK_RV in detail. @return -1 */
int hsm_ckr_err(struct sc_err *err, enum sc_code code, CK_RV rv,
    const char *what);
/** Opens a raw session on the token (RW when @rw). @return 0 or -1. */
int hsm_session_open(struct sc_hsm *hsm, int rw, CK_SESSION_HANDLE *s,
    struct sc_err *err);
void hsm_session_close(struct sc_hsm *hsm, CK_SESSION_HANDLE s);
/**
 * Finds the first object matching the template.
 * @return 1 found (*obj set), 0 none, -1 error.
 */
int hsm_find_one(struct sc_hsm *hsm, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
    CK_ULONG n, CK_OBJECT_HANDLE *obj, struct sc_err *err);
/** @return 0 if @alias is 1..64 characters of [A-Za-z0-9._-], else -1. */
int hsm_alias_check(const char *alias, struct sc_err *err);
/** CKA_ID of an alias. */
void hsm_alias_id(const char *alias, CK_BYTE id[SC_HSM_ID_LEN]);

/* hsm_key.c */

/** Creates hsm->rsa_meth and hsm->ec_meth. @return 0 or -1. */
int hsm_methods_init(struct sc_hsm *hsm, struct sc_err *err);
/** Frees the cache and the methods (every key must be freed first). */
void hsm_keys_free(struct sc_hsm *hsm);

#endif
