/*
 * cli_pki.c: `sceau cert revoke`, `sceau crl generate`, `sceau ocsp
 * respond`, over the same library calls as the REST routes of
 * api/api_pki.c (docs/pki.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/ca_status.h"
#include "sceau/db.h"
#include "sceau/db_pki.h"
#include "sceau/hsm.h"

#include "cli_int.h"

static int
write_out(const char *path, const uint8_t *p, size_t n, struct sc_err *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	int ok;

	if (f == NULL)
		return sc_err_set(err, SC_E_IO, "cannot create %s", path);
	ok = fwrite(p, 1, n, f) == n;
	if (f != stdout ? fclose(f) != 0 : fflush(f) != 0)
		ok = 0;
	if (!ok)
		return sc_err_set(err, SC_E_IO, "cannot write %s", path);
	return 0;
}

static const char cert_usage[] =
    "usage: sceau cert revoke SERIAL --reason REASON "
    "[--invalidity-date 2026-11-27T05:06:12Z]\n"
    "  Révoque le certificat SERIAL (hexadécimal) sur-le-champ ; une\n"
    "  nouvelle LCR est émise aussitôt et OCSP répond « revoked ».\n"
    "  Revokes certificate SERIAL at once; a new CRL is issued and OCSP\n"
    "  answers revoked. REASON (RFC 5280 §5.3.1): unspecified,\n"
    "  keyCompromise, cACompromise, affiliationChanged, superseded,\n"
    "  cessationOfOperation, certificateHold, privilegeWithdrawn,\n"
    "  aACompromise.\n";

int
cmd_pki_cert(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--reason", "--invalidity-date",
	    NULL};
	const char *v[2] = {NULL, NULL};
	struct sc_ca_revocation rv;
	struct sc_err err, herr;
	char at[32];

	if (cli_wants_help(argc, argv)) {
		fputs(cert_usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[0], "revoke") != 0 ||
	    cli_opts(argc - 2, argv + 2, names, v) != 0 || v[0] == NULL)
		return cli_usage(cert_usage);
	sc_err_clear(&err);
	if (cli_open_db(cli, &err) != 0)
		return cli_fail(&err);
	/* Without the HSM the revocation still stands; sceaud's CRL worker
	 * then issues the CRL within the minute. */
	sc_err_clear(&herr);
	if (cli_open_hsm(cli, &herr) != 0)
		fprintf(stderr, "sceau: HSM indisponible, LCR différée / HSM "
				"unavailable, CRL deferred: %s\n",
		    herr.msg);
	if (sc_ca_cert_revoke(cli->db, cli->hsm, &cli->actor, argv[1], v[0],
		v[1], &rv, &err) != 0)
		return cli_fail(&err);
	sc_time_fmt((struct sc_time){rv.revoked_at, 0}, 0, at);
	printf("%s revoked %s %s", rv.serial, sc_ca_reason_name(rv.reason),
	    at);
	if (rv.crl_issued)
		printf(" crl %s #%lld", rv.ca_name, (long long)rv.crl_number);
	printf("\n");
	return 0;
}

static const char crl_usage[] =
    "usage: sceau crl generate [--ca NAME] [--out FILE] "
    "[--next-update HOURS]\n"
    "  Émet une nouvelle LCR signée dans le HSM (toutes les AC actives\n"
    "  sans --ca). Issues a new CRL, signed in the HSM (every active CA\n"
    "  without --ca). --out FILE writes the DER (- for stdout); it needs\n"
    "  --ca unless there is a single issuing CA. nextUpdate: HOURS after\n"
    "  thisUpdate, 1..168 (default 168).\n";

static void
print_info(const struct sc_ca_crl_info *i)
{
	char tu[32], nu[32];

	sc_time_fmt((struct sc_time){i->this_update, 0}, 0, tu);
	sc_time_fmt((struct sc_time){i->next_update, 0}, 0, nu);
	fprintf(stderr, "%s crl #%lld, %d entries, thisUpdate %s, nextUpdate "
			"%s\n",
	    i->ca_name, (long long)i->number, i->entries, tu, nu);
}

int
cmd_crl(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--ca", "--out", "--next-update",
	    NULL};
	const char *v[3] = {NULL, NULL, NULL};
	struct sc_db_pki_ca *cas = NULL;
	struct sc_ca_crl_opts opts = {0};
	struct sc_ca_crl_info info;
	struct sc_err err;
	const char *only = NULL;
	uint8_t *der = NULL;
	size_t ncas = 0, len = 0, issuing = 0;
	uint64_t hours;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(crl_usage, stdout);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "generate") != 0 ||
	    cli_opts(argc - 1, argv + 1, names, v) != 0)
		return cli_usage(crl_usage);
	sc_err_clear(&err);
	if (v[2] != NULL) {
		if (sc_parse_u64(v[2], 1, 168, &hours, "--next-update",
			&err) != 0)
			return cli_fail(&err);
		opts.next_update = (int64_t)hours * 3600;
	}
	if (cli_open_db(cli, &err) != 0 || cli_open_hsm(cli, &err) != 0)
		return cli_fail(&err);
	only = v[0];
	if (only == NULL) {
		if (sc_db_pki_ca_list(cli->db, &cas, &ncas, &err) != 0)
			return cli_fail(&err);
		for (size_t i = 0; i < ncas; i++)
			if (strcmp(cas[i].kind, "issuing") == 0) {
				issuing++;
				only = cas[i].name;
			}
		if (v[1] != NULL && issuing != 1) {
			sc_db_pki_ca_list_free(cas, ncas);
			return cli_usage(crl_usage);
		}
		if (v[1] == NULL)
			only = NULL;
	}
	if (only != NULL) {
		if (sc_ca_crl_issue(cli->db, cli->hsm, only, &opts, &der, &len,
			&info, &err) != 0 ||
		    (v[1] != NULL && write_out(v[1], der, len, &err) != 0)) {
			rc = cli_fail(&err);
			goto out;
		}
		print_info(&info);
		rc = 0;
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < ncas; i++) {
		sc_err_clear(&err);
		if (sc_ca_crl_issue(cli->db, cli->hsm, cas[i].name, &opts,
			NULL, NULL, &info, &err) != 0) {
			rc = cli_fail(&err);
			continue;
		}
		print_info(&info);
	}
out:
	free(der);
	sc_db_pki_ca_list_free(cas, ncas);
	return rc;
}

static const char ocsp_usage[] =
    "usage: sceau ocsp respond --in REQ.der [--out RESP.der]\n"
    "  Répond à une requête OCSP (RFC 6960) comme le fait POST /ocsp.\n"
    "  Answers a DER OCSP request as POST /ocsp does; prints the\n"
    "  response status; --out writes the DER response.\n";

int
cmd_ocsp(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--in", "--out", NULL};
	static const char *const st[] = {"successful", "malformedRequest",
	    "internalError", "tryLater", "?", "sigRequired", "unauthorized"};
	const char *v[2] = {NULL, NULL};
	struct sc_ca_ocsp *o = NULL;
	struct sc_ca_ocsp_resp resp;
	struct sc_buf in;
	struct sc_err err;
	int rc = 1;

	if (cli_wants_help(argc, argv)) {
		fputs(ocsp_usage, stdout);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "respond") != 0 ||
	    cli_opts(argc - 1, argv + 1, names, v) != 0 || v[0] == NULL)
		return cli_usage(ocsp_usage);
	sc_err_clear(&err);
	memset(&resp, 0, sizeof(resp));
	sc_buf_init(&in, SC_CA_OCSP_REQUEST_MAX);
	if (sc_file_read(v[0], SC_CA_OCSP_REQUEST_MAX, &in, &err) != 0 ||
	    cli_open_db(cli, &err) != 0 || cli_open_hsm(cli, &err) != 0 ||
	    (o = sc_ca_ocsp_new(cli->db, cli->hsm, NULL, &err)) == NULL ||
	    sc_ca_ocsp_respond(o, in.p, in.len, &resp, &err) != 0 ||
	    (v[1] != NULL && write_out(v[1], resp.der, resp.len, &err) != 0)) {
		rc = cli_fail(&err);
		goto out;
	}
	printf("%s\n", resp.status >= 0 && resp.status <= 6
		? st[resp.status]
		: "?");
	rc = resp.status == 0 ? 0 : 1;
out:
	sc_ca_ocsp_resp_clear(&resp);
	sc_ca_ocsp_free(o);
	sc_buf_free(&in);
	return rc;
}
