/*
 * ca_keys.c: subscriber and CA key generation in the HSM, audited.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sceau/ca.h"
#include "sceau/db.h"
#include "sceau/hsm.h"

struct keygen {
	struct sc_hsm *hsm;
	const struct sc_actor *who;
	const char *alias;
	enum sc_hsm_keytype type;
};

static int
keygen_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct keygen *k = arg;
	struct sc_audit_event ev;
	char *details;
	int rc;

	details = NULL;
	if (sc_hsm_key_generate(k->hsm, k->alias, k->type, err) != 0)
		return -1;
	{
		json_t *j = json_pack("{s:s, s:b, s:b}", "type",
		    sc_hsm_keytype_name(k->type), "sensitive", 1,
		    "extractable", 0);

		details = j != NULL ? json_dumps(j, JSON_COMPACT |
						 JSON_SORT_KEYS)
				    : NULL;
		json_decref(j);
	}
	if (details == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	ev.actor = k->who->name;
	ev.role = k->who->role;
	ev.action = "key.generate";
	ev.object = k->alias;
	ev.details = details;
	rc = sc_db_audit_append(c, &ev, err);
	free(details);
	return rc;
}

static char *
pubkey_pem(struct sc_hsm *hsm, const char *alias, struct sc_err *err)
{
	EVP_PKEY *pk = NULL;
	BIO *bio = NULL;
	char *out = NULL, *p;
	long n;

	pk = sc_hsm_pubkey_get1(hsm, alias, err);
	if (pk == NULL)
		goto out;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PUBKEY(bio, pk) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode the public key");
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
out:
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return out;
}

int
sc_ca_key_generate(struct sc_hsm *hsm, struct sc_db *db,
    const struct sc_actor *who, const char *alias, const char *type,
    char **pem, struct sc_err *err)
{
	struct keygen k;

	if (pem != NULL)
		*pem = NULL;
	k.hsm = hsm;
	k.who = who;
	k.alias = alias;
	if (sc_hsm_keytype_parse(type, &k.type, err) != 0)
		return -1;
	if (sc_db_run_txn(db, keygen_txn, &k, err) != 0)
		return -1;
	sc_log(SC_LOG_NOTICE, "key %s: generated %s in the HSM by %s (%s)",
	    alias, type, who->name, who->role);
	if (pem != NULL && (*pem = pubkey_pem(hsm, alias, err)) == NULL)
		return -1;
	return 0;
}

int
sc_ca_key_check(struct sc_hsm *hsm, const char *alias, uint8_t **challenge,
    size_t *challenge_len, uint8_t **sig, size_t *sig_len, struct sc_err *err)
{
	const size_t plen = sizeof(SC_CA_KEY_CHECK_PREFIX) - 1;
	uint8_t msg[sizeof(SC_CA_KEY_CHECK_PREFIX) - 1 + 32];
	EVP_PKEY *priv = NULL, *pub = NULL;
	EVP_MD_CTX *md = NULL;
	uint8_t *s = NULL;
	size_t slen = 0;
	int rc = -1;

	memcpy(msg, SC_CA_KEY_CHECK_PREFIX, plen);
	if (sc_rand_bytes(msg + plen, 32, err) != 0)
		goto out;
	priv = sc_hsm_key_get1(hsm, alias, err);
	if (priv == NULL)
		goto out;
	pub = sc_hsm_pubkey_get1(hsm, alias, err);
	if (pub == NULL)
		goto out;
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, priv) != 1 ||
	    EVP_DigestSign(md, NULL, &slen, msg, sizeof(msg)) != 1) {
		sc_err_crypto(err, SC_E_HSM, "cannot start signing with %s",
		    alias);
		goto out;
	}
	s = malloc(slen);
	if (s == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(md, s, &slen, msg, sizeof(msg)) != 1) {
		sc_err_crypto(err, SC_E_HSM, "the HSM did not sign with %s",
		    alias);
		goto out;
	}
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_DigestVerify(md, s, slen, msg, sizeof(msg)) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "the signature of %s does not verify with its public key",
		    alias);
		goto out;
	}
	if (challenge != NULL) {
		*challenge = malloc(sizeof(msg));
		if (*challenge == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(*challenge, msg, sizeof(msg));
		*challenge_len = sizeof(msg);
	}
	if (sig != NULL) {
		*sig = s; /* ownership moves to the caller */
		*sig_len = slen;
		s = NULL;
	}
	rc = 0;
out:
	free(s);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return rc;
}
