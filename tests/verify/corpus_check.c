/*
 * corpus_check: runs sc_ver_document (offline, no trust anchor) over
 * every signed file of corpus/dss and compares the report with
 * MANIFEST.tsv where the manifest states an expectation: the format, the
 * number of signatures and expected_crypto (intact / broken / not-valid
 * / mixed, as corpus/dss/README.md defines them).
 *
 * Disagreements listed in known_disagreements.tsv (file, check, reason)
 * are reported but tolerated; any other one makes the exit status 1.
 * Corpus absent: "SKIPPED: ..." and exit 77.
 *
 * Environment: SCEAU_CORPUS (the folder holding dss/), SCEAU_KNOWN (the
 * allow-list), SCEAU_CORPUS_VERBOSE=1 (print every file's verdicts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/verify.h"

#define MAX_COLS 20
#define MAX_KNOWN 256

struct known {
	char file[256];
	char check[16];
	int used;
};

static struct known known[MAX_KNOWN];
static size_t nknown;

static void
load_known(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[1024];

	if (fp == NULL) {
		fprintf(stderr, "corpus_check: no allow-list at %s\n", path);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL && nknown < MAX_KNOWN) {
		char *f, *c, *save = NULL;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		f = strtok_r(line, "\t\n", &save);
		c = strtok_r(NULL, "\t\n", &save);
		if (f == NULL || c == NULL)
			continue;
		snprintf(known[nknown].file, sizeof(known[0].file), "%s", f);
		snprintf(known[nknown].check, sizeof(known[0].check), "%s", c);
		nknown++;
	}
	fclose(fp);
}

static int
is_known(const char *file, const char *check)
{
	for (size_t i = 0; i < nknown; i++)
		if (strcmp(known[i].file, file) == 0 &&
		    strcmp(known[i].check, check) == 0) {
			known[i].used = 1;
			return 1;
		}
	return 0;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	struct sc_buf b;
	struct sc_err err;

	sc_err_clear(&err);
	if (sc_file_read(path, (size_t)200 * 1024 * 1024, &b, &err) != 0)
		return NULL;
	return sc_buf_steal(&b, len);
}

/* Splits a TSV line in place; @return the number of columns. */
static int
split(char *line, char **col)
{
	int n = 0;
	char *p = line;

	while (n < MAX_COLS) {
		char *t = strchr(p, '\t');

		col[n++] = p;
		if (t == NULL)
			break;
		*t = '\0';
		p = t + 1;
	}
	for (char *q = col[n - 1]; *q != '\0'; q++)
		if (*q == '\n' || *q == '\r')
			*q = '\0';
	return n;
}

/* The detached content a row names ("cades/detached/hello-world.txt"). */
static int
detached_path(char **col, int ncol, char *out, size_t outlen)
{
	for (int i = 2; i < ncol; i++) {
		const char *d = strstr(col[i], "/detached/");
		const char *s, *e;

		if (d == NULL)
			continue;
		for (s = d;
		     s > col[i] && s[-1] != ' ' && s[-1] != '(' && s[-1] != '=';
		     s--)
			;
		for (e = d + 10; *e != '\0' && *e != ' ' && *e != ')' &&
		     *e != ',' && *e != ';';
		     e++)
			;
		snprintf(out, outlen, "%.*s", (int)(e - s), s);
		return 1;
	}
	return 0;
}

/* "Valid at B level" in the DSS sense is lost by a failed crypto check,
 * a TOTAL-FAILED, or an INDETERMINATE that is not about trust. */
static int
b_invalid(const struct sc_ver_sig_summary *s)
{
	if (!s->crypto_intact || s->indication == SC_VER_TOTAL_FAILED)
		return 1;
	if (s->indication == SC_VER_INDETERMINATE && s->subindication != NULL)
		return strcmp(s->subindication,
			   "NO_SIGNING_CERTIFICATE_FOUND") == 0 ||
		    strcmp(s->subindication, "FORMAT_FAILURE") == 0 ||
		    strcmp(s->subindication, "SIGNED_DATA_NOT_FOUND") == 0;
	return 0;
}

/*
 * The baseline level a MANIFEST claimed_level stands for, for the first
 * signature: "" for a non-ETSI form (no level), NULL when the cell is
 * empty or too composite to compare. Informational only: levels are not
 * part of this test's pass/fail yet.
 */
static const char *
expected_level(const char *c)
{
	if (c[0] == '\0' || strstr(c, " + ") != NULL ||
	    strncmp(c, "master ", 7) == 0)
		return NULL;
	if (strstr(c, "NOT-ETSI") != NULL || strncmp(c, "PKCS7", 5) == 0)
		return "";
	if (strstr(c, "LTA") != NULL || strstr(c, "-A") != NULL ||
	    strstr(c, "T+A") != NULL)
		return "B-LTA";
	if (strstr(c, "-LT") != NULL || strstr(c, "-XL") != NULL)
		return "B-LT";
	if (strstr(c, "BASELINE-T") != NULL || strstr(c, "-T") != NULL ||
	    c[0] == 'T')
		return "B-T";
	if (strstr(c, "BASELINE-B") != NULL || strstr(c, "-BES") != NULL ||
	    strstr(c, "-EPES") != NULL)
		return "B-B";
	return NULL;
}

struct tally {
	const char *fmt;
	int files, fmt_ok, fmt_n, cnt_ok, cnt_n, cry_ok, cry_n, lvl_ok, lvl_n;
};

int
main(void)
{
	const char *root = getenv("SCEAU_CORPUS");
	const char *kpath = getenv("SCEAU_KNOWN");
	const char *verbose = getenv("SCEAU_CORPUS_VERBOSE");
	char path[2048], line[16384];
	FILE *fp;
	int bad = 0, tolerated = 0, rows = 0;
	struct tally t[] = {{.fmt = "PAdES"}, {.fmt = "XAdES"},
	    {.fmt = "CAdES"}, {.fmt = "TST"}};

	if (root == NULL || root[0] == '\0')
		root = SCEAU_CORPUS_DEFAULT;
	if (kpath == NULL || kpath[0] == '\0')
		kpath = SCEAU_KNOWN_DEFAULT;
	snprintf(path, sizeof(path), "%s/dss/MANIFEST.tsv", root);
	if ((fp = fopen(path, "r")) == NULL) {
		printf("SKIPPED: corpus not found at %s\n", path);
		return 77;
	}
	load_known(kpath);
	printf("%-55s %-7s %-40s %s\n", "file", "check", "expected / got",
	    "status");

	while (fgets(line, sizeof(line), fp) != NULL) {
		char *col[MAX_COLS], dpath[512], got[120], exp[300 + 4 * 140];
		int ncol;
		uint8_t *doc = NULL, *det = NULL;
		size_t len = 0, dlen = 0, n;
		struct sc_ver_opts o = {0};
		struct sc_ver_report *rep = NULL;
		struct sc_err err;
		struct tally *tt = NULL;
		const char *check[4] = {NULL, NULL, NULL, NULL};
		char exps[4][128], gots[4][140];
		int nchk = 0;

		if (rows++ == 0)
			continue; /* header */
		ncol = split(line, col);
		if (ncol < 5 || strcmp(col[1], "DATA") == 0)
			continue;
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (strcmp(t[i].fmt, col[1]) == 0)
				tt = &t[i];
		if (tt == NULL)
			continue;
		tt->files++;
		snprintf(path, sizeof(path), "%s/dss/%s", root, col[0]);
		if ((doc = slurp(path, &len)) == NULL) {
			printf("%-55s %-7s cannot read\n", col[0], "read");
			bad++;
			continue;
		}
		if (detached_path(col, ncol, dpath, sizeof(dpath))) {
			snprintf(path, sizeof(path), "%s/dss/%s", root, dpath);
			if ((det = slurp(path, &dlen)) != NULL) {
				o.detached = det;
				o.detached_len = dlen;
			}
		}
		o.offline = 1;
		sc_err_clear(&err);
		if (sc_ver_document(doc, len, &o, &rep, &err) != 0) {
			check[nchk] = "error";
			snprintf(exps[nchk], sizeof(exps[0]), "a report");
			snprintf(gots[nchk], sizeof(gots[0]), "%s: %.90s",
			    sc_code_name(err.code), err.msg);
			nchk++;
			if (col[3][0] != '\0')
				tt->cnt_n++;
			tt->fmt_n++;
			if (strcmp(col[4], "intact") == 0 ||
			    strcmp(col[4], "broken") == 0 ||
			    strcmp(col[4], "not-valid") == 0 ||
			    strcmp(col[4], "mixed") == 0)
				tt->cry_n++;
			goto judge;
		}
		n = sc_ver_report_count(rep);
		if (verbose != NULL) {
			printf("  %s: %s %zu sig(s) %s\n", col[0],
			    sc_ver_report_format(rep), n,
			    sc_ver_indication_name(
				sc_ver_report_indication(rep)));
			for (size_t i = 0; i < n; i++) {
				struct sc_ver_sig_summary s;

				sc_ver_report_sig(rep, i, &s);
				printf("    %s %s level=%s crypto=%d %s/%s\n",
				    s.id, s.format, s.level ? s.level : "-",
				    s.crypto_intact,
				    sc_ver_indication_name(s.indication),
				    s.subindication ? s.subindication : "-");
			}
		}
		/* format */
		tt->fmt_n++;
		if (strcmp(sc_ver_report_format(rep), col[1]) == 0)
			tt->fmt_ok++;
		else {
			check[nchk] = "format";
			snprintf(exps[nchk], sizeof(exps[0]), "%s", col[1]);
			snprintf(gots[nchk], sizeof(gots[0]), "%s",
			    sc_ver_report_format(rep));
			nchk++;
		}
		/* number of signatures */
		if (col[3][0] != '\0') {
			tt->cnt_n++;
			if ((size_t)strtoul(col[3], NULL, 10) == n)
				tt->cnt_ok++;
			else {
				check[nchk] = "count";
				snprintf(exps[nchk], sizeof(exps[0]), "%s",
				    col[3]);
				snprintf(gots[nchk], sizeof(gots[0]), "%zu", n);
				nchk++;
			}
		}
		/* level of the first signature (informational) */
		if (n > 0 && expected_level(col[2]) != NULL) {
			struct sc_ver_sig_summary s;
			const char *want = expected_level(col[2]);
			const char *have;

			sc_ver_report_sig(rep, 0, &s);
			have = s.level != NULL ? s.level : "";
			tt->lvl_n++;
			if (strcmp(want, have) == 0)
				tt->lvl_ok++;
			else
				printf("%-55s %-7s %-40s info\n", col[0],
				    "level", col[2]);
		}
		/* crypto */
		if (strcmp(col[4], "intact") == 0 ||
		    strcmp(col[4], "broken") == 0 ||
		    strcmp(col[4], "not-valid") == 0 ||
		    strcmp(col[4], "mixed") == 0) {
			size_t nintact = 0, ninvalid = 0;
			int ok;

			got[0] = '\0';
			for (size_t i = 0; i < n; i++) {
				struct sc_ver_sig_summary s;
				size_t l = strlen(got);

				sc_ver_report_sig(rep, i, &s);
				nintact += s.crypto_intact != 0;
				ninvalid += b_invalid(&s) != 0;
				snprintf(got + l, sizeof(got) - l, "%s%d%s",
				    i ? "," : "", s.crypto_intact,
				    s.subindication != NULL && b_invalid(&s) &&
					    s.crypto_intact
					? "*"
					: "");
			}
			if (strcmp(col[4], "intact") == 0)
				ok = n > 0 && nintact == n;
			else if (strcmp(col[4], "broken") == 0)
				ok = nintact < n;
			else if (strcmp(col[4], "not-valid") == 0)
				ok = ninvalid > 0;
			else
				ok = ninvalid > 0 && ninvalid < n;
			tt->cry_n++;
			if (ok)
				tt->cry_ok++;
			else {
				check[nchk] = "crypto";
				snprintf(exps[nchk], sizeof(exps[0]), "%s",
				    col[4]);
				snprintf(gots[nchk], sizeof(gots[0]),
				    "intact=[%s]", got);
				nchk++;
			}
		}
judge:
		for (int i = 0; i < nchk; i++) {
			int k = is_known(col[0], check[i]);

			snprintf(exp, sizeof(exp), "%s / %s", exps[i], gots[i]);
			printf("%-55s %-7s %-40s %s\n", col[0], check[i], exp,
			    k ? "known" : "DISAGREE");
			if (k)
				tolerated++;
			else
				bad++;
		}
		sc_ver_report_free(rep);
		free(doc);
		free(det);
	}
	fclose(fp);

	printf("\n%-6s %5s %12s %12s %12s %12s\n", "format", "files", "format",
	    "signatures", "crypto", "level(info)");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		printf("%-6s %5d %7d/%-4d %7d/%-4d %7d/%-4d %7d/%-4d\n",
		    t[i].fmt, t[i].files, t[i].fmt_ok, t[i].fmt_n, t[i].cnt_ok,
		    t[i].cnt_n, t[i].cry_ok, t[i].cry_n, t[i].lvl_ok,
		    t[i].lvl_n);
	for (size_t i = 0; i < nknown; i++)
		if (!known[i].used)
			printf("note: allow-list entry no longer needed: %s "
			       "%s\n",
			    known[i].file, known[i].check);
	printf("SUMMARY: %d unexpected disagreement(s), %d known\n", bad,
	    tolerated);
	return bad == 0 ? 0 : 1;
}
