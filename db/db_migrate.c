/*
 * db_migrate.c: the migration runner over DIR/NNN_name.sql.
 *
 * Each file is applied in its own transaction together with its
 * schema_migrations row, under pg_advisory_xact_lock so that concurrent
 * migrators (several nodes starting at once) apply each file once. The
 * file text is sent with PQexec(): it is our own trusted file, never
 * outside input, and may hold several statements, but no BEGIN/COMMIT.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define MIG_COUNT_MAX 1000
#define MIG_FILE_MAX (4u * 1024 * 1024)

struct mig {
	int version;
	char file[128]; /* "001_foundation.sql" */
	char name[128]; /* "foundation" */
};

struct mig_arg {
	const char *dir;
	const struct mig *m;
	int applied; /* set when this run applied it */
};

/*
 * ^[0-9]{3}_[a-z0-9_]+\.sql$, and its version and name.
 * @return 1 when @s matches.
 */
static int
mig_name_parse(const char *s, struct mig *m)
{
	size_t len = strlen(s), i;

	if (len < 9 || len >= sizeof(m->file))
		return 0;
	for (i = 0; i < 3; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[3] != '_' || strcmp(s + len - 4, ".sql") != 0)
		return 0;
	for (i = 4; i < len - 4; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	m->version = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	memcpy(m->file, s, len + 1);
	memcpy(m->name, s + 4, len - 8);
	m->name[len - 8] = '\0';
	return 1;
}

static int
mig_cmp(const void *a, const void *b)
{
	const struct mig *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Lists and sorts the migrations of @dir. @return 0 or -1. */
static int
mig_scan(const char *dir, struct mig **out, size_t *count, struct sc_err *err)
{
	DIR *d = NULL;
	struct dirent *de;
	struct mig *v = NULL, m;
	size_t n = 0;
	int rc = -1;

	*out = NULL;
	*count = 0;
	if ((d = opendir(dir)) == NULL) {
		sc_err_set(err, SC_E_CONFIG,
		    "cannot open the migrations folder %s", dir);
		goto out;
	}
	if ((v = calloc(MIG_COUNT_MAX, sizeof(*v))) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (!mig_name_parse(de->d_name, &m)) {
			/* A .sql file that the runner would skip is a mistake.
			 */
			if (len >= 4 &&
			    strcmp(de->d_name + len - 4, ".sql") == 0) {
				sc_err_set(err, SC_E_CONFIG,
				    "migration %s: the name must match "
				    "NNN_name.sql (lower case, digits, _)",
				    de->d_name);
				goto out;
			}
			continue;
		}
		if (n >= MIG_COUNT_MAX) {
			sc_err_set(err, SC_E_CONFIG, "too many migrations");
			goto out;
		}
		v[n++] = m;
	}
	qsort(v, n, sizeof(*v), mig_cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i].version == v[i - 1].version) {
			sc_err_set(err, SC_E_CONFIG,
			    "migrations %s and %s have the same number",
			    v[i - 1].file, v[i].file);
			goto out;
		}
	*out = v; /* the caller frees it */
	v = NULL;
	*count = n;
	rc = 0;
out:
	free(v);
	if (d != NULL)
		closedir(d);
	return rc;
}

static int
mig_apply_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct mig_arg *a = arg;
	struct db_params p = {0};
	struct sc_buf b;
	PGresult *r = NULL;
	char ver[16], path[SC_CONFIG_PATH_MAX + 160];
	int rc = -1;

	sc_buf_init(&b, MIG_FILE_MAX);
	a->applied = 0;
	if (db_exec(c, ST_MIG_LOCK, NULL, NULL, err) != SC_DB_ONE ||
	    db_exec(c, ST_MIG_TABLE, NULL, NULL, err) != SC_DB_ONE)
		goto out;
	snprintf(ver, sizeof(ver), "%d", a->m->version);
	db_params_text(&p, ver);
	if (db_exec(c, ST_MIG_APPLIED, &p, &r, err) != SC_DB_ONE)
		goto out;
	if (PQntuples(r) > 0) {
		if (strcmp(PQgetvalue(r, 0, 0), a->m->name) != 0) {
			sc_err_set(err, SC_E_CONFIG,
			    "migration %03d is recorded as \"%s\", not \"%s\"",
			    a->m->version, PQgetvalue(r, 0, 0), a->m->name);
			goto out;
		}
		rc = 0; /* applied before */
		goto out;
	}
	PQclear(r);
	r = NULL;

	snprintf(path, sizeof(path), "%s/%s", a->dir, a->m->file);
	if (sc_file_read(path, MIG_FILE_MAX, &b, err) != 0)
		goto out;
	if (memchr(b.p, '\0', b.len) != NULL) {
		sc_err_set(err, SC_E_CONFIG, "migration %s: NUL byte",
		    a->m->file);
		goto out;
	}
	/* Trusted text from our own file; see the comment at the top. */
	r = PQexec(c->pg, (const char *)b.p);
	if (r == NULL ||
	    (PQresultStatus(r) != PGRES_COMMAND_OK &&
		PQresultStatus(r) != PGRES_TUPLES_OK &&
		PQresultStatus(r) != PGRES_EMPTY_QUERY)) {
		db_fail(c, r, a->m->file, err);
		sc_err_detail(err, "migration %s failed", a->m->file);
		goto out;
	}
	PQclear(r);
	r = NULL;
	if (PQtransactionStatus(c->pg) != PQTRANS_INTRANS) {
		sc_err_set(err, SC_E_CONFIG,
		    "migration %s must not end the transaction", a->m->file);
		goto out;
	}
	p.n = 0;
	db_params_text(&p, ver);
	db_params_text(&p, a->m->name);
	if (db_exec(c, ST_MIG_RECORD, &p, NULL, err) != SC_DB_ONE)
		goto out;
	a->applied = 1;
	rc = 0;
out:
	PQclear(r);
	sc_buf_free(&b);
	return rc;
}

int
sc_db_migrate(struct sc_db *db, const char *dir, int *applied,
    struct sc_err *err)
{
	struct mig *v = NULL;
	struct mig_arg a;
	size_t n = 0;
	int rc = -1, count = 0;

	if (applied != NULL)
		*applied = 0;
	if (mig_scan(dir, &v, &n, err) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		a.dir = dir;
		a.m = &v[i];
		a.applied = 0;
		if (sc_db_run_txn(db, mig_apply_fn, &a, err) != 0) {
			sc_err_detail(err, "migration %s", v[i].file);
			goto out;
		}
		if (a.applied) {
			sc_log(SC_LOG_NOTICE, "db: applied migration %s",
			    v[i].file);
			count++;
		}
	}
	rc = 0;
out:
	if (applied != NULL)
		*applied = count;
	free(v);
	return rc;
}
