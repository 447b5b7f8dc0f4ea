/*
 * ca_subject.c: the subject of a certificate, from the RA's JSON
 * (CONTRACT.md "Subject file") to an X.509 Name.
 *
 * - Names are UTF8String and kept byte for byte ("Traoré",
 *   "Doumbia-Diallo"): valid UTF-8 is required, nothing is normalised.
 * - countryName and serialNumber are PrintableString (RFC 5280 §4.1.2.4,
 *   X.520).
 * - Character bounds are RFC 5280 Appendix A's ub-* values.
 * - A natural person's NINA becomes serialNumber "PNOML-<NINA>", the
 *   ETSI EN 319 412-1 §5.1.3 semantics identifier (type PNO, national
 *   personal number, country ML).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ca_int.h"

/* One subject member: where it goes and its bound in characters. */
struct member {
	const char *json;
	unsigned bit;
	size_t off;
	size_t size;
	long max_chars; /* RFC 5280 Appendix A, or sceau's own cap */
};

#define M(j, b, f, n)                                                       \
	{                                                                   \
		j, b, offsetof(struct ca_subject, f),                       \
		    sizeof(((struct ca_subject *)0)->f), n                  \
	}

static const struct member members[] = {
	/* ub-name is 32768; sceau caps given names and surnames at 64. */
	M("givenName", CA_F_GIVEN, given, 64),
	M("surname", CA_F_SURNAME, surname, 64),
	M("commonName", CA_F_CN, cn, 64),	/* ub-common-name */
	M("nina", CA_F_NINA, nina, 15),
	M("title", CA_F_TITLE, title, 64),	/* ub-title */
	M("organization", CA_F_ORG, org, 64),	/* ub-organization-name */
	/* organizationIdentifier (X.520): sceau caps it at 64 */
	M("organizationIdentifier", CA_F_ORGID, orgid, 64),
	M("email", CA_F_EMAIL, email, 128),	/* ub-emailaddress-length 255 */
	M("locality", CA_F_LOCALITY, locality, 128), /* ub-locality-name */
	M("country", CA_F_COUNTRY, country, 2),
};
#define NMEMBERS (sizeof(members) / sizeof(members[0]))

/*
 * ISO 3166-1 alpha-2 codes officially assigned (2024), two letters each.
 */
static const char iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBV"
    "BWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERES"
    "ETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIE"
    "ILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLY"
    "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNU"
    "NZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSM"
    "SNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVE"
    "VGVIVNVUWFWSYEYTZAZMZW";

int
ca_country_valid(const char *cc)
{
	if (cc == NULL || strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' ||
	    cc[1] < 'A' || cc[1] > 'Z')
		return 0;
	for (size_t i = 0; i + 1 < sizeof(iso3166); i += 2)
		if (iso3166[i] == cc[0] && iso3166[i + 1] == cc[1])
			return 1;
	return 0;
}

/*
 * NINA (Law 06-040): 14 digits — nationality (1), sex (1), year of birth
 * (2), place of birth (7), sequence (3) — and one control letter. The
 * control letter's algorithm is not published to us: any uppercase
 * letter A-Z is accepted, so a mistyped letter is not caught here.
 */
int
ca_nina_valid(const char *nina)
{
	if (nina == NULL || strlen(nina) != 15)
		return 0;
	for (int i = 0; i < 14; i++)
		if (nina[i] < '0' || nina[i] > '9')
			return 0;
	return nina[14] >= 'A' && nina[14] <= 'Z';
}

/* Counts characters of strict UTF-8 (no overlong forms, no surrogates,
 * no control characters). @return -1 if invalid. */
static long
utf8_count(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p != '\0') {
		unsigned cp;
		int extra;

		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p < 0x80) {
			extra = 0;
			cp = *p;
		} else if ((*p & 0xe0) == 0xc0) {
			extra = 1;
			cp = *p & 0x1fu;
		} else if ((*p & 0xf0) == 0xe0) {
			extra = 2;
			cp = *p & 0x0fu;
		} else if ((*p & 0xf8) == 0xf0) {
			extra = 3;
			cp = *p & 0x07u;
		} else {
			return -1;
		}
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p & 0x3fu);
		}
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp < 0xa0))
			return -1;
		n++;
	}
	return n;
}

/* X.680 PrintableString characters. */
static int
printable(const char *s)
{
	static const char extra[] = " '()+,-./:=?";

	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return 0;
	}
	return 1;
}

/* A conservative addr-spec (RFC 5321 §4.1.2, ASCII only). */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    at[1] == '\0' || strchr(at + 1, '.') == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("\"(),:;<>[\\]", *s) != NULL)
			return 0;
	return 1;
}

static int
check_value(const struct member *m, const char *v, struct sc_err *err)
{
	long n = utf8_count(v);

	if (n < 1 || v[0] == ' ' || v[strlen(v) - 1] == ' ')
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "subject.%s: valid UTF-8 text without control characters "
		    "nor leading or trailing spaces is required",
		    m->json);
	if (n > m->max_chars)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "subject.%s: at most %ld characters (RFC 5280 "
		    "Appendix A)",
		    m->json, m->max_chars);
	switch (m->bit) {
	case CA_F_NINA:
		if (!ca_nina_valid(v))
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.nina: 14 digits then one letter A-Z "
			    "(Law 06-040 NINA)");
		break;
	case CA_F_COUNTRY:
		if (!ca_country_valid(v))
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.country: an ISO 3166-1 alpha-2 code in "
			    "capitals");
		break;
	case CA_F_EMAIL:
		if (!email_ok(v))
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.email: not an e-mail address");
		break;
	case CA_F_ORGID:
		/* ETSI EN 319 412-1 §5.1.4: 3-letter type, country, "-". */
		if (!printable(v) || strlen(v) < 7 || v[5] != '-' ||
		    !(v[0] >= 'A' && v[0] <= 'Z') ||
		    !(v[1] >= 'A' && v[1] <= 'Z') ||
		    !(v[2] >= 'A' && v[2] <= 'Z'))
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.organizationIdentifier: TTTCC-ident "
			    "(ETSI EN 319 412-1 §5.1.4), e.g. NTRML-...");
		break;
	default:
		break;
	}
	return 0;
}

int
ca_subject_check(const struct ca_subject *s, const struct ca_profile *prof,
    struct sc_err *err)
{
	for (size_t i = 0; i < NMEMBERS; i++) {
		const struct member *m = &members[i];
		const char *v = (const char *)s + m->off;

		if ((s->present & m->bit) == 0) {
			if (prof->required & m->bit)
				return sc_err_set(err, SC_E_INVALID_INPUT,
				    "subject.%s is required by profile %s",
				    m->json, prof->name);
			continue;
		}
		if (((prof->required | prof->optional) & m->bit) == 0)
			return sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.%s is not allowed by profile %s", m->json,
			    prof->name);
		if (check_value(m, v, err) != 0)
			return -1;
	}
	return 0;
}

int
ca_subject_parse(const char *json, size_t len, const struct ca_profile *prof,
    struct ca_subject *s, struct sc_err *err)
{
	json_error_t je;
	json_t *j, *v;
	const char *key;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (json == NULL || len == 0)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "the subject is required");
	if (len > 16384)
		return sc_err_set(err, SC_E_INVALID_INPUT,
		    "the subject is larger than 16 KiB");
	j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL || !json_is_object(j)) {
		sc_err_set(err, SC_E_INVALID_INPUT,
		    "the subject must be a JSON object");
		goto out;
	}
	json_object_foreach(j, key, v) {
		const struct member *m = NULL;
		size_t n;

		for (size_t i = 0; i < NMEMBERS; i++)
			if (strcmp(members[i].json, key) == 0)
				m = &members[i];
		if (m == NULL) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject: unknown member \"%.40s\" (givenName, "
			    "surname, commonName, nina, title, organization, "
			    "organizationIdentifier, email, locality, "
			    "country)",
			    key);
			goto out;
		}
		if (!json_is_string(v)) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.%s must be a string", m->json);
			goto out;
		}
		n = json_string_length(v);
		if (n >= m->size || strlen(json_string_value(v)) != n) {
			sc_err_set(err, SC_E_INVALID_INPUT,
			    "subject.%s: at most %ld characters (RFC 5280 "
			    "Appendix A)",
			    m->json, m->max_chars);
			goto out;
		}
		memcpy((char *)s + m->off, json_string_value(v), n + 1);
		s->present |= m->bit;
	}
	if (ca_subject_check(s, prof, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static int
add(X509_NAME *n, int nid, int type, const char *v, struct sc_err *err)
{
	if (X509_NAME_add_entry_by_NID(n, nid, type, (const unsigned char *)v,
		(int)strlen(v), -1, 0) != 1)
		return sc_err_crypto(err, SC_E_CRYPTO,
		    "cannot add %s to the name", OBJ_nid2sn(nid));
	return 0;
}

X509_NAME *
ca_subject_name(const struct ca_subject *s, struct sc_err *err)
{
	X509_NAME *n = NULL, *ret = NULL;
	char serial[32];
	const int U = V_ASN1_UTF8STRING, P = V_ASN1_PRINTABLESTRING;

	if ((n = X509_NAME_new()) == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	/* Most significant first (RFC 4514 prints them reversed). */
	if (add(n, NID_countryName, P,
		(s->present & CA_F_COUNTRY) ? s->country : "ML", err) != 0)
		goto out;
	if ((s->present & CA_F_LOCALITY) &&
	    add(n, NID_localityName, U, s->locality, err) != 0)
		goto out;
	if ((s->present & CA_F_ORG) &&
	    add(n, NID_organizationName, U, s->org, err) != 0)
		goto out;
	if ((s->present & CA_F_ORGID) &&
	    add(n, NID_organizationIdentifier, U, s->orgid, err) != 0)
		goto out;
	if ((s->present & CA_F_TITLE) &&
	    add(n, NID_title, U, s->title, err) != 0)
		goto out;
	if ((s->present & CA_F_SURNAME) &&
	    add(n, NID_surname, U, s->surname, err) != 0)
		goto out;
	if ((s->present & CA_F_GIVEN) &&
	    add(n, NID_givenName, U, s->given, err) != 0)
		goto out;
	if (s->present & CA_F_NINA) {
		/* ETSI EN 319 412-1 §5.1.3: PNO + ISO 3166 + "-" + id. */
		snprintf(serial, sizeof(serial), "PNOML-%s", s->nina);
		if (add(n, NID_serialNumber, P, serial, err) != 0)
			goto out;
	}
	if (add(n, NID_commonName, U, s->cn, err) != 0)
		goto out;
	ret = n; /* the caller frees it */
	n = NULL;
out:
	X509_NAME_free(n);
	return ret;
}

char *
ca_subject_json(const struct ca_subject *s)
{
	json_t *j = json_object();
	char *txt;

	if (j == NULL)
		return NULL;
	for (size_t i = 0; i < NMEMBERS; i++)
		if (s->present & members[i].bit)
			json_object_set_new(j, members[i].json,
			    json_string((const char *)s + members[i].off));
	txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return txt;
}
