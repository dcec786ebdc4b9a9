#!/usr/bin/env python3
"""Sync benchmarks over HTTPS for BENCHMARKS.md (issue 3): real `begawi hub run` and `begawi site sync`
processes from a release build, rows written through the sqlite3 shell as any site program would.

  python3 bench/sync_bench.py [--bin DIR] [--work DIR] [--keep] FIGURE [options]

  ingest      N sites push at once to one hub over loopback HTTPS (default 50 sites x 20,000 rows);
              --store postgres [--hubs N]: the hub on PostgreSQL, N hub processes on one database
  ingest-stores  ingest on SQLite, on PostgreSQL with 1 hub and with 3, alternating (default 2 rounds, 50 x 4,000)
  first-sync  a fresh site's first sync of a backlog of 100k, 300k and 1M rows: wall time, peak RSS
  day         bytes on the wire for one site's day (1,000 inserts, 1,000 updates on 100k synced rows),
              through Tests/Tools/faultproxy.py, beside sqldiff --changeset + zstd and rsync -z
  poorlink    10,000 enrollments over ../shared/lab/poorlink (64 kbit/s, 150 ms each way, 2 % loss),
              then again with `poorlink flap --every 30`, then with resets from the hub's side every
              30 s (what flap means to do; see HubSideResets); needs root
  live        hub->site and site->hub latency with held pulls, beside the 30 s poll (bench/live_bench.py)
  idle        an idle site's bytes a day, RSS and CPU, held pulls beside the 30 s poll; needs root
  all         the four first ones, in this order

`make bench-sync` builds the release products into .build-bench and runs `all`.
Results go to stdout and, as JSON, to WORK/results-FIGURE.json.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as lib  # noqa: E402
import live_bench  # noqa: E402
from benchlib import log  # noqa: E402

REPO = lib.REPO


def begawi_version(begawi):
    out = subprocess.run([begawi, "version"], capture_output=True).stdout.decode().strip()
    return " ".join(out.split())


def header(title, args, command):
    log("")
    log(f"== {title} ==")
    log(f"  command: {command}")
    log(f"  {lib.machine()}; {begawi_version(args.begawi)}")


# MARK: 1. ingest


class HubWatcher(threading.Thread):
    """Samples the hub's change count (max seq of its row states) and its CPU, every `interval` seconds.
    On PostgreSQL (`cluster` given with a postgresql:// database) it counts the published rows through
    psql, sums the CPU over every hub process and also samples the server's CPU (`server`)."""

    def __init__(self, database, hub_pid, target, t0, interval=0.2, count_rows=False, cluster=None, server=None):
        super().__init__(daemon=True)
        self.database, self.hub_pid, self.target, self.t0, self.interval = database, hub_pid, target, t0, interval
        # Under access rules the change sequence also numbers feed events: count rows instead.
        self.query = "SELECT count(*) FROM _begawi_rows" if count_rows else "SELECT coalesce(max(seq), 0) FROM _begawi_rows"
        self.cluster, self.server = cluster, server
        self.samples = []
        # (seconds since t0, hub CPU seconds, bytes the hub had written, server CPU seconds or None)
        # when the hub held `target` changes
        self.reached = None
        self.stop = threading.Event()

    def run(self):
        if self.cluster is not None:
            return self.run_postgres()
        import sqlite3
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        while not self.stop.is_set():
            try:
                seq = db.execute(self.query).fetchone()[0]
            except sqlite3.Error:
                seq = None
            now = time.monotonic() - self.t0
            cpu = lib.cpu_seconds(self.hub_pid)
            written = lib.write_bytes(self.hub_pid)
            self.samples.append((round(now, 3), seq, round(cpu, 2)))
            if self.reached is None and seq is not None and seq >= self.target:
                self.reached = (now, cpu, written, None)
            self.stop.wait(self.interval)
        db.close()

    def run_postgres(self):
        # Published rows (a position in the feed): every change a site pushed, rules or not, once
        # the hub has committed and published it.
        query = "SELECT count(*) FROM _begawi_rows WHERE pos IS NOT NULL"
        while not self.stop.is_set():
            try:
                seq = int(self.cluster.psql(query).strip())
            except (RuntimeError, ValueError):
                seq = None
            now = time.monotonic() - self.t0
            cpu = sum(lib.cpu_seconds(pid) for pid in self.cluster.hub_pids)
            written = sum(lib.write_bytes(pid) for pid in self.cluster.hub_pids)
            server_cpu = self.server.cpu_seconds()
            self.samples.append((round(now, 3), seq, round(cpu, 2), round(server_cpu, 2)))
            if self.reached is None and seq is not None and seq >= self.target:
                self.reached = (now, cpu, written, server_cpu)
            self.stop.wait(self.interval)


def ingest(args):
    n_sites, per_site = args.sites, args.rows_per_site
    total = n_sites * per_site
    rules = getattr(args, "rules", False)
    # The Handak Begawi rows (participants keyed by a hash of the NIK, their enrollments): under the
    # rules, or with the same schema stripped of its rules (--handak), the rules' cost alone.
    handak = rules or getattr(args, "handak", False)
    flag = " --rules" if rules else (" --handak" if handak else "")
    postgres = getattr(args, "store", "sqlite") == "postgres"
    n_hubs = getattr(args, "hubs", 1)
    if n_hubs > 1 and not postgres:
        sys.exit("--hubs above 1 needs --store postgres: several hub processes share one PostgreSQL database")
    if postgres:
        flag += f" --store postgres --hubs {n_hubs}"
    header(f"hub ingest: {n_sites} sites push {per_site} rows each at once ({total} changes) over loopback HTTPS", args,
           f"python3 bench/sync_bench.py ingest --sites {n_sites} --rows-per-site {per_site}{flag}")
    figure = "ingest-rules" if rules else ("ingest-handak" if handak else "ingest")
    if postgres:
        figure += f"-pg{n_hubs}"
    work = os.path.join(args.work, figure)
    if rules:
        schema = lib.RULES_SCHEMA
    elif handak:
        schema = os.path.join(args.work, "handak-without-rules.json")
        lib.write_json(schema, lib.without_rules(lib.RULES_SCHEMA))
    else:
        schema = lib.SCHEMA
    server = None
    if postgres:
        # A fresh database on the server at --postgres-url, or on a cluster of our own (stopped below).
        statements = getattr(args, "pg_statements", False)
        server = lib.PostgresServer(url=args.postgres_url, folder=os.path.join(args.work, "pg"), statements=statements)
        log(f"  PostgreSQL at {server.url}: {server.settings}")
        if statements:
            server.reset_statements()
        c = lib.Cluster(args.begawi, work, schema=schema, database=server.fresh_database("begawi_bench_ingest"))
    else:
        c = lib.Cluster(args.begawi, work, schema=schema)
    c.start_hub()
    hub_urls = [c.hub_url] + (c.start_more_hubs(n_hubs - 1) if n_hubs > 1 else [])
    sites = [f"lpk-bontang-{i:02d}" for i in range(1, n_sites + 1)]
    t = time.monotonic()
    for i, s in enumerate(sites):
        # Sites spread over the hub processes round-robin, each given its hub's URL.
        c.add_site(s, url=hub_urls[i % len(hub_urls)])
    log(f"  set up: {n_hubs} hub process(es), {n_sites} sites registered and their replicas made in {time.monotonic() - t:.1f} s")

    # Each site's own replica, filled through the sqlite3 shell in one transaction (two at a time).
    t = time.monotonic()
    from concurrent.futures import ThreadPoolExecutor
    if handak:
        # Handak Begawi's rows: each LPK registers its participants and enrolls them in its program.
        import json
        salt = next(t["access"]["key_from"]["salt"] for t in json.load(open(lib.RULES_SCHEMA))["tables"] if "key_from" in t.get("access", {}))
        scripts = [lib.agency_sql(s, per_site, i * per_site, salt, 1000 + i) for i, s in enumerate(sites)]
        total = sum(n for _, n in scripts)
        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(lib.sqlite, c.replica(s), sql) for s, (sql, _) in zip(sites, scripts)]
            for j in jobs:
                j.result()
    else:
        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(lib.sqlite, c.replica(s), lib.insert_sql(lib.enrollment_rows(per_site, seed=1000 + i, site=s)))
                    for i, s in enumerate(sites)]
            for j in jobs:
                j.result()
    log(f"  filled: {total} rows written through the sqlite3 shell in {time.monotonic() - t:.1f} s")
    if args.prestamp:
        # A running site daemon stamps its writes as they come; here each site's backlog is stamped
        # before the clock starts, so that the figure is the hub's ingest, not 50 sites' stamping.
        t = time.monotonic()
        with ThreadPoolExecutor(2) as pool:
            jobs = [pool.submit(subprocess.run, [args.begawi, "replica", "export", "--file", c.replica(s), "--out", "/dev/null",
                                                 "--max-rows", "1"], capture_output=True, check=True) for s in sites]
            for j in jobs:
                j.result()
        log(f"  pre-stamped every site's backlog in {time.monotonic() - t:.1f} s (--no-prestamp to include it)")
    subprocess.run(["sync"])
    time.sleep(2)

    load_start = os.getloadavg()
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    env = c.env()
    def hub_cpu_now():
        return sum(lib.cpu_seconds(pid) for pid in c.hub_pids)

    def hub_written_now():
        return sum(lib.write_bytes(pid) for pid in c.hub_pids)

    cpu0 = hub_cpu_now()
    written0 = hub_written_now()
    server_cpu0 = server.cpu_seconds() if server else None
    t0 = time.monotonic()
    watcher = HubWatcher(c.path("hub.sqlite"), c.hub_pid, total, t0, count_rows=handak,
                         interval=0.5 if postgres else 0.2, cluster=c if postgres else None, server=server)
    watcher.start()
    procs = {}
    # The Popen objects stay referenced: a dropped one that is still running is reaped by the next
    # Popen (subprocess._cleanup), and wait4 below would then wait for an exit it never sees.
    popens = []
    for s in sites:
        p = subprocess.Popen(c.sync_argv(s), stdout=open(os.path.join(out_dir, f"{s}.out"), "wb"),
                             stderr=open(os.path.join(out_dir, f"{s}.err"), "wb"), env=env)
        procs[p.pid] = s
        popens.append(p)
    spawned = time.monotonic() - t0
    exits = {}
    stopped = False
    while len(exits) < len(procs):
        if args.stop_at_commit and not stopped and watcher.reached:
            # The figure is taken: the pulls of everyone's rows that follow are not ingest.
            stopped = True
            for pid, name in procs.items():
                if name not in exits:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
        pid, status, usage = os.wait4(-1, os.WNOHANG if args.stop_at_commit and not stopped else 0)
        if pid == 0:
            time.sleep(0.1)
            continue
        if pid in procs:
            exits[procs[pid]] = (time.monotonic() - t0, os.waitstatus_to_exitcode(status), usage)
        elif pid in c.hub_pids:
            raise RuntimeError(f"the hub exited during the run; see {c.path('hub.log')}")
    wall = time.monotonic() - t0
    hub_cpu = hub_cpu_now() - cpu0
    hub_written = hub_written_now() - written0
    server_cpu = server.cpu_seconds() - server_cpu0 if server else None
    load_end = os.getloadavg()
    time.sleep(0.3)
    watcher.stop.set()
    watcher.join()
    hub_rss = max(lib.peak_rss_mb(pid) for pid in c.hub_pids)

    reports = {s: lib.parse_sync_output(open(os.path.join(out_dir, f"{s}.out")).read()) for s in sites}
    failed = {s: e[1] for s, e in exits.items() if e[1] != 0 and not (stopped and e[1] == -signal.SIGTERM)}
    sent = sum(r["sent"] for r in reports.values() if r)
    received = sum(r["received"] for r in reports.values() if r)
    site_cpu = sum(e[2].ru_utime + e[2].ru_stime for e in exits.values())
    site_rss = max(e[2].ru_maxrss for e in exits.values()) / 1024
    first_exit = min(e[0] for e in exits.values())
    if handak:
        hub_rows = int((c.psql("SELECT count(*) FROM _begawi_rows;") if postgres else
                        lib.sqlite(c.path("hub.sqlite"), "SELECT count(*) FROM _begawi_rows;")).strip())
    else:
        hub_rows = c.hub_rows()
    reached = watcher.reached
    c.stop_hub()
    if server and getattr(args, "pg_statements", False):
        top = server.top_statements()
        with open(os.path.join(args.work, f"statements-{figure}.txt"), "w") as f:
            f.write(top)
        log("  the server's top statements by time (pg_stat_statements: total | share | calls | mean | rows | statement):")
        for line in top.strip().splitlines():
            log(f"    {line}")
    if server:
        if args.postgres_url and not args.keep:
            server.drop_database("begawi_bench_ingest")
        server.stop()

    log(f"  {n_sites} `begawi site sync` started within {spawned:.2f} s; all exited by {wall:.1f} s "
        f"(first at {first_exit:.1f} s); failures: {failed or 'none'}")
    log(f"  rows sent {sent}, hub holds {hub_rows}; rows the sites pulled back from the hub: {received}")
    log(f"  start to last exit: {wall:.1f} s -> {total / wall:,.0f} changes/s (target >= 30,000/s; "
        f"ElectricSQL 20k updates/s, Couchbase Sync Gateway ~1,300 docs/s)")
    if reached:
        rt, rcpu, rwritten, rserver = reached
        log(f"  hub committed all {total} changes at {rt:.1f} s -> {total / rt:,.0f} changes/s ingested; "
            f"hub CPU by then {rcpu - cpu0:.1f} s ({100 * (rcpu - cpu0) / rt:.0f} % of one core) = "
            f"{1e6 * (rcpu - cpu0) / total:.0f} us per row; written to disk by then {(rwritten - written0) / 1e6:,.0f} MB "
            f"= {(rwritten - written0) / total / 1000:.2f} KB per row")
        if server:
            log(f"  PostgreSQL server CPU by then {rserver - server_cpu0:.1f} s ({100 * (rserver - server_cpu0) / rt:.0f} % "
                f"of one core) = {1e6 * (rserver - server_cpu0) / total:.0f} us per row; hub + server "
                f"{1e6 * (rcpu - cpu0 + rserver - server_cpu0) / total:.0f} us per row")
    if server:
        log(f"  PostgreSQL server CPU over the whole run {server_cpu:.1f} s (the postmaster and its children, from /proc)")
    log(f"  load at the end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    log(f"  the hub wrote {hub_written / 1e6:,.0f} MB over the whole run = {hub_written / total / 1000:.2f} KB per row "
        f"(/proc/HUB/io write_bytes)")
    log(f"  hub CPU over the whole run {hub_cpu:.1f} s = {100 * hub_cpu / wall:.0f} % of one core (2 cores = 200 %); "
        f"hub peak RSS {hub_rss:.0f} MB" + (f" (the largest of {n_hubs} processes; CPU summed over them)" if n_hubs > 1 else ""))
    log(f"  the {n_sites} site processes: CPU {site_cpu:.1f} s in all ({100 * site_cpu / wall:.0f} % of one core), "
        f"largest peak RSS {site_rss:.0f} MB")
    if reached:
        log(f"  after the last push: the sites pulled {received:,} rows (each site gets every other site's rows) in "
            f"{wall - reached[0]:.1f} s ({received / max(0.001, wall - reached[0]):,.0f} rows/s)")
    times = sorted(e[0] for e in exits.values())
    log(f"  site exits: first {times[0]:.1f} s, median {times[len(times) // 2]:.1f} s, last {times[-1]:.1f} s")
    # The ingest curve until the hub held every change, about every 2 s.
    until = (reached[0] if reached else wall) + 2
    step = max(1, int(2 / watcher.interval))
    curve = [f"{s[0]:.0f}s:{s[1]}" for s in watcher.samples[::step] if s[0] <= until]
    log(f"  hub change count over time: {' '.join(curve)}")
    result = {"sites": n_sites, "rows_per_site": per_site, "total": total, "wall_s": wall, "spawned_s": spawned,
              "failures": failed, "sent": sent, "received": received, "hub_rows": hub_rows,
              "hub_all_committed_s": reached[0] if reached else None,
              "hub_cpu_to_commit_s": (reached[1] - cpu0) if reached else None,
              "hub_written_to_commit_bytes": (reached[2] - written0) if reached else None, "hub_written_bytes": hub_written,
              "hub_cpu_s": hub_cpu, "hub_peak_rss_mb": hub_rss, "sites_cpu_s": site_cpu, "site_peak_rss_mb": site_rss,
              "exits": {s: [round(e[0], 2), e[1]] for s, e in exits.items()}, "samples": watcher.samples,
              "store": "postgres" if postgres else "sqlite", "hubs": n_hubs, "load_start": load_start, "load_end": load_end,
              "server_cpu_to_commit_s": (reached[3] - server_cpu0) if reached and server else None,
              "server_cpu_s": server_cpu, "server_settings": server.settings if server else None}
    finish(args, work, figure, result)


def ingest_stores(args):
    """`ingest` on SQLite, on PostgreSQL with 1 hub process and with N, side by side: `--rounds` rounds,
    each in the other order than the one before; one table at the end."""
    configs = [("sqlite", 1), ("postgres", 1), ("postgres", args.many_hubs)]
    runs = []
    for r in range(args.rounds):
        order = configs if r % 2 == 0 else list(reversed(configs))
        for store, hubs in order:
            a = argparse.Namespace(**vars(args))
            a.store, a.hubs = store, hubs
            ingest(a)
            name = ("ingest-rules" if args.rules else ("ingest-handak" if args.handak else "ingest")) + \
                (f"-pg{hubs}" if store == "postgres" else "")
            with open(os.path.join(args.work, f"results-{name}.json")) as f:
                result = json.load(f)
            os.replace(os.path.join(args.work, f"results-{name}.json"), os.path.join(args.work, f"results-{name}-round{r + 1}.json"))
            runs.append((r + 1, store, hubs, result))
    log("")
    log("| round | store | hubs | changes/s at the hub | hub CPU µs/row | server CPU µs/row | load start → end |")
    log("|---|---|---|---|---|---|---|")
    for r, store, hubs, x in runs:
        t = x["hub_all_committed_s"]
        rate = f"{x['total'] / t:,.0f}" if t else "not reached"
        hub = f"{1e6 * x['hub_cpu_to_commit_s'] / x['total']:.0f}" if t else "—"
        server = f"{1e6 * x['server_cpu_to_commit_s'] / x['total']:.0f}" if t and x["server_cpu_to_commit_s"] is not None else "—"
        log(f"| {r} | {store} | {hubs} | {rate} | {hub} | {server} | {x['load_start'][0]:.2f} → {x['load_end'][0]:.2f} |")


# MARK: 2. first sync


def first_sync(args):
    sizes = sorted(int(s) for s in args.sizes.split(","))
    stores = getattr(args, "store", "sqlite").split(",")
    flag = "" if stores == ["sqlite"] else f" --store {','.join(stores)}"
    if getattr(args, "reference_hub", False):
        flag += f" --reference-bin {args.reference_bin} --reference-hub"
    header(f"first sync of a fresh site: backlogs of {', '.join(f'{s:,}' for s in sizes)} rows over loopback HTTPS", args,
           f"python3 bench/sync_bench.py first-sync --sizes {args.sizes}{flag}")
    results = []
    for store in stores:
        results += first_sync_from(args, sizes, store)
    log("  store     backlog  first pull  build         wall     rows/s   peak RSS   site CPU   hub CPU  server CPU   bulk insert   ratio   "
        "(targets for 1M: <= 10 s, <= 150 MB, <= 2.5x)")
    for r in results:
        server = f"{r['server_cpu_s']:7.1f} s" if r.get("server_cpu_s") is not None else "        -"
        log(f"  {r['store']:>8} {r['backlog']:>9,}  {r['mode']:>8}  {r['build']:>10}  {r['wall_s']:6.1f} s  {r['backlog'] / r['wall_s']:8,.0f}"
            f"  {r['peak_rss_mb']:6.0f} MB  {r['site_user_s'] + r['site_sys_s']:6.1f} s  {r['hub_cpu_s']:5.1f} s  {server}"
            f"  {r['bulk_insert_s']:8.1f} s  {r['ratio_to_bulk']:5.2f}x")
    finish(args, os.path.join(args.work, "first-sync"), "first-sync", {"runs": results})


def first_sync_from(args, sizes, store):
    """The first-sync figures with the hub on `store` (sqlite, or postgres: a throwaway cluster with
    fsync on, or --postgres-url): the backlogs pushed, then each first pull and the bulk-insert floor."""
    work = os.path.join(args.work, "first-sync" if store == "sqlite" else f"first-sync-{store}")
    # A hub kept from an earlier run with the same one backlog (`--backlog-cache DIR`): its push is not measured again.
    cache = getattr(args, "backlog_cache", None) if store == "sqlite" else None
    cached = cache and len(sizes) == 1 and os.path.exists(os.path.join(cache, "hub.sqlite")) \
        and open(os.path.join(cache, "rows")).read().strip() == str(sizes[0])
    server = None
    if store == "postgres":
        server = lib.PostgresServer(url=getattr(args, "postgres_url", None), folder=os.path.join(args.work, "pg-first-sync"))
        log(f"  PostgreSQL at {server.url}: {server.settings}")
        c = lib.Cluster(args.begawi, work, database=server.fresh_database("begawi_bench_first_sync"))
    else:
        c = lib.Cluster(args.begawi, work, certs_from=os.path.join(cache, "tls") if cached else None)
    c.server = server
    if cached:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(c.path("hub.sqlite" + suffix)):
                os.remove(c.path("hub.sqlite" + suffix))
        shutil.copy(os.path.join(cache, "hub.sqlite"), c.path("hub.sqlite"))
        log(f"  the hub and its backlog of {sizes[0]:,} rows copied from {cache}")
    c.start_hub()
    if not cached:
        c.add_site("lpk-filler")
    have = 0
    results = []
    for size in sizes:
        if cached:
            have = size
        # The backlog reaches the hub the ordinary way: written at one site, pushed by its `site sync`.
        if not cached:
            rows = lib.enrollment_rows(size - have, seed=2000 + size, site="lpk-filler", start=have)
            lib.sqlite(c.replica("lpk-filler"), lib.insert_sql(rows))
            cpu0 = lib.cpu_seconds(c.hub_pid)
            status, out, wall, rss, user, system, _ = lib.time_v(c.sync_argv("lpk-filler"), env=c.env())
            hub_cpu = lib.cpu_seconds(c.hub_pid) - cpu0
            pushed = lib.parse_sync_output(out)
            log(f"  backlog {size:,}: pushed {size - have:,} rows from one site in {wall:.1f} s "
                f"({(size - have) / wall:,.0f} rows/s; hub CPU {hub_cpu:.1f} s, site CPU {user + system:.1f} s, site peak RSS {rss:.0f} MB); {pushed}")
            if status != 0:
                raise RuntimeError(f"the filler's sync exited {status}")
            have = size
            if server:
                # Rows given their place in the feed: what a fresh site can pull.
                log(f"  backlog {size:,} at the hub: {c.psql('SELECT count(*) FROM _begawi_rows WHERE pos IS NOT NULL;').strip()} rows published")
            if cache and len(sizes) == 1:
                shutil.rmtree(cache, ignore_errors=True)
                shutil.copytree(c.path("tls"), os.path.join(cache, "tls"))
                lib.sqlite(c.path("hub.sqlite"), f".backup '{os.path.join(cache, 'hub.sqlite')}'")
                with open(os.path.join(cache, "rows"), "w") as f:
                    f.write(f"{size}\n")
            subprocess.run(["sync"])
            time.sleep(2)

        # The same backlog by both first pulls, side by side: the snapshot, and pages (as a daemon
        # from before snapshots pulls), then the floor: a plain bulk insert of the same rows. With a
        # reference build, each pull goes once with it and once with this build, in alternating order,
        # `--repeat` times, and the floor after each repeat (the load of the machine moves both alike).
        builds = [("this build", args.begawi)]
        if getattr(args, "reference_bin", None):
            builds.append(("reference", args.reference_bin))
        for repeat in range(max(1, getattr(args, "repeat", 1))):
            first = []
            for mode in getattr(args, "first_pull", "snapshot,pages").split(","):
                for build, binary in (builds if repeat % 2 == 0 else builds[::-1]):
                    fresh = f"lpk-{mode}-{size // 1000}k-{'ref' if build == 'reference' else 'this'}-{repeat}"
                    first.append(fresh)
                    if getattr(args, "reference_hub", False) and c.begawi != binary:
                        # The hub too is this pull's build: restarted by it on the same store and backlog.
                        c.stop_hub()
                        c.begawi = binary
                        c.start_hub()
                    results.append(first_pull(args, c, size, mode, fresh, build, binary))
                    results[-1]["repeat"] = repeat
            bulk = bulk_insert_seconds(c.replica(first[0]), os.path.join(work, f"plain-{size // 1000}k.sqlite"))
            log(f"  backlog {size:,}: reference, a plain bulk insert of the same rows into a table without Begawi: "
                f"{bulk:.1f} s ({results[-1]['held'] / bulk:,.0f} rows/s)")
            for r in results:
                if r["backlog"] == size and r["repeat"] == repeat:
                    r["bulk_insert_s"], r["ratio_to_bulk"] = bulk, r["wall_s"] / bulk
    c.stop_hub()
    c.begawi = args.begawi
    if server:
        if getattr(args, "postgres_url", None):
            server.drop_database("begawi_bench_first_sync")
        server.stop()
    if store != "sqlite" and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    for r in results:
        r["store"] = store
    return results


def first_pull(args, c, size, mode, fresh, build, binary):
    """One fresh site's first `site sync` of the backlog by `mode` with `binary`: its figures."""
    c.add_site(fresh)
    env = c.env(getattr(args, "site_log", None) or "warning")
    env["BEGAWI_FIRST_PULL"] = mode
    prefix, hub_perf = (), None
    if getattr(args, "perf", None):
        # Profiles of both processes over this pull only (`perf report -i FILE`).
        os.makedirs(args.perf, exist_ok=True)
        name = os.path.join(args.perf, fresh)
        prefix = ("perf", "record", "-F", "999", "-g", "-q", "-o", name + "-site.data", "--")
        hub_perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-q", "-o", name + "-hub.data", "-p", str(c.hub_pid)])
        time.sleep(0.5)
    cpu0 = lib.cpu_seconds(c.hub_pid)
    server = getattr(c, "server", None)
    server0 = server.cpu_seconds() if server else None
    status, out, wall, rss, user, system, err = lib.time_v([binary] + c.sync_argv(fresh)[1:], env=env, prefix=prefix)
    server_cpu = server.cpu_seconds() - server0 if server else None
    if getattr(args, "site_log", None):
        with open(os.path.join(args.work, f"{fresh}.log"), "w") as f:
            f.write(err)
    hub_cpu = lib.cpu_seconds(c.hub_pid) - cpu0
    if hub_perf:
        hub_perf.send_signal(signal.SIGINT)
        hub_perf.wait(60)
    report = lib.parse_sync_output(out)
    held = int(lib.sqlite(c.replica(fresh), "SELECT count(*) FROM enrollments;").strip())
    log(f"  backlog {size:,}: fresh site's first `begawi site sync` by {mode} ({build}): {wall:.1f} s wall ({size / wall:,.0f} rows/s), "
        f"peak RSS {rss:.0f} MB, site CPU {user:.1f} s user + {system:.1f} s sys, hub CPU {hub_cpu:.1f} s"
        f"{f', server CPU {server_cpu:.1f} s' if server_cpu is not None else ''}; "
        f"exit {status}; {report}; replica holds {held:,} rows")
    return {"backlog": size, "mode": mode, "build": build, "wall_s": wall, "peak_rss_mb": rss, "site_user_s": user,
            "site_sys_s": system, "hub_cpu_s": hub_cpu, "server_cpu_s": server_cpu, "exit": status, "report": report, "held": held}


def bulk_insert_seconds(replica, plain):
    """The floor for a first sync: the replica's synced rows, inserted in one transaction into a plain
    table (same columns and primary key, no Begawi tables or triggers) of a new file in WAL mode with
    synchronous=FULL, as the site runs; the sqlite3 shell's wall time, file read from the page cache."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(plain + suffix):
            os.remove(plain + suffix)
    lib.sqlite(plain, "PRAGMA journal_mode=WAL;\n" + lib.plain_table_sql())
    lib.sqlite(replica, "SELECT count(*) FROM enrollments;")
    columns = ", ".join(["id"] + [f'"{name}"' for name in lib.COLUMNS])
    start = time.monotonic()
    lib.sqlite(plain, f"PRAGMA synchronous=FULL;\nATTACH '{replica}' AS synced;\nBEGIN;\n"
                      f"INSERT INTO enrollments ({columns}) SELECT {columns} FROM synced.enrollments;\nCOMMIT;\n")
    return time.monotonic() - start


# MARK: 3. one site's day


def proxy_sync(c, site, hub_port, stats_name):
    """One `site sync` through faultproxy.py (no faults); returns (sync result, proxy stats)."""
    port_file, stats_file = c.path(f"{stats_name}.port"), c.path(f"{stats_name}.json")
    proxy = subprocess.Popen([sys.executable, os.path.join(REPO, "Tests/Tools/faultproxy.py"), "--listen", "127.0.0.1:0",
                              "--target", f"127.0.0.1:{hub_port}", "--port-file", port_file, "--stats-file", stats_file])
    deadline = time.monotonic() + 10
    while not os.path.exists(port_file):
        if time.monotonic() > deadline or proxy.poll() is not None:
            raise RuntimeError("faultproxy did not start")
        time.sleep(0.02)
    port = int(open(port_file).read())
    c.write_site_config(site, url=f"https://127.0.0.1:{port}")
    t = time.monotonic()
    result = c.sync(site)
    wall = time.monotonic() - t
    proxy.send_signal(signal.SIGTERM)
    proxy.wait(10)
    stats = json.load(open(stats_file))
    return result, wall, stats


def rsync_bytes(before, after, work):
    """rsync -z of `after` to a receiver holding `before`, over rsync's remote protocol through a pipe."""
    dest = os.path.join(work, "rsync-dest.sqlite")
    shutil.copy(before, dest)
    out = subprocess.run(["rsync", "-z", "--ignore-times", "--no-whole-file", "--stats", "-e", os.path.join(REPO, "bench/rsync-pipe.sh"),
                          after, f"localhost:{dest}"], capture_output=True, check=True).stdout.decode()
    sent = int(re.search(r"Total bytes sent: ([\d,]+)", out).group(1).replace(",", ""))
    received = int(re.search(r"Total bytes received: ([\d,]+)", out).group(1).replace(",", ""))
    same = subprocess.run(["cmp", "-s", dest, after]).returncode == 0
    return sent, received, same, out


def day(args):
    rows_n, inserts, updates = args.rows, args.inserts, args.updates
    header(f"bytes on the wire for one site's day: {inserts} inserts and {updates} 2-column updates on {rows_n:,} synced rows", args,
           f"python3 bench/sync_bench.py day --rows {rows_n} --inserts {inserts} --updates {updates}")
    work = os.path.join(args.work, "day")
    c = lib.Cluster(args.begawi, work)
    c.start_hub()
    site = "lpk-bontang-01"
    c.add_site(site)
    rows = lib.enrollment_rows(rows_n, seed=3000, site=site)
    base_sql = lib.insert_sql(rows)
    lib.sqlite(c.replica(site), base_sql)
    c.sync(site)
    c.sync(site)
    day_sql = lib.day_sql([r[0] for r in rows], inserts, updates, seed=3001, site=site)
    lib.sqlite(c.replica(site), day_sql)

    result, wall, stats = proxy_sync(c, site, c.hub_port, "proxy-day")
    report = lib.parse_sync_output(result.stdout.decode())
    _, idle_wall, idle = proxy_sync(c, site, c.hub_port, "proxy-idle")
    c.stop_hub()
    day_total = stats["bytes_up"] + stats["bytes_down"]
    idle_total = idle["bytes_up"] + idle["bytes_down"]

    # The same rows and the same day in a plain SQLite file (no Begawi tables), copied before and after.
    plain = os.path.join(work, "plain.sqlite")
    before, after = os.path.join(work, "before.sqlite"), os.path.join(work, "after.sqlite")
    lib.sqlite(plain, lib.plain_table_sql() + base_sql)
    shutil.copy(plain, before)
    lib.sqlite(plain, day_sql)
    shutil.copy(plain, after)
    changeset = os.path.join(work, "day.changeset")
    subprocess.run(["sqldiff", "--changeset", changeset, before, after], check=True)
    cs = os.path.getsize(changeset)
    zstd19 = len(subprocess.run(["zstd", "-19", "-c", changeset], capture_output=True, check=True).stdout)
    zstd3 = len(subprocess.run(["zstd", "-3", "-c", changeset], capture_output=True, check=True).stdout)
    r_sent, r_received, r_same, r_out = rsync_bytes(before, after, work)

    log(f"  `begawi site sync` through faultproxy.py: {report}; {wall:.2f} s")
    log(f"    bytes up {stats['bytes_up']:,}, down {stats['bytes_down']:,}, both ways {day_total:,} "
        f"({stats['connections']} TCP connection(s)); per changed row {day_total / (inserts + updates):.1f} B")
    log(f"    an idle round (nothing to send) costs {idle['bytes_up']:,} up + {idle['bytes_down']:,} down = {idle_total:,} B "
        f"(TLS handshake, session, one empty page); the day's changes alone: {day_total - idle_total:,} B")
    log(f"  same day on a plain SQLite file ({os.path.getsize(before):,} B before, {os.path.getsize(after):,} B after):")
    log(f"    sqldiff --changeset: {cs:,} B; zstd -19: {zstd19:,} B; zstd -3: {zstd3:,} B   (reference: 334 KB, 102 KB after zstd)")
    log(f"    rsync -z --ignore-times --no-whole-file of the file: {r_sent:,} B sent + {r_received:,} B received = {r_sent + r_received:,} B "
        f"(reference ~2.4 MB){'' if r_same else ' [copy differs!]'}")
    log(f"  side by side: begawi {day_total:,} B both ways = {day_total / zstd19:.2f} x sqldiff+zstd -19, "
        f"{day_total / (r_sent + r_received):.3f} x rsync -z")
    finish(args, work, "day", {"begawi": stats, "begawi_wall_s": wall, "report": report, "idle": idle,
                               "plain_before_bytes": os.path.getsize(before), "plain_after_bytes": os.path.getsize(after),
                               "changeset": cs, "changeset_zstd19": zstd19, "changeset_zstd3": zstd3,
                               "rsync_sent": r_sent, "rsync_received": r_received, "rsync_stats": r_out})


# MARK: 4. poor link


class PoorLink:
    def __init__(self, script):
        self.script = script
        self.prefix = [] if os.geteuid() == 0 else ["sudo"]

    def __call__(self, *args, check=True):
        return subprocess.run(self.prefix + [self.script] + list(args), capture_output=True, check=check).stdout.decode()

    def exec_argv(self, side, argv):
        return self.prefix + [self.script, "exec", side] + argv

    def bytes(self):
        text = self("bytes")
        up = int(re.search(r"a->b (\d+)", text).group(1))
        down = int(re.search(r"b->a (\d+)", text).group(1))
        return up, down

    def clear_flap_rules(self):
        for ns in ("pla", "plb"):
            for _ in range(5):
                r = subprocess.run(self.prefix + ["ip", "netns", "exec", ns, "iptables", "-D", "INPUT", "-p", "tcp", "-j", "REJECT",
                                                  "--reject-with", "tcp-reset"], capture_output=True)
                if r.returncode != 0:
                    break


def sync_until_success(c, link, site, limit_s):
    """`begawi site sync` in the site's namespace, again after 1 s (the daemon's first backoff) until it exits 0."""
    t0 = time.monotonic()
    attempts = []
    while True:
        t = time.monotonic()
        r = subprocess.run(link.exec_argv("a", c.sync_argv(site)), capture_output=True, env=c.env("info"))
        # Each attempt's log (kept with --keep): where a reset's seconds go.
        with open(c.path(f"attempt-{len(attempts) + 1}.log"), "wb") as f:
            f.write(r.stderr)
        err = [line for line in r.stderr.decode(errors="replace").strip().splitlines() if "Error" in line or "error" in line]
        attempts.append({"at_s": round(t - t0, 1), "took_s": round(time.monotonic() - t, 1), "exit": r.returncode,
                         "report": lib.parse_sync_output(r.stdout.decode()), "error": err[-1][:300] if err else ""})
        if r.returncode == 0:
            return time.monotonic() - t0, attempts
        if time.monotonic() - t0 > limit_s:
            return None, attempts
        time.sleep(1)


class HubSideResets(threading.Thread):
    """Every `every` s, for `down` s, the hub's side answers every TCP packet with a reset.

    `poorlink flap` puts the same REJECT rule on both sides at once, and REJECT also drops incoming
    resets: each side's reset is discarded by the other side's rule, so a connection only sees a 2 s
    blackout and survives it (see BENCHMARKS.md). With the rule on the hub's side alone, the site
    receives the resets: its connection breaks, as a mobile link dropping would break it."""

    RULE = ["INPUT", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"]

    def __init__(self, link, every, down=2):
        super().__init__(daemon=True)
        self.link, self.every, self.down = link, every, down
        self.stop = threading.Event()
        self.flaps = 0

    def iptables(self, op):
        subprocess.run(self.link.prefix + ["ip", "netns", "exec", "plb", "iptables", op] + self.RULE, capture_output=True)

    def run(self):
        while not self.stop.wait(self.every):
            self.iptables("-I")
            self.flaps += 1
            self.stop.wait(self.down)
            self.iptables("-D")


def poorlink_run(args, link, certs, name, label, flap, begawi=None):
    work = os.path.join(args.work, "poorlink", name)
    c = lib.Cluster(begawi or args.begawi, work, listen="10.77.0.2:8443", netns_prefix=link.exec_argv("b", []), certs_from=certs)
    c.start_hub()
    if open(f"/proc/{c.hub_pid}/comm").read().strip() != "begawi":
        raise RuntimeError("the hub's pid is not the begawi process")
    site = "lpk-bontang-01"
    c.add_site(site, extra=f"stall_seconds = {args.stall_seconds}\n")
    lib.sqlite(c.replica(site), lib.insert_sql(lib.enrollment_rows(args.rows, seed=4000, site=site)))
    up0, down0 = link.bytes()
    flapper = resets = None
    if flap == "poorlink":
        flapper = subprocess.Popen(link.prefix + [link.script, "flap", "--every", str(args.flap_every), "--times", "100"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    elif flap == "reset":
        resets = HubSideResets(link, args.flap_every)
        resets.start()
    try:
        took, attempts = sync_until_success(c, link, site, args.limit)
    finally:
        if flapper:
            os.killpg(flapper.pid, signal.SIGTERM)
            flapper.wait()
        if resets:
            resets.stop.set()
            resets.join()
        link.clear_flap_rules()
    up1, down1 = link.bytes()
    hub_rows = c.hub_rows()
    c.stop_hub()
    up, down = up1 - up0, down1 - down0
    for a in attempts:
        log(f"    attempt at {a['at_s']:6.1f} s, took {a['took_s']:5.1f} s: exit {a['exit']} {a['report'] or a['error']}")
    if took is None:
        log(f"  {label}: gave up after {args.limit} s; the hub holds {hub_rows} rows")
    else:
        log(f"  {label}: {args.rows:,} enrollments synced in {took:.1f} s over {len(attempts)} attempt(s); "
            f"poorlink bytes a->b {up:,}, b->a {down:,} ({(up + down) / args.rows:.1f} B per row both ways); hub holds {hub_rows:,} rows")
    if resets:
        log(f"    (the hub's side reset every connection {resets.flaps} time(s) during the run)")
    return {"label": label, "seconds": took, "attempts": attempts, "bytes_up": up, "bytes_down": down, "hub_rows": hub_rows,
            "resets": resets.flaps if resets else None}


def poorlink(args):
    header(f"{args.rows:,} enrollments over a poor link: {args.rate}, {args.delay_ms} ms each way, loss {args.loss} each way", args,
           f"python3 bench/sync_bench.py poorlink --rows {args.rows} --rate {args.rate} --delay-ms {args.delay_ms} "
           f"--loss {args.loss} --flap-every {args.flap_every} --stall-seconds {args.stall_seconds}")
    link = PoorLink(args.poorlink)
    work = os.path.join(args.work, "poorlink")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    certs = os.path.join(work, "tls")
    subprocess.run([args.begawi, "hub", "make-certificates", "--out", certs, "--name", "10.77.0.2"], check=True, capture_output=True)
    log(f"  site: stall_seconds = {args.stall_seconds} (libcurl LOW_SPEED_TIME, below 64 B/s), other settings as in site.example.toml")
    results = []
    try:
        log("  " + link("up", "--rate", args.rate, "--delay-ms", str(args.delay_ms), "--loss", str(args.loss)).strip())
        runs = {"steady": ("steady", None), "flap": (f"`poorlink flap --every {args.flap_every}`", "poorlink"),
                "reset": (f"hub-side resets every {args.flap_every} s", "reset")}
        # With a reference build, each run goes once with it and once with this build, alternating.
        builds = [("reference", args.reference_bin), ("this build", args.begawi)] if args.reference_bin else [("", args.begawi)]
        for name in args.runs.split(","):
            label, flap = runs[name]
            for build, begawi in builds:
                if build:
                    log(f"  -- {label}, {build}: {begawi}")
                result = poorlink_run(args, link, certs, f"{name}-{build or 'this'}".replace(" ", "-"), label, flap, begawi)
                result["build"], result["run"] = build, name
                results.append(result)
    finally:
        link("down", check=False)
        log("  poorlink down")
    for build in dict.fromkeys(r["build"] for r in results):
        mine = [r for r in results if r["build"] == build]
        steady = next((r for r in mine if r["run"] == "steady"), None)
        for r in mine:
            if r is steady or not steady or not steady["seconds"] or not r["seconds"]:
                continue
            log(f"  {build + ': ' if build else ''}steady {steady['seconds']:.1f} s (target <= 110 s); {r['label']}: {r['seconds']:.1f} s = "
                f"{r['seconds'] / steady['seconds']:.2f} x steady (target <= 1.2 x, issue 16)")
    finish(args, work, "poorlink", {"runs": results, "stall_seconds": args.stall_seconds})


# MARK: driver


def finish(args, work, name, result):
    lib.write_json(os.path.join(args.work, f"results-{name}.json"), result)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build-bench/release"),
                        help="folder with the release `begawi` (swift build -c release --scratch-path .build-bench --show-bin-path)")
    parser.add_argument("--work", default="/tmp/begawi-sync-bench", help="scratch folder (needs ~25 GB for `ingest`: every site pulls everything)")
    parser.add_argument("--keep", action="store_true", help="keep each figure's files")
    parser.add_argument("--poorlink", default=os.path.normpath(os.path.join(REPO, "../shared/lab/poorlink")))
    sub = parser.add_subparsers(dest="figure", required=True)
    p = sub.add_parser("ingest")
    p.add_argument("--sites", type=int, default=50)
    p.add_argument("--rows-per-site", type=int, default=20000)
    p.add_argument("--no-prestamp", dest="prestamp", action="store_false", help="leave each site's writes unstamped until its sync")
    p.add_argument("--rules", action="store_true",
                   help="the Handak Begawi schema and its access rules (config/handak-begawi.json): participants and enrollments")
    p.add_argument("--handak", action="store_true",
                   help="the rows of --rules (Handak Begawi's participants and enrollments, same keys) under its schema "
                        "with every \"access\" section removed: no rules; --rules divided by this is the rules' cost")
    p.add_argument("--no-stop-at-commit", dest="stop_at_commit", action="store_false",
                   help="let every site finish its pull of everyone's rows (about 49M rows for 50 sites)")
    p.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite",
                   help="the hub's store: SQLite (a file, the default) or PostgreSQL (a fresh database on a "
                        "Tests/Tools/pgcluster cluster started and stopped for the run, with fsync and synchronous "
                        "commit on, or on --postgres-url)")
    p.add_argument("--postgres-url", default=None, help="a running server (postgresql://ROLE@HOST:PORT/DB, on this "
                   "machine: its CPU is read from /proc); database begawi_bench_ingest is made there and dropped")
    p.add_argument("--hubs", type=int, default=1, help="hub processes on the one PostgreSQL database; sites spread "
                   "over them round-robin")
    p.add_argument("--pg-statements", action="store_true", help="load pg_stat_statements in the server (the cluster of "
                   "our own; a --postgres-url server must load it itself) and list the statements that took the most time")
    p = sub.add_parser("ingest-stores", help="ingest on SQLite, PostgreSQL with 1 hub and with --many-hubs, alternating")
    p.add_argument("--sites", type=int, default=50)
    p.add_argument("--rows-per-site", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--many-hubs", type=int, default=3)
    p.add_argument("--rules", action="store_true")
    p.add_argument("--handak", action="store_true")
    p.add_argument("--postgres-url", default=None, help="as for ingest: a running server instead of a cluster per run")
    p.add_argument("--pg-statements", action="store_true", help="as for ingest")
    p.set_defaults(prestamp=True, stop_at_commit=True)
    p = sub.add_parser("first-sync")
    p.add_argument("--sizes", default="100000,300000,1000000")
    p.add_argument("--first-pull", default="snapshot,pages",
                   help="the first pulls to measure side by side: snapshot (this build's), pages (BEGAWI_FIRST_PULL=pages)")
    p.add_argument("--perf", metavar="DIR", help="record `perf record -g` profiles of the hub and the fresh site during each first pull into DIR")
    p.add_argument("--store", default="sqlite",
                   help="the hub's stores, one after the other: sqlite, postgres (a throwaway cluster with fsync on, or "
                        "--postgres-url), or sqlite,postgres")
    p.add_argument("--postgres-url", default=None, help="as for ingest: a running server instead of a throwaway cluster")
    p.add_argument("--reference-bin", default=None,
                   help="another build's `begawi` (main's, say): each first pull by it too, side by side, against this build's hub")
    p.add_argument("--reference-hub", action="store_true",
                   help="with --reference-bin: the hub too runs that build for its pulls (restarted on the same backlog), "
                        "to compare the hubs' work")
    p.add_argument("--backlog-cache", metavar="DIR", help="keep the hub with its one backlog in DIR, and start from it when it is there")
    p.add_argument("--site-log", metavar="LEVEL", help="the fresh sites' log level (debug: a line per part adopted), kept in WORK/SITE.log")
    p.add_argument("--repeat", type=int, default=1, help="pulls of each kind (alternating with the reference build), each with its bulk insert")
    p = sub.add_parser("day")
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--inserts", type=int, default=1000)
    p.add_argument("--updates", type=int, default=1000)
    p = sub.add_parser("live")
    p.add_argument("--changes", type=int, default=100)
    p.add_argument("--reference-changes", type=int, default=12, help="changes for the 30 s poll (each takes ~15 s; 0: none)")
    p.add_argument("--reference-bin", default=None, help="another build's `begawi` (main's, say): its held pulls too, side by side")
    p = sub.add_parser("idle")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--reference-bin", default=None,
                   help="another build's `begawi` (main's, say): a third idle site with held pulls, run by it, beside the others")
    p = sub.add_parser("poorlink")
    sub.add_parser("all").add_argument("--scale", type=float, default=1.0,
                                       help="multiply every row count (0.01 for a quick check of the scripts)")
    for q in (p, sub.choices["all"]):
        q.add_argument("--rows", type=int, default=10000, dest="pl_rows" if q is sub.choices["all"] else "rows")
        q.add_argument("--rate", default="64kbit")
        q.add_argument("--delay-ms", type=int, default=150)
        q.add_argument("--loss", type=float, default=0.02)
        q.add_argument("--flap-every", type=int, default=30)
        q.add_argument("--stall-seconds", type=int, default=30)
        q.add_argument("--limit", type=int, default=900, help="give up after this many seconds")
        q.add_argument("--runs", default="steady,flap,reset", help="steady, flap (poorlink flap), reset (hub-side resets)")
        q.add_argument("--reference-bin", default=None,
                       help="another build's `begawi` (main's, say) to run each figure with too, side by side")
    args = parser.parse_args()
    # --reference-bin names the `begawi` file; a build folder holding one is taken too.
    if getattr(args, "reference_bin", None) and os.path.isdir(args.reference_bin):
        args.reference_bin = os.path.join(args.reference_bin, "begawi")
    args.begawi = os.path.join(args.bin, "begawi")
    if not os.access(args.begawi, os.X_OK):
        sys.exit(f"no begawi in {args.bin}; build it: swift build -c release --scratch-path .build-bench")
    os.makedirs(args.work, exist_ok=True)
    if args.figure == "all":
        k = args.scale
        for name, fn in (("ingest", ingest), ("first-sync", first_sync), ("day", day), ("poorlink", poorlink)):
            a = argparse.Namespace(**vars(args))
            a.sites, a.rows_per_site = 50, max(1, int(20000 * k))
            a.prestamp, a.stop_at_commit = True, True
            a.sizes = ",".join(str(max(1, int(n * k))) for n in (100000, 300000, 1000000))
            a.rows = max(1, int(100000 * k)) if name == "day" else max(1, int(args.pl_rows * k))
            a.inserts, a.updates = max(1, int(1000 * k)), max(1, int(1000 * k))
            if name == "poorlink" and os.geteuid() != 0 and shutil.which("sudo") is None:
                log("\n== poorlink: skipped (needs root or sudo) ==")
                continue
            fn(a)
    else:
        args.header = lambda title, command: header(title, args, command)
        args.finish = lambda work, name, result: finish(args, work, name, result)
        {"ingest": ingest, "ingest-stores": ingest_stores, "first-sync": first_sync, "day": day, "poorlink": poorlink,
         "live": live_bench.live, "idle": live_bench.idle}[args.figure](args)


if __name__ == "__main__":
    main()
