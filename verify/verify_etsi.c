/*
 * verify_etsi.c: the validation report as ETSI TS 119 102-2 XML
 * (namespace http://uri.etsi.org/19102/v1.2.1#): one
 * SignatureValidationReport per signature, with the EN 319 102-1
 * indications as the URIs of TS 119 102-2 §5.1.3 / §5.2.7.
 *
 * Built with libxml2's tree API, so that names from the document are
 * escaped by the serialiser; they are first made valid UTF-8 without
 * characters XML 1.0 §2.2 forbids (ver_text_clean).
 *
 * A subset of the schema: no SignatureValidationObjects, hence no
 * VOReference (SignerCertificate, POEObject); the signer is given by
 * its subject name. The Law 2016-012 grading has no ETSI URI: sceau
 * uses its own, urn:sceau:law-2016-012:qualified and ...:advanced.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "verify_int.h"

#define ETSI_NS "http://uri.etsi.org/19102/v1.2.1#"
#define ETSI_MAIN "urn:etsi:019102:mainindication:"
#define ETSI_SUB "urn:etsi:019102:subindication:"
#define ETSI_PROC "urn:etsi:019102:validationprocess:"
#define SCEAU_LAW "urn:sceau:law-2016-012:"

char *
ver_text_clean(const char *s, int mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	char *buf;

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	if ((buf = malloc(3 * n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = p[i] < 0x80                      ? 1
		    : (p[i] & 0xe0) == 0xc0 && p[i] >= 0xc2 ? 2
		    : (p[i] & 0xf0) == 0xe0                 ? 3
		    : (p[i] & 0xf8) == 0xf0 && p[i] <= 0xf4 ? 4
							    : 0;
		int good = k > 0 && i + k <= n;

		for (size_t m = 1; good && m < k; m++)
			good = (p[i + m] & 0xc0) == 0x80;
		/* RFC 3629 §3: no overlong forms, no surrogates, nothing
		 * past U+10FFFF. */
		if (good && k == 3 &&
		    ((p[i] == 0xe0 && p[i + 1] < 0xa0) ||
			(p[i] == 0xed && p[i + 1] >= 0xa0)))
			good = 0;
		if (good && k == 4 &&
		    ((p[i] == 0xf0 && p[i + 1] < 0x90) ||
			(p[i] == 0xf4 && p[i + 1] >= 0x90)))
			good = 0;
		/* Control characters: XML 1.0 §2.2 forbids most; a
		 * terminal must get none (C0, DEL, C1). */
		if (good && mode != VER_CLEAN_JSON && k == 1 &&
		    (p[i] < 0x20 || p[i] == 0x7f) &&
		    !(mode == VER_CLEAN_XML &&
			(p[i] == '\t' || p[i] == '\n' || p[i] == '\r')))
			good = 0;
		if (good && mode != VER_CLEAN_JSON && k == 2 && p[i] == 0xc2 &&
		    p[i + 1] < 0xa0)
			good = 0;
		/* U+FFFE and U+FFFF are not XML characters. */
		if (good && mode != VER_CLEAN_JSON && k == 3 && p[i] == 0xef &&
		    p[i + 1] == 0xbf && p[i + 2] >= 0xbe)
			good = 0;
		if (good) {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* A child element with text content (escaped by libxml2). */
static xmlNodePtr
child(xmlNodePtr parent, const char *name, const char *text, int *ok)
{
	xmlNodePtr n;
	char *c = NULL;

	if (text != NULL && (c = ver_text_clean(text, VER_CLEAN_XML)) == NULL) {
		*ok = 0;
		return NULL;
	}
	n = xmlNewTextChild(parent, NULL, (const xmlChar *)name,
	    (const xmlChar *)c);
	free(c);
	if (n == NULL)
		*ok = 0;
	return n;
}

/* "urn:etsi:019102:mainindication:total-passed" (TS 119 102-2). */
static const char *
main_uri(enum sc_ver_indication ind)
{
	switch (ind) {
	case SC_VER_TOTAL_PASSED:
		return ETSI_MAIN "total-passed";
	case SC_VER_TOTAL_FAILED:
		return ETSI_MAIN "total-failed";
	case SC_VER_INDETERMINATE:
		break;
	}
	return ETSI_MAIN "indeterminate";
}

static void
sig_report(xmlNodePtr root, const struct sc_ver_report *r,
    const struct ver_sig *s, int *ok)
{
	xmlNodePtr svr, n, m;
	char uri[160];
	int64_t poe;
	int adv, qual;

	if ((svr = child(root, "SignatureValidationReport", NULL, ok)) == NULL)
		return;

	/* The signature value's digest is not kept: identify by id. */
	if ((n = child(svr, "SignatureIdentifier", NULL, ok)) != NULL) {
		if (xmlNewProp(n, (const xmlChar *)"id",
			(const xmlChar *)s->id) == NULL)
			*ok = 0;
		child(n, "HashOnly", "false", ok);
		child(n, "DocHashOnly", "false", ok);
	}

	if ((n = child(svr, "ValidationTimeInfo", NULL, ok)) != NULL) {
		child(n, "ValidationTime", r->validation_time, ok);
		/* EN 319 102-1 §5.6.2.3: a trusted signature time-stamp. */
		if ((poe = ver_sig_poe(s)) > 0) {
			for (size_t i = 0; i < s->nts; i++) {
				if (s->ts[i].gen != poe ||
				    strcmp(s->ts[i].type, "signature") != 0)
					continue;
				if ((m = child(n, "BestSignatureTime", NULL,
					 ok)) != NULL) {
					child(m, "POETime", s->ts[i].time, ok);
					child(m, "TypeOfProof",
					    "urn:etsi:019102:poetype:"
					    "validation",
					    ok);
				}
				break;
			}
		}
	}

	if (s->signing_time[0] != '\0' &&
	    (n = child(svr, "SignatureAttributes", NULL, ok)) != NULL &&
	    (m = child(n, "SigningTime", NULL, ok)) != NULL) {
		if (xmlNewProp(m, (const xmlChar *)"Signed",
			(const xmlChar *)"true") == NULL)
			*ok = 0;
		child(m, "Time", s->signing_time, ok);
	}

	if (s->subject != NULL &&
	    (n = child(svr, "SignerInformation", NULL, ok)) != NULL)
		child(n, "Signer", s->subject, ok);

	/* Law 2016-012 art. 111/115, graded as in the JSON report. */
	adv = s->ind == SC_VER_TOTAL_PASSED;
	qual = adv && s->qc_compliance && s->qc_sscd &&
	    strstr(s->qc_legislation, "ML") != NULL;
	if (adv && (n = child(svr, "SignatureQuality", NULL, ok)) != NULL)
		child(n, "SignatureQualityInformation",
		    qual ? SCEAU_LAW "qualified" : SCEAU_LAW "advanced", ok);

	if ((n = child(svr, "SignatureValidationProcess", NULL, ok)) != NULL)
		child(n, "SignatureValidationProcessID",
		    s->level != NULL && strcmp(s->level, "B-LTA") == 0
			? ETSI_PROC "LTA"
			: ETSI_PROC "Basic",
		    ok);

	if ((n = child(svr, "SignatureValidationStatus", NULL, ok)) != NULL) {
		child(n, "MainIndication", main_uri(s->ind), ok);
		if (s->sub != NULL) {
			snprintf(uri, sizeof(uri), "%s%s", ETSI_SUB, s->sub);
			child(n, "SubIndication", uri, ok);
		}
	}
}

char *
sc_ver_report_etsi_xml(const struct sc_ver_report *r)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	xmlNsPtr ns;
	xmlChar *mem = NULL;
	char *text = NULL;
	int len = 0, ok = 1;

	if (sc_ver_xml_init() != 0)
		return NULL;
	if ((doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		goto out;
	if ((root = xmlNewNode(NULL, (const xmlChar *)"ValidationReport")) ==
	    NULL)
		goto out;
	xmlDocSetRootElement(doc, root);
	/* The default namespace; children inherit it (xmlNewTextChild). */
	if ((ns = xmlNewNs(root, (const xmlChar *)ETSI_NS, NULL)) == NULL)
		goto out;
	xmlSetNs(root, ns);
	for (size_t i = 0; i < r->nsigs && ok; i++)
		sig_report(root, r, r->sigs[i], &ok);
	if (!ok)
		goto out;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (mem == NULL || len <= 0)
		goto out;
	/* Hand over a malloc'd copy: callers free() it. */
	if ((text = malloc((size_t)len + 1)) == NULL)
		goto out;
	memcpy(text, mem, (size_t)len);
	text[len] = '\0';
out:
	xmlFree(mem);
	xmlFreeDoc(doc);
	return text;
}
