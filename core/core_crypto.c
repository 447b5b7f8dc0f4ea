/*
 * core_crypto.c: CSPRNG, SHA-256 and constant-time comparison.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sceau/core.h"

int
sc_rand_bytes(uint8_t *p, size_t n, struct sc_err *err)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return sc_err_crypto(err, SC_E_CRYPTO, "random generator failed");
	return 0;
}

void
sc_sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned int olen = 32;

	/* EVP_Digest cannot fail for SHA-256 short of memory exhaustion. */
	if (EVP_Digest(p, len, out, &olen, EVP_sha256(), NULL) != 1)
		OPENSSL_cleanse(out, 32);
}

int
sc_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
sc_request_id(char out[17])
{
	uint8_t r[8] = {0};

	if (RAND_bytes(r, sizeof(r)) != 1)
		sc_op_begin(); /* an all-zero id; drop the error */
	sc_hex_encode(r, sizeof(r), out);
}
