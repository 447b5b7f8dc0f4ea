/*
 * hsm_key.c: HSM-backed EVP_PKEY handles, their cache, and the signing
 * gate that bounds concurrent token operations and counts them.
 *
 * Each handle we give out is a "wrapper" key: a public-only RSA or
 * EC_KEY (from the token's public key object) with our own RSA_METHOD or
 * EC_KEY_METHOD, whose private operations pass through the gate to the
 * key that libp11 made (PKCS11_get_private_key), kept in ex_data.
 * Having a non-default method marks the key as "foreign" for OpenSSL 3,
 * so EVP_DigestSign, CMS_sign, X509_sign and TS_RESP_sign take the
 * legacy EVP_PKEY_METHOD path that calls these methods.
 *
 * We wrap rather than swap libp11's method on its own key because
 * RSA_set_method() runs libp11's finish(), which drops libp11's ex_data.
 *
 * RSA-PSS: the legacy RSA EVP_PKEY_METHOD pads (EMSA-PSS, RFC 8017
 * §9.1.1) in software and calls the private operation with
 * RSA_NO_PADDING, which libp11 0.4.12 maps to CKM_RSA_X_509; so PSS
 * works with any token that offers raw RSA (SoftHSM2 does), and the
 * token never sees CKM_RSA_PKCS_PSS.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hsm_int.h"

/* What a wrapper key holds in its ex_data. */
struct keyref {
	atomic_int refs;    /* one per RSA/EC_KEY holding it (ex_data dup) */
	struct sc_hsm *hsm; /* for the gate and the counters */
	RSA *rsa;           /* libp11's key (one reference), or NULL */
	EC_KEY *ec;         /* libp11's key (one reference), or NULL */
};

/* ex_data indexes: written once, before any key exists. */
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int rsa_idx = -1;
static int ec_idx = -1;

static void
keyref_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct keyref *ref = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ref == NULL || atomic_fetch_sub(&ref->refs, 1) != 1)
		return;
	RSA_free(ref->rsa);
	EC_KEY_free(ref->ec);
	free(ref);
}

/* RSA_dup/EC_KEY_dup copy the pointer: count the new holder. */
static int
keyref_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d,
    int idx, long argl, void *argp)
{
	struct keyref *ref = from_d != NULL ? *from_d : NULL;

	(void)to;
	(void)from;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ref != NULL)
		atomic_fetch_add(&ref->refs, 1);
	return 1;
}

static void
idx_init(void)
{
	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, keyref_dup, keyref_free);
	ec_idx =
	    EC_KEY_get_ex_new_index(0, NULL, NULL, keyref_dup, keyref_free);
}

/* The gate: a counting semaphore of hsm->sessions_max. */
static void
gate_enter(struct sc_hsm *hsm)
{
	pthread_mutex_lock(&hsm->gate_lock);
	while (hsm->sessions_busy >= hsm->sessions_max)
		pthread_cond_wait(&hsm->gate_cond, &hsm->gate_lock);
	hsm->sessions_busy++;
	pthread_mutex_unlock(&hsm->gate_lock);
}

static void
gate_leave(struct sc_hsm *hsm, int count)
{
	pthread_mutex_lock(&hsm->gate_lock);
	hsm->sessions_busy--;
	if (count)
		hsm->sign_ops++;
	pthread_cond_signal(&hsm->gate_cond);
	pthread_mutex_unlock(&hsm->gate_lock);
}

static int
rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
    int padding)
{
	struct keyref *ref = RSA_get_ex_data(rsa, rsa_idx);
	int r;

	if (ref == NULL || ref->rsa == NULL)
		return -1;
	gate_enter(ref->hsm);
	r = RSA_private_encrypt(flen, from, to, ref->rsa, padding);
	gate_leave(ref->hsm, r > 0);
	return r;
}

static int
rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
    int padding)
{
	struct keyref *ref = RSA_get_ex_data(rsa, rsa_idx);
	int r;

	if (ref == NULL || ref->rsa == NULL)
		return -1;
	gate_enter(ref->hsm);
	r = RSA_private_decrypt(flen, from, to, ref->rsa, padding);
	gate_leave(ref->hsm, 0);
	return r;
}

static int
ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
    unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	struct keyref *ref = EC_KEY_get_ex_data(eckey, ec_idx);
	int ok;

	if (ref == NULL || ref->ec == NULL)
		return 0;
	gate_enter(ref->hsm);
	ok = ECDSA_sign_ex(type, dgst, dlen, sig, siglen, kinv, r, ref->ec);
	gate_leave(ref->hsm, ok == 1);
	return ok;
}

static ECDSA_SIG *
ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *eckey)
{
	struct keyref *ref = EC_KEY_get_ex_data(eckey, ec_idx);
	ECDSA_SIG *sig;

	if (ref == NULL || ref->ec == NULL)
		return NULL;
	gate_enter(ref->hsm);
	sig = ECDSA_do_sign_ex(dgst, dlen, kinv, r, ref->ec);
	gate_leave(ref->hsm, sig != NULL);
	return sig;
}

int
hsm_methods_init(struct sc_hsm *hsm, struct sc_err *err)
{
	pthread_once(&idx_once, idx_init);
	if (rsa_idx < 0 || ec_idx < 0)
		return sc_err_crypto(err, SC_E_INTERNAL,
		    "cannot get ex_data indexes");
	hsm->rsa_meth = RSA_meth_dup(RSA_PKCS1_OpenSSL());
	if (hsm->rsa_meth == NULL ||
	    RSA_meth_set1_name(hsm->rsa_meth, "sceau hsm RSA") != 1 ||
	    RSA_meth_set_priv_enc(hsm->rsa_meth, rsa_priv_enc) != 1 ||
	    RSA_meth_set_priv_dec(hsm->rsa_meth, rsa_priv_dec) != 1)
		return sc_err_crypto(err, SC_E_NOMEM,
		    "cannot make the RSA method");
	hsm->ec_meth = EC_KEY_METHOD_new(EC_KEY_OpenSSL());
	if (hsm->ec_meth == NULL)
		return sc_err_crypto(err, SC_E_NOMEM,
		    "cannot make the EC method");
	/* no sign_setup: the nonce is the token's business */
	EC_KEY_METHOD_set_sign(hsm->ec_meth, ec_sign, NULL, ec_sign_sig);
	return 0;
}

void
hsm_keys_free(struct sc_hsm *hsm)
{
	struct hsm_cache_ent *e, *next;

	for (e = hsm->cache; e != NULL; e = next) {
		next = e->next;
		EVP_PKEY_free(e->pkey);
		free(e);
	}
	hsm->cache = NULL;
	RSA_meth_free(hsm->rsa_meth);
	hsm->rsa_meth = NULL;
	if (hsm->ec_meth != NULL) /* OpenSSL 3.0 does not check for NULL */
		EC_KEY_METHOD_free(hsm->ec_meth);
	hsm->ec_meth = NULL;
}

/*
 * Finds the private (@priv) or public key object labelled @alias through
 * libp11 and returns libp11's EVP_PKEY for it. Call with key_lock held:
 * the PKCS11_KEY array is only valid until the next enumeration.
 * @return 1 found, 0 not found, -1 error.
 */
static int
p11_find_locked(struct sc_hsm *hsm, const char *alias, int priv,
    EVP_PKEY **out, struct sc_err *err)
{
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0, i;
	int r;

	int attempt;

	/* Read-only: tried again while another process rewrites the
	 * token (hsm_int.h, HSM_RETRIES). */
	for (attempt = 0;; attempt++) {
		if (priv)
			r = PKCS11_enumerate_keys(hsm->slot->token, &keys, &n);
		else
			r = PKCS11_enumerate_public_keys(hsm->slot->token,
			    &keys, &n);
		if (r == 0)
			break;
		if (attempt == HSM_RETRIES)
			return sc_err_crypto(err, SC_E_HSM,
			    "cannot list the keys of the token");
		hsm_retry_pause(attempt);
	}
	for (i = 0; i < n; i++) {
		if (keys[i].label != NULL && strcmp(keys[i].label, alias) == 0)
			break;
	}
	if (i == n)
		return 0;
	*out = priv ? PKCS11_get_private_key(&keys[i])
		    : PKCS11_get_public_key(&keys[i]);
	if (*out == NULL)
		return sc_err_crypto(err, SC_E_HSM, "cannot load key '%s'",
		    alias);
	return 1;
}

/* p11_find_locked() with LeakSanitizer blind to libp11's keepings
 * (hsm_int.h). */
static int
p11_find(struct sc_hsm *hsm, const char *alias, int priv, EVP_PKEY **out,
    struct sc_err *err)
{
	int r;

	HSM_LSAN_OFF();
	r = p11_find_locked(hsm, alias, priv, out, err);
	HSM_LSAN_ON();
	return r;
}

/* A plain software copy of a public key (re-encoded SPKI, RFC 5280). */
static EVP_PKEY *
pub_soft(EVP_PKEY *k, struct sc_err *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *ret = NULL;
	int len;

	len = i2d_PUBKEY(k, &der);
	if (len <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode public key");
		goto out;
	}
	p = der;
	ret = d2i_PUBKEY(NULL, &p, len);
	if (ret == NULL || p != der + len) {
		EVP_PKEY_free(ret);
		ret = NULL;
		sc_err_crypto(err, SC_E_CRYPTO, "cannot decode public key");
	}
out:
	OPENSSL_free(der);
	return ret;
}

static struct keyref *
keyref_new(struct sc_hsm *hsm, struct sc_err *err)
{
	struct keyref *ref = calloc(1, sizeof(*ref));

	if (ref == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&ref->refs, 1);
	ref->hsm = hsm;
	return ref;
}

static EVP_PKEY *
wrap_rsa(struct sc_hsm *hsm, EVP_PKEY *inner, EVP_PKEY *pub, struct sc_err *err)
{
	struct keyref *ref = NULL;
	RSA *w = NULL;
	EVP_PKEY *ret = NULL, *k = NULL;

	if ((ref = keyref_new(hsm, err)) == NULL)
		goto out;
	ref->rsa = EVP_PKEY_get1_RSA(inner);
	if (ref->rsa == NULL) {
		sc_err_crypto(err, SC_E_HSM, "token key is not RSA");
		goto out;
	}
	w = RSAPublicKey_dup(pub != NULL ? EVP_PKEY_get0_RSA(pub) : ref->rsa);
	if (w == NULL || RSA_set_method(w, hsm->rsa_meth) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot make RSA handle");
		goto out;
	}
	if (RSA_set_ex_data(w, rsa_idx, ref) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot make RSA handle");
		goto out;
	}
	ref = NULL; /* belongs to w now (freed with it) */
	if ((k = EVP_PKEY_new()) == NULL || EVP_PKEY_assign_RSA(k, w) != 1) {
		sc_err_crypto(err, SC_E_NOMEM, "cannot make RSA handle");
		goto out;
	}
	w = NULL; /* belongs to k now */
	ret = k;
	k = NULL;
out:
	EVP_PKEY_free(k);
	RSA_free(w);
	keyref_free(NULL, ref, NULL, 0, 0, NULL);
	return ret;
}

static EVP_PKEY *
wrap_ec(struct sc_hsm *hsm, EVP_PKEY *inner, EVP_PKEY *pub, struct sc_err *err)
{
	struct keyref *ref = NULL;
	EC_KEY *w = NULL;
	EVP_PKEY *ret = NULL, *k = NULL;

	if ((ref = keyref_new(hsm, err)) == NULL)
		goto out;
	ref->ec = EVP_PKEY_get1_EC_KEY(inner);
	if (ref->ec == NULL) {
		sc_err_crypto(err, SC_E_HSM, "token key is not EC");
		goto out;
	}
	if (pub != NULL) {
		w = EC_KEY_dup(EVP_PKEY_get0_EC_KEY(pub));
	} else if ((w = EC_KEY_new()) != NULL) {
		/* no public key object: the group (and point) suffice */
		if (EC_KEY_set_group(w, EC_KEY_get0_group(ref->ec)) != 1 ||
		    (EC_KEY_get0_public_key(ref->ec) != NULL &&
			EC_KEY_set_public_key(w,
			    EC_KEY_get0_public_key(ref->ec)) != 1)) {
			EC_KEY_free(w);
			w = NULL;
		}
	}
	if (w == NULL || EC_KEY_set_method(w, hsm->ec_meth) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot make EC handle");
		goto out;
	}
	if (EC_KEY_set_ex_data(w, ec_idx, ref) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot make EC handle");
		goto out;
	}
	ref = NULL; /* belongs to w now (freed with it) */
	if ((k = EVP_PKEY_new()) == NULL || EVP_PKEY_assign_EC_KEY(k, w) != 1) {
		sc_err_crypto(err, SC_E_NOMEM, "cannot make EC handle");
		goto out;
	}
	w = NULL; /* belongs to k now */
	ret = k;
	k = NULL;
out:
	EVP_PKEY_free(k);
	EC_KEY_free(w);
	keyref_free(NULL, ref, NULL, 0, 0, NULL);
	return ret;
}

/* Builds the handle for @alias; key_lock held. */
static EVP_PKEY *
key_load(struct sc_hsm *hsm, const char *alias, struct sc_err *err)
{
	EVP_PKEY *inner = NULL, *p11pub = NULL, *pub = NULL, *ret = NULL;
	int r;

	r = p11_find(hsm, alias, 1, &inner, err);
	if (r < 0)
		goto out;
	if (r == 0) {
		sc_err_set(err, SC_E_KEY_NOT_FOUND, "no key named '%s'", alias);
		goto out;
	}
	r = p11_find(hsm, alias, 0, &p11pub, err);
	if (r < 0)
		goto out;
	if (r > 0 && (pub = pub_soft(p11pub, err)) == NULL)
		goto out;
	switch (EVP_PKEY_get_base_id(inner)) {
	case EVP_PKEY_RSA:
		ret = wrap_rsa(hsm, inner, pub, err);
		break;
	case EVP_PKEY_EC:
		ret = wrap_ec(hsm, inner, pub, err);
		break;
	default:
		sc_err_set(err, SC_E_HSM, "key '%s' has an unsupported type",
		    alias);
		break;
	}
out:
	EVP_PKEY_free(inner);
	EVP_PKEY_free(p11pub);
	EVP_PKEY_free(pub);
	return ret;
}

EVP_PKEY *
sc_hsm_key_get1(struct sc_hsm *hsm, const char *alias, struct sc_err *err)
{
	struct hsm_cache_ent *e;
	EVP_PKEY *ret = NULL, *k = NULL;

	if (hsm_alias_check(alias, err) != 0)
		return NULL;
	pthread_mutex_lock(&hsm->key_lock);
	for (e = hsm->cache; e != NULL; e = e->next) {
		if (strcmp(e->alias, alias) == 0)
			break;
	}
	if (e == NULL) {
		if ((k = key_load(hsm, alias, err)) == NULL)
			goto out;
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(e->alias, alias, strlen(alias) + 1);
		e->pkey = k; /* the cache's reference */
		k = NULL;
		e->next = hsm->cache;
		hsm->cache = e;
	}
	if (EVP_PKEY_up_ref(e->pkey) != 1) {
		sc_err_crypto(err, SC_E_INTERNAL, "EVP_PKEY_up_ref failed");
		goto out;
	}
	ret = e->pkey; /* the caller's reference */
out:
	pthread_mutex_unlock(&hsm->key_lock);
	EVP_PKEY_free(k);
	return ret;
}

EVP_PKEY *
sc_hsm_pubkey_get1(struct sc_hsm *hsm, const char *alias, struct sc_err *err)
{
	EVP_PKEY *p11pub = NULL, *ret = NULL;
	int r;

	if (hsm_alias_check(alias, err) != 0)
		return NULL;
	pthread_mutex_lock(&hsm->key_lock);
	r = p11_find(hsm, alias, 0, &p11pub, err);
	pthread_mutex_unlock(&hsm->key_lock);
	if (r == 0)
		sc_err_set(err, SC_E_KEY_NOT_FOUND, "no key named '%s'", alias);
	if (r <= 0)
		return NULL;
	ret = pub_soft(p11pub, err);
	EVP_PKEY_free(p11pub);
	return ret;
}
