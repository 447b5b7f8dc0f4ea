/*
 * ca_request.c: the registration workflow (EN 319 411-1 trusted roles,
 * four-eyes): an RA officer submits a request (CSR or HSM key alias,
 * profile, subject, evidence reference); distinct officers who are not
 * the submitter approve it; when the profile's number of approvals is
 * reached the certificate is issued in the same call. Every step writes
 * its audit event in the transaction that makes the change.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sceau/db.h"
#include "sceau/db_ca.h"
#include "sceau/hsm.h"

#include "ca_int.h"

#define EVIDENCE_MAX 255
#define REASON_MAX 255

/* Roles that may act on requests: CONTRACT.md plus the CLI operator. */
static int
role_ok(const struct sc_actor *who)
{
	return who != NULL && who->name != NULL && who->name[0] != '\0' &&
	    who->role != NULL &&
	    (strcmp(who->role, "ra_officer") == 0 ||
		strcmp(who->role, "ca_admin") == 0 ||
		strcmp(who->role, "operator") == 0);
}

static int
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
audit(struct sc_db_conn *c, const struct sc_actor *who, const char *action,
    int64_t id, json_t *j, struct sc_err *err)
{
	struct sc_audit_event ev;
	char obj[32], *details;
	int rc;

	details = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)
			    : NULL;
	json_decref(j);
	if (details == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	snprintf(obj, sizeof(obj), "request:%" PRId64, id);
	ev.actor = who->name;
	ev.role = who->role;
	ev.action = action;
	ev.object = obj;
	ev.details = details;
	rc = sc_db_audit_append(c, &ev, err);
	free(details);
	return rc;
}

/*
 * The subscriber's public key: from a CSR, or the HSM alias.
 * @param stored the CSR is requests.csr_der (approval): its
 * self-signature was verified at submission, before the row was
 * written, and is not verified again (ca_csr_stored_key()). At
 * submission (stored 0) it is verified, and @der receives the bytes to
 * store.
 */
static EVP_PKEY *
subscriber_key(const struct sc_ca_env *env, const struct ca_profile *prof,
    const uint8_t *csr, size_t csr_len, int stored, const char *alias,
    uint8_t **der, size_t *der_len, struct sc_err *err)
{
	EVP_PKEY *pk = NULL;

	if (csr != NULL) {
		if (prof->secure_device) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "profile %s requires a key generated in the HSM "
			    "(key_alias), not a CSR (Law 2016-012 Art. 112)",
			    prof->name);
			return NULL;
		}
		pk = stored ? ca_csr_stored_key(csr, csr_len, err)
			    : ca_csr_parse(csr, csr_len, der, der_len, err);
		if (pk != NULL &&
		    ca_key_check(pk, prof->key_types, SC_E_INVALID_CSR, err) !=
			0) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		return pk;
	}
	pk = sc_hsm_pubkey_get1(env->hsm, alias, err);
	if (pk != NULL &&
	    ca_key_check(pk, prof->key_types, SC_E_INVALID_INPUT, err) != 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

/* ------------------------------------------------------------------ */
/* submit                                                              */

struct submit_arg {
	const struct sc_actor *who;
	struct sc_db_req_row row;
	char *subject_json;
	int64_t id;
};

static int
submit_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct submit_arg *a = arg;
	json_t *j;

	if (sc_db_req_insert(c, &a->row, &a->id, err) != 0)
		return -1;
	j = json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:o?}", "profile",
	    a->row.profile, "key_source", a->row.csr_der != NULL ? "csr" : "hsm",
	    "approvals_needed", (int)a->row.approvals_needed, "key_alias",
	    a->row.key_alias[0] != '\0' ? a->row.key_alias : NULL, "evidence",
	    a->row.evidence[0] != '\0' ? a->row.evidence : NULL, "subject",
	    json_loads(a->subject_json, 0, NULL));
	return audit(c, a->who, "request.submit", a->id, j, err);
}

int
sc_ca_request_submit(const struct sc_ca_env *env, const struct sc_actor *who,
    const struct sc_ca_submit *in, int64_t *id, struct sc_err *err)
{
	struct submit_arg a;
	struct ca_profile prof;
	struct ca_subject subj;
	EVP_PKEY *pk = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	*id = -1;
	if (!role_ok(who))
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "only RA officers and CA administrators submit requests");
	if (ca_profile_load(env->profiles_dir, in->profile, &prof, err) != 0)
		goto out;
	if (prof.kind != CA_KIND_EE || strcmp(prof.issuer, "any") == 0) {
		sc_err_set(err, SC_E_UNKNOWN_PROFILE,
		    "profile %s is made by `sceau init`, not by requests",
		    prof.name);
		goto out;
	}
	if ((in->csr != NULL) == (in->key_alias != NULL && in->key_alias[0])) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "give exactly one of a CSR or an HSM key alias");
		goto out;
	}
	if (in->key_alias != NULL && in->key_alias[0] != '\0' &&
	    !text_ok(in->key_alias, 64)) {
		sc_err_set(err, SC_E_INVALID_INPUT, "bad key alias");
		goto out;
	}
	if (in->evidence != NULL && in->evidence[0] != '\0' &&
	    !text_ok(in->evidence, EVIDENCE_MAX)) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "evidence: at most %d characters, no control characters",
		    EVIDENCE_MAX);
		goto out;
	}
	if (ca_subject_parse(in->subject_json, in->subject_len, &prof, &subj,
		err) != 0)
		goto out;
	/* A CSR is checked before anything is stored (DESIGN.md 5). */
	if ((pk = subscriber_key(env, &prof, in->csr, in->csr_len, 0,
		 in->key_alias, &der, &der_len, err)) == NULL)
		goto out;
	if ((a.subject_json = ca_subject_json(&subj)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	a.who = who;
	snprintf(a.row.profile, sizeof(a.row.profile), "%s", prof.name);
	a.row.csr_der = der;
	a.row.csr_len = der_len;
	if (in->csr == NULL)
		snprintf(a.row.key_alias, sizeof(a.row.key_alias), "%s",
		    in->key_alias);
	a.row.subject = a.subject_json;
	if (in->evidence != NULL)
		snprintf(a.row.evidence, sizeof(a.row.evidence), "%s",
		    in->evidence);
	a.row.approvals_needed = prof.approvals;
	snprintf(a.row.submitted_by, sizeof(a.row.submitted_by), "%s",
	    who->name);
	if (sc_db_run_txn(env->db, submit_fn, &a, err) != 0)
		goto out;
	*id = a.id;
	sc_log(SC_LOG_NOTICE, "request %" PRId64 ": submitted by %s, profile %s",
	    a.id, who->name, prof.name);
	rc = 0;
out:
	free(a.subject_json);
	free(der);
	EVP_PKEY_free(pk);
	return rc;
}

/* ------------------------------------------------------------------ */
/* state                                                               */

static void
fill_state(struct sc_ca_request_state *st, const struct sc_db_req_row *r)
{
	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	st->id = r->id;
	snprintf(st->status, sizeof(st->status), "%s", r->status);
	snprintf(st->profile, sizeof(st->profile), "%s", r->profile);
	snprintf(st->serial, sizeof(st->serial), "%s", r->serial);
	st->approvals = r->approvals;
	st->approvals_needed = r->approvals_needed;
	snprintf(st->submitted_by, sizeof(st->submitted_by), "%s",
	    r->submitted_by);
	snprintf(st->reason, sizeof(st->reason), "%s", r->reason);
}

struct get_arg {
	int64_t id;
	struct sc_db_req_row row;
	enum sc_db_qs qs;
};

static int
get_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct get_arg *a = arg;

	sc_db_req_row_free(&a->row);
	a->qs = sc_db_req_get(c, a->id, 0, &a->row, err);
	return a->qs == SC_DB_HARD ? -1 : 0;
}

int
sc_ca_request_get(const struct sc_ca_env *env, int64_t id,
    struct sc_ca_request_state *st, struct sc_err *err)
{
	struct get_arg a;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	a.id = id;
	if (sc_db_run_txn(env->db, get_fn, &a, err) != 0)
		goto out;
	if (a.qs != SC_DB_ONE) {
		sc_err_set(err, SC_E_NOT_FOUND, "no request %" PRId64, id);
		goto out;
	}
	fill_state(st, &a.row);
	rc = 0;
out:
	sc_db_req_row_free(&a.row);
	return rc;
}

/* ------------------------------------------------------------------ */
/* approve                                                             */

struct approve_arg {
	const struct sc_actor *who;
	int64_t id;
	int allow_self; /* sc_ca_cert_issue(): one-approval profiles only */
	struct sc_db_req_row row; /* as locked, before this approval */
	int ready;		  /* enough approvals now: issue */
};

static int
approve_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct approve_arg *a = arg;
	enum sc_db_qs qs;
	int64_t active;

	sc_db_req_row_free(&a->row);
	qs = sc_db_req_get(c, a->id, 1, &a->row, err);
	if (qs == SC_DB_HARD)
		return -1;
	if (qs == SC_DB_NONE)
		return sc_err_set(err, SC_E_NOT_FOUND, "no request %" PRId64,
		    a->id);
	if (strcmp(a->row.status, "pending") != 0)
		return sc_err_set(err, SC_E_CONFLICT,
		    "request %" PRId64 " is %s, not pending", a->id,
		    a->row.status);
	/* EN 319 411-1 (four-eyes): the submitter never approves. */
	if (!a->allow_self && strcmp(a->row.submitted_by, a->who->name) == 0)
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "the submitter of request %" PRId64 " cannot approve it "
		    "(four-eyes principle)",
		    a->id);
	if (a->row.approvals >= a->row.approvals_needed)
		return sc_err_set(err, SC_E_CONFLICT,
		    "request %" PRId64 " is already fully approved", a->id);
	if (sc_db_req_approve(c, a->id, a->who->name, err) != 0)
		return -1;
	if (sc_db_req_active_certs(c, a->id, &active, err) != 0)
		return -1;
	if (active > 0)
		return sc_err_set(err, SC_E_CONFLICT,
		    "request %" PRId64 " is already being issued", a->id);
	a->row.approvals++;
	a->ready = a->row.approvals >= a->row.approvals_needed;
	return audit(c, a->who, "request.approve", a->id,
	    json_pack("{s:i, s:i, s:b}", "approvals", (int)a->row.approvals,
		"approvals_needed", (int)a->row.approvals_needed, "by_submitter",
		strcmp(a->row.submitted_by, a->who->name) == 0),
	    err);
}

struct close_arg {
	const struct sc_actor *who;
	int64_t id;
	const char *status; /* issued, failed, rejected */
	const char *reason;
	const char *serial;
};

static int
close_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct close_arg *a = arg;
	const char *action = strcmp(a->status, "issued") == 0 ? "request.issue"
	    : strcmp(a->status, "failed") == 0		    ? "request.fail"
							    : "request.reject";

	if (sc_db_req_decide(c, a->id, a->status, a->reason, a->serial,
		err) != 0)
		return -1;
	return audit(c, a->who, action, a->id,
	    json_pack("{s:s, s:s?, s:s?}", "status", a->status, "reason",
		a->reason, "serial", a->serial),
	    err);
}

/* on_issued hook of ca_issue(): the request is closed with the serial
 * in the transaction that stores the certificate. */
static int
issued_hook(struct sc_db_conn *c, void *arg, const char *serial, X509 *x,
    struct sc_err *err)
{
	struct close_arg *a = arg;

	(void)x;
	a->status = "issued";
	a->reason = NULL;
	a->serial = serial;
	return close_fn(c, a, err);
}

static int
issue_request(const struct sc_ca_env *env, struct approve_arg *a,
    char serial[41], struct sc_err *err)
{
	struct ca_profile prof;
	struct ca_subject subj;
	struct ca_issue_in in;
	struct close_arg cl;
	EVP_PKEY *pk = NULL;
	X509 *issuer = NULL, *x = NULL;
	char ialias[80];
	const char *alias = a->row.key_alias[0] != '\0' ? a->row.key_alias
							 : NULL;
	int rc = -1;

	if (ca_profile_load(env->profiles_dir, a->row.profile, &prof, err) !=
		0 ||
	    ca_subject_parse(a->row.subject, strlen(a->row.subject), &prof,
		&subj, err) != 0)
		goto out;
	if ((pk = subscriber_key(env, &prof, a->row.csr_der, a->row.csr_len, 1,
		 alias, NULL, NULL, err)) == NULL)
		goto out;
	if (ca_load_issuer(env, prof.issuer, &issuer, ialias, err) != 0)
		goto out;
	memset(&cl, 0, sizeof(cl));
	cl.who = a->who;
	cl.id = a->id;
	memset(&in, 0, sizeof(in));
	in.prof = &prof;
	in.subj = &subj;
	in.pub = pk;
	in.key_alias = alias;
	in.ca_name = prof.issuer;
	in.issuer = issuer;
	in.issuer_alias = ialias;
	in.request_id = a->id;
	in.who = a->who;
	in.on_issued = issued_hook;
	in.arg = &cl;
	if (ca_issue(env, &in, &x, serial, err) != 0)
		goto out;
	rc = 0;
out:
	X509_free(x);
	X509_free(issuer);
	EVP_PKEY_free(pk);
	return rc;
}

static int
approve(const struct sc_ca_env *env, const struct sc_actor *who, int64_t id,
    int allow_self, struct sc_ca_request_state *st, struct sc_err *err)
{
	struct approve_arg a;
	struct close_arg cl;
	char serial[41] = "";
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (!role_ok(who))
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "only RA officers and CA administrators approve requests");
	a.who = who;
	a.id = id;
	a.allow_self = allow_self;
	if (sc_db_run_txn(env->db, approve_fn, &a, err) != 0)
		goto out;
	sc_log(SC_LOG_NOTICE, "request %" PRId64 ": approved by %s (%u/%u)",
	    id, who->name, a.row.approvals, a.row.approvals_needed);
	if (a.ready) {
		if (issue_request(env, &a, serial, err) != 0) {
			struct sc_err e;

			/* The request closes as failed, with the reason. */
			sc_err_clear(&e);
			cl.who = who;
			cl.id = id;
			cl.status = "failed";
			cl.reason = err->msg;
			cl.serial = NULL;
			if (sc_db_run_txn(env->db, close_fn, &cl, &e) != 0)
				sc_log(SC_LOG_ERR,
				    "request %" PRId64 ": cannot record the "
				    "failure: %s",
				    id, e.msg);
			goto out;
		}
		snprintf(a.row.status, sizeof(a.row.status), "issued");
		snprintf(a.row.serial, sizeof(a.row.serial), "%s", serial);
	}
	fill_state(st, &a.row);
	rc = 0;
out:
	sc_db_req_row_free(&a.row);
	return rc;
}

int
sc_ca_request_approve(const struct sc_ca_env *env, const struct sc_actor *who,
    int64_t id, struct sc_ca_request_state *st, struct sc_err *err)
{
	return approve(env, who, id, 0, st, err);
}

int
sc_ca_cert_issue(const struct sc_ca_env *env, const struct sc_actor *who,
    const struct sc_ca_submit *in, struct sc_ca_request_state *st,
    struct sc_err *err)
{
	struct ca_profile prof;
	int64_t id;

	if (ca_profile_load(env->profiles_dir, in->profile, &prof, err) != 0)
		return -1;
	if (prof.approvals != 1)
		return sc_err_set(err, SC_E_USAGE,
		    "profile %s needs %u approvals by officers other than the "
		    "submitter: use `sceau request submit` then `sceau "
		    "request approve`",
		    prof.name, prof.approvals);
	if (sc_ca_request_submit(env, who, in, &id, err) != 0)
		return -1;
	return approve(env, who, id, 1, st, err);
}

/* ------------------------------------------------------------------ */
/* reject                                                              */

struct reject_arg {
	struct close_arg cl;
	struct sc_db_req_row row;
};

static int
reject_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct reject_arg *a = arg;
	enum sc_db_qs qs;
	int64_t active;

	sc_db_req_row_free(&a->row);
	qs = sc_db_req_get(c, a->cl.id, 1, &a->row, err);
	if (qs == SC_DB_HARD)
		return -1;
	if (qs == SC_DB_NONE)
		return sc_err_set(err, SC_E_NOT_FOUND, "no request %" PRId64,
		    a->cl.id);
	if (strcmp(a->row.status, "pending") != 0)
		return sc_err_set(err, SC_E_CONFLICT,
		    "request %" PRId64 " is %s, not pending", a->cl.id,
		    a->row.status);
	if (sc_db_req_active_certs(c, a->cl.id, &active, err) != 0)
		return -1;
	if (active > 0)
		return sc_err_set(err, SC_E_CONFLICT,
		    "request %" PRId64 " is already being issued", a->cl.id);
	if (close_fn(c, &a->cl, err) != 0)
		return -1;
	snprintf(a->row.status, sizeof(a->row.status), "rejected");
	snprintf(a->row.reason, sizeof(a->row.reason), "%s", a->cl.reason);
	return 0;
}

int
sc_ca_request_reject(const struct sc_ca_env *env, const struct sc_actor *who,
    int64_t id, const char *reason, struct sc_ca_request_state *st,
    struct sc_err *err)
{
	struct reject_arg a;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (!role_ok(who))
		return sc_err_set(err, SC_E_FORBIDDEN,
		    "only RA officers and CA administrators reject requests");
	if (reason == NULL || !text_ok(reason, REASON_MAX))
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "a reason of 1 to %d characters is required", REASON_MAX);
	a.cl.who = who;
	a.cl.id = id;
	a.cl.status = "rejected";
	a.cl.reason = reason;
	if (sc_db_run_txn(env->db, reject_fn, &a, err) != 0)
		goto out;
	sc_log(SC_LOG_NOTICE, "request %" PRId64 ": rejected by %s", id,
	    who->name);
	fill_state(st, &a.row);
	rc = 0;
out:
	sc_db_req_row_free(&a.row);
	return rc;
}

/* ------------------------------------------------------------------ */
/* certificates                                                        */

struct cert_arg {
	char serial[41];
	struct sc_db_cert_row row;
	enum sc_db_qs qs;
};

static int
cert_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct cert_arg *a = arg;

	sc_db_cert_row_free(&a->row);
	a->qs = sc_db_cert_get(c, a->serial, &a->row, err);
	return a->qs == SC_DB_HARD ? -1 : 0;
}

int
sc_ca_cert_show(const struct sc_ca_env *env, const char *serial,
    struct sc_ca_cert_info *info, struct sc_err *err)
{
	struct cert_arg a;
	const unsigned char *p;
	X509 *x = NULL;
	BIO *b = NULL;
	char *pem;
	size_t n;
	long len;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	memset(info, 0, sizeof(*info));
	n = serial != NULL ? strlen(serial) : 0;
	if (n < 16 || n > 40 ||
	    strspn(serial, "0123456789abcdefABCDEF") != n) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no certificate with this serial (16 to 40 hex digits)");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		a.serial[i] = (char)(serial[i] | (serial[i] >= 'A' ? 0x20 : 0));
	if (sc_db_run_txn(env->db, cert_fn, &a, err) != 0)
		goto out;
	if (a.qs != SC_DB_ONE) {
		sc_err_set(err, SC_E_NOT_FOUND, "no certificate %s", a.serial);
		goto out;
	}
	snprintf(info->serial, sizeof(info->serial), "%s", a.row.serial);
	snprintf(info->ca_name, sizeof(info->ca_name), "%s", a.row.ca_name);
	snprintf(info->profile, sizeof(info->profile), "%s", a.row.profile);
	snprintf(info->status, sizeof(info->status), "%s", a.row.status);
	snprintf(info->subject, sizeof(info->subject), "%s", a.row.subject);
	snprintf(info->not_before, sizeof(info->not_before), "%s",
	    a.row.not_before);
	snprintf(info->not_after, sizeof(info->not_after), "%s",
	    a.row.not_after);
	snprintf(info->revoked_at, sizeof(info->revoked_at), "%s",
	    a.row.revoked_at);
	if (a.row.cert_der != NULL) {
		p = a.row.cert_der;
		if ((x = d2i_X509(NULL, &p, (long)a.row.cert_len)) == NULL ||
		    (b = BIO_new(BIO_s_mem())) == NULL ||
		    PEM_write_bio_X509(b, x) != 1 ||
		    (len = BIO_get_mem_data(b, &pem)) <= 0 ||
		    (info->pem = malloc((size_t)len + 1)) == NULL) {
			sc_err_crypto(err, SC_E_INTERNAL,
			    "stored certificate %s does not encode", a.serial);
			goto out;
		}
		memcpy(info->pem, pem, (size_t)len); /* the caller free()s */
		info->pem[len] = '\0';
	}
	rc = 0;
out:
	BIO_free(b);
	X509_free(x);
	sc_db_cert_row_free(&a.row);
	return rc;
}
