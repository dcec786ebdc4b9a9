"""Bytes written and CPU per random-keyed row by commit size, in SQLite alone (BENCHMARKS.md, Rules cost).

Five indexes on hash keys, as the hub under the rules writes for each person (participants, their merge
state, visibility by row, audit by row, enrollments by participant), in WAL mode with synchronous=FULL
and the hub's checkpoint every 8,192 pages: 100,000 rows present, then 100,000 more in commits of N rows,
the log checkpointed at the end. Usage: python3 bench/commit_size_sim.py 1000 10000 (files in WORK,
default /tmp/begawi-commit-size). Python standard library only.
"""
import sqlite3, os, hashlib, sys, time
WORK = os.environ.get('WORK', '/tmp/begawi-commit-size')
os.makedirs(WORK, exist_ok=True)


def wb():
    for l in open('/proc/self/io'):
        if l.startswith('write_bytes'): return int(l.split()[1])
def key(i): return 'p' + hashlib.sha256(str(i).encode()).hexdigest()[:32]
for per_commit in [int(x) for x in sys.argv[1:]]:
    path = os.path.join(WORK, f't{per_commit}.db')
    for s in ('', '-wal', '-shm'):
        try: os.remove(path + s)
        except FileNotFoundError: pass
    db = sqlite3.connect(path, isolation_level=None)
    db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA synchronous=FULL'); db.execute('PRAGMA cache_size=-32768')
    db.execute('PRAGMA wal_autocheckpoint=8192')
    for t in range(5):
        db.execute(f'CREATE TABLE t{t}(k TEXT NOT NULL, v TEXT)'); db.execute(f'CREATE INDEX i{t} ON t{t}(k)')
    def insert(start, n, chunk):
        for c in range(start, start + n, chunk):
            db.execute('BEGIN')
            for t in range(5):
                db.executemany(f'INSERT INTO t{t} VALUES (?, ?)', ((key(i * 7 + t), 'x' * 20) for i in range(c, c + chunk)))
            db.execute('COMMIT')
    insert(0, 100_000, 10_000)
    db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    w0 = wb(); t0 = time.process_time()
    insert(100_000, 100_000, per_commit)
    db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    w1 = wb(); t1 = time.process_time()
    print(f'{per_commit} random-keyed rows a commit (x5 indexes): {(w1 - w0) / 100_000 / 1024:.1f} KB written per row, CPU {t1 - t0:.1f} s')
    db.close()
