/*
 * ca_profile.c: certificate profiles as data (DESIGN.md principle 4),
 * policies/profiles/NAME.conf. A small bounded INI parser in the manner
 * of core_config.c: fixed sections and keys, every value allow-listed,
 * duplicates and unknowns refused with file:line (policies/profiles/
 * README.md describes every key).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sceau/hsm.h"

#include "ca_int.h"

#define PROFILE_MAX (16 * 1024)

enum key_id {
	K_KIND,
	K_ISSUER,
	K_KEY_TYPES,
	K_VALIDITY,
	K_APPROVALS,
	K_SECURE,
	K_POLICY,
	K_NOTICE,
	K_REQUIRED,
	K_OPTIONAL,
	K_KU,
	K_EKU,
	K_EKU_CRIT,
	K_BC,
	K_NOCHECK,
	K_CRLDP,
	K_AIA,
	K_QC,
	K_QC_TYPE,
	K_QC_SSCD,
	K_QC_LIMIT,
	K_QC_LIMIT_EXP,
	K_QC_RETENTION,
	K_QC_SEMANTICS,
	K__COUNT
};

struct pkey {
	const char *section;
	const char *name;
	int required; /* 1: always; 2: when [qc] enabled = yes */
};

static const struct pkey pkeys[K__COUNT] = {
	[K_KIND] = {"profile", "kind", 1},
	[K_ISSUER] = {"profile", "issuer", 1},
	[K_KEY_TYPES] = {"profile", "key_types", 1},
	[K_VALIDITY] = {"profile", "validity_days", 1},
	[K_APPROVALS] = {"profile", "approvals", 1},
	[K_SECURE] = {"profile", "secure_device", 1},
	[K_POLICY] = {"profile", "policy", 1},
	[K_NOTICE] = {"profile", "user_notice", 0},
	[K_REQUIRED] = {"subject", "required", 1},
	[K_OPTIONAL] = {"subject", "optional", 0},
	[K_KU] = {"extensions", "key_usage", 1},
	[K_EKU] = {"extensions", "extended_key_usage", 1},
	[K_EKU_CRIT] = {"extensions", "extended_key_usage_critical", 1},
	[K_BC] = {"extensions", "basic_constraints", 1},
	[K_NOCHECK] = {"extensions", "ocsp_nocheck", 1},
	[K_CRLDP] = {"extensions", "crl_distribution_point", 1},
	[K_AIA] = {"extensions", "authority_info_access", 1},
	[K_QC] = {"qc", "enabled", 1},
	[K_QC_TYPE] = {"qc", "type", 2},
	[K_QC_SSCD] = {"qc", "sscd", 2},
	[K_QC_LIMIT] = {"qc", "limit_amount", 2},
	[K_QC_LIMIT_EXP] = {"qc", "limit_exponent", 2},
	[K_QC_RETENTION] = {"qc", "retention_years", 2},
	[K_QC_SEMANTICS] = {"qc", "semantics", 2},
};

struct word {
	const char *name;
	unsigned bit;
};

static const struct word fields[] = {
	{"givenName", CA_F_GIVEN},
	{"surname", CA_F_SURNAME},
	{"commonName", CA_F_CN},
	{"nina", CA_F_NINA},
	{"title", CA_F_TITLE},
	{"organization", CA_F_ORG},
	{"organizationIdentifier", CA_F_ORGID},
	{"email", CA_F_EMAIL},
	{"locality", CA_F_LOCALITY},
	{"country", CA_F_COUNTRY},
	{NULL, 0},
};

static const struct word kus[] = {
	{"digitalSignature", CA_KU_DIGSIG},
	{"nonRepudiation", CA_KU_NONREP},
	{"keyEncipherment", CA_KU_KEYENC},
	{"keyAgreement", CA_KU_KEYAGREE},
	{"keyCertSign", CA_KU_CERTSIGN},
	{"cRLSign", CA_KU_CRLSIGN},
	{NULL, 0},
};

static const struct word ekus[] = {
	{"timeStamping", CA_EKU_TSA},
	{"OCSPSigning", CA_EKU_OCSP},
	{"emailProtection", CA_EKU_EMAIL},
	{"clientAuth", CA_EKU_CLIENT},
	{NULL, 0},
};

static const struct word keytypes[] = {
	{"ec-p256", CA_KT_BIT(SC_HSM_EC_P256)},
	{"ec-p384", CA_KT_BIT(SC_HSM_EC_P384)},
	{"rsa-2048", CA_KT_BIT(SC_HSM_RSA_2048)},
	{"rsa-3072", CA_KT_BIT(SC_HSM_RSA_3072)},
	{"rsa-4096", CA_KT_BIT(SC_HSM_RSA_4096)},
	{NULL, 0},
};

const char *
ca_field_name(unsigned f)
{
	for (size_t i = 0; fields[i].name != NULL; i++)
		if (fields[i].bit == f)
			return fields[i].name;
	return NULL;
}

static char *
trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s &&
	    (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

/* Parses "a, b, c" over @tab into bits; "none" alone is 0 when @none. */
static int
words(const char *val, const struct word *tab, int none, unsigned *out,
    const char *where, struct sc_err *err)
{
	char buf[512], *p, *tok, *save = NULL;

	*out = 0;
	if (strlen(val) >= sizeof(buf))
		return sc_err_set(err, SC_E_CONFIG, "%s: value too long",
		    where);
	if (none && strcmp(val, "none") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", val);
	for (p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		char *w = trim(tok, tok + strlen(tok));
		size_t i;

		for (i = 0; tab[i].name != NULL; i++)
			if (strcmp(w, tab[i].name) == 0)
				break;
		if (tab[i].name == NULL)
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: unknown value \"%.40s\"", where, w);
		if (*out & tab[i].bit)
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" listed twice", where, w);
		*out |= tab[i].bit;
	}
	if (*out == 0 && !(none == 2 && val[0] == '\0'))
		return sc_err_set(err, SC_E_CONFIG, "%s: empty list", where);
	return 0;
}

static int
yesno(const char *val, int *out, const char *where, struct sc_err *err)
{
	if (strcmp(val, "yes") == 0)
		*out = 1;
	else if (strcmp(val, "no") == 0)
		*out = 0;
	else
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: \"%.40s\" is not yes or no", where, val);
	return 0;
}

static int
number(const char *val, uint64_t lo, uint64_t hi, uint64_t *out,
    const char *where, struct sc_err *err)
{
	if (sc_parse_u64(val, lo, hi, out, where, err) != 0) {
		err->code = SC_E_CONFIG;
		return -1;
	}
	return 0;
}

/* 1 if @s is a dotted OID suffix like "1.1" or "2.10.3". */
static int
oid_suffix_ok(const char *s)
{
	int digit = 0;

	if (s[0] == '\0' || strlen(s) > 32)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			digit = 1;
		else if (*s == '.' && digit)
			digit = 0;
		else
			return 0;
	}
	return digit;
}

/* Counts UTF-8 characters; -1 if not valid UTF-8 or a control char. */
static long
utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p != '\0') {
		int extra;

		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p < 0x80)
			extra = 0;
		else if (*p >= 0xc2 && *p <= 0xdf)
			extra = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			extra = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			extra = 3;
		else
			return -1;
		p++;
		for (int i = 0; i < extra; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return -1;
		n++;
	}
	return n;
}

static int
set_key(struct ca_profile *p, enum key_id k, const char *val,
    const char *where, struct sc_err *err)
{
	uint64_t v;
	int b = 0;

	switch (k) {
	case K_KIND:
		if (strcmp(val, "root") == 0)
			p->kind = CA_KIND_ROOT;
		else if (strcmp(val, "ca") == 0)
			p->kind = CA_KIND_CA;
		else if (strcmp(val, "end-entity") == 0)
			p->kind = CA_KIND_EE;
		else
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not root, ca or end-entity",
			    where, val);
		return 0;
	case K_ISSUER:
		if (strlen(val) < 1 || strlen(val) > CA_PROFILE_NAME_MAX ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
			strlen(val))
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not a CA name, self or any", where,
			    val);
		snprintf(p->issuer, sizeof(p->issuer), "%s", val);
		return 0;
	case K_KEY_TYPES:
		return words(val, keytypes, 0, &p->key_types, where, err);
	case K_VALIDITY:
		if (number(val, 1, 9125, &v, where, err) != 0)
			return -1;
		p->validity_days = (unsigned)v;
		return 0;
	case K_APPROVALS:
		if (number(val, 1, 5, &v, where, err) != 0)
			return -1;
		p->approvals = (unsigned)v;
		return 0;
	case K_SECURE:
		return yesno(val, &p->secure_device, where, err);
	case K_POLICY:
		if (strcmp(val, "none") == 0)
			p->policy[0] = '\0';
		else if (strcmp(val, "any") == 0 || oid_suffix_ok(val))
			snprintf(p->policy, sizeof(p->policy), "%s", val);
		else
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not none, any or an OID suffix",
			    where, val);
		return 0;
	case K_NOTICE: {
		long n = utf8_chars(val);

		/* RFC 5280 §4.2.1.4: explicitText at most 200 characters. */
		if (n < 1 || n > 200 || strlen(val) >= sizeof(p->user_notice))
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: 1 to 200 UTF-8 characters (RFC 5280 "
			    "§4.2.1.4)",
			    where);
		snprintf(p->user_notice, sizeof(p->user_notice), "%s", val);
		return 0;
	}
	case K_REQUIRED:
		return words(val, fields, 0, &p->required, where, err);
	case K_OPTIONAL:
		return words(val, fields, 2, &p->optional, where, err);
	case K_KU:
		return words(val, kus, 0, &p->key_usage, where, err);
	case K_EKU:
		return words(val, ekus, 1, &p->eku, where, err);
	case K_EKU_CRIT:
		return yesno(val, &p->eku_critical, where, err);
	case K_BC:
		if (strcmp(val, "leaf") == 0)
			p->bc = CA_BC_LEAF;
		else if (strcmp(val, "ca") == 0)
			p->bc = CA_BC_CA;
		else if (strcmp(val, "ca:0") == 0)
			p->bc = CA_BC_CA0;
		else
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not leaf, ca or ca:0", where, val);
		return 0;
	case K_NOCHECK:
		return yesno(val, &p->ocsp_nocheck, where, err);
	case K_CRLDP:
		return yesno(val, &p->crldp, where, err);
	case K_AIA:
		return yesno(val, &p->aia, where, err);
	case K_QC:
		return yesno(val, &p->qc, where, err);
	case K_QC_TYPE:
		if (strcmp(val, "esign") == 0)
			p->qc_type = CA_QC_ESIGN;
		else if (strcmp(val, "eseal") == 0)
			p->qc_type = CA_QC_ESEAL;
		else
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not esign or eseal", where, val);
		return 0;
	case K_QC_SSCD:
		if (strcmp(val, "by-key") == 0) {
			p->sscd = CA_SSCD_BY_KEY;
			return 0;
		}
		if (yesno(val, &b, where, err) != 0) {
			err->msg[0] = '\0';
			err->code = SC_E_OK;
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not yes, no or by-key", where,
			    val);
		}
		p->sscd = b ? CA_SSCD_YES : CA_SSCD_NO;
		return 0;
	case K_QC_LIMIT:
		/* QcLimitValue amount is an INTEGER; keep it in int64. */
		if (number(val, 0, 1000000000000000ull, &p->limit_amount, where,
			err) != 0)
			return -1;
		return 0;
	case K_QC_LIMIT_EXP:
		if (number(val, 0, 18, &v, where, err) != 0)
			return -1;
		p->limit_exponent = (unsigned)v;
		return 0;
	case K_QC_RETENTION:
		if (number(val, 1, 100, &v, where, err) != 0)
			return -1;
		p->retention_years = (unsigned)v;
		return 0;
	case K_QC_SEMANTICS:
		if (strcmp(val, "natural") == 0)
			p->semantics = CA_SEM_NATURAL;
		else if (strcmp(val, "legal") == 0)
			p->semantics = CA_SEM_LEGAL;
		else
			return sc_err_set(err, SC_E_CONFIG,
			    "%s: \"%.40s\" is not natural or legal", where, val);
		return 0;
	case K__COUNT:
		break;
	}
	return sc_err_set(err, SC_E_INTERNAL, "%s: bad key", where);
}

/* Cross-key rules, once every key is read. */
static int
coherent(const struct ca_profile *p, const char *origin, struct sc_err *err)
{
	if (p->required & p->optional)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: a subject field is both required and optional",
		    origin);
	if ((p->kind == CA_KIND_ROOT) != (strcmp(p->issuer, "self") == 0))
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: issuer = self exactly for kind = root", origin);
	if ((p->kind == CA_KIND_EE) != (p->bc == CA_BC_LEAF))
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: basic_constraints = leaf exactly for end-entity "
		    "profiles (RFC 5280 §4.2.1.9)",
		    origin);
	if (p->kind != CA_KIND_EE &&
	    (p->key_usage & CA_KU_CERTSIGN) == 0)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: a CA profile needs keyCertSign (RFC 5280 §4.2.1.3)",
		    origin);
	if (p->kind == CA_KIND_EE &&
	    (p->key_usage & (CA_KU_CERTSIGN | CA_KU_CRLSIGN)) != 0)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: keyCertSign/cRLSign only in CA profiles (RFC 5280 "
		    "§4.2.1.3)",
		    origin);
	if (p->kind == CA_KIND_ROOT && (p->crldp || p->aia))
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: a root has no CRL distribution point nor AIA",
		    origin);
	if (p->qc && p->kind != CA_KIND_EE)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: QCStatements only in end-entity profiles", origin);
	if (p->qc && p->sscd == CA_SSCD_YES && !p->secure_device)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: sscd = yes needs secure_device = yes", origin);
	if (p->qc && (p->policy[0] == '\0' || p->user_notice[0] == '\0'))
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: a qualified profile needs a policy and a user_notice "
		    "(Law 2016-012 Art. 115 (7))",
		    origin);
	if (p->qc && p->semantics == CA_SEM_NATURAL &&
	    (p->required & CA_F_NINA) == 0)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: semantics = natural needs nina required (ETSI EN "
		    "319 412-1 §5.1.3)",
		    origin);
	if (p->qc && p->semantics == CA_SEM_LEGAL &&
	    (p->required & CA_F_ORGID) == 0)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: semantics = legal needs organizationIdentifier "
		    "required (ETSI EN 319 412-1 §5.1.4)",
		    origin);
	if ((p->required & CA_F_CN) == 0)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: commonName must be required", origin);
	return 0;
}

int
ca_profile_parse(struct ca_profile *p, const char *name, const char *text,
    size_t len, const char *origin, struct sc_err *err)
{
	unsigned char seen[K__COUNT];
	char section[32] = "";
	unsigned line = 0;
	char *copy = NULL, *s, *end;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	memset(seen, 0, sizeof(seen));
	if (strlen(name) > CA_PROFILE_NAME_MAX)
		return sc_err_set(err, SC_E_CONFIG, "%s: name too long",
		    origin);
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (len > PROFILE_MAX)
		return sc_err_set(err, SC_E_CONFIG, "%s: larger than %d bytes",
		    origin, PROFILE_MAX);
	if ((copy = malloc(len + 1)) == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strlen(copy) != len) {
		sc_err_set(err, SC_E_CONFIG, "%s: contains a NUL byte", origin);
		goto out;
	}
	for (char *p0 = copy; p0 <= copy + len; p0 = end + 1) {
		char where[160], *eq, *key, *val;
		size_t k;

		line++;
		end = strchr(p0, '\n');
		if (end == NULL)
			end = copy + len;
		s = trim(p0, end);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			size_t n = strlen(s);

			if (n < 3 || s[n - 1] != ']' ||
			    n - 2 >= sizeof(section)) {
				sc_err_set(err, SC_E_CONFIG,
				    "%s:%u: malformed section header", origin,
				    line);
				goto out;
			}
			memcpy(section, s + 1, n - 2);
			section[n - 2] = '\0';
			for (k = 0; k < K__COUNT; k++)
				if (strcmp(pkeys[k].section, section) == 0)
					break;
			if (k == K__COUNT) {
				sc_err_set(err, SC_E_CONFIG,
				    "%s:%u: unknown section [%.31s]", origin,
				    line, section);
				goto out;
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			sc_err_set(err, SC_E_CONFIG,
			    "%s:%u: expected \"key = value\"", origin, line);
			goto out;
		}
		if (section[0] == '\0') {
			sc_err_set(err, SC_E_CONFIG,
			    "%s:%u: key outside of a [section]", origin, line);
			goto out;
		}
		key = trim(s, eq);
		val = trim(eq + 1, eq + 1 + strlen(eq + 1));
		for (k = 0; k < K__COUNT; k++)
			if (strcmp(pkeys[k].section, section) == 0 &&
			    strcmp(pkeys[k].name, key) == 0)
				break;
		if (k == K__COUNT) {
			sc_err_set(err, SC_E_CONFIG,
			    "%s:%u: unknown key \"%.40s\" in [%s]", origin,
			    line, key, section);
			goto out;
		}
		snprintf(where, sizeof(where), "%s:%u: %s.%s", origin, line,
		    section, key);
		if (seen[k]) {
			sc_err_set(err, SC_E_CONFIG, "%s: given twice", where);
			goto out;
		}
		seen[k] = 1;
		if (set_key(p, (enum key_id)k, val, where, err) != 0)
			goto out;
	}
	for (size_t k = 0; k < K__COUNT; k++) {
		if (seen[k])
			continue;
		if (pkeys[k].required == 1 ||
		    (pkeys[k].required == 2 && p->qc)) {
			sc_err_set(err, SC_E_CONFIG,
			    "%s: missing key %s.%s", origin, pkeys[k].section,
			    pkeys[k].name);
			goto out;
		}
	}
	if (p->qc == 0) {
		for (size_t k = K_QC_TYPE; k <= K_QC_SEMANTICS; k++)
			if (seen[k]) {
				sc_err_set(err, SC_E_CONFIG,
				    "%s: qc.%s given while qc.enabled = no",
				    origin, pkeys[k].name);
				goto out;
			}
	}
	if (coherent(p, origin, err) != 0)
		goto out;
	rc = 0;
out:
	free(copy);
	return rc;
}

static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= CA_PROFILE_NAME_MAX &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
	    name[0] != '-';
}

int
ca_profile_load(const char *dir, const char *name, struct ca_profile *p,
    struct sc_err *err)
{
	struct sc_buf b;
	struct sc_err e;
	char path[1200];
	int rc = -1;

	sc_buf_init(&b, PROFILE_MAX);
	if (name == NULL || !name_ok(name))
		return sc_err_set(err, SC_E_UNKNOWN_PROFILE,
		    "unknown profile: names are 1 to %d characters from "
		    "[a-z0-9-]",
		    CA_PROFILE_NAME_MAX);
	snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
	sc_err_clear(&e);
	if (sc_file_read(path, PROFILE_MAX, &b, &e) != 0) {
		if (e.code == SC_E_TOO_LARGE)
			sc_err_set(err, SC_E_CONFIG, "%s: larger than %d bytes",
			    path, PROFILE_MAX);
		else
			sc_err_set(err, SC_E_UNKNOWN_PROFILE,
			    "unknown profile \"%s\"", name);
		goto out;
	}
	if (ca_profile_parse(p, name, (const char *)b.p, b.len, path, err) !=
	    0)
		goto out;
	rc = 0;
out:
	sc_buf_free(&b);
	return rc;
}

int
sc_ca_profiles_check(const struct sc_ca_env *env, struct sc_err *err)
{
	struct ca_profile p;
	struct dirent *de;
	DIR *d;
	int rc = 0, n = 0;

	if ((d = opendir(env->profiles_dir)) == NULL)
		return sc_err_set(err, SC_E_CONFIG,
		    "%s: cannot open the profiles folder", env->profiles_dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char name[CA_PROFILE_NAME_MAX + 8];
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (len - 5 > CA_PROFILE_NAME_MAX) {
			rc = sc_err_set(err, SC_E_CONFIG,
			    "%s/%s: profile name too long", env->profiles_dir,
			    de->d_name);
			break;
		}
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (!name_ok(name)) {
			rc = sc_err_set(err, SC_E_CONFIG,
			    "%s/%s: profile names are [a-z0-9-]",
			    env->profiles_dir, de->d_name);
			break;
		}
		if (ca_profile_load(env->profiles_dir, name, &p, err) != 0)
			rc = -1;
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0)
		rc = sc_err_set(err, SC_E_CONFIG, "%s: no profile",
		    env->profiles_dir);
	return rc;
}
