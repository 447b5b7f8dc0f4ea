/*
 * testpki: throw-away certificate hierarchies for tests, with every
 * private key generated in the (SoftHSM2) token through sceau's hsm/
 * module: no key ever sits in a file, even in tests.
 */
#ifndef SCEAU_TESTPKI_H
#define SCEAU_TESTPKI_H

#include <openssl/types.h>

struct sc_hsm;

/* What testpki_issue() puts in a certificate. */
struct testpki_spec {
	const char *cn;		/* subject CN (also O=sceau tests, C=ML) */
	int is_ca;		/* basicConstraints CA:TRUE, keyCertSign, cRLSign */
	const char *eku;	/* e.g. "critical,timeStamping", "OCSPSigning" */
	int ocsp_nocheck;	/* id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1) */
	long days;		/* validity from now - 1 h */
	const char *key_type;	/* "ec-p256" (default) ... */
};

/**
 * Generates the key @alias in the HSM (a random suffix is NOT added: pass
 * a unique alias) and issues its certificate from @issuer/@issuer_alias,
 * or self-signed when @issuer is NULL. Aborts the test on failure.
 * @return the certificate; free with X509_free().
 */
X509 *testpki_issue(struct sc_hsm *hsm, const char *alias,
    const struct testpki_spec *spec, X509 *issuer, const char *issuer_alias);

/** A unique alias "PREFIX-<16 hex>". @out: 80 bytes. */
void testpki_alias(const char *prefix, char out[80]);

#endif
