/*
 * ca_revoke.c: revocation (Law 2016-012 Art. 147; RFC 5280 §5.3.1
 * reasons), by an RA officer or CA administrator, or by the holder who
 * proves possession of the certificate's key (docs/pki.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sceau/ca_status.h"
#include "sceau/db.h"
#include "sceau/db_pki.h"

/* RFC 5280 §5.3.1, by code; 7 is not used. */
static const char *const reasons[] = {"unspecified", "keyCompromise",
    "cACompromise", "affiliationChanged", "superseded",
    "cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
    "privilegeWithdrawn", "aACompromise"};
#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

const char *
sc_ca_reason_name(int code)
{
	if (code < 0 || (size_t)code >= NREASONS)
		return NULL;
	return reasons[code];
}

int
sc_ca_reason_parse(const char *name, int *code, struct sc_err *err)
{
	if (name != NULL)
		for (size_t i = 0; i < NREASONS; i++) {
			if (reasons[i] == NULL || strcmp(name, reasons[i]) != 0)
				continue;
			if (i == SC_CA_REASON_REMOVE_FROM_CRL)
				return sc_err_set(err, SC_E_INVALID_INPUT,
				    "removeFromCRL is not allowed: a "
				    "revocation is final");
			*code = (int)i;
			return 0;
		}
	return sc_err_set(err, SC_E_INVALID_INPUT,
	    "unknown revocation reason (RFC 5280 §5.3.1: unspecified, "
	    "keyCompromise, cACompromise, affiliationChanged, superseded, "
	    "cessationOfOperation, certificateHold, privilegeWithdrawn, "
	    "aACompromise)");
}

/* @return the value of @n decimal digits at @s, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
sc_ca_time_parse(const char *s, int64_t *out, const char *what,
    struct sc_err *err)
{
	struct tm tm;
	const char *p;
	int y, mo, d, h, mi, sec;

	if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		goto bad;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
		goto bad;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;
	*out = (int64_t)timegm(&tm);
	/* timegm normalises 31 February; refuse it. */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		goto bad;
	return 0;
bad:
	return sc_err_set(err, SC_E_INVALID_INPUT,
	    "%s: expected RFC 3339 UTC time, e.g. 2026-11-27T05:06:12Z", what);
}

/* Lower-cases @in into @out; 16..40 hex digits (002_ca.sql). */
static int
serial_norm(const char *in, char out[41])
{
	size_t n = in != NULL ? strlen(in) : 0;

	if (n < 16 || n > 40)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return -1;
		out[i] = ch;
	}
	out[n] = '\0';
	return 0;
}

struct revoke_arg {
	const char *actor;
	const char *role;
	char serial[41];
	int reason;
	int64_t invalidity;
	/* holder revocation: the signed message and its signature */
	const char *msg;
	const uint8_t *sig;
	size_t sig_len;
	struct sc_ca_revocation out;
};

/* Checks @sig over a->msg with the public key of @der. */
static int
holder_check(const struct revoke_arg *a, const uint8_t *der, size_t len,
    struct sc_err *err)
{
	const unsigned char *p = der;
	EVP_MD_CTX *ctx = NULL;
	X509 *x = NULL;
	int rc = -1;

	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		sc_err_crypto(err, SC_E_DB, "stored certificate is not DER");
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
		X509_get0_pubkey(x)) != 1) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot verify with this key");
		goto out;
	}
	if (EVP_DigestVerify(ctx, a->sig, a->sig_len,
		(const unsigned char *)a->msg, strlen(a->msg)) != 1) {
		sc_err_crypto(err, SC_E_FORBIDDEN,
		    "the signature does not verify with the certificate's "
		    "public key");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	return rc;
}

static int
revoke_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct revoke_arg *a = arg;
	struct sc_db_pki_certrow row;
	struct sc_audit_event ev;
	char inv[32], at[32];
	char *details = NULL;
	json_t *j = NULL;
	enum sc_db_qs q;
	int rc = -1;

	memset(&row, 0, sizeof(row));
	if ((q = sc_db_pki_cert_lock(c, a->serial, &row, err)) == SC_DB_HARD ||
	    q == SC_DB_SOFT)
		goto out;
	/* Reserved, linted or failed rows are not certificates. */
	if (q == SC_DB_NONE || strcmp(row.status, "issued") != 0) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no issued certificate has serial %s", a->serial);
		goto out;
	}
	if (row.revoked_at >= 0) {
		sc_err_set(err, SC_E_CONFLICT,
		    "certificate %s is already revoked", a->serial);
		goto out;
	}
	if (a->msg != NULL &&
	    holder_check(a, row.cert_der, row.cert_len, err) != 0)
		goto out;
	if (sc_db_pki_cert_revoke(c, row.ca_name, a->serial, a->reason,
		a->invalidity, &a->out.revoked_at, err) != 0)
		goto out;
	inv[0] = '\0';
	if (a->invalidity >= 0)
		sc_time_fmt((struct sc_time){a->invalidity, 0}, 0, inv);
	sc_time_fmt((struct sc_time){a->out.revoked_at, 0}, 0, at);
	j = json_pack("{s:s, s:s, s:s, s:s?, s:b}", "ca", row.ca_name,
	    "reason", sc_ca_reason_name(a->reason), "revoked_at", at,
	    "invalidity_date", inv[0] != '\0' ? inv : NULL, "by_holder",
	    a->msg != NULL);
	if (j == NULL ||
	    (details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	ev.actor = a->actor;
	ev.role = a->role;
	ev.action = "cert.revoke";
	ev.object = a->serial;
	ev.details = details;
	if (sc_db_audit_append(c, &ev, err) != 0)
		goto out;
	snprintf(a->out.ca_name, sizeof(a->out.ca_name), "%s", row.ca_name);
	rc = 0;
out:
	json_decref(j);
	free(details);
	sc_db_pki_certrow_clear(&row);
	return rc;
}

/* After the commit: the new CRL, at once (docs/pki.md). */
static void
crl_after(struct sc_db *db, struct sc_hsm *hsm, struct revoke_arg *a)
{
	struct sc_ca_crl_info info;
	struct sc_err e;

	if (hsm == NULL)
		return;
	sc_err_clear(&e);
	if (sc_ca_crl_issue(db, hsm, a->out.ca_name, NULL, NULL, NULL, &info,
		&e) != 0) {
		/* The revocation stands; the CRL worker reissues. */
		sc_log_err(a->serial, &e);
		return;
	}
	a->out.crl_issued = 1;
	a->out.crl_number = info.number;
}

static int
revoke_run(struct sc_db *db, struct sc_hsm *hsm, struct revoke_arg *a,
    struct sc_ca_revocation *out, struct sc_err *err)
{
	snprintf(a->out.serial, sizeof(a->out.serial), "%s", a->serial);
	a->out.reason = a->reason;
	a->out.invalidity = a->invalidity;
	struct timespec committed, now, pause;
	int64_t left_ms;

	if (sc_db_run_txn(db, revoke_txn, a, err) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &committed);
	sc_log(SC_LOG_NOTICE, "%s: revoked (%s) by %s", a->serial,
	    sc_ca_reason_name(a->reason), a->actor);
	crl_after(db, hsm, a);
	/*
	 * Wait out the OCSP responders' epoch lease (ca_ocsp.c): from now on
	 * every node's responder has seen the new epoch or reads the row.
	 */
	clock_gettime(CLOCK_MONOTONIC, &now);
	left_ms = SC_CA_OCSP_LEASE_MS + SC_CA_OCSP_LEASE_MARGIN_MS -
	    ((int64_t)(now.tv_sec - committed.tv_sec) * 1000 +
		(now.tv_nsec - committed.tv_nsec) / 1000000);
	if (left_ms > 0) {
		pause.tv_sec = (time_t)(left_ms / 1000);
		pause.tv_nsec = (long)(left_ms % 1000) * 1000000L;
		while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
			;
	}
	if (out != NULL)
		*out = a->out;
	return 0;
}

int
sc_ca_cert_revoke(struct sc_db *db, struct sc_hsm *hsm,
    const struct sc_actor *who, const char *serial, const char *reason,
    const char *invalidity_date, struct sc_ca_revocation *out,
    struct sc_err *err)
{
	struct revoke_arg a;

	memset(&a, 0, sizeof(a));
	a.invalidity = -1;
	if (who == NULL || who->role == NULL ||
	    (strcmp(who->role, "ca_admin") != 0 &&
		strcmp(who->role, "ra_officer") != 0 &&
		strcmp(who->role, "operator") != 0))
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "only an RA officer or a CA administrator may revoke");
	a.actor = who->name != NULL ? who->name : "unknown";
	a.role = who->role;
	if (serial_norm(serial, a.serial) != 0)
		return sc_err_set(err, SC_E_NOT_FOUND,
		    "no issued certificate has this serial");
	if (sc_ca_reason_parse(reason, &a.reason, err) != 0)
		return -1;
	if (invalidity_date != NULL) {
		if (sc_ca_time_parse(invalidity_date, &a.invalidity,
			"invalidity_date", err) != 0)
			return -1;
		/* RFC 5280 §5.3.2: when the key was (suspected) compromised. */
		if (a.invalidity > sc_time_now().sec + 60)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "invalidity_date is in the future");
	}
	return revoke_run(db, hsm, &a, out, err);
}

int
sc_ca_cert_revoke_by_holder(struct sc_db *db, struct sc_hsm *hsm,
    const char *serial, const char *reason, const char *time_rfc3339,
    const uint8_t *sig, size_t sig_len, struct sc_ca_revocation *out,
    struct sc_err *err)
{
	struct revoke_arg a;
	char actor[64], msg[160];
	int64_t t, now = sc_time_now().sec;

	memset(&a, 0, sizeof(a));
	a.invalidity = -1;
	if (serial_norm(serial, a.serial) != 0)
		return sc_err_set(err, SC_E_NOT_FOUND,
		    "no issued certificate has this serial");
	if (sc_ca_reason_parse(reason, &a.reason, err) != 0)
		return -1;
	/* What a holder can know of; the others are the CA's to state. */
	if (a.reason != 0 && a.reason != 1 && a.reason != 3 && a.reason != 4 &&
	    a.reason != 5)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "a holder may give unspecified, keyCompromise, "
		    "affiliationChanged, superseded or cessationOfOperation");
	if (sc_ca_time_parse(time_rfc3339, &t, "time", err) != 0)
		return -1;
	if (t < now - SC_CA_HOLDER_REVOKE_SKEW ||
	    t > now + SC_CA_HOLDER_REVOKE_SKEW)
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "the request's time is more than %d s from the server's "
		    "clock",
		    SC_CA_HOLDER_REVOKE_SKEW);
	if (sig == NULL || sig_len == 0 || sig_len > 2048)
		return sc_err_set(err, SC_E_INVALID_INPUT, "no signature");
	snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s",
	    SC_CA_HOLDER_REVOKE_PREFIX, a.serial, reasons[a.reason],
	    time_rfc3339);
	snprintf(actor, sizeof(actor), "holder:%s", a.serial);
	a.actor = actor;
	a.role = "holder";
	a.msg = msg;
	a.sig = sig;
	a.sig_len = sig_len;
	return revoke_run(db, hsm, &a, out, err);
}
