/*
 * cli_pades.c: `sceau sign pades` (CONTRACT.md), and the dispatch of
 * `sceau sign xades` to cli_xades.c.
 *
 * The input is never loaded whole: the library streams it through the
 * digest and lets qpdf read the objects it needs, and returns only the
 * bytes to append. The output is a copy of the input (copy_file_range:
 * no pass through user space) followed by those bytes, written to a
 * temporary file renamed over OUT at the end. On any error nothing is
 * written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sceau/pades.h"

#include "cli_int.h"

/* `sceau sign xades ...`: provided by cli/cli_xades.c (XAdES signer). */
int cmd_sign_xades(struct cli *cli, int argc, char **argv);

static const char sign_usage[] =
    "usage: sceau sign pades IN.pdf OUT.pdf --key ALIAS [--level "
    "B-B|B-T|B-LT|B-LTA]\n"
    "           [--visible PAGE,X,Y,W,H] [--reason T] [--location T]\n"
    "           [--contact T] [--capacity T] [--certify 1|2|3]\n"
    "       sceau sign pades IN.pdf OUT.pdf --extend B-T|B-LT|B-LTA\n"
    "       sceau sign xades IN OUT --key ALIAS [...]\n"
    "  Signe un PDF (PAdES, ETSI EN 319 142-1) avec la clé ALIAS du HSM et\n"
    "  le certificat émis pour elle ; ajoute une mise à jour incrémentale.\n"
    "  Signs a PDF with the HSM key ALIAS and its issued certificate, as an\n"
    "  incremental update. B-T and above use sceau's TSA; B-LT adds the\n"
    "  certificates and OCSP/CRL data (/DSS); B-LTA a document time-stamp.\n"
    "  --visible: page (from 1) and rectangle in points; the appearance\n"
    "  shows the signer, capacity, date and a QR code to /verifier.\n"
    "  --certify: a certification signature (DocMDP P=1, 2 or 3).\n"
    "  --extend: raises the signatures of an already signed PDF (made by\n"
    "  sceau or another tool) to the level; B-LTA again renews the archive\n"
    "  time-stamp.\n";

/* The input, open read-only. */
struct input {
	int fd;
	size_t len;
};

static int
input_open(const char *path, size_t max, struct input *in,
    struct sc_err *err)
{
	struct stat st;

	in->len = 0;
	in->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0)
		return sc_err_set(err, SC_E_IO, "cannot open %s: %s", path,
		    strerror(errno));
	if (fstat(in->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return sc_err_set(err, SC_E_IO, "%s is not a regular file",
		    path);
	if ((uint64_t)st.st_size > max)
		return sc_err_set(err, SC_E_TOO_LARGE,
		    "%s (%lld bytes) is larger than the %zu bytes allowed "
		    "(server.max_document)",
		    path, (long long)st.st_size, max);
	if (st.st_size == 0)
		return sc_err_set(err, SC_E_INVALID_PDF, "%s is empty", path);
	in->len = (size_t)st.st_size;
	return 0;
}

static void
input_close(struct input *in)
{
	if (in->fd >= 0)
		close(in->fd);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes input || tail to a temporary file, then renames it to @out. */
static int
output_write(const char *out, const struct input *in, const struct sc_buf *t,
    struct sc_err *err)
{
	char tmp[4200];
	int fd, ok = 0;
	size_t done = 0;
	loff_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", out) >= (int)sizeof(tmp))
		return sc_err_set(err, SC_E_USAGE, "output path too long");
	fd = mkstemp(tmp);
	if (fd < 0)
		return sc_err_set(err, SC_E_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
	(void)fchmod(fd, 0644);
	/* The kernel copies the input (reflink or page cache). */
	while (done < in->len) {
		ssize_t n = copy_file_range(in->fd, &off, fd, NULL,
		    in->len - done, 0);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	while (done < in->len) {
		/* No copy_file_range (old kernel, odd file system). */
		uint8_t b[65536];
		size_t want = in->len - done < sizeof(b) ? in->len - done
							 : sizeof(b);
		ssize_t n = pread(in->fd, b, want, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(fd, b, (size_t)n) != 0)
			goto out;
		done += (size_t)n;
	}
	if (write_all(fd, t->p, t->len) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, out) != 0)
		goto out;
	ok = 1;
out:
	if (fd >= 0)
		close(fd);
	if (!ok) {
		unlink(tmp);
		return sc_err_set(err, SC_E_IO, "cannot write %s: %s", out,
		    strerror(errno));
	}
	return 0;
}

static int
sign_pades(struct cli *cli, int argc, char **argv)
{
	static const char *const names[] = {"--key", "--level", "--visible",
	    "--reason", "--location", "--contact", "--capacity", "--certify",
	    "--extend", NULL};
	enum { KEY, LEVEL, VISIBLE, REASON, LOCATION, CONTACT, CAPACITY,
		CERTIFY, EXTEND, NOPT };
	const char *v[NOPT] = {NULL};
	struct sc_pades_visible vis;
	struct sc_pades_result res;
	struct sc_pades_opts o;
	struct sc_pades_doc doc;
	struct sc_buf tail;
	struct input in = {-1, 0};
	struct sc_err err;
	char url[300], dh[65];
	int rc;

	if (argc < 2 || argv[0][0] == '-' || argv[1][0] == '-' ||
	    cli_opts(argc - 2, argv + 2, names, v) != 0 ||
	    (v[KEY] == NULL) == (v[EXTEND] == NULL))
		return cli_usage(sign_usage);
	sc_err_clear(&err);
	memset(&o, 0, sizeof(o));
	sc_buf_init(&tail, SIZE_MAX / 2);
	if (sc_pades_level_parse(v[EXTEND] != NULL ? v[EXTEND]
			: v[LEVEL] != NULL ? v[LEVEL] : "B-B",
		&o.level, &err) != 0)
		return cli_fail(&err);
	if (v[VISIBLE] != NULL) {
		if (sc_pades_visible_parse(v[VISIBLE], &vis, &err) != 0)
			return cli_fail(&err);
		o.visible = &vis;
	}
	if (v[CERTIFY] != NULL) {
		uint64_t p;

		if (sc_parse_u64(v[CERTIFY], 1, 3, &p, "--certify", &err) != 0)
			return cli_fail(&err);
		o.docmdp = (int)p;
	}
	o.reason = v[REASON];
	o.location = v[LOCATION];
	o.contact = v[CONTACT];
	o.capacity = v[CAPACITY];
	o.max_document = (size_t)cli->cfg.max_document;
	snprintf(url, sizeof(url), "%s/verifier", cli->cfg.public_url);
	o.verify_url = url;
	if (input_open(argv[0], o.max_document, &in, &err) != 0)
		goto fail;
	if (cli_open_db(cli, &err) != 0 || cli_open_hsm(cli, &err) != 0)
		goto fail;
	doc.p = NULL;
	doc.fd = in.fd;
	doc.len = in.len;
	if (v[EXTEND] != NULL)
		rc = sc_pades_extend_op(&cli->cfg, cli->hsm, cli->db,
		    &cli->actor, &doc, &o, &tail, &res, &err);
	else
		rc = sc_pades_sign_op(&cli->cfg, cli->hsm, cli->db,
		    &cli->actor, v[KEY], &doc, &o, &tail, &res, &err);
	if (rc != 0 || output_write(argv[1], &in, &tail, &err) != 0)
		goto fail;
	sc_hex_encode(res.out_sha256, sizeof(res.out_sha256), dh);
	printf("%s: %s %s, %u mise(s) à jour / update(s), SHA-256 %s\n",
	    argv[1], v[EXTEND] != NULL ? "étendu / extended" : "signé / signed",
	    sc_pades_level_name(o.level), res.revisions, dh);
	input_close(&in);
	sc_buf_free(&tail);
	return 0;
fail:
	input_close(&in);
	sc_buf_free(&tail);
	return cli_fail(&err);
}

int
cmd_sign(struct cli *cli, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "xades") == 0)
		return cmd_sign_xades(cli, argc - 1, argv + 1);
	if (cli_wants_help(argc, argv)) {
		fputs(sign_usage, stdout);
		return 0;
	}
	if (argc < 1 || strcmp(argv[0], "pades") != 0)
		return cli_usage(sign_usage);
	return sign_pades(cli, argc - 1, argv + 1);
}
