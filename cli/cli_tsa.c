/*
 * cli_tsa.c: `sceau timestamp` (CONTRACT.md), an RFC 3161 time-stamp over
 * a file, from this installation's TSA unit (in-process: the HSM and the
 * database of the configuration) or from any TSA over HTTP (--url).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/db.h"
#include "sceau/db_tsa.h"
#include "sceau/hsm.h"
#include "sceau/tsa.h"

#include "cli_int.h"

static const char ts_usage[] =
    "usage: sceau timestamp FILE [--out FILE.tsr] [--url URL] [--trust PEM]\n"
    "                       [--hash sha256|sha384|sha512] [--policy OID]\n"
    "  Demande un jeton d'horodatage RFC 3161 sur l'empreinte de FILE,\n"
    "  vérifie la réponse (statut, nonce, empreinte, signature, chaîne du\n"
    "  certificat de l'unité d'horodatage) et l'écrit dans FILE.tsr.\n"
    "  Sans --url : l'unité d'horodatage de cette installation (HSM et\n"
    "  base de données de la configuration). --trust : ancres de\n"
    "  confiance PEM (par défaut : la racine de cette installation).\n"
    "  Requests an RFC 3161 time-stamp over FILE's digest, checks the\n"
    "  reply (status, nonce, imprint, signature, TSA certificate chain)\n"
    "  and writes it (TimeStampResp, DER) to FILE.tsr. Without --url:\n"
    "  this installation's TSA unit, in-process.\n";

static int
write_all(const char *path, const uint8_t *p, size_t n, struct sc_err *err)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return sc_err_set(err, SC_E_IO, "cannot create %s", path);
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok)
		return sc_err_set(err, SC_E_IO, "cannot write %s", path);
	return 0;
}

int
cmd_timestamp(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--out", "--url", "--trust",
	    "--hash", "--policy", NULL};
	const char *v[5] = {NULL, NULL, NULL, NULL, NULL};
	struct sc_tsa_der trust[1], inter[SC_DB_TSA_CHAIN_MAX];
	struct sc_db_tsa_unit unit;
	struct sc_tsa_client c;
	struct sc_tsa_token t;
	enum sc_tsa_hash h = SC_TSA_SHA256;
	struct sc_err err;
	uint8_t d[64];
	size_t dlen = 0;
	char *out = NULL;
	int rc = 1;

	memset(&unit, 0, sizeof(unit));
	memset(&t, 0, sizeof(t));
	memset(&c, 0, sizeof(c));
	if (cli_wants_help(argc, argv)) {
		fputs(ts_usage, stdout);
		return 0;
	}
	if (argc < 1 || argv[0][0] == '-' ||
	    cli_opts(argc - 1, argv + 1, names, v) != 0)
		return cli_usage(ts_usage);
	sc_err_clear(&err);
	sc_op_begin();
	if (v[3] != NULL && sc_tsa_hash_parse(v[3], &h, &err) != 0)
		return cli_fail(&err);
	if (sc_tsa_file_digest(argv[0], h, d, &dlen, &err) != 0)
		return cli_fail(&err);
	c.url = v[1];
	c.trust_file = v[2];
	c.policy_oid = v[4];
	/* The local unit's chain: trust anchor (root) and intermediates,
	 * unless --trust names the anchors for an outside TSA. */
	if (v[1] == NULL || v[2] == NULL) {
		enum sc_db_qs qs;

		if (cli_open_db(cli, &err) != 0)
			goto fail;
		qs = sc_db_tsa_unit_load(cli->db, &unit, &err);
		if (qs == SC_DB_NONE) {
			sc_err_set(&err, SC_E_NOT_FOUND,
			    "no TSA unit in this installation (sceau init); "
			    "with --url, give --trust");
			goto fail;
		}
		if (qs != SC_DB_ONE)
			goto fail;
		if (v[2] == NULL) {
			trust[0].p = unit.chain[unit.nchain - 1];
			trust[0].len = unit.chain_len[unit.nchain - 1];
			c.trust = trust;
			c.ntrust = 1;
		}
		for (size_t i = 0; i + 1 < unit.nchain; i++) {
			inter[i].p = unit.chain[i];
			inter[i].len = unit.chain_len[i];
		}
		c.untrusted = inter;
		c.nuntrusted = unit.nchain - 1;
	}
	if (v[1] == NULL) {
		if (cli_open_hsm(cli, &err) != 0 ||
		    (c.local = sc_tsa_open_db(&cli->cfg, cli->db, cli->hsm,
			 &err)) == NULL ||
		    sc_tsa_record_start(c.local, cli->db, &err) != 0)
			goto fail;
	}
	if (sc_tsa_timestamp(&c, h, d, dlen, &t, &err) != 0)
		goto fail;
	if (v[0] == NULL) {
		size_t n = strlen(argv[0]) + 5;

		if ((out = malloc(n)) == NULL) {
			sc_err_set(&err, SC_E_NOMEM, "out of memory");
			goto fail;
		}
		snprintf(out, n, "%s.tsr", argv[0]);
	}
	if (write_all(v[0] != NULL ? v[0] : out, t.reply, t.reply_len, &err) !=
	    0)
		goto fail;
	printf("horodatage / time-stamp: %s\n"
	       "  heure / genTime (UTC): %s\n"
	       "  numéro / serial:       %s\n"
	       "  politique / policy:    %s\n"
	       "  unité / TSA:           %s\n",
	    v[0] != NULL ? v[0] : out, t.gen_time, t.serial, t.policy,
	    t.tsa_subject);
	rc = 0;
	goto out;
fail:
	rc = cli_fail(&err);
out:
	sc_tsa_free(c.local);
	sc_tsa_token_free(&t);
	sc_db_tsa_unit_free(&unit);
	free(out);
	return rc;
}
