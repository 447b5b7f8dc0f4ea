/*
 * hsm_open.c: loading the module, finding the token, the user login,
 * the liveness check and the counters.
 *
 * One struct sc_hsm per module per process: libp11 0.4.12 calls
 * C_Finalize when any of its contexts is unloaded, which would end the
 * sessions of every other context on the same module.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "hsm_int.h"

/* The user PIN from the file, else from the environment variable. */
static char *
pin_read(const struct sc_config *cfg, struct sc_err *err)
{
	const char *env;
	char *pin;

	if (cfg->hsm_pin_file[0] != '\0')
		return sc_secret_read_file(cfg->hsm_pin_file, err);
	if (cfg->hsm_pin_env[0] == '\0') {
		sc_err_set(err, SC_E_CONFIG, "[hsm] needs pin_file or pin_env");
		return NULL;
	}
	env = getenv(cfg->hsm_pin_env);
	if (env == NULL || env[0] == '\0') {
		sc_err_set(err, SC_E_CONFIG,
		    "environment variable %s (hsm pin_env) is not set",
		    cfg->hsm_pin_env);
		return NULL;
	}
	pin = strdup(env);
	if (pin == NULL)
		sc_err_set(err, SC_E_NOMEM, "out of memory");
	return pin;
}

/*
 * libp11 pushes the CK_RV of a failed C_Login as the reason of an error
 * in its own library code (p11_err.h, ERR_get_CKR_code()).
 */
static CK_RV
login_reason(void)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0 || ERR_GET_LIB(e) != ERR_get_CKR_code())
		return CKR_GENERAL_ERROR;
	return (CK_RV)ERR_GET_REASON(e);
}

static int
login(struct sc_hsm *hsm, const struct sc_config *cfg, struct sc_err *err)
{
	char *pin;
	int r;
	CK_RV rv;

	pin = pin_read(cfg, err);
	if (pin == NULL)
		return -1;
	HSM_LSAN_OFF(); /* libp11 keeps a copy of the PIN: hsm_int.h */
	r = PKCS11_login(hsm->slot, 0, pin);
	HSM_LSAN_ON();
	sc_secret_free(pin); /* OPENSSL_cleanse, then free */
	pin = NULL;
	if (r == 0)
		return 0;
	rv = login_reason();
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
	    rv == CKR_PIN_LEN_RANGE)
		return sc_err_crypto(err, SC_E_HSM, "PIN refused by token '%s'",
		    cfg->hsm_token);
	if (rv == CKR_PIN_LOCKED)
		return sc_err_crypto(err, SC_E_HSM,
		    "user PIN of token '%s' is locked", cfg->hsm_token);
	return sc_err_crypto(err, SC_E_HSM, "login to token '%s' failed",
	    cfg->hsm_token);
}

/* Our own view of the module that libp11 has loaded and initialised. */
static int
raw_attach(struct sc_hsm *hsm, const char *module, struct sc_err *err)
{
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	void *sym;
	CK_RV rv;

	/* Same path: the loader hands back the library libp11 loaded. */
	hsm->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (hsm->dl == NULL) {
		sc_err_set(err, SC_E_HSM, "cannot load PKCS#11 module");
		sc_err_detail(err, "dlopen: %s", dlerror());
		return -1;
	}
	sym = dlsym(hsm->dl, "C_GetFunctionList");
	if (sym == NULL)
		return sc_err_set(err, SC_E_HSM, "%s is not a PKCS#11 module",
		    module);
	/* POSIX dlsym: an object pointer that holds a function address. */
	memcpy(&getfl, &sym, sizeof(getfl));
	rv = getfl(&hsm->p11);
	if (rv != CKR_OK)
		return hsm_ckr_err(err, SC_E_HSM, rv, "C_GetFunctionList");
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = hsm->p11->C_Initialize(&args);
	if (rv == CKR_OK) {
		/*
		 * A second instance of the module: libp11's login would
		 * not apply to it. Undo, and refuse.
		 */
		(void)hsm->p11->C_Finalize(NULL);
		return sc_err_set(err, SC_E_HSM,
		    "PKCS#11 module %s is not shared with libp11", module);
	}
	if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return hsm_ckr_err(err, SC_E_HSM, rv, "C_Initialize");
	return 0;
}

/* The login made through libp11 must show in our own sessions. */
static int
check_login(struct sc_hsm *hsm, struct sc_err *err)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;
	CK_RV rv;

	if (hsm_session_open(hsm, 0, &s, err) != 0)
		return -1;
	rv = hsm->p11->C_GetSessionInfo(s, &info);
	hsm_session_close(hsm, s);
	if (rv != CKR_OK)
		return hsm_ckr_err(err, SC_E_HSM, rv, "C_GetSessionInfo");
	if (info.state != CKS_RO_USER_FUNCTIONS &&
	    info.state != CKS_RW_USER_FUNCTIONS)
		return sc_err_set(err, SC_E_HSM,
		    "user login not visible to new sessions (state %lu)",
		    (unsigned long)info.state);
	return 0;
}

void
hsm_retry_pause(int attempt)
{
	struct timespec ts = {0, 20000000L * (attempt + 1)};

	ERR_clear_error();
	nanosleep(&ts, NULL);
}

static int
find_token(struct sc_hsm *hsm, const char *label, struct sc_err *err)
{
	unsigned int i;
	int attempt;

	/* A token file being rewritten by another process (SoftHSM2) makes
	 * C_GetTokenInfo fail for a moment: see hsm_retry_pause(). */
	for (attempt = 0; PKCS11_enumerate_slots(hsm->ctx, &hsm->slots,
			      &hsm->nslots) != 0;
	     attempt++) {
		if (attempt == HSM_RETRIES)
			return sc_err_crypto(err, SC_E_HSM,
			    "cannot list the slots of the PKCS#11 module");
		hsm_retry_pause(attempt);
	}
	for (i = 0; i < hsm->nslots; i++) {
		PKCS11_SLOT *sl = &hsm->slots[i];

		if (sl->token == NULL || !sl->token->initialized ||
		    sl->token->label == NULL)
			continue;
		if (strcmp(sl->token->label, label) != 0)
			continue;
		if (hsm->slot != NULL) {
			sc_log(SC_LOG_WARNING,
			    "hsm: several tokens are "
			    "labelled '%s'; using the first",
			    label);
			break;
		}
		hsm->slot = sl;
	}
	if (hsm->slot == NULL)
		return sc_err_set(err, SC_E_HSM, "no token labelled '%s'",
		    label);
	hsm->slot_id = PKCS11_get_slotid_from_slot(hsm->slot);
	return 0;
}

struct sc_hsm *
sc_hsm_open(const struct sc_config *cfg, struct sc_err *err)
{
	struct sc_hsm *hsm = NULL, *ret = NULL;

	if (cfg->hsm_module[0] == '\0' || cfg->hsm_token[0] == '\0') {
		sc_err_set(err, SC_E_CONFIG, "[hsm] needs module and token");
		goto out;
	}
	if (cfg->hsm_sessions == 0) {
		sc_err_set(err, SC_E_CONFIG, "[hsm] sessions must be >= 1");
		goto out;
	}
	hsm = calloc(1, sizeof(*hsm));
	if (hsm == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (pthread_mutex_init(&hsm->gen_lock, NULL) != 0) {
		sc_err_set(err, SC_E_INTERNAL, "pthread_mutex_init failed");
		free(hsm);
		hsm = NULL;
		goto out;
	}
	pthread_mutex_init(&hsm->key_lock, NULL);
	pthread_mutex_init(&hsm->gate_lock, NULL);
	pthread_cond_init(&hsm->gate_cond, NULL);
	hsm->locks_ok = 1;
	hsm->sessions_max = cfg->hsm_sessions;

	hsm->ctx = PKCS11_CTX_new();
	if (hsm->ctx == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (PKCS11_CTX_load(hsm->ctx, cfg->hsm_module) != 0) {
		/* libp11 unloads the module itself on failure */
		PKCS11_CTX_free(hsm->ctx);
		hsm->ctx = NULL;
		sc_err_crypto(err, SC_E_HSM, "cannot load PKCS#11 module %s",
		    cfg->hsm_module);
		goto out;
	}
	if (find_token(hsm, cfg->hsm_token, err) != 0)
		goto out;
	/*
	 * Once only: libp11 0.4.12 answers a later call in the other mode
	 * with C_CloseAllSessions, which would also log us out.
	 */
	if (PKCS11_open_session(hsm->slot, 1) != 0) {
		sc_err_crypto(err, SC_E_HSM, "cannot open a session");
		goto out;
	}
	if (login(hsm, cfg, err) != 0)
		goto out;
	if (raw_attach(hsm, cfg->hsm_module, err) != 0)
		goto out;
	if (check_login(hsm, err) != 0)
		goto out;
	if (hsm_methods_init(hsm, err) != 0)
		goto out;
	sc_log(SC_LOG_INFO,
	    "hsm: logged in to token '%s' (slot %lu), "
	    "%u signing sessions",
	    cfg->hsm_token, (unsigned long)hsm->slot_id, hsm->sessions_max);
	ret = hsm; /* ownership moves to the caller */
	hsm = NULL;
out:
	sc_hsm_close(hsm);
	return ret;
}

void
sc_hsm_close(struct sc_hsm *hsm)
{
	if (hsm == NULL)
		return;
	/* The cached keys hold libp11 objects: free them first. */
	hsm_keys_free(hsm);
	if (hsm->ctx != NULL) {
		if (hsm->slots != NULL) {
			int in = 0;

			if (hsm->slot != NULL &&
			    PKCS11_is_logged_in(hsm->slot, 0, &in) == 0 && in)
				(void)PKCS11_logout(hsm->slot);
			PKCS11_release_all_slots(hsm->ctx, hsm->slots,
			    hsm->nslots);
		}
		PKCS11_CTX_unload(hsm->ctx); /* C_Finalize, then unload */
		PKCS11_CTX_free(hsm->ctx);
	}
	/* libp11 finalised the module: drop our reference, never finalise. */
	if (hsm->dl != NULL)
		dlclose(hsm->dl);
	if (hsm->locks_ok) {
		pthread_mutex_destroy(&hsm->gen_lock);
		pthread_mutex_destroy(&hsm->key_lock);
		pthread_mutex_destroy(&hsm->gate_lock);
		pthread_cond_destroy(&hsm->gate_cond);
	}
	/* drop libp11's reasons (e.g. from the logout) from this thread */
	ERR_clear_error();
	free(hsm);
}

int
sc_hsm_ping(struct sc_hsm *hsm, struct sc_err *err)
{
	CK_TOKEN_INFO info;
	CK_RV rv;

	rv = hsm->p11->C_GetTokenInfo(hsm->slot_id, &info);
	if (rv != CKR_OK)
		return hsm_ckr_err(err, SC_E_UNAVAILABLE, rv, "C_GetTokenInfo");
	return 0;
}

void
sc_hsm_stats(struct sc_hsm *hsm, struct sc_hsm_stats *st)
{
	pthread_mutex_lock(&hsm->gate_lock);
	st->sessions_max = hsm->sessions_max;
	st->sessions_busy = hsm->sessions_busy;
	st->sign_ops = hsm->sign_ops;
	pthread_mutex_unlock(&hsm->gate_lock);
}
