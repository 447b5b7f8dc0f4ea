/*
 * cli_ca.c: the CA's commands (cmds/ca.def): init, ca, request, cert.
 * Each calls the same ca/ function as the matching REST route.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/ca.h"

#include "cli_int.h"

#define SUBJECT_MAX (16 * 1024)
#define CSR_FILE_MAX (1024 * 1024) /* ca/ refuses past 64 KiB itself */

static int
open_env(struct cli *cli, struct sc_ca_env *env, int hsm, struct sc_err *err)
{
	if (cli_open_db(cli, err) != 0 ||
	    (hsm && cli_open_hsm(cli, err) != 0))
		return -1;
	return sc_ca_env_init(env, &cli->cfg, cli->db, cli->hsm, err);
}

static const char init_usage[] =
    "usage: sceau init [--demo]\n"
    "  Crée la hiérarchie dans le HSM et la base : racine, AC « personnes »\n"
    "  et « personnes-morales », leurs répondeurs OCSP et l'unité\n"
    "  d'horodatage. Refuse si elle existe. --demo : noms de démonstration.\n"
    "  Creates the hierarchy (refused if it exists).\n";

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	struct sc_ca_init_item items[8];
	struct sc_ca_env env;
	struct sc_err err;
	size_t n = 0;
	int demo = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(init_usage, stdout);
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--demo") == 0)
			demo = 1;
		else
			return cli_usage(init_usage);
	}
	sc_err_clear(&err);
	if (open_env(cli, &env, 1, &err) != 0 ||
	    sc_ca_init(&env, &cli->actor, demo, items, 8, &n, &err) != 0)
		return cli_fail(&err);
	for (size_t i = 0; i < n; i++)
		printf("%-20s %-32s %s\n", items[i].name, items[i].key_alias,
		    items[i].subject);
	return 0;
}

static const char ca_usage[] =
    "usage: sceau ca list\n"
    "       sceau ca cert NAME\n"
    "       sceau ca add NAME --cn \"COMMON NAME\"\n"
    "  list : une ligne par AC : nom, sujet, alias de clé.\n"
    "  cert : le certificat de l'AC NAME, en PEM. The CA's certificate.\n"
    "  add  : nouvelle AC émettrice sous la racine (clé créée dans le HSM)\n"
    "         et son répondeur OCSP ; un profil la désigne par\n"
    "         « issuer = NAME ». Adds an issuing CA under the root, with\n"
    "         its OCSP responder; profiles name it with issuer = NAME.\n";

int
cmd_ca(struct cli *cli, int argc, char **argv)
{
	struct sc_ca_info *v = NULL;
	struct sc_ca_env env;
	struct sc_err err;
	uint8_t *pem = NULL;
	size_t n = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(ca_usage, stdout);
		return 0;
	}
	sc_err_clear(&err);
	if (argc == 1 && strcmp(argv[0], "list") == 0) {
		if (open_env(cli, &env, 0, &err) != 0 ||
		    sc_ca_list(&env, &v, &n, &err) != 0)
			return cli_fail(&err);
		for (size_t i = 0; i < n; i++)
			printf("%s\t%s\t%s\n", v[i].name, v[i].subject,
			    v[i].key_alias);
		free(v);
		return 0;
	}
	if (argc == 4 && strcmp(argv[0], "add") == 0 &&
	    strcmp(argv[2], "--cn") == 0) {
		struct sc_ca_init_item items[4];

		if (open_env(cli, &env, 1, &err) != 0 ||
		    sc_ca_add(&env, &cli->actor, argv[1], argv[3], items, 4, &n,
			&err) != 0)
			return cli_fail(&err);
		for (size_t i = 0; i < n; i++)
			printf("%-20s %-32s %s\n", items[i].name,
			    items[i].key_alias, items[i].subject);
		return 0;
	}
	if (argc == 2 && strcmp(argv[0], "cert") == 0) {
		if (open_env(cli, &env, 0, &err) != 0 ||
		    sc_ca_cert_get(&env, argv[1], 1, &pem, &n, &err) != 0)
			return cli_fail(&err);
		fwrite(pem, 1, n, stdout);
		free(pem);
		return 0;
	}
	return cli_usage(ca_usage);
}

/* Reads the inputs of a submission from the command line. */
struct submit_files {
	struct sc_buf csr;
	struct sc_buf subject;
	struct sc_ca_submit in;
};

static int
read_submit(const char *const *v, struct submit_files *f, struct sc_err *err)
{
	/* v: profile, csr, key, subject, evidence */
	sc_buf_init(&f->csr, CSR_FILE_MAX);
	sc_buf_init(&f->subject, SUBJECT_MAX);
	memset(&f->in, 0, sizeof(f->in));
	f->in.profile = v[0];
	f->in.key_alias = v[2];
	f->in.evidence = v[4];
	if (v[1] != NULL) {
		if (sc_file_read(v[1], CSR_FILE_MAX, &f->csr, err) != 0)
			return -1;
		f->in.csr = f->csr.p != NULL ? f->csr.p : (const uint8_t *)"";
		f->in.csr_len = f->csr.len;
	}
	if (sc_file_read(v[3], SUBJECT_MAX, &f->subject, err) != 0)
		return -1;
	f->in.subject_json = (const char *)f->subject.p;
	f->in.subject_len = f->subject.len;
	return 0;
}

static void
free_submit(struct submit_files *f)
{
	sc_buf_free(&f->csr);
	sc_buf_free(&f->subject);
}

static void
print_state(const struct sc_ca_request_state *st)
{
	printf("request %" PRId64 ": %s, profile %s, %u/%u approval(s), "
	       "submitted by %s",
	    st->id, st->status, st->profile, st->approvals,
	    st->approvals_needed, st->submitted_by);
	if (st->serial[0] != '\0')
		printf(", serial %s", st->serial);
	if (st->reason[0] != '\0')
		printf(", reason: %s", st->reason);
	putchar('\n');
}

static const char request_usage[] =
    "usage: sceau request submit --profile P (--csr FILE | --key ALIAS) "
    "--subject FILE.json [--evidence REF]\n"
    "       sceau request approve ID\n"
    "       sceau request reject ID --reason TEXT\n"
    "       sceau request show ID\n"
    "  Les approbateurs sont distincts du demandeur (principe des quatre\n"
    "  yeux) ; le certificat est émis à la dernière approbation requise.\n"
    "  Approvers differ from the submitter; the certificate is issued at\n"
    "  the last approval the profile needs.\n";

static int
parse_id(const char *s, int64_t *id, struct sc_err *err)
{
	uint64_t v;

	if (sc_parse_u64(s, 1, INT64_MAX, &v, "request id", err) != 0)
		return -1;
	*id = (int64_t)v;
	return 0;
}

int
cmd_request(struct cli *cli, int argc, char **argv)
{
	static const char *const sub_names[] = {"--profile", "--csr", "--key",
	    "--subject", "--evidence", NULL};
	static const char *const rej_names[] = {"--reason", NULL};
	const char *v[5] = {NULL, NULL, NULL, NULL, NULL};
	struct sc_ca_request_state st;
	struct submit_files f;
	struct sc_ca_env env;
	struct sc_err err;
	int64_t id;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(request_usage, stdout);
		return 0;
	}
	sc_err_clear(&err);
	if (argc >= 1 && strcmp(argv[0], "submit") == 0) {
		if (cli_opts(argc - 1, argv + 1, sub_names, v) != 0 ||
		    v[0] == NULL || v[3] == NULL ||
		    (v[1] == NULL) == (v[2] == NULL))
			return cli_usage(request_usage);
		rc = read_submit(v, &f, &err) != 0 ||
			open_env(cli, &env, 1, &err) != 0 ||
			sc_ca_request_submit(&env, &cli->actor, &f.in, &id,
			    &err) != 0
		    ? cli_fail(&err)
		    : 0;
		free_submit(&f);
		if (rc == 0)
			printf("%" PRId64 "\n", id);
		return rc;
	}
	if (argc == 2 && (strcmp(argv[0], "approve") == 0 ||
			     strcmp(argv[0], "show") == 0)) {
		if (parse_id(argv[1], &id, &err) != 0 ||
		    open_env(cli, &env, argv[0][0] == 'a', &err) != 0 ||
		    (argv[0][0] == 'a'
			    ? sc_ca_request_approve(&env, &cli->actor, id, &st,
				  &err)
			    : sc_ca_request_get(&env, id, &st, &err)) != 0)
			return cli_fail(&err);
		print_state(&st);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[0], "reject") == 0) {
		if (cli_opts(argc - 2, argv + 2, rej_names, v) != 0 ||
		    v[0] == NULL)
			return cli_usage(request_usage);
		if (parse_id(argv[1], &id, &err) != 0 ||
		    open_env(cli, &env, 0, &err) != 0 ||
		    sc_ca_request_reject(&env, &cli->actor, id, v[0], &st,
			&err) != 0)
			return cli_fail(&err);
		print_state(&st);
		return 0;
	}
	return cli_usage(request_usage);
}

static const char cert_usage[] =
    "usage: sceau cert issue --profile P (--csr FILE | --key ALIAS) "
    "--subject FILE.json [--out FILE] [--evidence REF]\n"
    "       sceau cert show SERIAL [--pem]\n"
    "       sceau cert revoke SERIAL --reason REASON\n"
    "  issue : demande et approbation en une étape, seulement pour les\n"
    "    profils à une approbation ; écrit le certificat en PEM.\n"
    "    Submit and approve in one step (one-approval profiles); PEM out.\n";

static int
write_out(const char *path, const char *pem, struct sc_err *err)
{
	FILE *fp;
	int ok;

	if (path == NULL) {
		fputs(pem, stdout);
		return 0;
	}
	if ((fp = fopen(path, "w")) == NULL)
		return sc_err_set(err, SC_E_IO, "cannot create %s", path);
	ok = fputs(pem, fp) >= 0;
	if (fclose(fp) != 0 || !ok)
		return sc_err_set(err, SC_E_IO, "cannot write %s", path);
	return 0;
}

int
cmd_cert(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--profile", "--csr", "--key",
	    "--subject", "--evidence", "--out", NULL};
	const char *v[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
	struct sc_ca_request_state st;
	struct sc_ca_cert_info ci;
	struct submit_files f;
	struct sc_ca_env env;
	struct sc_err err;
	int rc;

	if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
		return cmd_pki_cert(cli, argc, argv);
	if (cli_wants_help(argc, argv)) {
		fputs(cert_usage, stdout);
		return 0;
	}
	sc_err_clear(&err);
	memset(&ci, 0, sizeof(ci));
	if (argc >= 1 && strcmp(argv[0], "issue") == 0) {
		if (cli_opts(argc - 1, argv + 1, names, v) != 0 ||
		    v[0] == NULL || v[3] == NULL ||
		    (v[1] == NULL) == (v[2] == NULL))
			return cli_usage(cert_usage);
		rc = 0;
		if (read_submit(v, &f, &err) != 0 ||
		    open_env(cli, &env, 1, &err) != 0 ||
		    sc_ca_cert_issue(&env, &cli->actor, &f.in, &st, &err) !=
			0 ||
		    sc_ca_cert_show(&env, st.serial, &ci, &err) != 0 ||
		    ci.pem == NULL || write_out(v[5], ci.pem, &err) != 0)
			rc = cli_fail(&err);
		else if (v[5] != NULL)
			printf("%s\n", st.serial);
		free(ci.pem);
		free_submit(&f);
		return rc;
	}
	if ((argc == 2 || argc == 3) && strcmp(argv[0], "show") == 0) {
		int pem = argc == 3 && strcmp(argv[2], "--pem") == 0;

		if (argc == 3 && !pem)
			return cli_usage(cert_usage);
		if (open_env(cli, &env, 0, &err) != 0 ||
		    sc_ca_cert_show(&env, argv[1], &ci, &err) != 0)
			return cli_fail(&err);
		if (pem) {
			rc = ci.pem != NULL ? 0 : 1;
			if (ci.pem != NULL)
				fputs(ci.pem, stdout);
			else
				fprintf(stderr, "sceau: certificate %s is %s, "
						"not issued\n",
				    ci.serial, ci.status);
		} else {
			printf("serial:     %s\nca:         %s\nprofile:    %s\n"
			       "status:     %s\nsubject:    %s\n"
			       "not before: %s\nnot after:  %s\n",
			    ci.serial, ci.ca_name, ci.profile, ci.status,
			    ci.subject, ci.not_before, ci.not_after);
			if (ci.revoked_at[0] != '\0')
				printf("revoked:    %s\n", ci.revoked_at);
			rc = 0;
		}
		free(ci.pem);
		return rc;
	}
	return cli_usage(cert_usage);
}
