/*
 * sceau: the command-line interface. Each command parses its arguments,
 * calls the same library function as the matching REST route, and prints
 * the result. Exit codes (CONTRACT.md): 0 success, 1 the operation failed,
 * 64 usage, 65 input not understood.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sceau/ca.h"
#include "sceau/db.h"
#include "sceau/hsm.h"

#include "cli_int.h"

/* Every command, gathered from cmds/AREA.def (cli_int.h). */
static const struct cli_cmd commands[] = {
#define CLI_CMD(name, fn, help) {name, fn, help},
#include "cmds/all.def"
#undef CLI_CMD
};

static void
top_usage(FILE *fp)
{
	fputs("usage: sceau [--config FILE] COMMAND [ARGS]\n\n"
	      "Commandes / commands:\n",
	    fp);
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		fputs(commands[k].help, fp);
	fputs("\nLa configuration est FILE, sinon $SCEAU_CONFIG, sinon "
	      "var/sceau.conf.\n`sceau COMMAND --help` décrit chaque "
	      "commande. SCEAU_LANG=en: English.\n",
	    fp);
}

const char *
cli_lang(void)
{
	const char *l = getenv("SCEAU_LANG");

	if (l == NULL || l[0] == '\0')
		l = getenv("LANGUAGE");
	return l != NULL && strncmp(l, "en", 2) == 0 ? "en" : "fr";
}

int
cli_fail(const struct sc_err *err)
{
	fprintf(stderr, "sceau: %s: %s\n", sc_code_title(err->code, cli_lang()),
	    err->msg);
	if (err->detail[0] != '\0')
		sc_log(SC_LOG_DEBUG, "detail: %s", err->detail);
	return sc_code_exit(err->code);
}

int
cli_usage(const char *text)
{
	fputs(text, stderr);
	return 64;
}

int
cli_wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int
cli_opts(int argc, char **argv, const char *const *names, const char **vals)
{
	for (int i = 0; i < argc; i++) {
		size_t k;

		for (k = 0; names[k] != NULL; k++)
			if (strcmp(argv[i], names[k]) == 0)
				break;
		if (names[k] == NULL || i + 1 >= argc) {
			fprintf(stderr, "sceau: option inconnue ou sans valeur "
					"/ unknown or incomplete option: %s\n",
			    argv[i]);
			return -1;
		}
		vals[k] = argv[++i];
	}
	return 0;
}

void
cli_actor(struct cli *cli)
{
	struct passwd *pw = getpwuid(geteuid());

	snprintf(cli->actor_name, sizeof(cli->actor_name), "cli:%s",
	    pw != NULL ? pw->pw_name : "unknown");
	cli->actor.name = cli->actor_name;
	cli->actor.role = "operator";
}

int
cli_open_db(struct cli *cli, struct sc_err *err)
{
	char *url;

	url = sc_config_db_url(&cli->cfg, err);
	if (url == NULL)
		return -1;
	cli->db = sc_db_open(url, 2, err);
	sc_secret_free(url);
	return cli->db == NULL ? -1 : 0;
}

int
cli_open_hsm(struct cli *cli, struct sc_err *err)
{
	cli->hsm = sc_hsm_open(&cli->cfg, err);
	return cli->hsm == NULL ? -1 : 0;
}

/* ------------------------------------------------------------------ */

static const char db_usage[] =
    "usage: sceau db migrate\n"
    "  Applique les migrations de database.migrations qui manquent.\n"
    "  Applies the pending migrations.\n";

int
cmd_db(struct cli *cli, int argc, char **argv)
{
	struct sc_err err;
	int applied = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(db_usage, stdout);
		return 0;
	}
	if (argc != 1 || strcmp(argv[0], "migrate") != 0)
		return cli_usage(db_usage);
	sc_err_clear(&err);
	if (cli_open_db(cli, &err) != 0 ||
	    sc_db_migrate(cli->db, cli->cfg.migrations, &applied, &err) != 0)
		return cli_fail(&err);
	printf("%d migration(s) appliquée(s) / applied\n", applied);
	return 0;
}

static const char token_usage[] =
    "usage: sceau token create --role ROLE --name NAME [--key ALIAS]\n"
    "  ROLE: ca_admin, ra_officer, auditor, signer.\n"
    "  Le jeton est affiché une seule fois ; seul son empreinte SHA-256\n"
    "  est conservée. The token is printed once; only its hash is kept.\n";

int
cmd_token(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--role", "--name", "--key", NULL};
	const char *v[3] = {NULL, NULL, NULL};
	struct sc_err err;
	char *secret = NULL;

	if (cli_wants_help(argc, argv)) {
		fputs(token_usage, stdout);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "create") != 0 ||
	    cli_opts(argc - 1, argv + 1, names, v) != 0 || v[0] == NULL ||
	    v[1] == NULL)
		return cli_usage(token_usage);
	sc_err_clear(&err);
	if (!sc_db_role_valid(v[0])) {
		sc_err_set(&err, SC_E_UNKNOWN_ROLE, "unknown role \"%s\"", v[0]);
		return cli_fail(&err);
	}
	if (cli_open_db(cli, &err) != 0 ||
	    sc_db_token_create_as(cli->db, v[1], v[0], v[2], cli->actor.name,
		cli->actor.role, &secret, &err) != 0)
		return cli_fail(&err);
	printf("%s\n", secret);
	sc_secret_free(secret);
	return 0;
}

static const char key_usage[] =
    "usage: sceau key generate --alias ALIAS --type "
    "ec-p256|ec-p384|rsa-2048|rsa-3072|rsa-4096\n"
    "       sceau key check --alias ALIAS [--out DIR]\n"
    "  generate: crée la paire dans le HSM ; la clé privée n'en sort\n"
    "    jamais. Creates the pair in the HSM; the private key never\n"
    "    leaves it. Prints the public key (PEM).\n"
    "  check: fait signer un défi aléatoire par la clé et vérifie la\n"
    "    signature. Has the key sign a random challenge and checks it;\n"
    "    with --out, writes DIR/challenge.bin and DIR/signature.der for\n"
    "    an outside check (openssl dgst -sha256 -verify).\n";

static int
write_file(const char *dir, const char *name, const uint8_t *p, size_t n,
    struct sc_err *err)
{
	char path[1200];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return sc_err_set(err, SC_E_IO, "cannot create %s", path);
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok)
		return sc_err_set(err, SC_E_IO, "cannot write %s", path);
	return 0;
}

int
cmd_key(struct cli *cli, int argc, char **argv)
{
	static const char *const gen_names[] = {"--alias", "--type", NULL};
	static const char *const chk_names[] = {"--alias", "--out", NULL};
	const char *v[2] = {NULL, NULL};
	uint8_t *chal = NULL, *sig = NULL;
	size_t chal_len = 0, sig_len = 0;
	enum sc_hsm_keytype t;
	struct sc_err err;
	char *pem = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(key_usage, stdout);
		return 0;
	}
	sc_err_clear(&err);
	if (argc >= 1 && strcmp(argv[0], "check") == 0) {
		if (cli_opts(argc - 1, argv + 1, chk_names, v) != 0 ||
		    v[0] == NULL)
			return cli_usage(key_usage);
		if (cli_open_hsm(cli, &err) != 0 ||
		    sc_ca_key_check(cli->hsm, v[0], &chal, &chal_len, &sig,
			&sig_len, &err) != 0)
			return cli_fail(&err);
		rc = 0;
		if (v[1] != NULL &&
		    (write_file(v[1], "challenge.bin", chal, chal_len,
			 &err) != 0 ||
			write_file(v[1], "signature.der", sig, sig_len,
			    &err) != 0))
			rc = cli_fail(&err);
		else
			printf("OK : la clé %s signe dans le HSM / the key "
			       "signs in the HSM (%zu-byte signature)\n",
			    v[0], sig_len);
		free(chal);
		free(sig);
		return rc;
	}
	if (argc < 1 || strcmp(argv[0], "generate") != 0 ||
	    cli_opts(argc - 1, argv + 1, gen_names, v) != 0 || v[0] == NULL ||
	    v[1] == NULL)
		return cli_usage(key_usage);
	if (sc_hsm_keytype_parse(v[1], &t, &err) != 0)
		return cli_fail(&err);
	if (cli_open_db(cli, &err) != 0 || cli_open_hsm(cli, &err) != 0 ||
	    sc_ca_key_generate(cli->hsm, cli->db, &cli->actor, v[0], v[1],
		&pem, &err) != 0)
		return cli_fail(&err);
	fputs(pem, stdout);
	free(pem);
	return 0;
}

static const char audit_usage[] =
    "usage: sceau audit verify\n"
    "  Parcourt la chaîne de hachage du journal d'audit et nomme la\n"
    "  première ligne rompue. Walks the audit hash chain and names the\n"
    "  first broken row. Exit 0 when intact, 1 when broken.\n";

int
cmd_audit(struct cli *cli, int argc, char **argv)
{
	struct sc_audit_report rep;
	struct sc_err err;
	char head[65];

	if (cli_wants_help(argc, argv)) {
		fputs(audit_usage, stdout);
		return 0;
	}
	if (argc != 1 || strcmp(argv[0], "verify") != 0)
		return cli_usage(audit_usage);
	sc_err_clear(&err);
	if (cli_open_db(cli, &err) != 0 ||
	    sc_db_audit_verify(cli->db, &rep, &err) != 0)
		return cli_fail(&err);
	sc_hex_encode(rep.head, sizeof(rep.head), head);
	if (rep.first_bad_id >= 0) {
		if (strcmp(cli_lang(), "en") == 0)
			printf("BROKEN: audit row %lld: %s (%llu rows read)\n",
			    (long long)rep.first_bad_id, rep.reason,
			    (unsigned long long)rep.rows);
		else
			printf("ROMPUE : ligne d'audit %lld : %s (%llu lignes "
			       "lues)\n",
			    (long long)rep.first_bad_id, rep.reason,
			    (unsigned long long)rep.rows);
		return 1;
	}
	if (strcmp(cli_lang(), "en") == 0)
		printf("OK: %llu audit rows, chain intact; head %s\n",
		    (unsigned long long)rep.rows, head);
	else
		printf("OK : %llu lignes d'audit, chaîne intacte ; tête %s\n",
		    (unsigned long long)rep.rows, head);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SCEAU_CONFIG");
	struct cli cli;
	struct sc_err err;
	int i = 1, rc, implicit = 0;

	memset(&cli, 0, sizeof(cli));
	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		path = argv[2];
		i = 3;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0 ||
	    strcmp(argv[i], "-h") == 0) {
		top_usage(i >= argc ? stderr : stdout);
		return i >= argc ? 64 : 0;
	}
	if (path == NULL || path[0] == '\0') {
		path = "var/sceau.conf";
		implicit = 1;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(argv[i], commands[k].name) != 0)
			continue;
		if (cli_wants_help(argc - i - 1, argv + i + 1))
			return commands[k].fn(&cli, argc - i - 1, argv + i + 1);
		sc_err_clear(&err);
		if (sc_config_load(&cli.cfg, path, &err) == 0) {
			cli.have_config = 1;
#if SCEAU_HAVE_VERIFY
		} else if (implicit && commands[k].fn == cmd_verify) {
			/* A citizen's laptop has no configuration: the
			 * validator needs none. */
			sc_config_defaults(&cli.cfg);
#endif
		} else {
			return cli_fail(&err);
		}
		sc_log_init(SC_LOG_WARNING, NULL);
		sc_op_begin();
		cli_actor(&cli);
		rc = commands[k].fn(&cli, argc - i - 1, argv + i + 1);
		sc_hsm_close(cli.hsm);
		sc_db_close(cli.db);
		return rc;
	}
	fprintf(stderr, "sceau: commande inconnue / unknown command: %s\n\n",
	    argv[i]);
	top_usage(stderr);
	return 64;
}
