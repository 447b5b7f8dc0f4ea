/*
 * verify_report.c: the validation report (facts and verdicts), its
 * accessors and its JSON rendering (CONTRACT.md, "Validation report").
 *
 * Verdicts use the ETSI EN 319 102-1 indications (§5.1.3) and
 * sub-indications (table 5); the overall indication is the worst of the
 * signatures' (TOTAL-FAILED < INDETERMINATE < TOTAL-PASSED).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include "verify_int.h"

struct sc_ver_report *
ver_report_new(void)
{
	struct sc_ver_report *r;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->format = "CAdES";
	r->ind = SC_VER_TOTAL_PASSED;
	return r;
}

struct ver_sig *
ver_sig_add(struct sc_ver_report *r, const char *format, struct sc_err *err)
{
	struct ver_sig **n, *s;

	if (r->nsigs >= SC_VER_MAX_SIGNATURES) {
		sc_err_set(err, SC_E_TOO_LARGE,
		    "more than %d signatures in one document",
		    SC_VER_MAX_SIGNATURES);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	n = realloc(r->sigs, (r->nsigs + 1) * sizeof(*n));
	if (n == NULL) {
		free(s);
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		return NULL;
	}
	r->sigs = n;
	snprintf(s->id, sizeof(s->id), "sig-%zu", r->nsigs + 1);
	s->format = format;
	s->ind = SC_VER_TOTAL_PASSED;
	s->revocation = "not-checked";
	r->sigs[r->nsigs++] = s;
	return s;
}

static void add_text(char **arr, size_t *n, size_t max, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

static void
add_text(char **arr, size_t *n, size_t max, const char *fmt, va_list ap)
{
	char buf[512];

	if (*n >= max)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Report the same fact once. */
	for (size_t i = 0; i < *n; i++)
		if (strcmp(arr[i], buf) == 0)
			return;
	arr[*n] = strdup(buf);
	if (arr[*n] != NULL)
		(*n)++;
}

void
ver_sig_reason(struct ver_sig *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_text(s->reasons, &s->nreasons, VER_MAX_REASONS, fmt, ap);
	va_end(ap);
}

void
ver_report_note(struct sc_ver_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_text(r->notes, &r->nnotes, VER_MAX_REASONS, fmt, ap);
	va_end(ap);
}

/* TOTAL-FAILED is worse than INDETERMINATE, worse than TOTAL-PASSED. */
static int
badness(enum sc_ver_indication ind)
{
	switch (ind) {
	case SC_VER_TOTAL_FAILED:
		return 2;
	case SC_VER_INDETERMINATE:
		return 1;
	case SC_VER_TOTAL_PASSED:
		break;
	}
	return 0;
}

/*
 * Within INDETERMINATE, a fault of the signature itself (format, signing
 * certificate, signed data) says more than a trust or revocation gap,
 * whatever the order the checks ran in (EN 319 102-1 §5.3 runs FC, ISC
 * and CV on the signature before XCV's chain).
 */
static int
sub_rank(const char *sub)
{
	if (sub == NULL)
		return 0;
	if (strcmp(sub, "FORMAT_FAILURE") == 0 ||
	    strcmp(sub, "NO_SIGNING_CERTIFICATE_FOUND") == 0 ||
	    strcmp(sub, "SIGNED_DATA_NOT_FOUND") == 0)
		return 2;
	return 1;
}

void
ver_sig_verdict(struct ver_sig *s, enum sc_ver_indication ind, const char *sub)
{
	/* The first reason at the worst level is the one reported. */
	if (badness(ind) > badness(s->ind) ||
	    (badness(ind) == badness(s->ind) &&
		sub_rank(sub) > sub_rank(s->sub))) {
		s->ind = ind;
		s->sub = sub;
	}
}

void
ver_report_finish(struct sc_ver_report *r)
{
	enum sc_ver_indication worst = SC_VER_TOTAL_PASSED;

	for (size_t i = 0; i < r->nsigs; i++) {
		struct ver_sig *s = r->sigs[i];

		/*
		 * Baseline levels, EN 319 122-1 / 319 142-1 §6: B-B needs
		 * the signing-certificate attribute; T a signature
		 * time-stamp (or, in a PDF, a later document time-stamp);
		 * LT the validation data; LTA an archive time-stamp.
		 */
		if (s->level == NULL && s->has_signing_cert_attr &&
		    !s->not_etsi && strcmp(s->format, "TST") != 0) {
			s->level = "B-B";
			if (s->has_sig_ts) {
				s->level = "B-T";
				if (s->has_revocation_data) {
					s->level = "B-LT";
					if (s->has_archive_ts)
						s->level = "B-LTA";
				}
			}
		}
		if (badness(s->ind) > badness(worst))
			worst = s->ind;
	}
	if (r->nsigs == 0)
		worst = SC_VER_INDETERMINATE;
	r->ind = worst;
}

char *
ver_name(const X509_NAME *n)
{
	BIO *b = NULL;
	char *s = NULL;
	long len;
	char *p;

	if (n == NULL)
		return NULL;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0,
		(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
		    ASN1_STRFLGS_UTF8_CONVERT) < 0)
		goto out;
	len = BIO_get_mem_data(b, &p);
	if (len < 0 || len > 4096)
		goto out;
	s = strndup(p, (size_t)len);
out:
	BIO_free(b);
	return s;
}

void
ver_asn1_time(const ASN1_TIME *t, char out[32])
{
	struct tm tm;

	out[0] = '\0';
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *
sc_ver_indication_name(enum sc_ver_indication ind)
{
	switch (ind) {
	case SC_VER_TOTAL_PASSED:
		return "TOTAL-PASSED";
	case SC_VER_TOTAL_FAILED:
		return "TOTAL-FAILED";
	case SC_VER_INDETERMINATE:
		break;
	}
	return "INDETERMINATE";
}

int
sc_ver_report_exit(const struct sc_ver_report *r)
{
	switch (r->ind) {
	case SC_VER_TOTAL_PASSED:
		return 0;
	case SC_VER_TOTAL_FAILED:
		return 1;
	case SC_VER_INDETERMINATE:
		break;
	}
	return 2;
}

enum sc_ver_indication
sc_ver_report_indication(const struct sc_ver_report *r)
{
	return r->ind;
}

const char *
sc_ver_report_format(const struct sc_ver_report *r)
{
	return r->format;
}

size_t
sc_ver_report_count(const struct sc_ver_report *r)
{
	return r->nsigs;
}

int
sc_ver_report_sig(const struct sc_ver_report *r, size_t i,
    struct sc_ver_sig_summary *out)
{
	const struct ver_sig *s;

	if (i >= r->nsigs)
		return -1;
	s = r->sigs[i];
	out->id = s->id;
	out->format = s->format;
	out->level = s->level;
	out->indication = s->ind;
	out->subindication = s->sub;
	out->crypto_intact = s->crypto_intact;
	out->counter_signature = s->counter;
	return 0;
}

/*
 * One sentence for citizens (DESIGN.md: "in plain French (and
 * English)"), from the indication and sub-indication (EN 319 102-1
 * table 5). French unless @lang is "en".
 */
static const char *
verdict_text(enum sc_ver_indication ind, const char *sub, const char *lang)
{
	static const struct {
		const char *sub, *fr, *en;
	} tab[] = {
	    {"HASH_FAILURE", "Le document a été modifié après la signature.",
		"The document was changed after it was signed."},
	    {"SIG_CRYPTO_FAILURE", "La valeur de la signature est fausse.",
		"The signature value does not verify."},
	    {"FORMAT_FAILURE",
		"La signature est mal formée ou mal placée dans le document.",
		"The signature is malformed or misplaced in the document."},
	    {"NO_SIGNING_CERTIFICATE_FOUND",
		"Le certificat du signataire est absent ou ne correspond "
		"pas.",
		"The signer's certificate is missing or does not match."},
	    {"NO_CERTIFICATE_CHAIN_FOUND",
		"La signature est intacte, mais le certificat ne remonte à "
		"aucune autorité de confiance configurée.",
		"The signature is intact, but the certificate does not lead "
		"to any configured trusted authority."},
	    {"TRY_LATER",
		"La signature est intacte, mais l'état de révocation du "
		"certificat n'a pas pu être vérifié.",
		"The signature is intact, but the certificate's revocation "
		"status could not be checked."},
	    {"SIGNED_DATA_NOT_FOUND",
		"Les données signées sont introuvables ou ne sont pas "
		"celles attendues.",
		"The signed data is missing or is not what it should be."},
	    {"REVOKED_NO_POE", "Le certificat du signataire est révoqué.",
		"The signer's certificate is revoked."},
	    {"OUT_OF_BOUNDS_NO_POE",
		"Le certificat du signataire a expiré et rien ne prouve "
		"que la signature soit antérieure.",
		"The signer's certificate has expired and nothing proves the "
		"signature was made before."},
	};
	int en = lang != NULL && strcmp(lang, "en") == 0;

	if (ind == SC_VER_TOTAL_PASSED)
		return en ? "The signature is valid."
			  : "La signature est valide.";
	for (size_t i = 0; sub != NULL && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(sub, tab[i].sub) == 0)
			return en ? tab[i].en : tab[i].fr;
	if (ind == SC_VER_TOTAL_FAILED)
		return en ? "The signature is not valid."
			  : "La signature n'est pas valide.";
	return en ? "The signature could not be fully validated."
		  : "La signature n'a pas pu être entièrement validée.";
}

/* json_object_set_new() that remembers a failure in *ok. */
static void
jset(json_t *o, const char *k, json_t *v, int *ok)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*ok = 0;
}

/*
 * A JSON string from text that came out of the document (names, times,
 * URIs) and may hold invalid or truncated UTF-8: jansson refuses those,
 * so bad bytes become U+FFFD (RFC 3629 §3, well-formed sequences only).
 */
static json_t *
jtext(const char *s)
{
	char *buf = ver_text_clean(s, VER_CLEAN_JSON);
	json_t *j = buf != NULL ? json_string(buf) : NULL;

	free(buf);
	return j;
}

static json_t *
jstr_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? jtext(s) : json_null();
}

static json_t *
ts_json(const struct ver_ts *t, int *ok)
{
	json_t *o = json_object();

	if (o == NULL) {
		*ok = 0;
		return NULL;
	}
	jset(o, "type", json_string(t->type), ok);
	jset(o, "time", jstr_or_null(t->time), ok);
	jset(o, "valid", json_boolean(t->valid), ok);
	jset(o, "token_intact", json_boolean(t->token_intact), ok);
	jset(o, "imprint", json_string(t->imprint), ok);
	jset(o, "tsa", jstr_or_null(t->tsa), ok);
	return o;
}

static json_t *
sig_json(const struct ver_sig *s, const char *lang, int *ok)
{
	json_t *o, *a, *x;
	int adv, qcert, qscd;

	if ((o = json_object()) == NULL) {
		*ok = 0;
		return NULL;
	}
	jset(o, "id", json_string(s->id), ok);
	jset(o, "format", json_string(s->format), ok);
	jset(o, "level", jstr_or_null(s->level), ok);
	jset(o, "indication", json_string(sc_ver_indication_name(s->ind)), ok);
	jset(o, "subindication", jstr_or_null(s->sub), ok);
	jset(o, "crypto_intact", json_boolean(s->crypto_intact), ok);
	jset(o, "message", json_string(verdict_text(s->ind, s->sub, lang)), ok);
	if (s->counter) {
		jset(o, "counter_signature", json_true(), ok);
		jset(o, "parent", jstr_or_null(s->parent), ok);
	}
	if (s->subfilter != NULL)
		jset(o, "subfilter", json_string(s->subfilter), ok);

	if ((x = json_object()) != NULL) {
		jset(x, "subject", jstr_or_null(s->subject), ok);
		jset(x, "issuer", jstr_or_null(s->issuer), ok);
		jset(x, "serial", jstr_or_null(s->serial), ok);
		jset(x, "qualified", json_boolean(s->qc_compliance), ok);
		jset(x, "qscd", json_boolean(s->qc_sscd), ok);
		jset(x, "qc_legislation", jstr_or_null(s->qc_legislation), ok);
	}
	jset(o, "signer", x, ok);
	jset(o, "signing_time", jstr_or_null(s->signing_time), ok);

	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < s->nts; i++)
			if (json_array_append_new(a, ts_json(&s->ts[i], ok)) !=
			    0)
				*ok = 0;
	jset(o, "timestamps", a, ok);
	jset(o, "coverage", jstr_or_null(s->coverage), ok);
	if (s->revision > 0) {
		/* ISO 32000-1 §7.5.6: the revision this signature covers;
		 * the signed bytes are the file's first signed_bytes. */
		jset(o, "revision", json_integer(s->revision), ok);
		jset(o, "signed_bytes",
		    json_integer((json_int_t)s->signed_bytes), ok);
	}
	if (s->field[0] != '\0')
		jset(o, "field", jtext(s->field), ok);
	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < s->nmods; i++) {
			if ((x = json_object()) == NULL) {
				*ok = 0;
				break;
			}
			jset(x, "kind", json_string(s->mods[i].kind), ok);
			jset(x, "allowed",
			    s->mods[i].allowed < 0
				? json_null()
				: json_boolean(s->mods[i].allowed),
			    ok);
			if (json_array_append_new(a, x) != 0)
				*ok = 0;
		}
	jset(o, "modifications", a, ok);
	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < s->nchain; i++)
			if (json_array_append_new(a, jtext(s->chain[i])) != 0)
				*ok = 0;
	jset(o, "chain", a, ok);
	if ((x = json_object()) != NULL) {
		jset(x, "status", json_string(s->revocation), ok);
		if (s->rev_source != NULL)
			jset(x, "source", json_string(s->rev_source), ok);
		if (s->rev_time[0] != '\0')
			jset(x, "revoked_at", json_string(s->rev_time), ok);
	}
	jset(o, "revocation", x, ok);

	/*
	 * Law 2016-012 art. 111: an advanced signature stays valid; it is
	 * "qualified" only with a qualified certificate (art. 115: shown by
	 * QcCompliance with QcCClegislation naming "ML", EN 319 412-5
	 * §4.2.1 and §4.2.4) AND a secure device (art. 112, QcSSCD), and
	 * only if the certificate itself validated to a trust anchor.
	 */
	adv = s->ind == SC_VER_TOTAL_PASSED;
	qcert = adv && s->qc_compliance && strstr(s->qc_legislation, "ML");
	qscd = adv && s->qc_sscd;
	if ((x = json_object()) != NULL) {
		jset(x, "advanced", json_boolean(adv), ok);
		jset(x, "qualified_certificate", json_boolean(qcert), ok);
		jset(x, "secure_device", json_boolean(qscd), ok);
		jset(x, "qualified", json_boolean(qcert && qscd), ok);
	}
	jset(o, "law_2016_012", x, ok);
	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < s->nreasons; i++)
			if (json_array_append_new(a, jtext(s->reasons[i])) != 0)
				*ok = 0;
	jset(o, "reasons", a, ok);
	return o;
}

char *
sc_ver_report_json(const struct sc_ver_report *r)
{
	json_t *root = NULL, *doc, *a;
	char *text = NULL;
	int ok = 1;

	if ((root = json_object()) == NULL)
		return NULL;
	if ((doc = json_object()) != NULL) {
		jset(doc, "sha256", json_string(r->sha256), &ok);
		jset(doc, "size", json_integer((json_int_t)r->size), &ok);
		jset(doc, "format", json_string(r->format), &ok);
		if (r->revisions > 0)
			jset(doc, "revisions",
			    json_integer((json_int_t)r->revisions), &ok);
	}
	jset(root, "document", doc, &ok);
	jset(root, "validation_time", jstr_or_null(r->validation_time), &ok);
	jset(root, "indication", json_string(sc_ver_indication_name(r->ind)),
	    &ok);
	{
		const char *sub = NULL;

		/* The first signature at the overall (worst) indication. */
		for (size_t i = 0; i < r->nsigs; i++)
			if (r->sigs[i]->ind == r->ind) {
				sub = r->sigs[i]->sub;
				break;
			}
		jset(root, "message",
		    json_string(verdict_text(r->ind, sub, r->lang)), &ok);
	}
	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < r->nsigs; i++)
			if (json_array_append_new(a,
				sig_json(r->sigs[i], r->lang, &ok)) != 0)
				ok = 0;
	jset(root, "signatures", a, &ok);
	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < r->ndoc_ts; i++)
			if (json_array_append_new(a,
				ts_json(&r->doc_ts[i], &ok)) != 0)
				ok = 0;
	jset(root, "document_timestamps", a, &ok);
	if ((a = json_array()) != NULL)
		for (size_t i = 0; i < r->nnotes; i++)
			if (json_array_append_new(a, jtext(r->notes[i])) != 0)
				ok = 0;
	jset(root, "notes", a, &ok);
	if (ok)
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

static void
sig_free(struct ver_sig *s)
{
	if (s == NULL)
		return;
	free(s->parent);
	free(s->subject);
	free(s->issuer);
	for (size_t i = 0; i < s->nts; i++)
		free(s->ts[i].tsa);
	for (size_t i = 0; i < s->nchain; i++)
		free(s->chain[i]);
	for (size_t i = 0; i < s->nreasons; i++)
		free(s->reasons[i]);
	free(s);
}

void
sc_ver_report_free(struct sc_ver_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsigs; i++)
		sig_free(r->sigs[i]);
	free(r->sigs);
	for (size_t i = 0; i < r->ndoc_ts; i++)
		free(r->doc_ts[i].tsa);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r);
}
