#!/usr/bin/env python3
"""pdf_tamper.py IN CASE...: tamper with a signed PDF the way an attacker
would, with no help from sceau (Python standard library only). Each
CASE is written to CASE.pdf in the current directory.

IN must use classic xref tables (ISO 32000-1 §7.5.4), as files rewritten
by `qpdf --object-streams=disable` and sceau's incremental updates do.
Incremental updates are appended as ISO 32000-1 §7.5.6 describes: the
new objects, a new xref section with 20-byte entries, a trailer with
/Prev, startxref and %%EOF; nothing before them changes. In-place edits
keep every byte offset, so the xref stays right.

Cases:
  noop          update re-writing the Info dictionary with a new /Producer
                (allowed: a control for this writer, not an attack)
  byte          one byte of the signed page content changed in place
                ("2026-001" becomes "2026-009")
  content       update: a new content stream for page 1, the page
                rewritten to use it
  overlay       update: a Square annotation whose appearance covers the
                signed text with other text, added to page 1's /Annots
  replace       update: page 1's content stream re-written under the same
                object number, generation 0 (the page is unchanged)
  font          update: page 1's font resource dictionary re-written so that
                the name its text uses points at another font (Courier);
                the page and its content stream are unchanged
  hide          update: a new object holding other page content, and an
                xref section in which the entry of page 1's content stream
                points at it (shadow "hide via referenced object"); the
                entry is the second of its subsection. qpdf --check warns
                ("expected N 0 obj") and recovers: the xref is the attack
  hide-short    the same with 19-byte xref entries ("n" and a lone LF),
                which readers accept too
  byterange     the first /ByteRange edited in place so that its second
                range stops 200 bytes short (same text length)
  nocontents    the first signature's /Contents entry blanked out
  emptycontents the first signature's /Contents made "<>"
Exit 0 when every file is written; 1 with a message when IN is not as
expected.
"""
import re
import sys

WS = b" \t\r\n\f\0"
NEW_TEXT = b"(Decision n. 2026-009 - sceau)"


def die(msg):
    sys.stderr.write("pdf_tamper: %s\n" % msg)
    sys.exit(1)


def skip_string(d, i):
    """Past the literal string opening at d[i] == '(' (§7.3.4.2)."""
    depth = 0
    while i < len(d):
        c = d[i : i + 1]
        if c == b"\\":
            i += 2
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    die("unterminated string")


def dict_end(d, i):
    """Past the dictionary opening at d[i:i+2] == '<<'."""
    depth = 0
    while i < len(d):
        two = d[i : i + 2]
        if two == b"<<":
            depth += 1
            i += 2
        elif two == b">>":
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif d[i : i + 1] == b"(":
            i = skip_string(d, i)
        elif d[i : i + 1] == b"<":
            j = d.find(b">", i)
            if j < 0:
                die("unterminated hex string")
            i = j + 1
        else:
            i += 1
    die("unterminated dictionary")


class Pdf:
    """The newest offset of every object, through the xref chain."""

    def __init__(self, data):
        self.d = data
        sx = list(re.finditer(rb"startxref\s+(\d+)", data))
        if not sx:
            die("no startxref")
        self.startxref = int(sx[-1].group(1))
        self.offsets = {}
        self.trailer = None
        off, seen = self.startxref, set()
        while off and off not in seen:
            seen.add(off)
            off = self._section(off)

    def _section(self, off):
        d = self.d
        if not d.startswith(b"xref", off):
            die("no classic xref table at %d (xref stream?)" % off)
        p = off + 4
        head = re.compile(rb"[ \t\r\n]*(\d+) (\d+)[ \t]*(?:\r\n|\r|\n)")
        # Entries are 20 bytes (§7.5.4); the 19-byte form some writers
        # use ("... n\n") is read too.
        ent = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?:\r\n| \r| \n|\n|\r| )")
        while True:
            m = head.match(d, p)
            if m is None:
                break
            first, cnt = int(m.group(1)), int(m.group(2))
            p = m.end()
            for i in range(cnt):
                e = ent.match(d, p)
                if e is None:
                    die("bad xref entry at %d" % p)
                p = e.end()
                if e.group(3) == b"n":
                    self.offsets.setdefault(first + i, int(e.group(1)))
        m = re.compile(rb"[ \t\r\n]*trailer[ \t\r\n]*").match(d, p)
        if m is None or not d.startswith(b"<<", m.end()):
            die("no trailer after the xref at %d" % off)
        tr = d[m.end() : dict_end(d, m.end())]
        if self.trailer is None:
            self.trailer = tr
        prev = re.search(rb"/Prev\s+(\d+)", tr)
        return int(prev.group(1)) if prev else 0

    def obj(self, num):
        """The body of object @num (its dictionary, with any stream)."""
        if num not in self.offsets:
            die("object %d not in the xref" % num)
        d = self.d
        m = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*").match(d, self.offsets[num])
        if m is None or int(m.group(1)) != num:
            die("object %d is not at its xref offset" % num)
        start = end = m.end()
        if d.startswith(b"<<", start):
            # A stream's data may hold any bytes: skip it by /Length.
            end = dict_end(d, start)
            s = re.compile(rb"[ \t\r\n]*stream(?:\r\n|\n)").match(d, end)
            ln = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", d[start:end])
            if s is not None and ln is not None:
                end = s.end() + int(ln.group(1))
        end = d.find(b"endobj", end)
        if end < 0:
            die("object %d has no endobj" % num)
        return d[start:end].rstrip(WS)

    def size(self):
        return int(re.search(rb"/Size\s+(\d+)", self.trailer).group(1))


def ref(dict_text, key):
    m = re.search(re.escape(key) + rb"\s+(\d+)\s+0\s+R", dict_text)
    if m is None:
        die("no %s reference" % key.decode())
    return int(m.group(1))


def first_page(pdf):
    root = pdf.obj(ref(pdf.trailer, b"/Root"))
    pages = pdf.obj(ref(root, b"/Pages"))
    kids = re.search(rb"/Kids\s*\[\s*(\d+)\s+0\s+R", pages)
    if kids is None:
        die("no /Kids")
    return int(kids.group(1))


def stream(dict_extra, data):
    return b"<< %s/Length %d >>\nstream\n%s\nendstream" % (
        dict_extra,
        len(data),
        data,
    )


def page_content(pdf, page):
    """The page's single content stream: its number and decoded data."""
    num = ref(pdf.obj(page), b"/Contents")
    body = pdf.obj(num)
    if b"/Filter" in body[: body.find(b"stream")]:
        die("page content is compressed; make IN with --stream-data=uncompress")
    m = re.search(rb"stream\r?\n(.*)endstream", body, re.S)
    return num, m.group(1).rstrip(b"\r\n")


def update(data, pdf, objs, aim=None, eol=b"\r\n"):
    """Appends one incremental update holding @objs {number: body}. @aim
    {number: other} makes the xref entry of @number give the offset of
    object @other of this update (an inconsistent xref, for "hide")."""
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offs = {}
    for num in sorted(objs):
        offs[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objs[num])
    for num, other in (aim or {}).items():
        offs[num] = offs[other]
    xref = len(out)
    out += b"xref\n"
    nums = sorted(offs)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out += b"%d %d\n" % (nums[i], j - i + 1)
        for n in nums[i : j + 1]:
            out += b"%010d 00000 n%s" % (offs[n], eol)
        i = j + 1
    size = max(pdf.size(), nums[-1] + 1)
    keep = b""
    for key in (rb"/Root\s+\d+\s+0\s+R", rb"/Info\s+\d+\s+0\s+R", rb"/ID\s*\[[^\]]*\]"):
        m = re.search(key, pdf.trailer)
        if m is not None:
            keep += b" " + m.group(0)
    out += b"trailer\n<< /Size %d%s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        size,
        keep,
        pdf.startxref,
        xref,
    )
    return bytes(out)


def first_sig(data):
    """The first /ByteRange (match and values), and the hex /Contents whose
    string fills its gap (match)."""
    br = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    if br is None:
        die("no /ByteRange")
    vals = [int(x) for x in br.groups()]
    ct = re.compile(rb"/Contents\s*<[0-9A-Fa-f]*>").search(data, 0, vals[2])
    if ct is None or ct.start() + len(b"/Contents") > vals[1]:
        die("no /Contents before the ByteRange gap")
    return br, vals, ct


def tamper(case, data, pdf):
    """The bytes of @case made from @data."""
    _, br, _ = first_sig(data)
    page = first_page(pdf)

    if case == "noop":
        info = ref(pdf.trailer, b"/Info")
        body = re.sub(rb"/Producer\s*\([^)]*\)", b"/Producer (pdf_tamper)", pdf.obj(info))
        out = update(data, pdf, {info: body})
    elif case == "byte":
        i = data.find(b"(Decision n. 2026-001 - sceau)")
        if i < 0 or i + 30 > br[1]:
            die("the page text is not in the first signed range")
        out = bytearray(data)
        out[i + 20] = ord("9")
        out = bytes(out)
    elif case == "content":
        n = pdf.size()
        _, text = page_content(pdf, page)
        text = text.replace(b"(Decision n. 2026-001 - sceau)", NEW_TEXT)
        body = re.sub(rb"/Contents\s+\d+\s+0\s+R", b"/Contents %d 0 R" % n, pdf.obj(page))
        out = update(data, pdf, {n: stream(b"", text), page: body})
    elif case == "overlay":
        n = pdf.size()
        # A white box over the first line of text, with other text in it
        # (ISO 32000-1 §12.5.6.8 Square, §12.5.5 appearance streams).
        ap = (
            b"1 1 1 rg 0 0 360 40 re f\n0 g BT /F1 20 Tf 2 12 Td "
            + NEW_TEXT
            + b" Tj ET"
        )
        annot = (
            b"<< /Type /Annot /Subtype /Square /Rect [70 705 430 745] /F 4 "
            b"/C [1 1 1] /IC [1 1 1] /BS << /W 0 >> /P %d 0 R "
            b"/AP << /N %d 0 R >> >>" % (page, n + 1)
        )
        form = stream(
            b"/Type /XObject /Subtype /Form /BBox [0 0 360 40] /Resources "
            b"<< /Font << /F1 << /Type /Font /Subtype /Type1 "
            b"/BaseFont /Helvetica >> >> >> ",
            ap,
        )
        body = pdf.obj(page)
        if re.search(rb"/Annots\s*\[", body):
            body = re.sub(rb"(/Annots\s*\[)", b"\\1 %d 0 R " % n, body, count=1)
        else:
            body = body[:-2].rstrip() + b" /Annots [ %d 0 R ] >>" % n
        out = update(data, pdf, {n: annot, n + 1: form, page: body})
    elif case == "replace":
        num, text = page_content(pdf, page)
        text = text.replace(b"(Decision n. 2026-001 - sceau)", NEW_TEXT)
        out = update(data, pdf, {num: stream(b"", text)})
    elif case == "font":
        fonts = ref(pdf.obj(page), b"/Font")
        body = pdf.obj(fonts)
        m = re.search(rb"(/[^\s/<>\[\]()]+)\s+\d+\s+0\s+R", body)
        if m is None:
            die("no indirect font in the page's /Font dictionary")
        n = pdf.size()
        body = body[: m.start()] + m.group(1) + b" %d 0 R" % n + body[m.end() :]
        courier = b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"
        out = update(data, pdf, {fonts: body, n: courier})
    elif case in ("hide", "hide-short"):
        n = pdf.size()
        num, text = page_content(pdf, page)
        text = text.replace(b"(Decision n. 2026-001 - sceau)", NEW_TEXT)
        # The object before the content stream is declared again, as it
        # was, so that the forged entry is not the first of its section.
        if num - 1 not in pdf.offsets:
            die("no object %d to open the xref subsection" % (num - 1))
        out = update(
            data,
            pdf,
            {num - 1: pdf.obj(num - 1), n: stream(b"", text)},
            aim={num: n},
            eol=b"\r\n" if case == "hide" else b"\n",
        )
    elif case == "isa":
        # Incremental saving attack without xref or trailer (pades-brief
        # §3): a new content stream for the page, written after %%EOF
        # under the old object number; recovering readers show it.
        num, text = page_content(pdf, page)
        text = text.replace(b"(Decision n. 2026-001 - sceau)", NEW_TEXT)
        out = data + (b"" if data.endswith(b"\n") else b"\n") + b"%d 0 obj\n%s\nendobj\n" % (
            num,
            stream(b"", text),
        )
    elif case == "junk":
        # Bytes after %%EOF that are no PDF syntax: only a warning.
        out = data + b"\n-- fin du fichier --\n"
    elif case == "byterange":
        m, vals, _ = first_sig(data)
        old = m.group(0)
        new = b"/ByteRange [%d %d %d %d]" % (vals[0], vals[1], vals[2], vals[3] - 200)
        # The text keeps its length, and so every offset after it.
        if len(new) > len(old) or vals[3] < 200:
            die("cannot shorten the ByteRange in place")
        out = data[: m.start()] + new + b" " * (len(old) - len(new)) + data[m.end() :]
    elif case in ("nocontents", "emptycontents"):
        _, _, ct = first_sig(data)
        new = b"" if case == "nocontents" else b"/Contents <>"
        n = ct.end() - ct.start()
        out = data[: ct.start()] + new + b" " * (n - len(new)) + data[ct.end() :]
    else:
        die("unknown case %s" % case)
    in_place = ("byte", "byterange", "nocontents", "emptycontents")
    if len(out) < len(data) or (case in in_place and len(out) != len(data)):
        die("%s: offsets moved" % case)
    return out


def main():
    if len(sys.argv) < 3:
        die("usage: pdf_tamper.py IN CASE...")
    data = open(sys.argv[1], "rb").read()
    pdf = Pdf(data)
    for case in sys.argv[2:]:
        out = tamper(case, data, pdf)
        with open(case + ".pdf", "wb") as f:
            f.write(out)


if __name__ == "__main__":
    main()
