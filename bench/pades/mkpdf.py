#!/usr/bin/env python3
"""mkpdf.py OUT SIZE: a valid one-page PDF of about SIZE bytes (classic
xref), the bulk an incompressible image stream, as scanned decisions are."""
import os
import sys

out, size = sys.argv[1], int(sys.argv[2])
side = 64
img_len = max(size - 1200, 3 * side * side)
objs = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
    b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
]
content = b"q 500 0 0 700 47 71 cm /Im1 Do Q"
with open(out, "wb") as f:
    f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(f.tell())
        f.write(b"%d 0 obj\n%s\nendobj\n" % (i, o))
    offs.append(f.tell())
    f.write(b"4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(content), content))
    offs.append(f.tell())
    # An /Image whose data is random bytes (a DCT-like blob): raw
    # samples sized to the stream so that viewers accept it.
    h = img_len // (3 * side)
    data_len = 3 * side * h
    f.write(b"5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d "
            b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n" % (side, h, data_len))
    left = data_len
    while left > 0:
        n = min(left, 1 << 20)
        f.write(os.urandom(n))
        left -= n
    f.write(b"\nendstream\nendobj\n")
    x = f.tell()
    f.write(b"xref\n0 6\n0000000000 65535 f\r\n")
    for o in offs:
        f.write(b"%010d 00000 n\r\n" % o)
    f.write(b"trailer\n<< /Size 6 /Root 1 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
            % (os.urandom(16).hex().encode(), os.urandom(16).hex().encode(), x))
