#!/usr/bin/env python3
"""What incremental auto-vacuum costs a staff application's inserts under a trigger (issue 16,
item 6): BENCHMARKS.md, "Capture overhead".

Each variant is a fresh WAL file (synchronous=FULL) with the enrollment table; N rows go in one
transaction as N single-row INSERT statements (Python's `executemany`, as an application binds
them), or, with --sql, as one INSERT … SELECT. Variants: `plain`; `noop-trigger` (an AFTER INSERT
trigger whose body is `SELECT 1`: a statement with a trigger gets a statement journal);
`outbox-trigger` (it appends one small row); each also with `-av` (the file made with
`auto_vacuum = INCREMENTAL`, as replicas are since issue 15). Rounds alternate the order; the
figure is the median ratio to the first variant. Python's own cost per row is in every variant,
so the ratios are lower than `begawi-bench capture`'s, but the differences are what is compared.

  python3 Benchmarks/capture-autovacuum.py [--rows N] [--rounds R] [--sql] [variant,variant,...]
"""
import argparse
import os
import sqlite3
import statistics
import tempfile
import time

TABLE = ("CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, participant_id TEXT, program_id TEXT, site_id TEXT, "
         "status TEXT, registered_on TEXT, started_on TEXT, completed_on TEXT, score INTEGER, funding TEXT, notes TEXT, updated_by TEXT)")
COLS = "id, participant_id, program_id, site_id, status, registered_on, started_on, completed_on, score, funding, notes, updated_by"


def rows(n):
    return [(f"0193a1b2-{i % 65536:04x}-7abc-8def-{i:012d}", f"p-{i * 7919 % 1000003:08d}", "prog-0042", "lpk-a", "terdaftar",
             "2026-11-01", "2026-11-15", None, None, "apbd", "catatan pendaftaran peserta pelatihan las listrik angkatan ketiga",
             "operator-01") for i in range(n)]


def generated(n):
    return (f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
            "SELECT printf('0193a1b2-%04x-7abc-8def-%012d', i % 65536, i), printf('p-%08d', i * 7919 % 1000003), 'prog-0042', "
            "'lpk-a', 'terdaftar', '2026-11-01', '2026-11-15', NULL, NULL, 'apbd', "
            "'catatan pendaftaran peserta pelatihan las listrik angkatan ketiga', 'operator-01' FROM n")


def fresh(folder, variant):
    path = os.path.join(folder, variant + ".sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    if variant.endswith("-av"):
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(TABLE)
    if variant.startswith("noop-trigger"):
        db.execute("CREATE TRIGGER t AFTER INSERT ON enrollments BEGIN SELECT 1; END")
    elif variant.startswith("outbox-trigger"):
        db.execute("CREATE TABLE outbox(seq INTEGER PRIMARY KEY, key TEXT NOT NULL)")
        db.execute("CREATE TRIGGER t AFTER INSERT ON enrollments BEGIN INSERT INTO outbox(key) VALUES (NEW.id); END")
    return db


def once(folder, variant, data, sql):
    db = fresh(folder, variant)
    start = time.perf_counter()
    db.execute("BEGIN")
    if sql:
        db.execute(f"INSERT INTO enrollments({COLS}) {sql}")
    else:
        db.executemany(f"INSERT INTO enrollments({COLS}) VALUES ({', '.join('?' * 12)})", data)
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("variants", nargs="?", default="plain,plain-av,noop-trigger,noop-trigger-av,outbox-trigger,outbox-trigger-av")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sql", action="store_true", help="one INSERT … SELECT instead of a statement per row")
    args = parser.parse_args()
    variants = args.variants.split(",")
    data = [] if args.sql else rows(args.rows)
    sql = generated(args.rows) if args.sql else None
    times = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="begawi-capture-av-") as folder:
        for r in range(args.rounds):
            for v in variants if r % 2 == 0 else variants[::-1]:
                times[v].append(once(folder, v, data, sql))
    print(f"{args.rows} rows in one transaction, {'one INSERT … SELECT' if args.sql else 'a statement per row'}, "
          f"SQLite {sqlite3.sqlite_version}, {args.rounds} rounds")
    for v in variants:
        ratio = statistics.median(t / b for t, b in zip(times[v], times[variants[0]]))
        print(f"  {v:18s} median {statistics.median(times[v]):.3f} s   ÷ {variants[0]}: {ratio:.2f}")


if __name__ == "__main__":
    main()
