"""Helpers for the sync benchmarks (bench/sync_bench.py): enrollment-like rows, a hub and its sites
as real `begawi` processes, and process accounting. Python 3 standard library only."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(REPO, "bench", "enrollments.schema.json")
RULES_SCHEMA = os.path.join(REPO, "config", "handak-begawi.json")
COLUMNS = ["participant_id", "program_id", "site_id", "status", "registered_on", "started_on",
           "completed_on", "score", "funding", "notes", "updated_by"]

# The same made-up values as Benchmarks/Sources/BegawiBench/EnrollmentFixture.swift: no real person.
FUNDINGS = ["APBD Kota Bontang", "APBN", "CSR Perusahaan", "Mandiri"]
NOTES = ["Peserta hadir pada orientasi", "Menunggu kelengkapan berkas", "Lulus uji kompetensi", "",
         "Pindah jadwal ke angkatan berikutnya"]


def log(message):
    print(message, flush=True)


# MARK: rows


class KeyMaker:
    """UUIDv7 text keys (RFC 9562): 48 bits of milliseconds, a 12-bit counter, random bits; time-ordered."""

    def __init__(self, rng):
        self.rng = rng
        self.ms = 0
        self.seq = 0

    def next(self):
        now = int(time.time() * 1000)
        if now <= self.ms:
            self.seq += 1
            if self.seq > 0x0FFF:
                self.ms += 1
                self.seq = self.rng.randrange(0x200)
        else:
            self.ms, self.seq = now, self.rng.randrange(0x200)
        tail = self.rng.getrandbits(62) | (0b10 << 62)
        h = f"{self.ms:012x}{0x7000 | self.seq:04x}{tail:016x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def quote(value):
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def enrollment_rows(n, seed, site=None, start=0):
    """n enrollment-like rows (key first, then COLUMNS), like EnrollmentFixture.row, seeded."""
    rng = random.Random(seed)
    keys = KeyMaker(rng)
    programs = [keys.next() for _ in range(40)]
    rows = []
    for i in range(start, start + n):
        day = 1 + i % 28
        rows.append((
            keys.next(), f"p-{rng.getrandbits(64):016x}{rng.getrandbits(64):016x}", programs[rng.randrange(40)],
            site or f"lpk-bontang-{1 + i % 12:02d}", "registered", f"2026-03-{day:02d}", f"2026-04-{day:02d}", None,
            None, FUNDINGS[i % 4], NOTES[i % 5], f"operator-{i % 7}"))
    return rows


def insert_sql(rows, per_statement=500):
    """One transaction of multi-row INSERTs, as a staff application or import script would write."""
    head = "INSERT INTO enrollments (id, " + ", ".join(COLUMNS) + ") VALUES\n"
    parts = ["BEGIN;\n"]
    for i in range(0, len(rows), per_statement):
        chunk = rows[i:i + per_statement]
        parts.append(head + ",\n".join("(" + ", ".join(quote(v) for v in row) + ")" for row in chunk) + ";\n")
    parts.append("COMMIT;\n")
    return "".join(parts)


def day_sql(existing_keys, inserts, updates, seed, site=None):
    """One site's day: `inserts` new rows and 2-column updates (status, started_on) of `updates` existing rows."""
    rng = random.Random(seed)
    new_rows = enrollment_rows(inserts, seed + 1, site=site)
    chosen = rng.sample(existing_keys, updates)
    sql = [insert_sql(new_rows).replace("COMMIT;\n", "")]
    for i, key in enumerate(chosen):
        sql.append(f"UPDATE enrollments SET status = 'active', started_on = '2026-05-{1 + i % 28:02d}' WHERE id = {quote(key)};\n")
    sql.append("COMMIT;\n")
    return "".join(sql)


def participant_key(nik, salt):
    """The participant key Begawi derives from a NIK: "p" and 32 hex digits of HMAC-SHA256(salt, NIK)."""
    import hmac
    import hashlib
    return "p" + hmac.new(salt.encode(), nik.encode(), hashlib.sha256).hexdigest()[:32]


def made_up_nik(i):
    """The i-th made-up NIK of Bontang (6474 + kecamatan 01-03 + DDMMYY, +40 for women, + serial); never a real person."""
    kec, day, month, year = 1 + i % 3, 1 + (i // 3) % 28, 1 + (i // 84) % 12, (i // 1008) % 100
    serial = 1 + (i // 100800) % 9999
    return f"6474{kec:02d}{day + (40 if i % 2 else 0):02d}{month:02d}{year:02d}{serial:04d}"


def agency_sql(site, n, offset, salt, seed):
    """One LPK's work under the Handak Begawi rules: one program, n/2 participants it registers, n/2 enrollments."""
    rng = random.Random(seed)
    keys = KeyMaker(rng)
    people = n // 2
    program = keys.next()
    parts = ["BEGIN;\n", f"INSERT INTO programs (id, provider, title, sector, funding) VALUES "
             f"({quote(program)}, {quote(site)}, 'Pengelasan SMAW 3G', 'Manufaktur', 'APBD');\n"]
    rows = []
    for j in range(people):
        nik = made_up_nik(offset + j)
        rows.append((participant_key(nik, salt), nik))
    for i in range(0, people, 500):
        chunk = rows[i:i + 500]
        parts.append("INSERT INTO participants (id, nik, full_name, sex, kecamatan, registered_by) VALUES\n" + ",\n".join(
            f"({quote(k)}, {quote(nik)}, 'Peserta {offset + i + j}', {quote('P' if (offset + i + j) % 2 else 'L')}, 'Bontang Utara', {quote(site)})"
            for j, (k, nik) in enumerate(chunk)) + ";\n")
        parts.append("INSERT INTO enrollments (id, participant_id, program_id, status, registered_on) VALUES\n" + ",\n".join(
            f"({quote(keys.next())}, {quote(k)}, {quote(program)}, 'registered', '2026-03-01')" for k, _ in chunk) + ";\n")
    parts.append("COMMIT;\n")
    return "".join(parts), 1 + 2 * people


def sqlite(path, sql):
    """Runs SQL through the sqlite3 shell (as any program on the site may write to the replica)."""
    result = subprocess.run(["sqlite3", "-bail", path], input=sql.encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"sqlite3 {path} failed: {result.stderr.decode()[:2000]}")
    return result.stdout.decode()


def plain_table_sql():
    types = {"score": "INTEGER"}
    return ("CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, "
            + ", ".join(f'"{c}" {types.get(c, "TEXT")}' for c in COLUMNS) + ");\n")


# MARK: processes


def cpu_seconds(pid):
    """User + system CPU seconds of a running process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def write_bytes(pid):
    """Bytes the process has caused to be written to storage so far (`write_bytes` of /proc/PID/io)."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def without_rules(path):
    """The schema file at `path` as a JSON object with every table's "access" section removed: the
    same tables and columns, no rules between agencies."""
    with open(path) as f:
        document = json.load(f)
    for table in document["tables"]:
        table.pop("access", None)
    return document


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def time_v(argv, env=None, prefix=()):
    """Runs argv under /usr/bin/time -v; returns (exit status, stdout, wall s, peak RSS MB, user s, sys s)."""
    start = time.monotonic()
    result = subprocess.run(list(prefix) + ["/usr/bin/time", "-v"] + argv, capture_output=True, env=env)
    wall = time.monotonic() - start
    err = result.stderr.decode(errors="replace")
    def field(name, conv=float):
        for line in err.splitlines():
            if line.strip().startswith(name):
                return conv(line.rsplit(":", 1)[1].strip())
        return None
    rss = (field("Maximum resident set size (kbytes)") or 0) / 1024
    status = field("Exit status", int)
    return (result.returncode if status is None else status, result.stdout.decode(), wall, rss,
            field("User time (seconds)") or 0.0, field("System time (seconds)") or 0.0, err)


class Cluster:
    """A hub and its sites in one folder, driven through the `begawi` command line like an operator would."""

    def __init__(self, begawi, folder, listen="127.0.0.1:0", cert_names=("localhost", "127.0.0.1"),
                 netns_prefix=(), certs_from=None, schema=SCHEMA, database="hub.sqlite"):
        self.begawi = begawi
        # A file name (SQLite, in the folder) or a postgresql:// URL (the hub's store on PostgreSQL).
        self.database = database
        self.extra_hubs = []
        self.folder = folder
        self.netns = list(netns_prefix)
        self.hub = None
        self.hub_port = None
        self.hub_host = listen.rsplit(":", 1)[0]
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        shutil.copy(schema, self.path("schema.json"))
        if certs_from:
            shutil.copytree(certs_from, self.path("tls"))
        else:
            args = ["hub", "make-certificates", "--out", self.path("tls")]
            for name in cert_names:
                args += ["--name", name]
            self.run(args)
        with open(self.path("hub.toml"), "w") as f:
            f.write(f'listen = "{listen}"\ndatabase = "{database}"\nschema = "schema.json"\n'
                    f'tls_certificate = "tls/hub.crt"\ntls_key = "tls/hub.key"\nport_file = "hub.port"\n')
        self.run(["hub", "init", "--config", self.path("hub.toml")])

    def path(self, name):
        return os.path.join(self.folder, name)

    def env(self, level="warning"):
        env = dict(os.environ)
        env["BEGAWI_LOG_LEVEL"] = level
        return env

    def run(self, args, check=True, prefix=()):
        result = subprocess.run(list(prefix) + [self.begawi] + args, capture_output=True, env=self.env())
        if check and result.returncode != 0:
            raise RuntimeError(f"begawi {' '.join(args)} exited {result.returncode}: {result.stderr.decode()[:2000]}")
        return result

    def start_hub(self, level="info"):
        try:
            os.remove(self.path("hub.port"))
        except FileNotFoundError:
            pass
        self.hub_log = open(self.path("hub.log"), "ab")
        self.hub = subprocess.Popen(self.netns + [self.begawi, "hub", "run", "--config", self.path("hub.toml")],
                                    stdout=subprocess.DEVNULL, stderr=self.hub_log, env=self.env(level))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with open(self.path("hub.port")) as f:
                    self.hub_port = int(f.read().strip())
                    self.hub_pid = self.hub_process_id()
                    return
            except (FileNotFoundError, ValueError):
                pass
            if self.hub.poll() is not None:
                raise RuntimeError(f"the hub exited at start; see {self.path('hub.log')}")
            time.sleep(0.05)
        raise RuntimeError("the hub did not listen within 60 s")

    def start_more_hubs(self, count, level="info"):
        """Starts `count` more `begawi hub run` processes on the same database (PostgreSQL only), each
        with its own hub-N.toml (the same as hub.toml but for its port file); returns their URLs."""
        with open(self.path("hub.toml")) as f:
            config = f.read()
        urls = []
        for i in range(2, 2 + count):
            name = f"hub-{i}"
            with open(self.path(f"{name}.toml"), "w") as f:
                f.write(config.replace('port_file = "hub.port"', f'port_file = "{name}.port"'))
            log_file = open(self.path(f"{name}.log"), "ab")
            proc = subprocess.Popen(self.netns + [self.begawi, "hub", "run", "--config", self.path(f"{name}.toml")],
                                    stdout=subprocess.DEVNULL, stderr=log_file, env=self.env(level))
            deadline = time.monotonic() + 60
            while True:
                try:
                    with open(self.path(f"{name}.port")) as f:
                        port = int(f.read().strip())
                    break
                except (FileNotFoundError, ValueError):
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"hub {name} exited at start; see {self.path(name + '.log')}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"hub {name} did not listen within 60 s")
                time.sleep(0.05)
            self.extra_hubs.append(proc)
            urls.append(f"https://{self.hub_host}:{port}")
        return urls

    @property
    def hub_pids(self):
        """Every running hub process of this cluster: the first, then the ones start_more_hubs started."""
        return [self.hub_pid] + [p.pid for p in self.extra_hubs]

    def psql(self, sql):
        """Runs SQL against the hub's PostgreSQL database through psql; returns its unaligned output."""
        result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.database, "-c", sql],
                                capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.decode()[:2000]}")
        return result.stdout.decode()

    def hub_process_id(self):
        """The begawi process itself (under `ip netns exec` it is the same pid: exec replaces it)."""
        return self.hub.pid

    def stop_hub(self):
        for proc in self.extra_hubs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.extra_hubs = []
        if self.hub and self.hub.poll() is None:
            self.hub.send_signal(signal.SIGTERM)
            try:
                self.hub.wait(30)
            except subprocess.TimeoutExpired:
                self.hub.kill()
                self.hub.wait()
        self.hub = None

    @property
    def hub_url(self):
        return f"https://{self.hub_host}:{self.hub_port}"

    def add_site(self, site_id, url=None, extra="", kind="lpk"):
        """Registers a site, writes its configuration (defaults of site.example.toml) and makes its replica."""
        self.run(["hub", "add-site", "--config", self.path("hub.toml"), "--id", site_id, "--kind", kind,
                  "--name", f"LPK {site_id}", "--credential-out", self.path(f"{site_id}.credential")])
        self.write_site_config(site_id, url, extra)
        self.run(["site", "init", "--config", self.site_config(site_id)])
        return self.site_config(site_id)

    def write_site_config(self, site_id, url=None, extra=""):
        with open(self.site_config(site_id), "w") as f:
            f.write(f'site_id = "{site_id}"\nreplica = "{site_id}.sqlite"\nhub_url = "{url or self.hub_url}"\n'
                    f'ca_file = "tls/ca.crt"\ncredential_file = "{site_id}.credential"\nschema = "schema.json"\n{extra}')

    def site_config(self, site_id):
        return self.path(f"{site_id}.toml")

    def replica(self, site_id):
        return self.path(f"{site_id}.sqlite")

    def sync_argv(self, site_id):
        return [self.begawi, "site", "sync", "--config", self.site_config(site_id)]

    def sync(self, site_id, check=True, prefix=()):
        result = subprocess.run(list(prefix) + self.sync_argv(site_id), capture_output=True, env=self.env())
        if check and result.returncode != 0:
            raise RuntimeError(f"site sync {site_id} exited {result.returncode}: {result.stderr.decode()[:2000]}")
        return result

    def hub_rows(self):
        if self.database.startswith("postgresql://"):
            return int(self.psql("SELECT count(*) FROM enrollments;").strip())
        return int(sqlite(self.path("hub.sqlite"), "SELECT count(*) FROM enrollments;").strip())


def parse_sync_output(text):
    """Numbers from `begawi site sync`'s summary line."""
    import re
    m = re.search(r"sent (\d+) rows in (\d+) batches.*received (\d+) rows in (\d+) pages", text)
    if not m:
        return None
    return {"sent": int(m.group(1)), "batches": int(m.group(2)), "received": int(m.group(3)), "pages": int(m.group(4))}


def machine():
    """A line describing the machine and versions, for the record."""
    load = os.getloadavg()
    try:
        sqlite_version = subprocess.run(["sqlite3", "--version"], capture_output=True).stdout.decode().split()[0]
    except OSError:
        sqlite_version = "?"
    return (f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, sqlite3 shell {sqlite_version}, "
            f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


# MARK: PostgreSQL


PGCLUSTER = os.path.join(REPO, "Tests", "Tools", "pgcluster")


class PostgresServer:
    """A PostgreSQL server for the hub's store: a throwaway cluster this script starts (and stops) with
    Tests/Tools/pgcluster, or one already running at `url`. Gives fresh databases and the server's CPU."""

    def __init__(self, url=None, folder=None, durable=True, statements=False):
        """`statements`: the cluster of our own runs with pg_stat_statements loaded (for
        `top_statements`); off by default, as it costs the server a little."""
        self.folder = None
        if url is None:
            # pgcluster's cluster runs with fsync, synchronous_commit and full_page_writes off (tests
            # need no crash safety); set on the command line, so ALTER SYSTEM cannot change them: for a
            # figure beside SQLite's synchronous=FULL the server is restarted with the defaults (on).
            self.folder = folder
            shutil.rmtree(folder, ignore_errors=True)
            url = subprocess.run([PGCLUSTER, "start", folder], capture_output=True, check=True).stdout.decode().strip()
            if durable:
                port = url.rsplit(":", 1)[1].split("/")[0]
                bindir = sorted((d for d in os.listdir("/usr/lib/postgresql") if d.isdigit()), key=int)[-1]
                extra = " -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=2000" if statements else ""
                argv = [f"/usr/lib/postgresql/{bindir}/bin/pg_ctl", "-D", os.path.join(folder, "data"), "-m", "fast", "-w",
                        "-t", "60", "-l", os.path.join(folder, "server.log"),
                        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1{extra}", "restart"]
                if os.geteuid() == 0:
                    argv = ["runuser", "-u", "postgres", "--"] + argv
                subprocess.run(argv, capture_output=True, check=True, cwd="/")
        self.url = url
        self.settings = self.query("postgres", "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings "
                                   "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', "
                                   "'max_connections', 'server_version')").strip()
        # The server's CPU is read from /proc: it must run on this machine.
        self.postmaster = self._postmaster_pid()

    def _postmaster_pid(self):
        """The postmaster's pid: the first line of postmaster.pid in the server's data folder."""
        data = self.query("postgres", "SHOW data_directory").strip()
        with open(os.path.join(data, "postmaster.pid")) as f:
            return int(f.readline().strip())

    def database_url(self, name):
        return self.url.rsplit("/", 1)[0] + "/" + name

    def query(self, database, sql):
        result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.database_url(database),
                                 "-c", sql], capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.decode()[:2000]}")
        return result.stdout.decode()

    def fresh_database(self, name):
        """Drops and makes database `name` (C collation, as docs/operations.md asks); returns its URL."""
        self.query("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.query("postgres", f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE \'C\' ENCODING \'UTF8\'')
        return self.database_url(name)

    def drop_database(self, name):
        self.query("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _processes(self):
        """The postmaster's children now alive (backends, checkpointer, WAL writer…)."""
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == self.postmaster:
                        children.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
        return children

    def cpu_seconds(self):
        """The server's CPU seconds so far: the postmaster's own and its reaped children's (cutime,
        cstime: backends that ended), plus every live child's."""
        ticks = os.sysconf("SC_CLK_TCK")
        with open(f"/proc/{self.postmaster}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total = sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks
        for pid in self._processes():
            try:
                total += cpu_seconds(pid)
            except OSError:
                pass
        return total

    def write_bytes(self):
        """Bytes the server's live processes have caused to be written (ended backends' are not counted)."""
        total = 0
        for pid in [self.postmaster] + self._processes():
            try:
                total += write_bytes(pid)
            except OSError:
                pass
        return total

    def reset_statements(self):
        """Starts pg_stat_statements' counts from zero (the server must have loaded it)."""
        self.query("postgres", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.query("postgres", "SELECT pg_stat_statements_reset()")

    def top_statements(self, n=15):
        """The `n` statements that took the most time since `reset_statements`: total seconds, share of
        all statements' time, calls, mean ms, rows, and the statement's start, one per line."""
        return self.query("postgres", f"""
            SELECT round(total_exec_time::numeric / 1000, 2) || ' s | ' || round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1)
                || ' % | ' || calls || ' calls | ' || round(mean_exec_time::numeric, 2) || ' ms | ' || rows || ' rows | '
                || left(regexp_replace(query, '\\s+', ' ', 'g'), 160)
            FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT {int(n)}""")

    def stop(self):
        if self.folder:
            subprocess.run([PGCLUSTER, "stop", self.folder], capture_output=True)
