#!/usr/bin/env python3
"""mkxml.py OUT SIZE: an XML document of about SIZE bytes, records of an
invoice register (the same records as bench/xades/run.sh)."""
import sys

out, size = sys.argv[1], int(sys.argv[2])
rec = ('<ligne n="{0}"><article>Ciment CPA 42.5 sac de 50 kg</article>'
       '<quantite>{0}</quantite><prix devise="XOF">4500</prix>'
       '<note>Livraison à Bamako, quartier {0} &amp; environs</note></ligne>\n')
head = '<?xml version="1.0" encoding="UTF-8"?>\n<registre xmlns="urn:example:sceau">\n'
parts, total, n = [head], len(head), 0
while total < size:
    s = rec.format(n)
    parts.append(s)
    total += len(s.encode())
    n += 1
parts.append('</registre>\n')
with open(out, 'w', encoding='utf-8') as f:
    f.write(''.join(parts))
