#!/usr/bin/env python3
"""xml_tamper.py IN PREFIX CASE...: tamper with a signed XAdES document
the way an attacker would, with no help from sceau (Python standard
library only: xml.dom.minidom keeps prefixes, attribute order and white
space, and every reference is canonicalised before it is digested, so a
re-serialised document still verifies; the "roundtrip" case proves it).
Each CASE is written to PREFIX-CASE.xml in the current directory.

Cases:
  roundtrip    parse and write back, nothing changed (a control)
  byte         one character of the signed data changed ("1500000"
               becomes "9500000")
  xsw-props    signature wrapping of an enveloped signature: the signed
               xades:SignedProperties moves into a wrapper in a new
               ds:Object placed before the others, and a forged copy with
               the same Id (another SigningTime) takes its place
  xsw-object   signature wrapping of an enveloping signature: the signed
               ds:Object moves into a wrapper in a new ds:Object placed
               before it, and a forged ds:Object with the same Id (another
               amount) takes its place
  xsw-noid     as xsw-object, but the forged ds:Object carries no Id: the
               reference still reaches the original, now inside a wrapper
  no-props-ref the ds:Reference to the SignedProperties removed from
               ds:SignedInfo
Exit 0 when every file is written; 1 with a message when IN is not as
expected.
"""
import sys
from xml.dom import minidom

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
WRAP = "urn:sceau:tamper"


def die(msg):
    sys.stderr.write("xml_tamper: %s\n" % msg)
    sys.exit(1)


def elements(node, ns, name):
    return [e for e in node.getElementsByTagNameNS(ns, name)]


def children(node, ns, name):
    return [
        c
        for c in node.childNodes
        if c.nodeType == c.ELEMENT_NODE and c.namespaceURI == ns and c.localName == name
    ]


def one(lst, what):
    if len(lst) != 1:
        die("expected one %s, found %d" % (what, len(lst)))
    return lst[0]


def change_text(node, old, new):
    """Replaces @old by @new in the first text node under @node that has it."""
    for t in node.getElementsByTagName("*") + [node]:
        for c in t.childNodes:
            if c.nodeType == c.TEXT_NODE and old in c.data:
                c.data = c.data.replace(old, new, 1)
                return
    die("no text %r" % old)


def wrapper_object(doc, sig):
    """A new ds:Object holding a foreign wrapper element, inserted right
    after ds:KeyInfo (so before every other ds:Object in document order:
    an ID lookup finds what it holds first)."""
    prefix = sig.prefix
    obj = doc.createElementNS(DS, (prefix + ":" if prefix else "") + "Object")
    wrap = doc.createElementNS(WRAP, "xsw:Wrapper")
    wrap.setAttribute("xmlns:xsw", WRAP)
    obj.appendChild(wrap)
    ki = one(children(sig, DS, "KeyInfo"), "ds:KeyInfo")
    sig.insertBefore(obj, ki.nextSibling)
    return wrap


def tamper(case, src):
    """The document of @case, made from the file @src."""
    doc = minidom.parse(src)
    sig = one(elements(doc, DS, "Signature"), "ds:Signature")

    if case == "roundtrip":
        pass
    elif case == "byte":
        change_text(doc.documentElement, "1500000", "9500000")
    elif case == "xsw-props":
        sp = one(elements(sig, XADES, "SignedProperties"), "xades:SignedProperties")
        forged = sp.cloneNode(True)
        st = one(elements(forged, XADES, "SigningTime"), "xades:SigningTime")
        st.firstChild.data = "2020-01-01T00:00:00Z"
        wrap = wrapper_object(doc, sig)
        # The moved element keeps its prefix bound (minidom writes only
        # the declarations it was given).
        wrap.setAttribute("xmlns:" + sp.prefix, XADES)
        sp.parentNode.replaceChild(forged, sp)
        wrap.appendChild(sp)
    elif case in ("xsw-object", "xsw-noid"):
        refs = [
            r
            for r in elements(sig, DS, "Reference")
            if r.getAttribute("Type") == DS + "Object"
        ]
        uri = one(refs, "reference of type Object").getAttribute("URI")
        objs = [o for o in children(sig, DS, "Object") if o.getAttribute("Id") == uri[1:]]
        obj = one(objs, "signed ds:Object")
        forged = obj.cloneNode(True)
        change_text(forged, "1500000", "9500000")
        if case == "xsw-noid":
            forged.removeAttribute("Id")
        wrap = wrapper_object(doc, sig)
        obj.parentNode.replaceChild(forged, obj)
        wrap.appendChild(obj)
    elif case == "no-props-ref":
        si = one(children(sig, DS, "SignedInfo"), "ds:SignedInfo")
        refs = [
            r
            for r in children(si, DS, "Reference")
            if r.getAttribute("Type").endswith("#SignedProperties")
        ]
        r = one(refs, "SignedProperties reference")
        nxt = r.nextSibling
        si.removeChild(r)
        if nxt is not None and nxt.nodeType == nxt.TEXT_NODE and not nxt.data.strip():
            si.removeChild(nxt)
    else:
        die("unknown case %s" % case)
    return doc.toxml(encoding="UTF-8")


def main():
    if len(sys.argv) < 4:
        die("usage: xml_tamper.py IN PREFIX CASE...")
    src, prefix = sys.argv[1:3]
    for case in sys.argv[3:]:
        out = tamper(case, src)
        with open("%s-%s.xml" % (prefix, case), "wb") as f:
            f.write(out)


if __name__ == "__main__":
    main()
