/*
 * ca_init.c: the hierarchy (key ceremony) and the CA listing.
 *
 *   root (self-signed, profile root-ca)
 *   ├── personnes          natural persons (issuing-ca)
 *   │   └── OCSP responder (ocsp)
 *   └── personnes-morales  legal persons' seals (issuing-ca)
 *       ├── OCSP responder (ocsp)
 *       └── TSA unit       (tsa): the TSU is a unit of the service, a
 *                          legal person, so the legal persons' CA
 *                          issues it (RFC 3161 §2.3 EKU timeStamping).
 *
 * Every key is generated in the HSM (sc_ca_key_generate, audited
 * "key.generate"); every certificate goes through ca_issue() (Boulder's
 * cycle; the root's own certificate has no certificates row, table ca
 * holds it). Aliases carry a random suffix so that a failed ceremony
 * never blocks the next one on the same token.
 *
 * ub-organization-name is 64 (RFC 5280 Appendix A): the demonstration
 * marker "(démonstration)" is in the commonName, not in O.
 */
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

#define ORG_NAME "Service de Certification et de Signature Électronique"
#define DEMO_ORG_ID "NTRML-DEMO-0001"
#define DEMO " (démonstration)"

/* What the on_issued hook records for one unit. */
struct unit {
	const char *name;     /* CA name, or "ocsp"/"tsa" */
	const char *kind;     /* root, issuing, ocsp, tsa */
	const char *parent;   /* issuing CA, "" for the root */
	const char *key_alias;
	const struct sc_actor *who;
};

static int
ca_row_fn(struct sc_db_conn *c, void *arg, const char *serial, X509 *x,
    struct sc_err *err)
{
	struct unit *u = arg;
	struct sc_db_ca_row row;
	struct sc_audit_event ev;
	unsigned char nh[EVP_MAX_MD_SIZE], kh[EVP_MAX_MD_SIZE];
	unsigned int nl = 0, kl = 0;
	unsigned char *der = NULL;
	char na[32], *subj = NULL, *details = NULL;
	json_t *j;
	int n, rc = -1;

	memset(&row, 0, sizeof(row));
	if (X509_NAME_digest(X509_get_subject_name(x), EVP_sha1(), nh, &nl) !=
		1 ||
	    X509_pubkey_digest(x, EVP_sha1(), kh, &kl) != 1 || nl != 20 ||
	    kl != 20 || ca_time_str(X509_get0_notAfter(x), na) != 0) {
		sc_err_crypto(err, SC_E_CRYPTO, "cannot hash the CA's name");
		goto out;
	}
	if ((n = i2d_X509(x, &der)) <= 0 ||
	    (subj = ca_name_str(X509_get_subject_name(x))) == NULL) {
		sc_err_crypto(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	if (strcmp(u->kind, "root") == 0 || strcmp(u->kind, "issuing") == 0) {
		snprintf(row.name, sizeof(row.name), "%s", u->name);
		snprintf(row.kind, sizeof(row.kind), "%s", u->kind);
		snprintf(row.parent, sizeof(row.parent), "%s", u->parent);
		snprintf(row.key_alias, sizeof(row.key_alias), "%s",
		    u->key_alias);
		snprintf(row.subject, sizeof(row.subject), "%s", subj);
		row.cert_der = der;
		row.cert_len = (size_t)n;
		if (sc_db_ca_insert(c, &row, nh, kh, na, err) != 0)
			goto out;
	} else if (sc_db_svc_insert(c, u->kind, u->parent, u->key_alias,
		       serial, der, (size_t)n, na, err) != 0) {
		goto out;
	}
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", u->kind, "serial",
	    serial, "key_alias", u->key_alias, "subject", subj, "issuer",
	    u->parent[0] != '\0' ? u->parent : "self");
	details = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)
			    : NULL;
	json_decref(j);
	if (details == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	ev.actor = u->who->name;
	ev.role = u->who->role;
	ev.action = strcmp(u->kind, "root") == 0 ||
		strcmp(u->kind, "issuing") == 0
	    ? "ca.create"
	    : "service_cert.create";
	ev.object = u->name;
	ev.details = details;
	if (sc_db_audit_append(c, &ev, err) != 0)
		goto out;
	rc = 0;
out:
	free(details);
	free(subj);
	OPENSSL_free(der);
	return rc;
}

struct exists_arg {
	int64_t n;
};

static int
exists_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct exists_arg *a = arg;

	if (sc_db_ca_lock(c, err) != 0)
		return -1;
	return sc_db_ca_count(c, &a->n, err);
}

/* The first key type the profile allows (ec-p256 < ec-p384 < rsa). */
static const char *
pick_type(const struct ca_profile *p)
{
	for (unsigned t = 0; t < 5; t++)
		if (p->key_types & CA_KT_BIT(t))
			return sc_hsm_keytype_name((enum sc_hsm_keytype)t);
	return "ec-p256";
}

/* Generates "<prefix>-<8 hex>" in the HSM with the profile's key type. */
static int
new_key(const struct sc_ca_env *env, const struct sc_actor *who,
    const char *prefix, const struct ca_profile *p, char alias[80],
    struct sc_err *err)
{
	uint8_t r[4];
	char hex[9];

	if (sc_rand_bytes(r, sizeof(r), err) != 0)
		return -1;
	sc_hex_encode(r, sizeof(r), hex);
	snprintf(alias, 80, "%s-%s", prefix, hex);
	return sc_ca_key_generate(env->hsm, env->db, who, alias, pick_type(p),
	    NULL, err);
}

/* The subject of a unit of the service, checked against @prof. */
static int
unit_subject(const struct ca_profile *prof, const char *cn,
    const char *orgid, struct ca_subject *subj, struct sc_err *err)
{
	memset(subj, 0, sizeof(*subj));
	snprintf(subj->cn, sizeof(subj->cn), "%s", cn);
	snprintf(subj->org, sizeof(subj->org), "%s", ORG_NAME);
	snprintf(subj->orgid, sizeof(subj->orgid), "%s", orgid);
	snprintf(subj->country, sizeof(subj->country), "ML");
	snprintf(subj->locality, sizeof(subj->locality), "Bamako");
	subj->present = CA_F_CN | CA_F_ORG | CA_F_ORGID | CA_F_COUNTRY |
	    CA_F_LOCALITY;
	return ca_subject_check(subj, prof, err);
}

/* One unit: key, subject, certificate from @issuer. */
static int
make_unit(const struct sc_ca_env *env, const struct sc_actor *who,
    const struct ca_profile *prof, const char *name, const char *kind,
    const char *cn, const char *orgid, const char *issuer_name,
    X509 *issuer, const char *issuer_alias, X509 **out, char alias[80],
    struct sc_ca_init_item *item, struct sc_err *err)
{
	struct ca_issue_in in;
	struct ca_subject subj;
	struct unit u;
	EVP_PKEY *pub = NULL;
	char prefix[48], serial[41], *s = NULL;
	int rc = -1;

	snprintf(prefix, sizeof(prefix), "%s%s",
	    strcmp(kind, "root") == 0 || strcmp(kind, "issuing") == 0 ? "ca-"
								      : "",
	    name);
	if (new_key(env, who, prefix, prof, alias, err) != 0)
		goto out;
	if ((pub = sc_hsm_pubkey_get1(env->hsm, alias, err)) == NULL)
		goto out;
	if (unit_subject(prof, cn, orgid, &subj, err) != 0)
		goto out;
	u.name = name;
	u.kind = kind;
	u.parent = issuer_name != NULL ? issuer_name : "";
	u.key_alias = alias;
	u.who = who;
	memset(&in, 0, sizeof(in));
	in.prof = prof;
	in.subj = &subj;
	in.pub = pub;
	in.key_alias = alias;
	in.ca_name = issuer_name;
	in.issuer = issuer;
	in.issuer_alias = issuer != NULL ? issuer_alias : alias;
	in.request_id = -1;
	in.who = who;
	in.on_issued = ca_row_fn;
	in.arg = &u;
	if (ca_issue(env, &in, out, serial, err) != 0)
		goto out;
	if (item != NULL) {
		memset(item, 0, sizeof(*item));
		snprintf(item->name, sizeof(item->name), "%s", name);
		snprintf(item->key_alias, sizeof(item->key_alias), "%s", alias);
		snprintf(item->serial, sizeof(item->serial), "%s", serial);
		if ((s = ca_name_str(X509_get_subject_name(*out))) != NULL)
			snprintf(item->subject, sizeof(item->subject), "%s", s);
	}
	rc = 0;
out:
	free(s);
	EVP_PKEY_free(pub);
	return rc;
}

int
sc_ca_init(const struct sc_ca_env *env, const struct sc_actor *who, int demo,
    struct sc_ca_init_item *items, size_t maxitems, size_t *nitems,
    struct sc_err *err)
{
	static const struct {
		const char *name;
		const char *cn;
		const char *ocsp_cn;
	} issuing[] = {
		{"personnes", "SCSE AC Personnes", "SCSE OCSP Personnes"},
		{"personnes-morales", "SCSE AC Personnes Morales",
		    "SCSE OCSP Personnes Morales"},
	};
	struct ca_profile p_root, p_ca, p_ocsp, p_tsa;
	struct exists_arg ex = {0};
	X509 *root = NULL, *ca[2] = {NULL, NULL}, *svc = NULL;
	char root_alias[80], ca_alias[2][80], alias[80], cn[128];
	const char *orgid = DEMO_ORG_ID, *mark = demo ? DEMO : "";
	size_t k = 0;
	int rc = -1;

	if (nitems != NULL)
		*nitems = 0;
	if (!demo) {
		orgid = env->org_id;
		if (orgid[0] == '\0')
			return sc_err_set(err, SC_E_CONFIG,
			    "the service's organizationIdentifier is not set "
			    "([ca] organization_identifier, e.g. NTRML-...); "
			    "use --demo for a demonstration hierarchy");
	}
	if (sc_ca_profiles_check(env, err) != 0 ||
	    ca_profile_load(env->profiles_dir, "root-ca", &p_root, err) != 0 ||
	    ca_profile_load(env->profiles_dir, "issuing-ca", &p_ca, err) !=
		0 ||
	    ca_profile_load(env->profiles_dir, "ocsp", &p_ocsp, err) != 0 ||
	    ca_profile_load(env->profiles_dir, "tsa", &p_tsa, err) != 0)
		return -1;
	if (sc_db_run_txn(env->db, exists_fn, &ex, err) != 0)
		return -1;
	if (ex.n > 0)
		return sc_err_set(err, SC_E_CONFLICT,
		    "a hierarchy already exists (%lld CA): init refused",
		    (long long)ex.n);

	/* Pre-flight: every subject fits its profile before any key is
	 * made, so a bad profile never leaves half a hierarchy. */
	{
		struct ca_subject sj;
		const struct ca_profile *ps[4] = {&p_root, &p_ca, &p_ocsp,
		    &p_tsa};

		for (size_t i = 0; i < 4; i++)
			if (unit_subject(ps[i], "SCSE Autorité Racine" DEMO,
				orgid, &sj, err) != 0)
				return -1;
	}
#define ITEM() (items != NULL && k < maxitems ? &items[k++] : NULL)
	snprintf(cn, sizeof(cn), "SCSE Autorité Racine%s", mark);
	if (make_unit(env, who, &p_root, "root", "root", cn, orgid, NULL, NULL,
		NULL, &root, root_alias, ITEM(), err) != 0)
		goto out;
	for (size_t i = 0; i < 2; i++) {
		snprintf(cn, sizeof(cn), "%s%s", issuing[i].cn, mark);
		if (make_unit(env, who, &p_ca, issuing[i].name, "issuing", cn,
			orgid, "root", root, root_alias, &ca[i], ca_alias[i],
			ITEM(), err) != 0)
			goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		char unit[48];

		snprintf(cn, sizeof(cn), "%s%s", issuing[i].ocsp_cn, mark);
		snprintf(unit, sizeof(unit), "ocsp-%s", issuing[i].name);
		if (make_unit(env, who, &p_ocsp, unit, "ocsp", cn, orgid,
			issuing[i].name, ca[i], ca_alias[i], &svc, alias,
			ITEM(), err) != 0)
			goto out;
		X509_free(svc);
		svc = NULL;
	}
	snprintf(cn, sizeof(cn), "SCSE Horodatage%s", mark);
	if (make_unit(env, who, &p_tsa, "tsa", "tsa", cn, orgid,
		"personnes-morales", ca[1], ca_alias[1], &svc, alias, ITEM(),
		err) != 0)
		goto out;
#undef ITEM
	if (nitems != NULL)
		*nitems = k;
	sc_log(SC_LOG_NOTICE, "ca: hierarchy created by %s (%s)%s", who->name,
	    who->role, demo ? ", demonstration names" : "");
	rc = 0;
out:
	X509_free(root);
	X509_free(ca[0]);
	X509_free(ca[1]);
	X509_free(svc);
	return rc;
}

/* The value of @nid in @n as UTF-8, or "" (into @out, @len bytes). */
static void
name_entry(const X509_NAME *n, int nid, char *out, size_t len)
{
	int i = X509_NAME_get_index_by_NID(n, nid, -1);
	const ASN1_STRING *v = i >= 0 ? X509_NAME_ENTRY_get_data(
					    X509_NAME_get_entry(n, i))
				      : NULL;
	unsigned char *u = NULL;
	int ul = v != NULL ? ASN1_STRING_to_UTF8(&u, v) : -1;

	out[0] = '\0';
	if (ul >= 0 && (size_t)ul < len) {
		memcpy(out, u, (size_t)ul);
		out[ul] = '\0';
	}
	OPENSSL_free(u);
}

static int
valid_ca_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 40 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

struct taken_arg {
	const char *name;
	enum sc_db_qs qs;
};

static int
taken_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct taken_arg *a = arg;
	struct sc_db_ca_row row;

	memset(&row, 0, sizeof(row));
	a->qs = sc_db_ca_get(c, a->name, &row, err);
	sc_db_ca_row_free(&row);
	return a->qs == SC_DB_HARD ? -1 : 0;
}

int
sc_ca_add(const struct sc_ca_env *env, const struct sc_actor *who,
    const char *name, const char *cn, struct sc_ca_init_item *items,
    size_t maxitems, size_t *nitems, struct sc_err *err)
{
	struct ca_profile p_ca, p_ocsp;
	struct taken_arg t = {name, SC_DB_NONE};
	struct ca_subject sj;
	X509 *root = NULL, *ca = NULL, *svc = NULL;
	char root_alias[80], ca_alias[80], alias[80], orgid[128], rcn[128];
	char full[128], ocsp_cn[128], unit[48];
	const char *mark = "";
	size_t k = 0, ml = strlen(DEMO);
	int rc = -1;

	if (nitems != NULL)
		*nitems = 0;
	if (!valid_ca_name(name) || strcmp(name, "root") == 0 ||
	    strncmp(name, "ocsp-", 5) == 0 || strcmp(name, "tsa") == 0)
		return sc_err_set(err, SC_E_USAGE,
		    "CA name \"%.48s\": lower-case letters, digits and '-', "
		    "at most 40, not root/tsa/ocsp-*",
		    name);
	if (sc_ca_profiles_check(env, err) != 0 ||
	    ca_profile_load(env->profiles_dir, "issuing-ca", &p_ca, err) !=
		0 ||
	    ca_profile_load(env->profiles_dir, "ocsp", &p_ocsp, err) != 0)
		return -1;
	if (sc_db_run_txn(env->db, taken_fn, &t, err) != 0)
		return -1;
	if (t.qs == SC_DB_ONE)
		return sc_err_set(err, SC_E_CONFLICT,
		    "a CA named \"%s\" exists", name);
	if (ca_load_issuer(env, "root", &root, root_alias, err) != 0)
		return -1;
	/* The new units follow the root: same organizationIdentifier, and
	 * the demonstration marker if the root has it. */
	name_entry(X509_get_subject_name(root), NID_organizationIdentifier,
	    orgid, sizeof(orgid));
	name_entry(X509_get_subject_name(root), NID_commonName, rcn,
	    sizeof(rcn));
	if (strlen(rcn) >= ml && strcmp(rcn + strlen(rcn) - ml, DEMO) == 0)
		mark = DEMO;
	snprintf(full, sizeof(full), "%s%s", cn, mark);
	snprintf(ocsp_cn, sizeof(ocsp_cn), "OCSP %s%s", cn, mark);
	snprintf(unit, sizeof(unit), "ocsp-%s", name);
	/* Pre-flight, as in sc_ca_init: no key before the subjects fit. */
	if (unit_subject(&p_ca, full, orgid, &sj, err) != 0 ||
	    unit_subject(&p_ocsp, ocsp_cn, orgid, &sj, err) != 0) {
		err->code = SC_E_USAGE;
		goto out;
	}
#define ITEM() (items != NULL && k < maxitems ? &items[k++] : NULL)
	if (make_unit(env, who, &p_ca, name, "issuing", full, orgid, "root",
		root, root_alias, &ca, ca_alias, ITEM(), err) != 0 ||
	    make_unit(env, who, &p_ocsp, unit, "ocsp", ocsp_cn, orgid, name, ca,
		ca_alias, &svc, alias, ITEM(), err) != 0)
		goto out;
#undef ITEM
	if (nitems != NULL)
		*nitems = k;
	sc_log(SC_LOG_NOTICE, "ca: issuing CA %s added by %s (%s)", name,
	    who->name, who->role);
	rc = 0;
out:
	X509_free(root);
	X509_free(ca);
	X509_free(svc);
	return rc;
}

/* ------------------------------------------------------------------ */

struct list_arg {
	struct sc_db_ca_row *rows;
	size_t n;
};

static int
list_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct list_arg *a = arg;

	return sc_db_ca_list(c, &a->rows, &a->n, err);
}

int
sc_ca_list(const struct sc_ca_env *env, struct sc_ca_info **out, size_t *n,
    struct sc_err *err)
{
	struct list_arg a = {NULL, 0};
	struct sc_ca_info *v = NULL;

	*out = NULL;
	*n = 0;
	if (sc_db_run_txn(env->db, list_fn, &a, err) != 0)
		return -1;
	if (a.n > 0 && (v = calloc(a.n, sizeof(*v))) == NULL) {
		free(a.rows);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < a.n; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s", a.rows[i].name);
		snprintf(v[i].kind, sizeof(v[i].kind), "%s", a.rows[i].kind);
		snprintf(v[i].parent, sizeof(v[i].parent), "%s",
		    a.rows[i].parent);
		snprintf(v[i].key_alias, sizeof(v[i].key_alias), "%s",
		    a.rows[i].key_alias);
		snprintf(v[i].subject, sizeof(v[i].subject), "%s",
		    a.rows[i].subject);
	}
	free(a.rows);
	*out = v; /* the caller free()s it */
	*n = a.n;
	return 0;
}

int
sc_ca_cert_get(const struct sc_ca_env *env, const char *name, int pem,
    uint8_t **out, size_t *len, struct sc_err *err)
{
	X509 *x = NULL;
	BIO *b = NULL;
	char alias[80], *p;
	long n;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (name == NULL || strlen(name) > 40 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		strlen(name) ||
	    name[0] == '\0')
		return sc_err_set(err, SC_E_NOT_FOUND, "no such CA");
	if (ca_load_issuer(env, name, &x, alias, err) != 0)
		goto out;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    (pem ? PEM_write_bio_X509(b, x) : i2d_X509_bio(b, x)) != 1) {
		sc_err_crypto(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	n = BIO_get_mem_data(b, &p);
	if (n <= 0 || (*out = malloc((size_t)n + 1)) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*out, p, (size_t)n); /* the caller free()s it */
	(*out)[n] = 0;
	*len = (size_t)n;
	rc = 0;
out:
	BIO_free(b);
	X509_free(x);
	return rc;
}
