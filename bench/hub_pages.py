#!/usr/bin/env python3
"""Which B-trees of the hub's file one push writes, and how many pages of each (BENCHMARKS.md, Rules cost).

A hub under the Handak Begawi rules (or --handak: the same schema without its rules) takes the work of
SITES sites (PER_SITE rows each: half participants, keyed by a hash of the NIK, half their enrollments),
one `begawi site sync` at a time. Then one more site pushes one batch (999 participants, 999
enrollments, its program: 1,999 rows, one commit). The hub is stopped and its log checkpointed before
and after that push; the two files are compared page by page, and each page that differs is put to the
table or index that holds it (`dbstat`), beside the entries that B-tree gained.

  python3 bench/hub_pages.py [--bin DIR] [--work DIR] [--sites 20] [--per-site 4000] [--handak]

A B-tree whose pages changed about once per entry it gained is keyed randomly (each entry lands on a
page of its own); one whose new entries share pages is keyed in order. Python standard library only.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as lib  # noqa: E402
from benchlib import log  # noqa: E402


def checkpointed_copy(cluster, name):
    """Stops the hub, folds its log into the file and keeps a copy of the file under `name`."""
    cluster.stop_hub()
    hub = cluster.path("hub.sqlite")
    lib.sqlite(hub, "PRAGMA wal_checkpoint(TRUNCATE);")
    copy = cluster.path(name)
    shutil.copyfile(hub, copy)
    return copy


def btree_pages(path):
    """Page number -> the table or index it belongs to, and entries per B-tree (`dbstat`)."""
    owner = {}
    for line in lib.sqlite(path, "SELECT pageno, name FROM dbstat;").splitlines():
        page, name = line.split("|", 1)
        owner[int(page)] = name
    entries = {}
    for line in lib.sqlite(path, "SELECT name, sum(ncell) FROM dbstat WHERE pagetype = 'leaf' GROUP BY name;").splitlines():
        name, n = line.split("|", 1)
        entries[name] = int(n)
    return owner, entries


def changed_pages(before, after, page_size):
    """Page numbers (from 1) whose bytes differ between the two files, or that only `after` has."""
    changed = []
    with open(before, "rb") as a, open(after, "rb") as b:
        n = 1
        while True:
            pb = b.read(page_size)
            if not pb:
                break
            if a.read(page_size) != pb:
                changed.append(n)
            n += 1
    return changed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(lib.REPO, ".build-bench/release"))
    parser.add_argument("--work", default="/tmp/begawi-hub-pages")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--per-site", type=int, default=4000)
    parser.add_argument("--handak", action="store_true", help="the same rows under the schema without its rules")
    args = parser.parse_args()
    begawi = os.path.join(args.bin, "begawi")
    os.makedirs(args.work, exist_ok=True)
    if args.handak:
        schema = os.path.join(args.work, "handak-without-rules.json")
        lib.write_json(schema, lib.without_rules(lib.RULES_SCHEMA))
    else:
        schema = lib.RULES_SCHEMA
    c = lib.Cluster(begawi, os.path.join(args.work, "cluster"), schema=schema)
    c.start_hub()
    import json
    salt = next(t["access"]["key_from"]["salt"] for t in json.load(open(lib.RULES_SCHEMA))["tables"] if "key_from" in t.get("access", {}))
    sites = [f"lpk-bontang-{i:02d}" for i in range(1, args.sites + 2)]
    t = time.monotonic()
    for i, s in enumerate(sites):
        c.add_site(s)
        n = args.per_site if i < args.sites else 1998
        lib.sqlite(c.replica(s), lib.agency_sql(s, n, i * args.per_site, salt, 1000 + i)[0])
    for s in sites[:-1]:
        c.sync(s)
    log(f"hub filled by {args.sites} sites x {args.per_site} rows in {time.monotonic() - t:.1f} s "
        f"({'no rules' if args.handak else 'under the rules'})")
    before = checkpointed_copy(c, "before.sqlite")
    c.start_hub()
    c.write_site_config(sites[-1])  # the hub listens on a new port
    out = c.sync(sites[-1]).stdout.decode()
    report = lib.parse_sync_output(out)
    after = checkpointed_copy(c, "after.sqlite")
    page_size = int(lib.sqlite(after, "PRAGMA page_size;").strip())
    owner_before, entries_before = btree_pages(before)
    owner_after, entries_after = btree_pages(after)
    changed = changed_pages(before, after, page_size)
    per = {}
    for page in changed:
        name = owner_after.get(page) or owner_before.get(page) or "(free list, header)"
        per[name] = per.get(name, 0) + 1
    rows = (report or {}).get("sent", 0)
    log(f"one push of {rows} rows ({report}); page size {page_size}; {len(changed)} pages changed "
        f"= {len(changed) * page_size / max(1, rows) / 1000:.2f} KB per row")
    log(f"{'B-tree':45} {'pages changed':>14} {'entries added':>14} {'entries after':>14} {'pages/entry':>12}")
    for name in sorted(set(per) | {n for n in entries_after if entries_after[n] != entries_before.get(n, 0)},
                       key=lambda n: -per.get(n, 0)):
        added = entries_after.get(name, 0) - entries_before.get(name, 0)
        ratio = f"{per.get(name, 0) / added:.2f}" if added > 0 else "-"
        log(f"{name:45} {per.get(name, 0):14} {added:14} {entries_after.get(name, 0):14} {ratio:>12}")


if __name__ == "__main__":
    main()
