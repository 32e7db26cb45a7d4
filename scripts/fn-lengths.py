#!/usr/bin/env python3
"""Lists the longest functions outside tests in the given crates' src/ folders.

Usage: python3 scripts/fn-lengths.py [--over N] [CRATE_DIR...]
A rough scanner (fn signature to its matching closing brace, skipping `mod tests`
blocks and files named tests.rs); good enough to keep functions under ~150 lines.
"""
import re
import sys
from pathlib import Path

FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def functions(path):
    lines = path.read_text().splitlines()
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^\s*#\[cfg\(test\)\]", line):
            # skip the next item (a test module) by brace matching
            depth, j, started = 0, i + 1, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                j += 1
                if started and depth <= 0:
                    break
            i = j
            continue
        m = FN.match(line)
        if m:
            depth, j, started = 0, i, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                if started and depth <= 0:
                    break
                if not started and lines[j].rstrip().endswith(";"):
                    break
                j += 1
            out.append((j - i + 1, m.group(6), f"{path}:{i + 1}"))
            i = j + 1 if started else i + 1
            continue
        i += 1
    return out


def main():
    args = sys.argv[1:]
    over = 0
    if args[:1] == ["--over"]:
        over, args = int(args[1]), args[2:]
    dirs = args or ["crates/scenario", "crates/model", "crates/report"]
    rows = []
    for d in dirs:
        for p in sorted(Path(d, "src").rglob("*.rs")):
            if p.name == "tests.rs":
                continue
            rows += functions(p)
    rows.sort(reverse=True)
    for n, name, where in rows:
        if n > over:
            print(f"{n:5}  {name:32} {where}")
    return 1 if over and any(n > over for n, _, _ in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
