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

#include "op_int.h"

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
	struct signer_ltsa lt;
	struct sc_cms_tsa src;
	struct audit a;
	char *details = NULL;
	char dh[65];
	int rc = -1;

	memset(&lt, 0, sizeof(lt));
	if (oo.tsa == NULL) {
		if (signer_ltsa_load(cfg, hsm, db, &lt, err) != 0)
			goto out;
		src = sc_pades_tsa_client(&lt.client);
		oo.tsa = &src;
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
	a.object = dh;
	a.details = details;
	if (sc_db_run_txn(db, signer_audit_txn, &a, err) != 0)
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
	signer_ltsa_free(&lt);
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
	struct signer_ltsa lt;
	struct sc_cms_tsa src;
	struct audit a;
	X509 *cert = NULL, *chain[SC_DB_SIGN_CHAIN_MAX];
	size_t nchain = 0;
	char dh[65];
	char *details = NULL;
	int rc = -1;

	memset(&sc, 0, sizeof(sc));
	memset(&lt, 0, sizeof(lt));
	memset(chain, 0, sizeof(chain));
	if (sc_db_run_txn(db, signer_lookup_txn, &l, err) != 0)
		goto out;
	if (l.qs != SC_DB_ONE) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no valid certificate is issued for the key \"%s\"",
		    key_alias);
		goto out;
	}
	if ((cert = signer_der_x509(sc.cert.p, sc.cert.len, err)) == NULL)
		goto out;
	for (size_t i = 0; i < sc.nchain; i++) {
		if ((chain[i] = signer_der_x509(sc.chain[i].p, sc.chain[i].len, err)) == NULL)
			goto out;
		nchain++;
	}
	if (oo.level >= SC_PADES_B_T && oo.tsa == NULL) {
		if (signer_ltsa_load(cfg, hsm, db, &lt, err) != 0)
			goto out;
		src = sc_pades_tsa_client(&lt.client);
		oo.tsa = &src;
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
	a.object = key_alias;
	a.details = details;
	if (sc_db_run_txn(db, signer_audit_txn, &a, err) != 0)
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
	signer_ltsa_free(&lt);
	X509_free(cert);
	for (size_t i = 0; i < nchain; i++)
		X509_free(chain[i]);
	sc_db_sign_cert_free(&sc);
	return rc;
}
