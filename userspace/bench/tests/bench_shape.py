#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The output shape of `zcsend bench`: what a reader or a script relies on,
without the figures. From the table (stdin-like file TABLE): the column
header lines, the case title lines with numbers blanked, one line per row
(method name and whether it ran, was unavailable or failed) and the legend;
from the JSON file: every key path with its value's type, lists collapsed
to []. One item per line, sorted, so two shapes compare with diff/comm.

usage: bench_shape.py TABLE JSON > SHAPE
       bench_shape.py --check GOLDEN TABLE JSON   (every GOLDEN line present)
"""
import json
import re
import sys


def table_shape(text):
    out = set()
    section = None
    for line in text.splitlines():
        if line.startswith("== "):
            out.add("title " + re.sub(r"[0-9][0-9.]*", "N", line))
            section = None
        elif line.startswith(("method ", "object ", "CPU copies/B ")):
            section = line.split()[0]
            out.add("header " + " ".join(line.split()))
        elif section and line.strip() and not line.startswith(" "):
            name = line.split()[0]
            kind = "row"
            if " unavailable: " in line:
                kind = "unavailable"
            elif " failed: " in line:
                kind = "failed"
            out.add("%s-row %s %s" % (section, name, kind))
        elif not line.strip():
            section = None
        elif line.startswith("Legend:"):
            out.add("legend")
        elif line.startswith("CPU copies"):
            out.add("text " + " ".join(line.split()))
    return out


def json_shape(node, path, out):
    if isinstance(node, dict):
        out.add("json %s {}" % path)
        for k, v in node.items():
            json_shape(v, "%s.%s" % (path, k), out)
    elif isinstance(node, list):
        out.add("json %s []" % path)
        for v in node:
            json_shape(v, path + "[]", out)
    else:
        kind = {bool: "bool", int: "number", float: "number", str: "string",
                type(None): "null"}[type(node)]
        out.add("json %s %s" % (path, kind))


def shape(table_file, json_file):
    with open(table_file) as f:
        s = table_shape(f.read())
    with open(json_file) as f:
        json_shape(json.load(f), "$", s)
    return s


def main(argv):
    if len(argv) == 5 and argv[1] == "--check":
        with open(argv[2]) as f:
            golden = [l.rstrip("\n") for l in f if l.strip()]
        now = shape(argv[3], argv[4])
        missing = [l for l in golden if l not in now]
        for l in missing:
            print("missing: " + l)
        return 1 if missing else 0
    if len(argv) == 3:
        for l in sorted(shape(argv[1], argv[2])):
            print(l)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
