/*
 * ca_issue.c: issuance following Boulder's cycle (docs/ISSUANCE-CYCLE.md,
 * ca/ca.go IssueCertificate), DESIGN.md principle 3 "serial first":
 *
 *   1. reserve the serial: certificates row 'reserved' (committed);
 *   2. build the TBS, sign it with a throw-away software key, lint it;
 *      a finding aborts (row 'failed' with the finding);
 *   3. store the linted TBS: row 'linted' (committed);
 *   4. sign in the HSM with the CA's key;
 *   5. check the signed TBS bytes equal the linted ones;
 *   6. store the certificate, status 'issued', audit "cert.issue", in
 *      one transaction.
 *
 * A crash between steps leaves a visible 'reserved' or 'linted' row:
 * nothing is ever signed that the database does not know about.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sceau/db.h"
#include "sceau/db_ca.h"
#include "sceau/hsm.h"

#include "ca_int.h"

#define RESERVE_TRIES 3

static int
url_ok(const char *u)
{
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return 0;
	/* no characters that OpenSSL's extension syntax or URIs reserve */
	for (; *u != '\0'; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f ||
		    strchr(",;\"<>\\", *u) != NULL)
			return 0;
	return 1;
}

int
sc_ca_env_init(struct sc_ca_env *env, const struct sc_config *cfg,
    struct sc_db *db, struct sc_hsm *hsm, struct sc_err *err)
{
	const char *dir = getenv("SCEAU_PROFILES");
	const char *arc = getenv("SCEAU_OID_ARC");
	size_t n;

	memset(env, 0, sizeof(*env));
	env->db = db;
	env->hsm = hsm;
	n = strlen(cfg->public_url);
	while (n > 0 && cfg->public_url[n - 1] == '/')
		n--;
	if (n >= sizeof(env->public_url))
		return sc_err_set(err, SC_E_CONFIG, "server.public_url too long");
	memcpy(env->public_url, cfg->public_url, n);
	env->public_url[n] = '\0';
	if (!url_ok(env->public_url))
		return sc_err_set(err, SC_E_CONFIG,
		    "server.public_url must be an http(s) URL without spaces, "
		    "commas or semicolons");
	if (cfg->ca_profiles[0] != '\0' && (dir == NULL || dir[0] == '\0'))
		dir = cfg->ca_profiles;
	if (dir != NULL && dir[0] != '\0') {
		if (strlen(dir) >= sizeof(env->profiles_dir))
			return sc_err_set(err, SC_E_CONFIG,
			    "SCEAU_PROFILES too long");
		snprintf(env->profiles_dir, sizeof(env->profiles_dir), "%s",
		    dir);
	} else {
		/* <root>/db/migrations -> <root>/policies/profiles */
		const char *m = cfg->migrations;
		const char *tail = "db/migrations";
		size_t ml = strlen(m), tl = strlen(tail);

		while (ml > 0 && m[ml - 1] == '/')
			ml--;
		if (ml >= tl && strncmp(m + ml - tl, tail, tl) == 0 &&
		    ml - tl + strlen("policies/profiles") <
			sizeof(env->profiles_dir))
			snprintf(env->profiles_dir, sizeof(env->profiles_dir),
			    "%.*spolicies/profiles", (int)(ml - tl), m);
		else
			snprintf(env->profiles_dir, sizeof(env->profiles_dir),
			    "policies/profiles");
	}
	if ((arc == NULL || arc[0] == '\0') && cfg->ca_policy_arc[0] != '\0')
		arc = cfg->ca_policy_arc;
	if (arc == NULL || arc[0] == '\0')
		arc = SC_CA_OID_ARC_DEFAULT;
	if (strlen(arc) >= sizeof(env->oid_arc) ||
	    strspn(arc, "0123456789.") != strlen(arc))
		return sc_err_set(err, SC_E_CONFIG, "bad policy OID arc");
	snprintf(env->oid_arc, sizeof(env->oid_arc), "%s", arc);
	snprintf(env->org_id, sizeof(env->org_id), "%s",
	    cfg->ca_org_id[0] != '\0' ? cfg->ca_org_id
				     : (getenv("SCEAU_ORG_ID") != NULL
					       ? getenv("SCEAU_ORG_ID")
					       : ""));
	return 0;
}

/* ------------------------------------------------------------------ */

struct load_arg {
	const char *name;
	struct sc_db_ca_row row;
	enum sc_db_qs qs;
};

static int
load_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct load_arg *a = arg;

	a->qs = sc_db_ca_get(c, a->name, &a->row, err);
	return a->qs == SC_DB_HARD ? -1 : 0;
}

int
ca_load_issuer(const struct sc_ca_env *env, const char *name, X509 **cert,
    char alias[80], struct sc_err *err)
{
	struct load_arg a;
	const unsigned char *p;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.name = name;
	*cert = NULL;
	if (sc_db_run_txn(env->db, load_fn, &a, err) != 0)
		goto out;
	if (a.qs != SC_DB_ONE) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no CA named \"%.48s\" (run `sceau init` first)", name);
		goto out;
	}
	p = a.row.cert_der;
	*cert = d2i_X509(NULL, &p, (long)a.row.cert_len);
	if (*cert == NULL) {
		sc_err_crypto(err, SC_E_DB, "CA %s: stored certificate does "
					    "not decode",
		    name);
		goto out;
	}
	snprintf(alias, 80, "%s", a.row.key_alias);
	rc = 0;
out:
	sc_db_ca_row_free(&a.row);
	return rc;
}

/* ------------------------------------------------------------------ */

struct step {
	const struct ca_issue_in *in;
	const char *serial;
	char subject[512];
	const uint8_t *der;
	size_t len;
	char not_before[32], not_after[32];
	const char *why;
	X509 *x;
	int reserved; /* a certificates row exists for s->serial */
};

static int
reserve_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct step *s = arg;
	struct sc_db_cert_new n;

	n.serial = s->serial;
	n.ca_name = s->in->ca_name;
	n.profile = s->in->prof->name;
	n.request_id = s->in->request_id;
	n.subject = s->subject;
	n.key_alias = s->in->key_alias;
	return sc_db_cert_reserve(c, &n, err);
}

static int
linted_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct step *s = arg;

	return sc_db_cert_linted(c, s->serial, s->der, s->len, s->not_before,
	    s->not_after, err);
}

static int
failed_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct step *s = arg;

	if (s->reserved && sc_db_cert_fail(c, s->serial, s->why, err) != 0)
		return -1;
	if (s->in->on_failed != NULL &&
	    s->in->on_failed(c, s->in->arg, s->serial, s->why, err) != 0)
		return -1;
	return 0;
}

static int
issued_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct step *s = arg;
	struct sc_audit_event ev;
	json_t *j;
	char *details = NULL;
	int rc = -1;

	if (s->in->ca_name != NULL &&
	    sc_db_cert_issued(c, s->serial, s->der, s->len, err) != 0)
		goto out;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "serial", s->serial,
	    "ca", s->in->ca_name != NULL ? s->in->ca_name : "self",
	    "profile", s->in->prof->name, "subject", s->subject, "not_before",
	    s->not_before, "not_after", s->not_after);
	if (j != NULL && s->in->request_id >= 0)
		json_object_set_new(j, "request_id",
		    json_integer(s->in->request_id));
	if (j != NULL && s->in->key_alias != NULL)
		json_object_set_new(j, "key_alias",
		    json_string(s->in->key_alias));
	details = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)
			    : NULL;
	json_decref(j);
	if (details == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	ev.actor = s->in->who->name;
	ev.role = s->in->who->role;
	ev.action = "cert.issue";
	ev.object = s->serial;
	ev.details = details;
	if (sc_db_audit_append(c, &ev, err) != 0)
		goto out;
	if (s->in->on_issued != NULL &&
	    s->in->on_issued(c, s->in->arg, s->serial, s->x, err) != 0)
		goto out;
	rc = 0;
out:
	free(details);
	return rc;
}

/* Marks the reservation failed (best effort: a row left 'reserved' or
 * 'linted' stays visible anyway). */
static void
mark_failed(const struct sc_ca_env *env, struct step *s, const char *why)
{
	struct sc_err e;

	sc_err_clear(&e);
	s->why = why;
	if (sc_db_run_txn(env->db, failed_fn, s, &e) != 0)
		sc_log(SC_LOG_ERR,
		    "certificate %s: cannot record the failure (%s): %s",
		    s->serial, why, e.msg);
}

int
ca_issue(const struct sc_ca_env *env, const struct ca_issue_in *in, X509 **out,
    char serial_hex[41], struct sc_err *err)
{
	struct ca_tbs_in t;
	struct step s;
	EVP_PKEY *issuer_pub, *throwaway = NULL, *key = NULL;
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	uint8_t serial[20], *tbs1 = NULL, *tbs2 = NULL, *der = NULL;
	unsigned char *p;
	size_t slen = 0, tbs1_len = 0, tbs2_len = 0;
	char finding[512], why[600], *subjtxt = NULL;
	const EVP_MD *md;
	int reserved = 0, n, rc = -1;
	struct sc_err e;

	*out = NULL;
	serial_hex[0] = '\0';
	memset(&s, 0, sizeof(s));
	s.in = in;
	s.serial = serial_hex;
	issuer_pub = in->issuer != NULL ? X509_get0_pubkey(in->issuer)
					: in->pub;
	if (issuer_pub == NULL) {
		sc_err_crypto(err, SC_E_CRYPTO, "issuer key undecodable");
		goto out;
	}
	md = ca_sign_md(issuer_pub);
	if ((subj = ca_subject_name(in->subj, err)) == NULL ||
	    (subjtxt = ca_name_str(subj)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(s.subject, sizeof(s.subject), "%s", subjtxt);

	/* 1. Reserve the serial (RFC 5280 §4.1.2.2: unique per issuer). */
	for (int tries = 0;; tries++) {
		if (ca_serial_new(serial, &slen, serial_hex, err) != 0)
			goto out;
		if (in->ca_name == NULL)
			break; /* a root: recorded in table ca by the caller */
		sc_err_clear(&e);
		if (sc_db_run_txn(env->db, reserve_fn, &s, &e) == 0) {
			reserved = 1;
			s.reserved = 1;
			break;
		}
		if (e.code != SC_E_CONFLICT || tries + 1 >= RESERVE_TRIES) {
			if (err->code == SC_E_OK)
				*err = e;
			goto out;
		}
	}

	/* 2. Build, sign with a throw-away key, lint. */
	memset(&t, 0, sizeof(t));
	t.prof = in->prof;
	t.subj = in->subj;
	t.pub = in->pub;
	t.issuer = in->issuer;
	t.issuer_pub = issuer_pub;
	t.issuer_name = in->ca_name != NULL ? in->ca_name : "root";
	t.serial = serial;
	t.serial_len = slen;
	t.key_in_hsm = in->key_alias != NULL;
	t.public_url = env->public_url;
	t.oid_arc = env->oid_arc;
	t.not_before = sc_time_now().sec;
	if ((x = ca_cert_build(&t, err)) == NULL)
		goto fail;
	if ((throwaway = ca_throwaway_key(issuer_pub, err)) == NULL)
		goto fail;
	if (X509_sign(x, throwaway, md) <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot sign with the throw-away key");
		goto fail;
	}
	n = ca_lint(x, in->prof, in->issuer, in->key_alias != NULL,
	    env->oid_arc, finding, sizeof(finding), err);
	if (n != 0) {
		if (n > 0) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "pre-issuance lint: %s", finding);
			sc_log(SC_LOG_WARNING,
			    "certificate %s: lint finding: %s", serial_hex,
			    finding);
		}
		goto fail;
	}
	if (ca_tbs_der(x, &tbs1, &tbs1_len, err) != 0 ||
	    ca_time_str(X509_get0_notBefore(x), s.not_before) != 0 ||
	    ca_time_str(X509_get0_notAfter(x), s.not_after) != 0)
		goto fail;

	/* 3. Store the linted TBS. */
	s.der = tbs1;
	s.len = tbs1_len;
	if (reserved && sc_db_run_txn(env->db, linted_fn, &s, err) != 0)
		goto fail;

	/* 4. Sign in the HSM. */
	if ((key = sc_hsm_key_get1(env->hsm, in->issuer_alias, err)) == NULL)
		goto fail;
	if (X509_sign(x, key, md) <= 0) {
		sc_err_crypto(err, SC_E_HSM, "the HSM did not sign with %s",
		    in->issuer_alias);
		goto fail;
	}

	/* 5. The signed TBS must be the linted one, byte for byte. */
	if (ca_tbs_der(x, &tbs2, &tbs2_len, err) != 0)
		goto fail;
	if (tbs2_len != tbs1_len || memcmp(tbs1, tbs2, tbs1_len) != 0) {
		sc_err_set(err, SC_E_INTERNAL,
		    "the signed TBSCertificate differs from the linted one");
		goto fail;
	}
	if (X509_verify(x, issuer_pub) != 1) {
		sc_err_crypto(err, SC_E_HSM,
		    "the HSM signature does not verify with the CA key");
		goto fail;
	}

	/* 6. Store the certificate with its audit event. */
	p = NULL;
	n = i2d_X509(x, &p);
	if (n <= 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot encode the certificate");
		goto fail;
	}
	der = p;
	s.der = der;
	s.len = (size_t)n;
	s.x = x;
	if (sc_db_run_txn(env->db, issued_fn, &s, err) != 0)
		goto fail_db;
	sc_log(SC_LOG_NOTICE, "certificate %s: issued by %s, profile %s, %s",
	    serial_hex, in->ca_name != NULL ? in->ca_name : "self",
	    in->prof->name, s.subject);
	*out = x; /* the caller X509_free()s it */
	x = NULL;
	rc = 0;
	goto out;
fail:
	if (reserved || in->on_failed != NULL) {
		snprintf(why, sizeof(why), "%s",
		    err->msg[0] != '\0' ? err->msg : "issuance failed");
		mark_failed(env, &s, why);
	}
	goto out;
fail_db:
	/*
	 * The signed certificate was not stored: it is destroyed here and
	 * never returned; its row stays 'linted' (visible). Marking it
	 * failed may succeed if the database came back.
	 */
	snprintf(why, sizeof(why), "not stored: %s", err->msg);
	mark_failed(env, &s, why);
out:
	OPENSSL_free(der);
	free(tbs1);
	free(tbs2);
	free(subjtxt);
	X509_NAME_free(subj);
	EVP_PKEY_free(throwaway);
	EVP_PKEY_free(key);
	X509_free(x);
	return rc;
}
