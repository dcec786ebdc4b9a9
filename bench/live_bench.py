"""The `live` and `idle` figures of bench/sync_bench.py (issue 16, items 3 and 4): held pulls
(long-polls) against the 30 s poll they replace, side by side in one run.

  live   hub->site and site->hub latency over N changes, two site daemons on loopback: p50, p99
  idle   bytes on the link, RSS and CPU of an idle site daemon over a private poorlink (64 kbit/s),
         extrapolated to a day; needs root
"""

import os
import random
import shutil
import sqlite3
import subprocess
import time

import benchlib as lib
from benchlib import log

# The 30 s poll of the daemons before held pulls (watch_interval_ms was 500 then).
POLL = "wait_seconds = 0\npull_interval_seconds = 30\nwatch_interval_ms = 500\n"
HELD = ""  # site.example.toml's defaults: held pulls


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    i = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[i]


class Daemon:
    """`begawi site run` for one site, with its log beside its configuration."""

    def __init__(self, cluster, site, prefix=(), binary=None):
        self.log = open(cluster.path(f"{site}.log"), "ab")
        self.process = subprocess.Popen(list(prefix) + [binary or cluster.begawi, "site", "run", "--config", cluster.site_config(site)],
                                        stdout=subprocess.DEVNULL, stderr=self.log, env=cluster.env("info"))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def rss_kb(self):
        return proc_status(self.process.pid)

    def cpu_seconds(self):
        return lib.cpu_seconds(self.process.pid)


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                fields[name] = int(value.split()[0])
    return fields


def wait_for_row(path, key, deadline_s, step=0.005):
    """Seconds (monotonic) when `key` is in the file's enrollments, or None after `deadline_s`."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                if db.execute("SELECT 1 FROM enrollments WHERE id = ?", (key,)).fetchone():
                    return time.monotonic()
            except sqlite3.OperationalError:
                pass
            time.sleep(step)
        return None
    finally:
        db.close()


def live_pair(args, name, extra, changes, begawi=None):
    """Two daemons (a writer and a reader) with `extra` settings: per change, site->hub and hub->site seconds."""
    c = lib.Cluster(begawi or args.begawi, os.path.join(args.work, "live", name))
    c.start_hub(level="warning")
    writer, reader = "lpk-writer", "lpk-reader"
    for site in (writer, reader):
        c.add_site(site, extra=extra)
    daemons = [Daemon(c, writer), Daemon(c, reader)]
    rng = random.Random(16)
    up, down = [], []
    try:
        time.sleep(3)  # the first rounds
        rows = lib.enrollment_rows(changes, seed=1600, site=writer)
        for row in rows:
            # A random phase: a poll must not line up with the writes.
            time.sleep(rng.uniform(0.2, 1.2))
            lib.sqlite(c.replica(writer), lib.insert_sql([row]))
            written = time.monotonic()
            at_hub = wait_for_row(c.path("hub.sqlite"), row[0], 120)
            at_reader = wait_for_row(c.replica(reader), row[0], 120) if at_hub else None
            if at_hub is None or at_reader is None:
                raise RuntimeError(f"{name}: a change did not arrive within 120 s; see {c.folder}")
            up.append(at_hub - written)
            down.append(at_reader - at_hub)
    finally:
        for d in daemons:
            d.stop()
        c.stop_hub()
    return up, down


def live(args):
    lib_header = f"python3 bench/sync_bench.py live --changes {args.changes} --reference-changes {args.reference_changes}"
    args.header("Live changes: held pulls against the 30 s poll", lib_header)
    shutil.rmtree(os.path.join(args.work, "live"), ignore_errors=True)
    results = {}
    pairs = [("held", HELD, args.changes, None), ("poll-30s", POLL, args.reference_changes, None)]
    if getattr(args, "reference_bin", None):
        # The same held pulls run by another build (main's, say), before this build's.
        pairs.insert(0, ("held-ref", HELD, args.changes, args.reference_bin))
        log(f"  held-ref: held pulls run by the reference build {args.reference_bin}")
    for name, extra, n, begawi in pairs:
        if n == 0:
            continue
        up, down = live_pair(args, name, extra, n, begawi)
        results[name] = {"changes": n, "site_to_hub_s": up, "hub_to_site_s": down}
        log(f"  {name:9s} {n:4d} changes: site->hub p50 {percentile(up, 50):6.3f} s, p99 {percentile(up, 99):6.3f} s; "
            f"hub->site p50 {percentile(down, 50):6.3f} s, p99 {percentile(down, 99):6.3f} s")
    log("  targets: hub->site <= 2 s, site->hub <= 1 s")
    args.finish(os.path.join(args.work, "live"), "live", results)


class PrivateLink:
    """A copy of ../shared/lab/poorlink with its own namespaces, addresses and queues, so that
    another benchmark's `poorlink up`/`down` never touches this one's link."""

    def __init__(self, script, work):
        self.script = os.path.join(work, "poorlink-idle")
        text = open(script).read()
        for old, new in (("A=pla B=plb", "A=pli B=plj"), ("plA", "pliA"), ("plB", "pliB"), ("10.77.0.", "10.79.0."),
                         ("run=/run/poorlink", "run=/run/poorlink-idle"), ("local q=0", "local q=6")):
            text = text.replace(old, new)
        text = text.replace('here=$(cd "$(dirname "$0")" && pwd)', f'here={os.path.dirname(os.path.abspath(script))}')
        with open(self.script, "w") as f:
            f.write(text)
        os.chmod(self.script, 0o755)

    def __call__(self, *argv, check=True):
        return subprocess.run([self.script] + list(argv), check=check, capture_output=True, text=True).stdout

    def exec_argv(self, side):
        return [self.script, "exec", side]

    def count(self, port):
        """IP bytes to and from the hub's `port`, as counted by accounting rules on the site's side."""
        out = self("exec", "a", "iptables", "-nvxL", "OUTPUT")
        out += self("exec", "a", "iptables", "-nvxL", "INPUT")
        total = 0
        for line in out.splitlines():
            parts = line.split()
            if len(parts) > 2 and (f"dpt:{port}" in line or f"spt:{port}" in line):
                total += int(parts[1])
        return total

    def account(self, port):
        self("exec", "a", "iptables", "-I", "OUTPUT", "1", "-p", "tcp", "--dport", str(port))
        self("exec", "a", "iptables", "-I", "INPUT", "1", "-p", "tcp", "--sport", str(port))


def idle(args):
    minutes = args.minutes
    args.header(f"An idle site over a 64 kbit/s link for {minutes} minutes, held pulls beside the 30 s poll",
                f"python3 bench/sync_bench.py idle --minutes {minutes}")
    work = os.path.join(args.work, "idle")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    link = PrivateLink(args.poorlink, work)
    certs = os.path.join(work, "tls")
    subprocess.run([args.begawi, "hub", "make-certificates", "--out", certs, "--name", "10.79.0.2"], check=True, capture_output=True)
    runs = {}
    try:
        log("  " + link("up", "--rate", "64kbit", "--delay-ms", "150", "--loss", "0").strip())
        clusters, daemons = {}, {}
        pairs = [("held", HELD, args.begawi), ("poll-30s", POLL, args.begawi)]
        if getattr(args, "reference_bin", None):
            pairs.append(("held-ref", HELD, args.reference_bin))
            log(f"  held-ref: held pulls run by the reference build {args.reference_bin}")
        for port, (name, extra, begawi) in zip((8443, 8444, 8445), pairs):
            c = lib.Cluster(begawi, os.path.join(work, name), listen=f"10.79.0.2:{port}",
                            netns_prefix=link.exec_argv("b"), certs_from=certs)
            c.start_hub(level="warning")
            c.add_site("lpk-idle", extra=extra)
            link.account(port)
            clusters[name] = (c, port)
        # Each site daemon runs its own copy of the binary, as on a partner's machine where no hub runs:
        # pages of one file mapped by two processes (the hub here) are shared, and the kernel reclaims
        # none of them for the site (its idle trim, `MADV_PAGEOUT`), so one file would overstate its RSS.
        for name, (c, port) in clusters.items():
            own = os.path.join(work, f"begawi-{name}")
            shutil.copy2(c.begawi, own)
            daemons[name] = Daemon(c, "lpk-idle", prefix=link.exec_argv("a"), binary=own)
        time.sleep(30)  # the first rounds, then idle
        start = {name: (link.count(port), daemons[name].cpu_seconds()) for name, (c, port) in clusters.items()}
        t0 = time.monotonic()
        time.sleep(minutes * 60)
        seconds = time.monotonic() - t0
        for name, (c, port) in clusters.items():
            d = daemons[name]
            bytes_ = link.count(port) - start[name][0]
            cpu = d.cpu_seconds() - start[name][1]
            rss = d.rss_kb()
            runs[name] = {"seconds": seconds, "bytes": bytes_, "bytes_per_day": bytes_ * 86400 / seconds,
                          "cpu_seconds_per_hour": cpu * 3600 / seconds, "rss_kb": rss}
            log(f"  {name:9s}: {bytes_:,} B in {seconds / 60:.1f} min = {bytes_ * 86400 / seconds / 1000:,.1f} KB/day on the link "
                f"(IP bytes both ways); CPU {cpu * 3600 / seconds:.2f} s/hour; RSS {rss.get('VmRSS', 0) / 1024:.1f} MB "
                f"(peak {rss.get('VmHWM', 0) / 1024:.1f} MB, anonymous {rss.get('RssAnon', 0) / 1024:.1f} MB, "
                f"file {rss.get('RssFile', 0) / 1024:.1f} MB)")
        for d in daemons.values():
            d.stop()
        for c, _ in clusters.values():
            c.stop_hub()
    finally:
        link("down", check=False)
    log("  targets: <= 100 KB/day, <= 25 MB RSS, about 0 CPU")
    args.finish(work, "idle", runs)
