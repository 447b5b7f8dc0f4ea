/*
 * verify_asn1.h: ASN.1 types OpenSSL does not export, decoded with its
 * template machinery (STYLE.md rule 12, as rpki-client's rpki-asn1.h).
 * The typedefs are what the template macros require. Sequences-of are
 * read through the generic OPENSSL_sk_* functions.
 */
#ifndef SCEAU_VERIFY_ASN1_H
#define SCEAU_VERIFY_ASN1_H

#include <openssl/asn1.h>
#include <openssl/ocsp.h>
#include <openssl/safestack.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* clang-format off */

/* IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber INTEGER }
 * (RFC 5035 §4) */
typedef struct {
	GENERAL_NAMES *issuer;
	ASN1_INTEGER *serial;
} SC_ISSUERSERIAL;
DECLARE_ASN1_FUNCTIONS(SC_ISSUERSERIAL)

/* ESSCertID(v2) (RFC 2634 §5.4.1, RFC 5035 §4): hashAlgorithm is only in
 * v2 (DEFAULT sha256). */
typedef struct {
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *hash;
	SC_ISSUERSERIAL *issuer_serial;
} SC_ESSCERTID;
DECLARE_ASN1_FUNCTIONS(SC_ESSCERTID)

/* SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2),
 * policies SEQUENCE OF PolicyInformation OPTIONAL } */
typedef struct {
	OPENSSL_STACK *certs; /* of SC_ESSCERTID */
	ASN1_TYPE *policies;
} SC_SIGNINGCERT;
DECLARE_ASN1_FUNCTIONS(SC_SIGNINGCERT)

/* RevocationValues (RFC 5126 §6.3.4): CRLs [0], BasicOCSPResponses [1]. */
typedef struct {
	STACK_OF(X509_CRL) *crls;
	OPENSSL_STACK *ocsps; /* of OCSP_BASICRESP */
	ASN1_TYPE *other;
} SC_REVVALS;
DECLARE_ASN1_FUNCTIONS(SC_REVVALS)

/* Adobe RevocationInfoArchival (ISO 32000-1 §12.8.3.3.2): CRLs [0],
 * OCSPResponses [1]. */
typedef struct {
	STACK_OF(X509_CRL) *crls;
	OPENSSL_STACK *ocsps; /* of OCSP_RESPONSE */
	ASN1_TYPE *other;
} SC_ADBE_RIA;
DECLARE_ASN1_FUNCTIONS(SC_ADBE_RIA)

/* QCStatement ::= SEQUENCE { statementId OID, statementInfo ANY OPTIONAL }
 * QCStatements ::= SEQUENCE OF QCStatement (RFC 3739 §3.2.6) */
typedef struct {
	ASN1_OBJECT *id;
	ASN1_TYPE *info;
} QCSTATEMENT;
DECLARE_ASN1_FUNCTIONS(QCSTATEMENT)
typedef OPENSSL_STACK QCSTATEMENTS; /* of QCSTATEMENT */
DECLARE_ASN1_FUNCTIONS(QCSTATEMENTS)

/* ATSHashIndex(-v3) (EN 319 122-1 §5.5.2): hashIndAlgorithm DEFAULT
 * sha256, then hashes of certificates, CRLs and unsigned attributes.
 * Both the algorithm and the lists are SEQUENCEs, which OpenSSL's OPTIONAL
 * cannot tell apart: one type with the algorithm, one without. */
typedef struct {
	X509_ALGOR *alg;
	OPENSSL_STACK *certs; /* of ASN1_OCTET_STRING */
	OPENSSL_STACK *crls;
	OPENSSL_STACK *attrs;
} SC_ATSHASHINDEX;
DECLARE_ASN1_FUNCTIONS(SC_ATSHASHINDEX)
typedef struct {
	OPENSSL_STACK *certs;
	OPENSSL_STACK *crls;
	OPENSSL_STACK *attrs;
} SC_ATSHASHINDEX_DEF;
DECLARE_ASN1_FUNCTIONS(SC_ATSHASHINDEX_DEF)

/* clang-format on */

#endif
