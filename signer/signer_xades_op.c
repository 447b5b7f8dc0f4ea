/*
 * signer_xades_op.c: the operation behind `sceau sign xades` and
 * POST /api/v1/sign/xades: the certificate bound to the key, sceau's TSA,
 * the signature, and the audit event recorded before the signed document
 * is handed back (Law 2016-012 Art. 120).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "sceau/db.h"
#include "sceau/db_ca.h"
#include "sceau/db_sign.h"
#include "sceau/hsm.h"
#include "sceau/tsa.h"
#include "sceau/xades.h"

#include "op_int.h"

static char *
details_json(const struct sc_xades_info *info, const struct sc_xades_opts *o,
    const uint8_t *out, size_t outlen, size_t len, const char *serial)
{
	char dh[65], oh[65], now[32], *s;
	uint8_t h[32];
	json_t *j;

	sc_hex_encode(info->doc_sha256, 32, dh);
	sc_sha256(out, outlen, h);
	sc_hex_encode(h, 32, oh);
	sc_time_fmt(sc_time_now(), 0, now);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:I}",
	    "document_sha256", dh, "signed_sha256", oh, "level",
	    sc_xades_level_name(info->level), "packaging",
	    sc_xades_packaging_name(o->packaging), "signature", info->id,
	    "time", now, "certificate", serial, "document_size",
	    (json_int_t)len, "signed_size", (json_int_t)outlen);
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return s;
}

static int
audit(struct sc_db *db, const struct sc_actor *who, const char *action,
    const char *object, const char *details, struct sc_err *err)
{
	struct audit a = {who, action, object, details};

	if (details == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	return sc_db_run_txn(db, signer_audit_txn, &a, err);
}

int
sc_xades_sign_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, const struct sc_actor *who, const char *key_alias,
    const uint8_t *in, size_t len, const struct sc_xades_opts *o, uint8_t **out,
    size_t *outlen, struct sc_xades_info *info, struct sc_err *err)
{
	struct sc_db_sign_cert sc;
	struct lookup l = {key_alias, &sc, SC_DB_NONE};
	struct sc_xades_opts oo = *o;
	struct sc_xades_info inf;
	struct signer_ltsa lt;
	X509 *cert = NULL, *chain[SC_DB_SIGN_CHAIN_MAX];
	size_t nchain = 0;
	char *details = NULL;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	memset(&sc, 0, sizeof(sc));
	memset(&lt, 0, sizeof(lt));
	if (sc_db_run_txn(db, signer_lookup_txn, &l, err) != 0)
		goto out;
	if (l.qs != SC_DB_ONE) {
		sc_err_set(err, SC_E_NOT_FOUND,
		    "no valid certificate is issued for the key \"%.64s\"",
		    key_alias);
		goto out;
	}
	if ((cert = signer_der_x509(sc.cert.p, sc.cert.len, err)) == NULL)
		goto out;
	for (size_t i = 0; i < sc.nchain; i++) {
		if ((chain[i] = signer_der_x509(sc.chain[i].p, sc.chain[i].len,
			 err)) == NULL)
			goto out;
		nchain++;
	}
	if (oo.level >= SC_XADES_B_T && oo.tsa == NULL) {
		if (signer_ltsa_load(cfg, hsm, db, &lt, err) != 0)
			goto out;
		oo.tsa = &lt.client;
		if (oo.ltv_certs == NULL) {
			oo.ltv_certs = lt.x;
			oo.nltv_certs = lt.nx;
		}
	}
	if (oo.max_input == 0)
		oo.max_input = (size_t)cfg->max_document;
	if (sc_xades_sign(hsm, key_alias, cert, chain, nchain, in, len, &oo,
		out, outlen, &inf, err) != 0)
		goto out;
	details = details_json(&inf, &oo, *out, *outlen, len, sc.serial);
	if (audit(db, who, "sign.xades", key_alias, details, err) != 0)
		goto out;
	sc_log(SC_LOG_NOTICE, "xades: %s signed %s %s with %s (%s) by %s (%s)",
	    inf.id, sc_xades_level_name(inf.level),
	    sc_xades_packaging_name(oo.packaging), key_alias, sc.serial,
	    who->name, who->role);
	if (info != NULL)
		*info = inf;
	rc = 0;
out:
	if (rc != 0) {
		free(*out); /* nothing the audit log does not know leaves */
		*out = NULL;
		*outlen = 0;
	}
	free(details);
	signer_ltsa_free(&lt);
	X509_free(cert);
	for (size_t i = 0; i < nchain; i++)
		X509_free(chain[i]);
	sc_db_sign_cert_free(&sc);
	return rc;
}

int
sc_xades_extend_op(const struct sc_config *cfg, struct sc_hsm *hsm,
    struct sc_db *db, const struct sc_actor *who, const uint8_t *in, size_t len,
    const char *sig_id, const struct sc_xades_opts *o, uint8_t **out,
    size_t *outlen, struct sc_xades_info *info, struct sc_err *err)
{
	struct sc_xades_opts oo = *o;
	struct sc_xades_info inf;
	struct signer_ltsa lt;
	char *details = NULL, dh[65];
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	memset(&lt, 0, sizeof(lt));
	if (oo.tsa == NULL) {
		if (signer_ltsa_load(cfg, hsm, db, &lt, err) != 0)
			goto out;
		oo.tsa = &lt.client;
		if (oo.ltv_certs == NULL) {
			oo.ltv_certs = lt.x;
			oo.nltv_certs = lt.nx;
		}
	}
	if (oo.max_input == 0)
		oo.max_input = (size_t)cfg->max_document;
	if (sc_xades_extend(in, len, sig_id, &oo, out, outlen, &inf, err) != 0)
		goto out;
	details = details_json(&inf, &oo, *out, *outlen, len, NULL);
	sc_hex_encode(inf.doc_sha256, 32, dh);
	if (audit(db, who, "sign.xades.extend", dh, details, err) != 0)
		goto out;
	sc_log(SC_LOG_NOTICE, "xades: %s extended to %s by %s (%s)", inf.id,
	    sc_xades_level_name(inf.level), who->name, who->role);
	if (info != NULL)
		*info = inf;
	rc = 0;
out:
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	free(details);
	signer_ltsa_free(&lt);
	return rc;
}
