#!/usr/bin/env python3
"""make_hybrid.py OUT: a hybrid-reference PDF (ISO 32000-1 §7.5.8.4): a
classic xref table whose trailer has /XRefStm pointing at an xref stream,
the layout some writers use for PDF 1.4 readers. No tool at hand writes
one, so it is made here, byte by byte."""
import sys
import zlib

objs = {
    1: b"<< /Type /Catalog /Pages 2 0 R >>",
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
       b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
}
content = b"BT /F1 18 Tf 72 760 Td (Hybrid xref file) Tj ET"
out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
off = {}
for n, o in objs.items():
    off[n] = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (n, o)
off[4] = len(out)
out += b"4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(content), content)
# the xref stream (object 5) lists objects 0..5 again
off[5] = len(out)
rows = b"\x00\x00\x00\x00\x00\xff\xff"
for n in range(1, 6):
    rows += b"\x01" + off[n].to_bytes(4, "big") + b"\x00\x00"
data = zlib.compress(rows)
out += (b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Index [0 6] /Filter /FlateDecode "
        b"/Length %d >>\nstream\n" % len(data)) + data + b"\nendstream\nendobj\n"
x = len(out)
out += b"xref\n0 6\n0000000000 65535 f\r\n"
for n in range(1, 6):
    out += b"%010d 00000 n\r\n" % off[n]
out += b"trailer\n<< /Size 6 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (off[5], x)
open(sys.argv[1], "wb").write(out)
