#!/usr/bin/env python3
"""Instructions of the capture trigger's variants (issue 16): BENCHMARKS.md, "Capture overhead".

For each variant, a fresh file with the enrollment table (as `ReplicaSQL` makes it) and the variant's
insert trigger; then callgrind counts the instructions of `sqlite3_step` while the `sqlite3` shell
inserts N generated rows in one transaction (WAL, synchronous=FULL). The differences between
variants are what each lever would save; the SQL path has no binding cost in its baseline, so its
ratios to the plain table are larger than those of `begawi-bench profile-capture`.

  python3 Benchmarks/capture-levers.py [N] [variant,variant,...]     (needs valgrind and sqlite3)
"""
import os
import re
import subprocess
import sys
import tempfile

COLUMNS = ["participant_id", "program_id", "site_id", "status", "registered_on", "started_on",
           "completed_on", "score", "funding", "notes", "updated_by"]
TABLE = ("CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, "
         + ", ".join(f'"{c}" {"INTEGER" if c == "score" else "TEXT"}' for c in COLUMNS) + ");")
WALL = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
NOT_APPLYING = "NOT EXISTS (SELECT 1 FROM _begawi_applying)"


def trigger(check=NOT_APPLYING, wall=WALL, mask=True):
    """Today's insert trigger (ReplicaSQL.triggers) and its bookkeeping, with one lever changed."""
    when = f" WHEN {check}" if check else ""
    outbox = ("CREATE TABLE _begawi_outbox(seq INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, key TEXT NOT NULL, op INTEGER NOT NULL, "
              + ("mask INTEGER, " if mask else "") + "wall INTEGER NOT NULL);")
    insert = (f"INSERT INTO _begawi_outbox(tbl, key, op, {'mask, ' if mask else ''}wall) "
              f"VALUES (1, NEW.id, 1, {'NULL, ' if mask else ''}{wall})")
    return "\n".join([TABLE, outbox, "CREATE TABLE _begawi_applying(engine INTEGER);",
                      f"CREATE TRIGGER _begawi_enrollments_insert AFTER INSERT ON enrollments{when} BEGIN {insert}; END;"])


VARIANTS = {
    "plain": TABLE,
    "empty-trigger": TABLE + "\nCREATE TRIGGER t AFTER INSERT ON enrollments BEGIN SELECT 1; END;",
    "today": trigger(),
    "no-check": trigger(check=None),
    "daemon-time": trigger(wall="0"),
    "both": trigger(check=None, wall="0"),
    "no-mask": trigger(mask=False),
    "all-three": trigger(check=None, wall="0", mask=False),
    "check-count": trigger(check="(SELECT count(*) FROM _begawi_applying) = 0"),
    "check-max": trigger(check="(SELECT max(rowid) FROM _begawi_applying) IS NULL"),
    "seconds": trigger(wall="CAST(strftime('%s','now') AS INTEGER)"),
}


def insert_sql(n):
    return (f"PRAGMA synchronous=FULL;\nBEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < {n})\n"
            "INSERT INTO enrollments SELECT printf('0190%04x-%04x-7%03x-8%03x-%012x', i, i, i % 4096, i % 4096, i*7919), "
            "printf('p-%08d', i), 'prog-01', 'lpk-bontang-01', 'active', '2026-01-02', '2026-02-03', NULL, NULL, 'apbn', "
            "'some note about the participant ' || i, 'operator-7' FROM n; COMMIT;")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    names = sys.argv[2].split(",") if len(sys.argv) > 2 else list(VARIANTS)
    plain = None
    with tempfile.TemporaryDirectory(prefix="begawi-capture-levers-", dir="/tmp") as folder:
        for name in names:
            db = os.path.join(folder, f"{name}.sqlite")
            subprocess.run(["sqlite3", db], input="PRAGMA journal_mode=WAL;\n" + VARIANTS[name], text=True, check=True, capture_output=True)
            r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--toggle-collect=sqlite3_step",
                                "sqlite3", db], input=insert_sql(n), text=True, capture_output=True)
            found = re.search(r"Collected : (\d+)", r.stderr)
            if not found:
                sys.exit(f"{name}: callgrind printed no count:\n{r.stderr[-800:]}")
            count = int(found.group(1))
            plain = count if name == "plain" else plain
            print(f"{name:14} {count:>14,}" + (f"  {count / plain:.2f} x plain" if plain else ""), flush=True)


if __name__ == "__main__":
    main()
