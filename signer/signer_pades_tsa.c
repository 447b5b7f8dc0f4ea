/*
 * signer_pades_tsa.c: the glue between the CMS signer's time-stamp
 * source (sceau/cms.h) and sceau's RFC 3161 client (sceau/tsa.h), which
 * reaches the in-process TSA unit or an outside TSA over HTTP and checks
 * the reply (RFC 3161 §2.4.2) before the token is used.
 */
#include <stdlib.h>
#include <string.h>

#include "sceau/pades.h"
#include "sceau/tsa.h"

static int
tsa_client_fn(void *arg, const uint8_t digest[32], uint8_t **token,
    size_t *toklen, struct sc_err *err)
{
	const struct sc_tsa_client *c = arg;
	struct sc_tsa_token t;

	memset(&t, 0, sizeof(t));
	if (sc_tsa_timestamp(c, SC_TSA_SHA256, digest, 32, &t, err) != 0)
		return -1;
	*token = t.token; /* ownership moves to the caller */
	*toklen = t.token_len;
	t.token = NULL;
	t.token_len = 0;
	sc_tsa_token_free(&t);
	return 0;
}

struct sc_cms_tsa
sc_pades_tsa_client(const void *client)
{
	struct sc_cms_tsa t;

	t.fn = tsa_client_fn;
	/* The client is only read; the callback's argument is not const. */
	memcpy(&t.arg, &client, sizeof(t.arg));
	return t;
}
