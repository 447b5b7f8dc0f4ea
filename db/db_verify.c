/*
 * db_verify.c: the trust anchors that the validator uses by default.
 */
#include <stdlib.h>
#include <string.h>

#include "sceau/db_verify.h"

#include "db_int.h"

struct roots {
	struct sc_buf pem;
};

/* RFC 7468 §2: base64 in lines of 64 characters. */
static int
append_pem(struct sc_buf *b, const uint8_t *der, size_t len,
    struct sc_err *err)
{
	char *txt = sc_b64_encode(der, len, 0);
	size_t n;

	if (txt == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	n = strlen(txt);
	if (sc_buf_append_str(b, "-----BEGIN CERTIFICATE-----\n", err) != 0)
		goto fail;
	for (size_t i = 0; i < n; i += 64) {
		if (sc_buf_append(b, txt + i, n - i < 64 ? n - i : 64, err) !=
			0 ||
		    sc_buf_append(b, "\n", 1, err) != 0)
			goto fail;
	}
	if (sc_buf_append_str(b, "-----END CERTIFICATE-----\n", err) != 0)
		goto fail;
	free(txt);
	return 0;
fail:
	free(txt);
	return -1;
}

static int
roots_fn(struct sc_db_conn *c, void *arg, struct sc_err *err)
{
	struct roots *ro = arg;
	PGresult *res = NULL;
	int rc = -1;

	if (db_exec(c, ST_VERIFY_ROOTS, NULL, &res, err) != SC_DB_ONE)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		unsigned char *der;
		size_t len = 0;

		der = PQunescapeBytea(
		    (const unsigned char *)PQgetvalue(res, i, 0), &len);
		if (der == NULL) {
			sc_err_set(err, SC_E_NOMEM, "out of memory");
			goto out;
		}
		if (append_pem(&ro->pem, der, len, err) != 0) {
			PQfreemem(der);
			goto out;
		}
		PQfreemem(der);
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

int
sc_db_trust_roots_pem(struct sc_db *db, char **pem, struct sc_err *err)
{
	struct roots ro;

	*pem = NULL;
	sc_buf_init(&ro.pem, 1u << 20);
	if (db_run_plain(db, roots_fn, &ro, err) != 0) {
		sc_buf_free(&ro.pem);
		return -1;
	}
	if (ro.pem.len > 0)
		*pem = (char *)sc_buf_steal(&ro.pem, NULL);
	sc_buf_free(&ro.pem);
	return 0;
}
