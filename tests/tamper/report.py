#!/usr/bin/env python3
"""report.py REPORT.json: the fields of a `sceau verify --format json`
report (CONTRACT.md, "Validation report") that shell tests check, as
shell assignments to eval (one Python start per report):

  IND     the document's indication
  NSIGS   the number of signatures
  IND0, SUB0, INTACT0, LEVEL0
          the first signature's indication, subindication, crypto_intact
          and level
  REASONS every reason of every signature, one a line
  MODS    every modification of every signature, "kind:allowed" a line

true, false and null print as such. A report that cannot be read gives
IND=unreadable and exit 1.
"""
import json
import shlex
import sys


def show(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def main():
    out = {}
    try:
        r = json.load(open(sys.argv[1], encoding="utf-8"))
    except (OSError, ValueError, IndexError):
        print("IND=unreadable NSIGS=0")
        sys.exit(1)
    sigs = r.get("signatures") or []
    s0 = sigs[0] if sigs else {}
    out["IND"] = show(r.get("indication"))
    out["NSIGS"] = str(len(sigs))
    out["IND0"] = show(s0.get("indication"))
    out["SUB0"] = show(s0.get("subindication"))
    out["INTACT0"] = show(s0.get("crypto_intact"))
    out["LEVEL0"] = show(s0.get("level"))
    out["REASONS"] = "\n".join(x for s in sigs for x in s.get("reasons") or [])
    out["MODS"] = "\n".join(
        "%s:%s" % (m.get("kind"), show(m.get("allowed")))
        for s in sigs
        for m in s.get("modifications") or []
    )
    for k, v in out.items():
        print("%s=%s" % (k, shlex.quote(v)))


if __name__ == "__main__":
    main()
