/*
 * cli_xades.c: `sceau sign xades` (CONTRACT.md), reached through
 * `sceau sign` (cli_pades.c). Parses the options, calls
 * sc_xades_sign_op() or sc_xades_extend_op() (the same functions as
 * POST /api/v1/sign/xades, which audit), and writes OUT through a
 * temporary file renamed at the end: on any error nothing is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sceau/tsa.h"
#include "sceau/xades.h"

#include "cli_int.h"

int cmd_sign_xades(struct cli *cli, int argc, char **argv);

static const char xades_usage[] =
    "usage: sceau sign xades IN OUT --key ALIAS [--level B-B|B-T|B-LT|B-LTA]\n"
    "           [--packaging enveloped|enveloping|detached] [--mime TYPE]\n"
    "           [--digest sha256|sha384|sha512] [--c14n exclusive|inclusive]\n"
    "           [--key-info cert|chain] [--role CAPACITY] [--commitment C]\n"
    "           [--policy OID --policy-hash HEX [--policy-uri URI]]\n"
    "           [--countersign ID|*] [--parallel SIG.xml]\n"
    "           [--tsa-url URL --tsa-trust PEM]\n"
    "       sceau sign xades IN OUT --extend B-T|B-LT|B-LTA [--signature ID]\n"
    "           [--data FILE] [--tsa-url URL --tsa-trust PEM]\n"
    "  Signe un document XML (XAdES, ETSI EN 319 132-1) avec la clé ALIAS\n"
    "  du HSM et le certificat émis pour elle. Signs an XML document with\n"
    "  the HSM key ALIAS and its issued certificate.\n"
    "  enveloped (défaut/default): la signature entre dans le document;\n"
    "  enveloping: le document entre dans la signature; detached: IN est\n"
    "  la donnée (tout type), OUT la signature qui la désigne par son nom.\n"
    "  B-T et plus / and above: horodatage par la TSA de sceau (ou\n"
    "  --tsa-url); B-LT: certificats et OCSP/LCR; B-LTA: horodatage\n"
    "  d'archive. --countersign: contre-signe la signature ID de IN.\n"
    "  --parallel SIG.xml (detached): ajoute une signature indépendante\n"
    "  à côté de celles de SIG.xml / adds a parallel signature.\n"
    "  --extend: élève une signature existante (B-LTA à nouveau: renouvelle\n"
    "  l'horodatage d'archive). --data: la donnée d'une signature détachée.\n";

static int
write_out(const char *path, const uint8_t *p, size_t n, struct sc_err *err)
{
	char tmp[1100];
	int fd, ok = 1;
	size_t off = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >=
	    sizeof(tmp))
		return sc_err_set(err, SC_E_USAGE, "output path too long");
	fd = mkstemp(tmp);
	if (fd < 0)
		return sc_err_set(err, SC_E_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
	while (ok && off < n) {
		ssize_t w = write(fd, p + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			ok = 0;
		else
			off += (size_t)w;
	}
	if (fsync(fd) != 0)
		ok = 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return sc_err_set(err, SC_E_IO, "cannot write %s", path);
	}
	return 0;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

enum {
	O_KEY,
	O_LEVEL,
	O_PACK,
	O_MIME,
	O_DIGEST,
	O_C14N,
	O_KI,
	O_ROLE,
	O_COMMIT,
	O_POLICY,
	O_PHASH,
	O_PURI,
	O_CS,
	O_TSAURL,
	O_TSATRUST,
	O_EXTEND,
	O_SIG,
	O_DATA,
	O_PAR,
	O__N
};

int
cmd_sign_xades(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--key", "--level", "--packaging",
	    "--mime", "--digest", "--c14n", "--key-info", "--role",
	    "--commitment", "--policy", "--policy-hash", "--policy-uri",
	    "--countersign", "--tsa-url", "--tsa-trust", "--extend",
	    "--signature", "--data", "--parallel", NULL};
	const char *v[O__N] = {NULL};
	struct sc_xades_detached det;
	struct sc_tsa_client tc;
	struct sc_xades_info info;
	struct sc_xades_opts o;
	struct sc_buf in, data;
	struct sc_err err;
	const char *roles[1];
	uint8_t ph[32], *out = NULL;
	size_t outlen = 0;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(xades_usage, stdout);
		return 0;
	}
	if (argc < 2 || argv[0][0] == '-' || argv[1][0] == '-' ||
	    cli_opts(argc - 2, argv + 2, names, v) != 0 ||
	    (v[O_KEY] == NULL) == (v[O_EXTEND] == NULL))
		return cli_usage(xades_usage);
	sc_err_clear(&err);
	memset(&o, 0, sizeof(o));
	memset(&det, 0, sizeof(det));
	memset(&tc, 0, sizeof(tc));
	sc_buf_init(&in, (size_t)cli->cfg.max_document);
	sc_buf_init(&data, (size_t)cli->cfg.max_document);
	if ((v[O_LEVEL] != NULL &&
		sc_xades_level_parse(v[O_LEVEL], &o.level, &err) != 0) ||
	    (v[O_EXTEND] != NULL &&
		sc_xades_level_parse(v[O_EXTEND], &o.level, &err) != 0) ||
	    (v[O_PACK] != NULL &&
		sc_xades_packaging_parse(v[O_PACK], &o.packaging, &err) != 0) ||
	    (v[O_DIGEST] != NULL &&
		sc_xades_digest_parse(v[O_DIGEST], &o.digest, &err) != 0))
		goto fail;
	if (v[O_C14N] != NULL) {
		if (strcmp(v[O_C14N], "inclusive") == 0)
			o.inclusive_c14n = 1;
		else if (strcmp(v[O_C14N], "exclusive") != 0)
			return cli_usage(xades_usage);
	}
	if (v[O_KI] != NULL) {
		if (strcmp(v[O_KI], "chain") == 0)
			o.key_info_chain = 1;
		else if (strcmp(v[O_KI], "cert") != 0)
			return cli_usage(xades_usage);
	}
	if (v[O_ROLE] != NULL) {
		roles[0] = v[O_ROLE];
		o.roles = roles;
		o.nroles = 1;
	}
	o.mime = v[O_MIME];
	o.commitment = v[O_COMMIT];
	o.policy_id = v[O_POLICY];
	o.policy_uri = v[O_PURI];
	if (v[O_PHASH] != NULL) {
		if (sc_hex_decode(v[O_PHASH], ph, sizeof(ph)) != 0) {
			sc_err_set(&err, SC_E_USAGE,
			    "--policy-hash is 64 hex digits (SHA-256)");
			goto fail;
		}
		o.policy_hash = ph;
		o.policy_hash_len = sizeof(ph);
	}
	o.countersign = v[O_CS];
	o.max_input = (size_t)cli->cfg.max_document;
	if (v[O_TSAURL] != NULL) {
		if (v[O_TSATRUST] == NULL)
			return cli_usage(xades_usage);
		tc.url = v[O_TSAURL];
		tc.trust_file = v[O_TSATRUST];
		o.tsa = &tc;
	}
	if (sc_file_read(argv[0], (size_t)cli->cfg.max_document, &in, &err) !=
	    0)
		goto fail;
	if (v[O_PAR] != NULL) {
		/* IN is the data; the signatures to stand beside are in
		 * --parallel, read as the document. */
		if (o.packaging != SC_XADES_DETACHED || v[O_DATA] != NULL) {
			sc_err_set(&err, SC_E_USAGE,
			    "--parallel goes with "
			    "--packaging detached");
			goto fail;
		}
		data = in;
		sc_buf_init(&in, (size_t)cli->cfg.max_document);
		if (sc_file_read(v[O_PAR], (size_t)cli->cfg.max_document, &in,
			&err) != 0)
			goto fail;
		o.parallel = 1;
	}
	/* Detached: IN is the data, named in the signature by its name. */
	if ((o.packaging == SC_XADES_DETACHED && v[O_KEY] != NULL &&
		o.countersign == NULL) ||
	    v[O_DATA] != NULL) {
		const char *dp = v[O_DATA] != NULL ? v[O_DATA] : argv[0];
		int sep = v[O_DATA] != NULL || o.parallel;

		if (v[O_DATA] != NULL &&
		    sc_file_read(dp, (size_t)cli->cfg.max_document, &data,
			&err) != 0)
			goto fail;
		det.uri = base_name(dp);
		det.mime = o.mime;
		det.data = sep ? data.p : in.p;
		det.len = sep ? data.len : in.len;
		o.detached = &det;
		o.ndetached = 1;
	}
	if (cli_open_db(cli, &err) != 0 || cli_open_hsm(cli, &err) != 0)
		goto fail;
	if (v[O_EXTEND] != NULL)
		rc = sc_xades_extend_op(&cli->cfg, cli->hsm, cli->db,
		    &cli->actor, in.p, in.len, v[O_SIG], &o, &out, &outlen,
		    &info, &err);
	else
		rc = sc_xades_sign_op(&cli->cfg, cli->hsm, cli->db, &cli->actor,
		    v[O_KEY], in.p, in.len, &o, &out, &outlen, &info, &err);
	if (rc != 0 || write_out(argv[1], out, outlen, &err) != 0)
		goto fail;
	printf("%s %s %s\n", info.id, sc_xades_level_name(info.level), argv[1]);
	free(out);
	sc_buf_free(&in);
	sc_buf_free(&data);
	return 0;
fail:
	free(out);
	sc_buf_free(&in);
	sc_buf_free(&data);
	return cli_fail(&err);
}
