/*
 * cli_verify.c: `sceau verify FILE [--data DETACHED] [--format
 * text|json|etsi] [--trust PEM] [--offline] [--lang fr|en]`.
 *
 * Needs no HSM and no database: a citizen validates a file on a laptop.
 * Online by default: revocation data missing from the document is asked
 * of the OCSP responders and CRL sources its certificates name.
 * Without --trust, sceau's own roots are the anchors when a configuration
 * and its database are at hand; otherwise chains end INDETERMINATE.
 * Exit codes (CONTRACT.md): 0 TOTAL-PASSED, 1 TOTAL-FAILED,
 * 2 INDETERMINATE, 64 usage, 65 not a signed document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/db.h"
#include "sceau/db_verify.h"
#include "sceau/verify.h"

#include "cli_int.h"

static const char verify_usage[] =
    "usage: sceau verify FILE [--data DETACHED] [--format text|json|etsi]\n"
    "                    [--trust PEM] [--offline] [--lang fr|en]\n"
    "  Vérifie chaque signature du document (PDF, XML, .p7s/.p7m, jeton\n"
    "  d'horodatage) et affiche le rapport. Checks every signature and\n"
    "  prints the report. Exit: 0 valid (TOTAL-PASSED), 1 invalid\n"
    "  (TOTAL-FAILED), 2 undetermined (INDETERMINATE), 65 not a signed\n"
    "  document.\n"
    "  Sans --offline, l'état de révocation que le document ne porte pas\n"
    "  est demandé en ligne (OCSP, puis CRL, http:// seulement). Without\n"
    "  --offline, revocation data the document lacks is fetched online\n"
    "  (OCSP, then CRL).\n";

int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--data", "--format", "--trust",
	    "--lang", NULL};
	const char *v[4] = {NULL, NULL, NULL, NULL};
	struct sc_ver_report *rep = NULL;
	struct sc_buf doc, data, trust;
	struct sc_ver_opts o;
	const char *file = NULL, *fmt, *lang;
	char *roots = NULL, *text;
	struct sc_err err;
	int offline = 0, rc = 1;
	char **rest;
	int nrest = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(verify_usage, stdout);
		return 0;
	}
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL)
		return 1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--offline") == 0)
			offline = 1;
		else if (argv[i][0] != '-' && file == NULL &&
		    (i == 0 || argv[i - 1][0] != '-' ||
			strcmp(argv[i - 1], "--offline") == 0))
			file = argv[i];
		else
			rest[nrest++] = argv[i];
	}
	if (file == NULL || cli_opts(nrest, rest, names, v) != 0) {
		free(rest);
		return cli_usage(verify_usage);
	}
	free(rest);
	fmt = v[1] != NULL ? v[1] : "text";
	lang = v[3] != NULL ? v[3] : cli_lang();
	if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0 &&
	    strcmp(fmt, "etsi") != 0)
		return cli_usage(verify_usage);
	sc_err_clear(&err);
	sc_buf_init(&data, 0);
	sc_buf_init(&trust, 0);
	if (sc_file_read(file, (size_t)cli->cfg.max_document, &doc, &err) !=
		0)
		return cli_fail(&err);
	memset(&o, 0, sizeof(o));
	o.offline = offline;
	o.lang = lang;
	o.max_document = (size_t)cli->cfg.max_document;
	if (v[0] != NULL) {
		if (sc_file_read(v[0], (size_t)cli->cfg.max_document, &data,
			&err) != 0) {
			rc = cli_fail(&err);
			goto out;
		}
		o.detached = data.p;
		o.detached_len = data.len;
	}
	if (v[2] != NULL) {
		o.trust_pem = v[2];
	} else if (cli->have_config) {
		struct sc_err dberr;

		sc_err_clear(&dberr);
		if (cli_open_db(cli, &dberr) == 0 &&
		    sc_db_trust_roots_pem(cli->db, &roots, &dberr) == 0)
			o.trust_pem = roots;
	}
	if (sc_ver_document(doc.p, doc.len, &o, &rep, &err) != 0) {
		rc = cli_fail(&err);
		goto out;
	}
	/* json, the ETSI TS 119 102-2 XML report, or the citizen's text */
	if (strcmp(fmt, "json") == 0)
		text = sc_ver_report_json(rep);
	else if (strcmp(fmt, "etsi") == 0)
		text = sc_ver_report_etsi_xml(rep);
	else
		text = sc_ver_report_text(rep, lang);
	if (text == NULL) {
		fputs("sceau: mémoire insuffisante / out of memory\n", stderr);
		rc = 1;
		goto out;
	}
	fputs(text, stdout);
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		fputc('\n', stdout);
	free(text);
	rc = sc_ver_report_exit(rep);
out:
	sc_ver_report_free(rep);
	free(roots);
	sc_buf_free(&doc);
	sc_buf_free(&data);
	sc_buf_free(&trust);
	return rc;
}
