#!/usr/bin/env python3
"""Writes a scaled copy of a scenario, for the growth table of docs/PERFORMANCE.md.

usage: scale-scenario.py SCENARIO OUT [--databases-factor K] [--users-factor U] [--days N]

K times the databases, each with 1/K of the mailboxes and size (so users, and mail, stay
the same: the growth measured is the databases'); database j keeps the copies of
original database j mod D. U times the mailboxes, size and server capacity of every
database and server (the same databases with U times the users and mail). --days sets the
horizon.
"""
import argparse
import json
import re


def scaled_size(size, k):
    m = re.fullmatch(r"(\d+)GB", size)
    return f"{max(1, int(m.group(1)) * 1000 // k)}MB" if m else size


def grown_size(size, u):
    m = re.fullmatch(r"(\d+)GB", size)
    return f"{int(m.group(1)) * u}GB" if m else size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("out")
    ap.add_argument("--databases-factor", type=int, default=1)
    ap.add_argument("--users-factor", type=int, default=1)
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
    u = a.users_factor
    if u > 1:
        for db in s["topology"]["databases"]:
            db["mailboxes"] *= u
            db["size"] = grown_size(db["size"], u)
        for srv in s["topology"]["servers"]:
            if "capacity_mailboxes" in srv:
                srv["capacity_mailboxes"] *= u
    if a.days:
        s["run"]["horizon"] = f"{a.days}d"
    json.dump(s, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
