/*
 * signer_op.c: what the PAdES and XAdES signing operations share
 * (op_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "op_int.h"

int
signer_lookup_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct lookup *l = arg;

	l->qs = sc_db_sign_cert_get(c, l->alias, l->out, err);
	return l->qs == SC_DB_HARD ? -1 : 0;
}


int
signer_audit_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct audit *a = arg;
	struct sc_audit_event ev;

	ev.actor = a->who->name;
	ev.role = a->who->role;
	ev.action = a->action;
	ev.object = a->object;
	ev.details = a->details;
	return sc_db_audit_append(c, &ev, err);
}

X509 *
signer_der_x509(const uint8_t *p0, size_t len, struct sc_err *err)
{
	const unsigned char *p = p0;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x == NULL || p != p0 + len) {
		X509_free(x);
		sc_err_crypto(err, SC_E_DB, "a stored certificate is not DER");
		return NULL;
	}
	return x;
}


static int
ca_load_txn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct signer_ltsa *lt = arg;
	struct sc_db_ca_row *list = NULL;
	size_t n = 0;
	int rc = -1;

	if (sc_db_ca_list(c, &list, &n, err) != 0)
		return -1;
	if (n > OP_CA_MAX)
		n = OP_CA_MAX;
	for (size_t i = 0; i < n; i++) {
		if (sc_db_ca_get(c, list[i].name, &lt->rows[i], err) !=
		    SC_DB_ONE) {
			sc_err_set(err, SC_E_DB, "CA %s vanished",
			    list[i].name);
			goto out;
		}
		lt->nrows++;
	}
	rc = 0;
out:
	free(list);
	return rc;
}

void
signer_ltsa_free(struct signer_ltsa *lt)
{
	sc_tsa_free(lt->unit);
	for (size_t i = 0; i < lt->nrows; i++)
		sc_db_ca_row_free(&lt->rows[i]);
	for (size_t i = 0; i < lt->nx; i++)
		X509_free(lt->x[i]);
	memset(lt, 0, sizeof(*lt));
}

int
signer_ltsa_load(const struct sc_config *cfg, struct sc_hsm *hsm, struct sc_db *db,
    struct signer_ltsa *lt, struct sc_err *err)
{
	size_t nt = 0, ni = 0;

	if (sc_db_run_txn(db, ca_load_txn, lt, err) != 0)
		return -1;
	for (size_t i = 0; i < lt->nrows; i++) {
		struct sc_tsa_der *t = strcmp(lt->rows[i].kind, "root") == 0
		    ? &lt->trust[nt++]
		    : &lt->inter[ni++];

		t->p = lt->rows[i].cert_der;
		t->len = lt->rows[i].cert_len;
		lt->x[lt->nx] = signer_der_x509(t->p, t->len, err);
		if (lt->x[lt->nx] == NULL)
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
	return 0;
}
