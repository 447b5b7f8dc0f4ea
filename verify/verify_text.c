/*
 * verify_text.c: the validation report as a few lines of plain French
 * (or English) that a citizen understands: the verdict first, then per
 * signature who signed, when, whether the document changed since, and
 * the Law 2016-012 grading (art. 111 advanced, art. 115 qualified),
 * with what to do when the answer is not "valid".
 *
 * Everything printed that came out of the document (names, times) goes
 * through ver_text_clean(): no control character reaches a terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "verify_int.h"

/* Upper bound of the text; 256 signatures of long names fit. */
#define TEXT_MAX ((size_t)4 * 1024 * 1024)

struct out {
	struct sc_buf b;
	struct sc_err err;
	int en;
};

/* French or English. */
static const char *
tr(const struct out *o, const char *fr, const char *en)
{
	return o->en ? en : fr;
}

/* Appends @s; a failure stays recorded in o->err (first one wins). */
static void
put(struct out *o, const char *s)
{
	(void)sc_buf_append_str(&o->b, s, &o->err);
}

/* Appends text from the document, cleaned for a terminal. */
static void
put_doc(struct out *o, const char *s)
{
	char *c = ver_text_clean(s, VER_CLEAN_TERMINAL);

	if (c == NULL) {
		sc_err_set(&o->err, SC_E_NOMEM, "out of memory");
		return;
	}
	put(o, c);
	free(c);
}

/*
 * Copies the value of attribute @key of an RFC 2253 name (as ver_name()
 * writes it) into @out, unescaped (RFC 4514 §2.4: "\," and "\XX");
 * "" when absent.
 */
static void
dn_attr(const char *dn, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), o = 0;
	const char *p = dn;

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		int hit = strncmp(p, key, kl) == 0 && p[kl] == '=';

		if (hit)
			p += kl + 1;
		for (; *p != '\0' && *p != ',' && *p != '+'; p++) {
			char ch = *p;

			if (*p == '\\' && p[1] != '\0') {
				static const char hx[] = "0123456789abcdef";
				const char *h1, *h2;

				p++;
				ch = *p;
				h1 = p[0] != '\0' ? strchr(hx, p[0] | 0x20)
						  : NULL;
				h2 = h1 != NULL && p[1] != '\0'
				    ? strchr(hx, p[1] | 0x20)
				    : NULL;
				if (h1 != NULL && h2 != NULL) {
					ch = (char)((h1 - hx) * 16 + (h2 - hx));
					p++;
				}
			}
			if (hit && o + 1 < outlen)
				out[o++] = ch;
		}
		if (hit) {
			out[o] = '\0';
			return;
		}
		if (*p != '\0')
			p++;
	}
}

/* "2026-11-27T05:10:00Z" as "27/11/2026 à 05:10:00 UTC" (fr). */
static void
put_time(struct out *o, const char *t)
{
	char buf[64];

	if (strlen(t) == 20 && t[4] == '-' && t[7] == '-' && t[10] == 'T' &&
	    t[19] == 'Z') {
		if (o->en)
			snprintf(buf, sizeof(buf), "%.10s %.8s UTC", t, t + 11);
		else
			snprintf(buf, sizeof(buf), "%.2s/%.2s/%.4s à %.8s UTC",
			    t + 8, t + 5, t, t + 11);
		put_doc(o, buf);
	} else {
		put_doc(o, t);
	}
}

/* The first line: the overall verdict (EN 319 102-1 §5.1.3). */
static void
put_verdict(struct out *o, const struct sc_ver_report *r)
{
	switch (r->ind) {
	case SC_VER_TOTAL_PASSED:
		put(o,
		    tr(o,
			"Signature valide : le document est authentique et n'a "
			"pas été modifié depuis sa signature.",
			"Valid signature: the document is genuine and was not "
			"changed since it was signed."));
		break;
	case SC_VER_TOTAL_FAILED:
		put(o,
		    tr(o,
			"Signature invalide : ne vous fiez pas à ce document.",
			"Invalid signature: do not rely on this document."));
		break;
	case SC_VER_INDETERMINATE:
		put(o,
		    tr(o,
			"Vérification incomplète : la signature n'a pas pu "
			"être "
			"confirmée.",
			"Incomplete check: the signature could not be "
			"confirmed."));
		break;
	}
	put(o, "\n");
}

/* Who signed: name, then title and organisation from the subject. */
static void
put_signer(struct out *o, const struct ver_sig *s)
{
	char cn[256], title[256], org[256];

	put(o, tr(o, "  Signé par : ", "  Signed by: "));
	if (s->subject == NULL) {
		put(o,
		    tr(o, "inconnu (certificat absent)\n",
			"unknown (no certificate)\n"));
		return;
	}
	dn_attr(s->subject, "CN", cn, sizeof(cn));
	dn_attr(s->subject, "title", title, sizeof(title));
	dn_attr(s->subject, "O", org, sizeof(org));
	if (cn[0] == '\0') {
		put_doc(o, s->subject);
	} else {
		put_doc(o, cn);
		if (title[0] != '\0') {
			put(o, ", ");
			put_doc(o, title);
		}
		if (org[0] != '\0') {
			put(o, " (");
			put_doc(o, org);
			put(o, ")");
		}
	}
	put(o, "\n");
}

/* When: the claimed time, and whether a time-stamp proves it. */
static void
put_when(struct out *o, const struct sc_ver_report *r, const struct ver_sig *s)
{
	const struct ver_ts *proof = NULL, *seen = NULL;

	/* EN 319 102-1 §5.6.2.3: a valid time-stamp from a trusted TSA is a
	 * proof of existence; a signature time-stamp first, else a later
	 * PDF document time-stamp. */
	for (size_t i = 0; i < s->nts && proof == NULL; i++) {
		if (strcmp(s->ts[i].type, "signature") != 0)
			continue;
		if (s->ts[i].valid && s->ts[i].trusted)
			proof = &s->ts[i];
		else if (seen == NULL)
			seen = &s->ts[i];
	}
	for (size_t i = 0; i < r->ndoc_ts && proof == NULL; i++)
		if (r->doc_ts[i].valid && r->doc_ts[i].trusted &&
		    s->signing_epoch > 0 &&
		    r->doc_ts[i].gen >= s->signing_epoch)
			proof = &r->doc_ts[i];

	put(o, tr(o, "  Le : ", "  On: "));
	if (s->signing_time[0] != '\0')
		put_time(o, s->signing_time);
	else
		put(o, tr(o, "date non indiquée", "time not stated"));
	if (proof != NULL) {
		put(o,
		    tr(o,
			" ; un horodatage de confiance prouve que la "
			"signature existait le ",
			"; a trusted time-stamp proves the signature existed "
			"on "));
		put_time(o, proof->time);
	} else if (seen != NULL) {
		put(o,
		    tr(o, " ; l'horodatage joint n'a pas pu être confirmé",
			"; the attached time-stamp could not be confirmed"));
	} else {
		put(o,
		    tr(o,
			" (date déclarée par le signataire, sans "
			"horodatage)",
			" (time stated by the signer, no time-stamp)"));
	}
	put(o, "\n");
}

/* A PDF change kind (verify_pdfdiff.c) in plain words. */
static const char *
kind_words(const struct out *o, const char *kind)
{
	static const struct {
		const char *kind, *fr, *en;
	} tab[] = {
	    {"signature", "une autre signature", "another signature"},
	    {"document-timestamp", "un horodatage", "a time-stamp"},
	    {"dss", "des données de validation", "validation data"},
	    {"metadata", "des métadonnées", "metadata"},
	    {"catalog", "la structure du document", "the document structure"},
	    {"form-fill", "des champs de formulaire remplis",
		"filled-in form fields"},
	    {"annotation", "des annotations", "annotations"},
	    {"page", "des pages ajoutées, retirées ou remplacées",
		"pages added, removed or replaced"},
	    {"xref-mismatch", "une table des objets falsifiée",
		"a falsified object table"},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(kind, tab[i].kind) == 0)
			return o->en ? tab[i].en : tab[i].fr;
	return tr(o, "d'autres changements", "other changes");
}

/* Whether the document changed since (coverage, modifications). */
static void
put_changes(struct out *o, const struct ver_sig *s)
{
	int bad = 0;

	put(o, tr(o, "  Document : ", "  Document: "));
	if (s->sub != NULL && strcmp(s->sub, "HASH_FAILURE") == 0) {
		put(o,
		    tr(o, "MODIFIÉ après la signature.\n",
			"CHANGED after it was signed.\n"));
		return;
	}
	if (!s->crypto_intact) {
		put(o,
		    tr(o,
			"la signature n'a pas pu être vérifiée sur le "
			"contenu (signature altérée ou certificat "
			"absent).\n",
			"the signature could not be checked against the "
			"content "
			"(damaged signature or missing certificate).\n"));
		return;
	}
	if (s->coverage == NULL || strcmp(s->coverage, "partial") != 0 ||
	    s->nmods == 0) {
		put(o,
		    tr(o, "inchangé depuis la signature.\n",
			"unchanged since it was signed.\n"));
		return;
	}
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i].allowed == 0)
			bad = 1;
	put(o,
	    bad ? tr(o,
		      "la partie signée est intacte, mais des "
		      "changements NON AUTORISÉS ont suivi : ",
		      "the signed part is intact, but CHANGES NOT ALLOWED "
		      "followed: ")
		: tr(o,
		      "la partie signée est intacte ; ont été ajoutés "
		      "ensuite : ",
		      "the signed part is intact; added afterwards: "));
	for (size_t i = 0, n = 0; i < s->nmods; i++) {
		if (bad && s->mods[i].allowed != 0)
			continue;
		if (n++ > 0)
			put(o, ", ");
		put(o, kind_words(o, s->mods[i].kind));
	}
	put(o, ".\n");
}

/* Why the certificate could not be confirmed (EN 319 102-1 table 5). */
static const char *
cert_problem(const struct out *o, const char *sub)
{
	static const struct {
		const char *sub, *fr, *en;
	} tab[] = {
	    {"NO_CERTIFICATE_CHAIN_FOUND",
		"il ne remonte à aucune autorité de confiance reconnue",
		"it does not lead to any recognised trusted authority"},
	    {"TRY_LATER", "son état de révocation n'a pas pu être vérifié",
		"its revocation status could not be checked"},
	    {"REVOKED_NO_POE", "il est révoqué", "it is revoked"},
	    {"REVOKED", "il est révoqué", "it is revoked"},
	    {"OUT_OF_BOUNDS_NO_POE",
		"il a expiré et rien ne prouve que la signature soit "
		"antérieure",
		"it has expired and nothing proves the signature was made "
		"before"},
	    {"NO_SIGNING_CERTIFICATE_FOUND",
		"il est absent ou ne correspond "
		"pas",
		"it is missing or does not match"},
	};

	for (size_t i = 0; sub != NULL && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(sub, tab[i].sub) == 0)
			return o->en ? tab[i].en : tab[i].fr;
	return NULL;
}

/*
 * Law 2016-012 grading, as in the JSON report: advanced on TOTAL-PASSED
 * (art. 111); qualified with a qualified certificate (art. 115:
 * QcCompliance with QcCClegislation "ML") and a secure device (art. 112,
 * QcSSCD).
 */
static void
put_grade(struct out *o, const struct ver_sig *s)
{
	int adv = s->ind == SC_VER_TOTAL_PASSED;
	int qc = s->qc_compliance && strstr(s->qc_legislation, "ML") != NULL;
	const char *why = cert_problem(o, s->sub);

	put(o, tr(o, "  Certificat : ", "  Certificate: "));
	if (adv && qc && s->qc_sscd) {
		put(o,
		    tr(o,
			"qualifié et valide ; signature électronique "
			"QUALIFIÉE (loi 2016-012).\n",
			"qualified and valid; QUALIFIED electronic signature "
			"(Law 2016-012).\n"));
	} else if (adv) {
		put(o,
		    qc ? tr(o,
			     "qualifié et valide, mais sans dispositif "
			     "sécurisé ; ",
			     "qualified and valid, but no secure device; ")
		       : tr(o, "valide, non qualifié ; ",
			     "valid, not qualified; "));
		put(o,
		    tr(o,
			"signature électronique AVANCÉE (loi "
			"2016-012).\n",
			"ADVANCED electronic signature (Law 2016-012).\n"));
	} else {
		put(o,
		    qc ? tr(o,
			     "se déclare qualifié, mais n'a pas pu être "
			     "confirmé",
			     "claims to be qualified, but could not be "
			     "confirmed")
		       : tr(o, "non confirmé", "not confirmed"));
		if (why != NULL) {
			put(o, tr(o, " : ", ": "));
			put(o, why);
		}
		put(o,
		    tr(o,
			" ; aucune valeur au sens de la loi 2016-012 "
			"tant que la signature n'est pas valide.\n",
			"; no standing under Law 2016-012 while the signature "
			"is "
			"not valid.\n"));
	}
}

/*
 * A certificate revoked after the time a time-stamp proves: the
 * signature stays valid (EN 319 102-1 §5.6.2.1), but the reader should
 * know that the certificate is no longer usable for new signatures.
 */
static void
put_revoked_later(struct out *o, const struct ver_sig *s)
{
	if (s->ind != SC_VER_TOTAL_PASSED || s->revocation == NULL ||
	    strcmp(s->revocation, "revoked") != 0 || s->rev_time[0] == '\0')
		return;
	put(o, tr(o, "  Révocation : le certificat a été révoqué le ",
		   "  Revocation: the certificate was revoked on "));
	put_doc(o, s->rev_time);
	put(o,
	    tr(o,
		", après la signature (prouvée plus tôt par l'horodatage) : "
		"la signature reste valide, mais ce certificat ne peut plus "
		"servir à signer.\n",
		", after the signature (proven earlier by the time-stamp): "
		"the signature stays valid, but this certificate can no "
		"longer be used to sign.\n"));
}

static void
put_sig(struct out *o, const struct sc_ver_report *r, const struct ver_sig *s,
    size_t i)
{
	char head[160];

	snprintf(head, sizeof(head), "Signature %zu (%s%s%s)", i + 1, s->format,
	    s->level != NULL ? " " : "", s->level != NULL ? s->level : "");
	put(o, head);
	if (s->counter && s->parent != NULL) {
		put(o,
		    tr(o, ", contre-signature de ", ", counter-signature of "));
		put_doc(o, s->parent);
	}
	put(o, tr(o, " : ", ": "));
	put(o,
	    s->ind == SC_VER_TOTAL_PASSED ? tr(o, "valide", "valid")
		: s->ind == SC_VER_TOTAL_FAILED
		? tr(o, "INVALIDE", "INVALID")
		: tr(o, "non confirmée", "not confirmed"));
	put(o, "\n");
	put_signer(o, s);
	put_when(o, r, s);
	put_changes(o, s);
	put_grade(o, s);
	put_revoked_later(o, s);
	put(o, tr(o, "  Résultat technique : ", "  Technical result: "));
	put(o, sc_ver_indication_name(s->ind));
	if (s->sub != NULL) {
		put(o, " / ");
		put(o, s->sub);
	}
	put(o, "\n");
	if (s->ind == SC_VER_TOTAL_FAILED)
		put(o,
		    tr(o,
			"  Que faire : ne vous fiez pas à ce document ; "
			"demandez une copie authentique à "
			"l'administration émettrice.\n",
			"  What to do: do not rely on this document; ask the "
			"issuing administration for a genuine copy.\n"));
	else if (s->ind == SC_VER_INDETERMINATE)
		put(o,
		    s->sub != NULL && strcmp(s->sub, "TRY_LATER") == 0
			? tr(o,
			      "  Que faire : réessayez plus tard, ou "
			      "demandez une copie authentique à "
			      "l'administration émettrice.\n",
			      "  What to do: try again later, or ask the "
			      "issuing administration for a genuine "
			      "copy.\n")
			: tr(o,
			      "  Que faire : renseignez-vous auprès de "
			      "l'administration émettrice ou demandez-lui "
			      "une copie authentique.\n",
			      "  What to do: check with the issuing "
			      "administration or ask it for a genuine "
			      "copy.\n"));
}

char *
sc_ver_report_text(const struct sc_ver_report *r, const char *lang)
{
	struct out o;

	if (lang == NULL)
		lang = r->lang;
	memset(&o, 0, sizeof(o));
	sc_err_clear(&o.err);
	sc_buf_init(&o.b, TEXT_MAX);
	o.en = lang != NULL && strcmp(lang, "en") == 0;
	put_verdict(&o, r);
	if (r->nsigs == 0)
		put(&o,
		    tr(&o, "Aucune signature trouvée.\n",
			"No signature found.\n"));
	for (size_t i = 0; i < r->nsigs; i++)
		put_sig(&o, r, r->sigs[i], i);
	if (o.err.code != SC_E_OK) {
		sc_buf_free(&o.b);
		return NULL;
	}
	/* sc_buf keeps a NUL after the data: the text is a C string. */
	return (char *)sc_buf_steal(&o.b, NULL);
}
