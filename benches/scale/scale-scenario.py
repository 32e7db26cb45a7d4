#!/usr/bin/env python3
"""Writes a scaled copy of a scenario, for the growth table of docs/PERFORMANCE.md.

usage: scale-scenario.py SCENARIO OUT --databases-factor K [--days N]

K times the databases, each with 1/K of the mailboxes and size (so users, and mail, stay
the same: the growth measured is the databases'); database j keeps the copies of
original database j mod D. --days sets the horizon.
"""
import argparse
import json
import re


def scaled_size(size, k):
    m = re.fullmatch(r"(\d+)GB", size)
    return f"{max(1, int(m.group(1)) * 1000 // k)}MB" if m else size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("out")
    ap.add_argument("--databases-factor", type=int, default=1)
    ap.add_argument("--days", type=int)
    a = ap.parse_args()
    s = json.load(open(a.scenario))
    dbs = s["topology"]["databases"]
    k = a.databases_factor
    if k > 1:
        width = len(str(len(dbs) * k))
        s["topology"]["databases"] = [
            dict(dbs[j % len(dbs)], name=f"db{j + 1:0{width}}",
                 mailboxes=max(1, dbs[j % len(dbs)]["mailboxes"] // k),
                 size=scaled_size(dbs[j % len(dbs)]["size"], k))
            for j in range(len(dbs) * k)
        ]
    if a.days:
        s["run"]["horizon"] = f"{a.days}d"
    json.dump(s, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
