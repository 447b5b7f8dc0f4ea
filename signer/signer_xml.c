/*
 * signer_xml.c: libxml2 and xmlsec set-up for the XAdES signer, the
 * hardened parser, canonicalisation of a subtree, small tree helpers.
 */
/* xmlsec1 1.2.37's OpenSSL headers still name RSA, DSA and EC_KEY: this
 * file is compiled with the deprecated declarations visible. */
#undef OPENSSL_NO_DEPRECATED

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlsave.h>
#include <libxslt/security.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmlsec.h>

#include "sceau/verify.h"

#include "xades_int.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ok; /* written once, in lib_init */


/*
 * Write-once initialisation (STYLE.md: the one allowed global state).
 * The validator (verify/) initialises the same libraries in the same
 * process: xmlsec is initialised only if nobody did it before (its ids
 * tables are then non-empty). The signer never reads outside data
 * through xmlsec (its references are same-document; detached data is
 * digested here), so it does not touch xmlsec's I/O callbacks.
 * libxslt (linked by xmlsec) is forbidden any file or network access.
 */
static void
lib_init(void)
{
	xsltSecurityPrefsPtr sec;

	/* One initialisation of libxml2 and xmlsec for the process, shared
	 * with the validator (verify/), so that the two never race. */
	if (sc_ver_xml_init() != 0 || xmlSecCheckVersion() != 1)
		return;
	sec = xsltNewSecurityPrefs();
	if (sec == NULL)
		return;
	xsltSetSecurityPrefs(sec, XSLT_SECPREF_READ_FILE, xsltSecurityForbid);
	xsltSetSecurityPrefs(sec, XSLT_SECPREF_WRITE_FILE, xsltSecurityForbid);
	xsltSetSecurityPrefs(sec, XSLT_SECPREF_CREATE_DIRECTORY,
	    xsltSecurityForbid);
	xsltSetSecurityPrefs(sec, XSLT_SECPREF_READ_NETWORK,
	    xsltSecurityForbid);
	xsltSetSecurityPrefs(sec, XSLT_SECPREF_WRITE_NETWORK,
	    xsltSecurityForbid);
	xsltSetDefaultSecurityPrefs(sec);
	init_ok = 1;
}

int
xml_init(struct sc_err *err)
{
	if (pthread_once(&init_once, lib_init) != 0 || !init_ok)
		return sc_err_set(err, SC_E_INTERNAL,
		    "cannot initialise libxml2/xmlsec");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hardened parsing                                                    */

struct parse_state {
	int doctype; /* a DOCTYPE was seen: parsing stopped there */
};

static void
sax_no_doctype(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	xmlParserCtxtPtr pc = ctx;
	struct parse_state *st = pc->_private;

	(void)name, (void)eid, (void)sid;
	st->doctype = 1;
	xmlStopParser(pc);
}

static void
quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx, (void)e;
}

struct id_scan {
	xmlHashTablePtr seen;
	size_t n;
	int dup;
	int too_many;
	char dup_value[64];
};

static int
is_id_attr(const xmlAttr *a)
{
	const char *n = (const char *)a->name;

	if (a->ns != NULL && a->ns->href != NULL)
		return strcmp((const char *)a->ns->href,
			   (const char *)XML_XML_NAMESPACE) == 0 &&
		    strcmp(n, "id") == 0;
	return strcmp(n, "Id") == 0 || strcmp(n, "ID") == 0 ||
	    strcmp(n, "id") == 0;
}

/*
 * Brief §4 "ID confusion": every Id/ID/id/xml:id value must be unique,
 * so that "#value" can name one element only. Iterative walk: the depth
 * is already bounded by the parser, but no recursion is needed.
 */
static void
scan_ids(xmlNodePtr root, struct id_scan *s)
{
	xmlNodePtr n = root;

	while (n != NULL && !s->dup && !s->too_many) {
		if (n->type == XML_ELEMENT_NODE) {
			for (xmlAttrPtr a = n->properties; a != NULL;
			     a = a->next) {
				xmlChar *v;

				if (!is_id_attr(a))
					continue;
				v = xmlNodeListGetString(n->doc, a->children,
				    1);
				if (v == NULL)
					continue;
				if (++s->n > XADES_MAX_IDS) {
					s->too_many = 1;
				} else if (xmlHashAddEntry(s->seen, v, s) !=
				    0) {
					s->dup = 1;
					snprintf(s->dup_value,
					    sizeof(s->dup_value), "%.60s",
					    (const char *)v);
				}
				xmlFree(v);
			}
			if (n->children != NULL) {
				n = n->children;
				continue;
			}
		}
		while (n != NULL && n != root && n->next == NULL)
			n = n->parent;
		if (n == NULL || n == root)
			break;
		n = n->next;
	}
}

xmlDocPtr
xml_parse(const uint8_t *p, size_t len, size_t max, struct sc_err *err)
{
	struct parse_state st = {0};
	struct id_scan ids = {0};
	xmlParserCtxtPtr pc = NULL;
	xmlDocPtr doc = NULL, res = NULL;

	if (max == 0)
		max = SC_XADES_MAX_INPUT;
	if (len > max || len > INT_MAX) {
		sc_err_set(err, SC_E_TOO_LARGE,
		    "the XML document is over %zu bytes", max);
		goto out;
	}
	if (p == NULL || len == 0) {
		sc_err_set(err, SC_E_INVALID_XML, "the XML document is empty");
		goto out;
	}
	pc = xmlCreateMemoryParserCtxt((const char *)p, (int)len);
	if (pc == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	pc->_private = &st;
	/* Stop at the DOCTYPE, before any markup declaration is read. */
	pc->sax->internalSubset = sax_no_doctype;
	pc->sax->externalSubset = NULL;
	pc->sax->resolveEntity = NULL;
	pc->sax->serror = quiet_structured;
	pc->sax->error = NULL;
	pc->sax->warning = NULL;
	/* NONET only: never NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE. */
	xmlCtxtUseOptions(pc,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	(void)xmlParseDocument(pc);
	doc = pc->myDoc;
	pc->myDoc = NULL;
	if (st.doctype) {
		sc_err_set(err, SC_E_INVALID_XML,
		    "the XML document has a DOCTYPE, which is refused "
		    "(no DTD, no entity declarations)");
		goto out;
	}
	if (!pc->wellFormed || doc == NULL) {
		const xmlError *e = &pc->lastError;

		sc_err_set(err, SC_E_INVALID_XML,
		    "the XML document is not well-formed (line %d: %.120s)",
		    e->line, e->message != NULL ? e->message : "?");
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL ||
	    xmlDocGetRootElement(doc) == NULL) {
		sc_err_set(err, SC_E_INVALID_XML,
		    "the XML document has a DTD or no root element");
		goto out;
	}
	ids.seen = xmlHashCreate(64);
	if (ids.seen == NULL) {
		sc_err_set(err, SC_E_NOMEM, "out of memory");
		goto out;
	}
	scan_ids(xmlDocGetRootElement(doc), &ids);
	if (ids.dup) {
		sc_err_set(err, SC_E_INVALID_XML,
		    "the identifier \"%s\" appears twice (XMLDSig references "
		    "must name one element)",
		    ids.dup_value);
		goto out;
	}
	if (ids.too_many) {
		sc_err_set(err, SC_E_INVALID_XML,
		    "the XML document has over %d identifiers", XADES_MAX_IDS);
		goto out;
	}
	res = doc;
	doc = NULL;
out:
	if (ids.seen != NULL)
		xmlHashFree(ids.seen, NULL);
	if (pc != NULL) {
		xmlFreeDoc(pc->myDoc);
		pc->myDoc = NULL;
		xmlFreeParserCtxt(pc);
	}
	xmlFreeDoc(doc);
	return res;
}

/* ------------------------------------------------------------------ */
/* Tree helpers                                                        */

int
xml_is(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    n->ns->href != NULL && strcmp((const char *)n->ns->href, ns) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr
xml_child(xmlNodePtr n, const char *ns, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL;
	     c = c->next)
		if (xml_is(c, ns, name))
			return c;
	return NULL;
}

xmlNodePtr
xml_first_el(xmlNodePtr n)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL;
	     c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNodePtr
xml_next_el(xmlNodePtr n)
{
	for (xmlNodePtr c = n != NULL ? n->next : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

xmlNodePtr
xml_add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text)
{
	xmlNodePtr n = xmlNewChild(parent, ns, XC name, NULL);

	if (n != NULL && text != NULL)
		xmlNodeAddContent(n, XC text);
	return n;
}

int
xml_new_id(const char *prefix, char out[XADES_ID_MAX], struct sc_err *err)
{
	uint8_t r[8];
	char hex[17];

	if (sc_rand_bytes(r, sizeof(r), err) != 0)
		return -1;
	sc_hex_encode(r, sizeof(r), hex);
	if ((size_t)snprintf(out, XADES_ID_MAX, "%s-%s", prefix, hex) >=
	    XADES_ID_MAX)
		return sc_err_set(err, SC_E_INTERNAL, "identifier too long");
	return 0;
}

int
xml_b64_content(xmlNodePtr n, uint8_t **out, size_t *outlen, struct sc_err *err)
{
	xmlChar *t = xmlNodeGetContent(n);
	size_t k = 0;
	int rc;

	if (t == NULL)
		return sc_err_set(err, SC_E_INVALID_XML, "empty base64 value");
	for (size_t i = 0; t[i] != '\0'; i++)
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r' && t[i] != '\n')
			t[k++] = t[i];
	t[k] = '\0';
	rc = sc_b64_decode((const char *)t, k, out, outlen, err);
	xmlFree(t);
	if (rc != 0)
		sc_err_set(err, SC_E_INVALID_XML, "malformed base64 value");
	return rc;
}

/* ------------------------------------------------------------------ */
/* Canonicalisation of a subtree                                       */

/*
 * The node-set of the subtree at @root (XPath "descendant-or-self::node()
 * | @* | namespace::*" without comments). libxml2 asks about a namespace
 * node with the element that has it in scope as @parent.
 */
static int
in_subtree(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr root = user;
	xmlNodePtr n;

	if (node == NULL)
		return 0;
	if (node->type == XML_COMMENT_NODE)
		return 0;
	n = node->type == XML_NAMESPACE_DECL ? parent : node;
	for (; n != NULL; n = n->parent)
		if (n == root)
			return 1;
	return 0;
}

static int
buf_write(void *ctx, const char *p, int n)
{
	struct sc_buf *b = ctx;

	if (n < 0 || sc_buf_append(b, p, (size_t)n, NULL) != 0)
		return -1;
	return n;
}

int
xml_c14n(xmlNodePtr node, int excl, struct sc_buf *out, struct sc_err *err)
{
	xmlOutputBufferPtr ob;
	int rc, r2;

	ob = xmlOutputBufferCreateIO(buf_write, NULL, out, NULL);
	if (ob == NULL)
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	rc = xmlC14NExecute(node->doc, in_subtree, node,
	    excl ? XML_C14N_EXCLUSIVE_1_0 : XML_C14N_1_0, NULL, 0, ob);
	r2 = xmlOutputBufferClose(ob);
	if (rc < 0 || r2 < 0)
		return sc_err_set(err,
		    out->len >= out->max ? SC_E_TOO_LARGE : SC_E_INTERNAL,
		    "cannot canonicalise <%s>", (const char *)node->name);
	return 0;
}

int
xml_dump(xmlDocPtr doc, uint8_t **out, size_t *outlen, struct sc_err *err)
{
	xmlChar *mem = NULL;
	int n = 0;

	xmlDocDumpMemory(doc, &mem, &n);
	if (mem == NULL || n <= 0) {
		xmlFree(mem);
		return sc_err_set(err, SC_E_NOMEM,
		    "cannot serialise the "
		    "signed document");
	}
	*out = malloc((size_t)n + 1);
	if (*out == NULL) {
		xmlFree(mem);
		return sc_err_set(err, SC_E_NOMEM, "out of memory");
	}
	memcpy(*out, mem, (size_t)n);
	(*out)[n] = '\0';
	*outlen = (size_t)n;
	xmlFree(mem);
	return 0;
}
