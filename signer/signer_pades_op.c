/*
 * signer_pades_op.c: the operation behind `sceau sign pades` and
 * POST /api/v1/sign/pades: find the certificate bound to the key, sign,
 * and record the audit event (Law 2016-012 Art. 120) before the signed
 * document is handed back: a signature the log does not know is never
 * released.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "sceau/db.h"
#include "sceau/db_ca.h"
#include "sceau/db_sign.h"
#include "sceau/hsm.h"
#include "sceau/pades.h"
#include "sceau/tsa.h"

struct lookup {
	const char *alias;
	struct sc_db_sign_cert *out;
	enum sc_db_qs qs;
};

static int
lookup_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct lookup *l = arg;

	l->qs = sc_db_sign_cert_get(c, l->alias, l->out, err);
	return l->qs == SC_DB_HARD ? -1 : 0;
}

struct audit {
	const struct sc_actor *who;
	const char *action;
	const char *alias;
	const char *details;
};

static int
audit_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct audit *a = arg;
	struct sc_audit_event ev;

	ev.actor = a->who->name;
	ev.role = a->who->role;
	ev.action = a->action;
	ev.object = a->alias;
	ev.details = a->details;
	return sc_db_audit_append(c, &ev, err);
}

static X509 *
der_x509(const struct sc_db_sign_der *d, struct sc_err *err)
{
	const unsigned char *p = d->p;
	X509 *x = d2i_X509(NULL, &p, (long)d->len);

	if (x == NULL || p != d->p + d->len) {
		X509_free(x);
		sc_err_crypto(err, SC_E_DB, "a stored certificate is not DER");
		return NULL;
	}
	return x;
}

/* sceau's own TSA unit and what a client needs to trust its tokens: the
 * hierarchy's roots as anchors, the other CAs as intermediates. */
struct ltsa {
	struct sc_tsa *unit;
	struct sc_db_ca_row *rows; /* with certificates */
	size_t nrows;
	struct sc_tsa_der trust[SC_DB_SIGN_CHAIN_MAX * 2];
	struct sc_tsa_der inter[SC_DB_SIGN_CHAIN_MAX * 2];
	X509 *x[SC_DB_SIGN_CHAIN_MAX * 4]; /* every CA certificate */
	size_t nx;
	struct sc_tsa_client client;
	struct sc_cms_tsa src;
};

static int
ca_load_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct ltsa *lt = arg;
	struct sc_db_ca_row *list = NULL;
	size_t n = 0;
	int rc = -1;

	if (sc_db_ca_list(c, &list, &n, err) != 0)
		return -1;
	if (n > SC_DB_SIGN_CHAIN_MAX * 2)
		n = SC_DB_SIGN_CHAIN_MAX * 2;
	lt->rows = calloc(n + 1, sizeof(*lt->rows));
	if (lt->rows == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (sc_db_ca_get(c, list[i].name, &lt->rows[i], err) !=
		    SC_DB_ONE) {
			sc_err_set(err, SC_E_DB, "CA %s vanished", list[i].name);
			goto out;
		}
		lt->nrows++;
	}
	rc = 0;
out:
	free(list);
	return rc;
}

static void
ltsa_free(struct ltsa *lt)
{
	sc_tsa_free(lt->unit);
	for (size_t i = 0; i < lt->nrows; i++)
		sc_db_ca_row_free(&lt->rows[i]);
	free(lt->rows);
	for (size_t i = 0; i < lt->nx; i++)
		X509_free(lt->x[i]);
	memset(lt, 0, sizeof(*lt));
}

static int
local_tsa(const struct sc_config *cfg, struct sc_hsm *hsm, struct sc_db *db,
    struct ltsa *lt, struct sc_err *err)
{
	size_t nt = 0, ni = 0;

	if (sc_db_run_txn(db, ca_load_txn, lt, err) != 0)
		return -1;
	for (size_t i = 0; i < lt->nrows; i++) {
		struct sc_db_sign_der d = {lt->rows[i].cert_der,
		    lt->rows[i].cert_len};
		struct sc_tsa_der *t = strcmp(lt->rows[i].kind, "root") == 0
		    ? &lt->trust[nt++] : &lt->inter[ni++];

		t->p = lt->rows[i].cert_der;
		t->len = lt->rows[i].cert_len;
		if ((lt->x[lt->nx] = der_x509(&d, err)) == NULL)
			return -1;
		lt->nx++;
	}
	if (nt == 0)
		return sc_err_set(err, SC_E_NOT_FOUND,
		    "no CA hierarchy: the TSA cannot be trusted (sceau init)");
	if (cfg->signer_tsa_url[0] != '\0') {
		/* A configured outside TSA ([signer] tsa_url): its tokens
		 * must chain to [signer] tsa_trust or to sceau's roots. */
		lt->client.url = cfg->signer_tsa_url;
		lt->client.trust_file = cfg->signer_tsa_trust[0] != '\0'
		    ? cfg->signer_tsa_trust
		    : NULL;
	} else {
		lt->unit = sc_tsa_open_db(cfg, db, hsm, err);
		if (lt->unit == NULL)
			return -1;
	}
	lt->client.local = lt->unit;
	lt->client.trust = lt->trust;
	lt->client.ntrust = nt;
	lt->client.untrusted = lt->inter;
	lt->client.nuntrusted = ni;
	lt->src = sc_pades_tsa_client(&lt->client);
	return 0;
}

static char *
details_json(const struct sc_pades_result *r, enum sc_pades_level level,
    size_t len, const char *serial)
{
	char dh[65], oh[65], now[32], *s;
	json_t *j;

	sc_hex_encode(r->doc_sha256, sizeof(r->doc_sha256), dh);
	sc_hex_encode(r->out_sha256, sizeof(r->out_sha256), oh);
	sc_time_fmt(sc_time_now(), 0, now);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:I, s:I}",
	    "document_sha256", dh, "signed_sha256", oh, "level",
	    sc_pades_level_name(level), "time", now, "certificate", serial,
	    "field", r->field, "document_size", (json_int_t)len, "cms_size",
	    (json_int_t)r->cms_len);
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return s;
}

int
sc_pades_extend_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, const struct sc_actor *who,
    const struct sc_pades_doc *doc, const struct sc_pades_opts *o, struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err)
{
	struct sc_pades_opts oo = *o;
	struct sc_pades_result r;
	struct ltsa lt;
	struct audit a;
	char *details = NULL;
	char dh[65];
	int rc = -1;

	memset(&lt, 0, sizeof(lt));
	if (oo.tsa == NULL) {
		if (local_tsa(cfg, hsm, db, &lt, err) != 0)
			goto out;
		oo.tsa = &lt.src;
		oo.ltv_certs = lt.x;
		oo.nltv_certs = lt.nx;
	}
	if (sc_pades_extend(doc, &oo, tail, &r, err) != 0)
		goto out;
	details = details_json(&r, oo.level, doc->len, NULL);
	if (details == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	sc_hex_encode(r.doc_sha256, sizeof(r.doc_sha256), dh);
	a.who = who;
	a.action = "sign.pades.extend";
	a.alias = dh;
	a.details = details;
	if (sc_db_run_txn(db, audit_txn, &a, err) != 0)
		goto out;
	sc_log(SC_LOG_NOTICE, "pades: %s extended to %s by %s (%s)", dh,
	    sc_pades_level_name(oo.level), who->name, who->role);
	if (res != NULL)
		*res = r;
	rc = 0;
out:
	if (rc != 0)
		tail->len = 0;
	free(details);
	ltsa_free(&lt);
	return rc;
}

int
sc_pades_sign_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db,
    const struct sc_actor *who, const char *key_alias,
    const struct sc_pades_doc *doc, const struct sc_pades_opts *o, struct sc_buf *tail,
    struct sc_pades_result *res, struct sc_err *err)
{
	struct sc_db_sign_cert sc;
	struct lookup l = {key_alias, &sc, SC_DB_NONE};
	struct sc_pades_signer s;
	struct sc_pades_result r;
	struct sc_pades_opts oo = *o;
	struct ltsa lt;
	struct audit a;
	X509 *cert = NULL, *chain[SC_DB_SIGN_CHAIN_MAX];
	size_t nchain = 0;
	char dh[65];
	char *details = NULL;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&lt, 0, sizeof(lt));
	memset(chain, 0, sizeof(chain));
	if (sc_db_run_txn(db, lookup_txn, &l, err) != 0)
		goto out;
	if (l.qs != SC_DB_ONE) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no valid certificate is issued for the key \"%s\"",
		    key_alias);
		goto out;
	}
	if ((cert = der_x509(&sc.cert, err)) == NULL)
		goto out;
	for (size_t i = 0; i < sc.nchain; i++) {
		if ((chain[i] = der_x509(&sc.chain[i], err)) == NULL)
			goto out;
		nchain++;
	}
	if (oo.level >= SC_PADES_B_T && oo.tsa == NULL) {
		if (local_tsa(cfg, hsm, db, &lt, err) != 0)
			goto out;
		oo.tsa = &lt.src;
		oo.ltv_certs = lt.x;
		oo.nltv_certs = lt.nx;
	}
	memset(&s, 0, sizeof(s));
	s.hsm = hsm;
	s.key_alias = key_alias;
	s.cert = cert;
	s.chain = chain;
	s.nchain = nchain;
	if (sc_pades_sign(&s, doc, &oo, tail, &r, err) != 0)
		goto out;
	sc_hex_encode(r.doc_sha256, sizeof(r.doc_sha256), dh);
	details = details_json(&r, oo.level, doc->len, sc.serial);
	if (details == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	a.who = who;
	a.action = "sign.pades";
	a.alias = key_alias;
	a.details = details;
	if (sc_db_run_txn(db, audit_txn, &a, err) != 0)
		goto out;
	sc_log(SC_LOG_NOTICE, "pades: %s signed %s with %s (%s), %zu bytes "
	    "appended, by %s (%s)", dh, sc_pades_level_name(oo.level),
	    key_alias, sc.serial, tail->len,
	    who->name, who->role);
	if (res != NULL)
		*res = r;
	rc = 0;
out:
	if (rc != 0)
		tail->len = 0; /* nothing to release */
	free(details);
	ltsa_free(&lt);
	X509_free(cert);
	for (size_t i = 0; i < nchain; i++)
		X509_free(chain[i]);
	sc_db_sign_cert_free(&sc);
	return rc;
}
