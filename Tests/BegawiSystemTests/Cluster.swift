import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// A hub and sites as real `begawi` processes in a temporary folder, over loopback TLS with a
/// private CA made at test time by `begawi hub make-certificates`.
final class Cluster {
    let folder: String
    let hubConfig: String
    private(set) var hub: Process?
    private(set) var hubPort = 0
    private(set) var sites: [String] = []
    private var daemons: [String: Process] = [:]
    /// Extra environment for the hub process (e.g. a more verbose BEGAWI_LOG_LEVEL).
    var hubEnvironment: [String: String] = [:]
    /// A command the hub runs under, e.g. `prlimit --nofile=1024:1024 --` (it must exec the hub).
    var hubPrefix: [String] = []
    /// The hub's store: a SQLite file, or a fresh PostgreSQL database of its own.
    let store: ClusterStore
    /// The hub's PostgreSQL database (its URL), made for this cluster and dropped with it; nil on SQLite.
    private(set) var postgres: TestDatabase?

    /// The `begawi` executable built beside the test bundle (or BEGAWI_BIN).
    static var binary: String {
        if let override = ProcessInfo.processInfo.environment["BEGAWI_BIN"] { return override }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var dir = bundle
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("begawi").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Repository.root.appendingPathComponent(".build/debug/begawi").path
    }

    /// Makes the folder, certificates, schema and hub configuration, and initialises the hub database.
    /// `schema` is a schema file of the repository, copied for the hub and every site.
    /// `store` chooses the hub's store: PostgreSQL makes a fresh database on the server
    /// `BEGAWI_TEST_POSTGRES` names.
    init(label: String = "cluster", hubExtra: String = "", schema: String = "config/schema.example.json",
         store: ClusterStore = .sqlite) throws {
        self.store = store
        let root = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        folder = "\(root)/begawi-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Repository.root.appendingPathComponent(schema).path, toPath: "\(folder)/schema.json")
        try Cluster.run(["hub", "make-certificates", "--out", "\(folder)/tls"])
        hubConfig = "\(folder)/hub.toml"
        if store == .postgres { postgres = try TestDatabase() }
        try """
            listen = "127.0.0.1:0"
            database = "\(postgres?.url ?? "hub.sqlite")"
            schema = "schema.json"
            tls_certificate = "tls/hub.crt"
            tls_key = "tls/hub.key"
            port_file = "hub.port"
            \(hubExtra)
            """.write(toFile: hubConfig, atomically: true, encoding: .utf8)
        try Cluster.run(["hub", "init", "--config", hubConfig])
    }

    deinit {
        for p in daemons.values where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        if let hub, hub.isRunning { kill(hub.processIdentifier, SIGKILL); hub.waitUntilExit() }
        postgres?.drop()
        if ProcessInfo.processInfo.environment["BEGAWI_KEEP_TEST_FILES"] == nil {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    func path(_ name: String) -> String { "\(folder)/\(name)" }
    var hubURL: String { "https://127.0.0.1:\(hubPort)" }

    // MARK: processes

    /// Runs `begawi` with arguments and waits; throws unless it exits with `expect`. `input`, if
    /// given, is written to its standard input.
    @discardableResult
    static func run(_ arguments: [String], expect: Int32 = 0, environment: [String: String] = [:], prefix: [String] = [],
                    input: String? = nil) throws -> (status: Int32, output: String, errors: String) {
        var env = ProcessInfo.processInfo.environment
        env["BEGAWI_LOG_LEVEL"] = env["BEGAWI_LOG_LEVEL"] ?? "warning"
        for (k, v) in environment { env[k] = v }
        let result = prefix.isEmpty
            ? try ChildProcess.run(binary, arguments, environment: env, input: input)
            : try ChildProcess.run("/usr/bin/env", prefix + [binary] + arguments, environment: env, input: input)
        if expect >= 0, result.status != expect {
            throw ClusterError("begawi \(arguments.joined(separator: " ")) exited \(result.status), expected \(expect)\nstdout: \(result.output)\nstderr: \(result.errors)")
        }
        return (result.status, result.output, result.errors)
    }

    /// Starts the hub and waits until it listens. The port stays the same across restarts.
    func startHub() throws {
        let (process, port) = try startHubProcess(config: hubConfig, name: "hub", port: hubPort, environment: hubEnvironment, prefix: hubPrefix)
        hub = process
        hubPort = port
    }

    /// Starts `begawi hub run` on `config` (whose `port_file` is NAME.port, its log NAME.log) and
    /// waits until it listens; a `port` other than 0 is listened on again (a restart keeps site
    /// configurations valid). Returns the process and its port.
    func startHubProcess(config: String, name: String, port: Int, environment: [String: String] = [:],
                         prefix: [String] = []) throws -> (Process, Int) {
        let portFile = path("\(name).port")
        if port != 0 {
            let text = try String(contentsOfFile: config, encoding: .utf8)
                .replacingOccurrences(of: "listen = \"127.0.0.1:0\"", with: "listen = \"127.0.0.1:\(port)\"")
            try text.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try? FileManager.default.removeItem(atPath: portFile)
        let log = path("\(name).log")
        let process = try launch(["hub", "run", "--config", config], environment: environment, log: log, prefix: prefix)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return (process, port)
            }
            let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard process.isRunning else { throw ClusterError("\(name) exited at start: \(said)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ClusterError("\(name) did not start listening within 30 s: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    func hubLog() -> String { (try? String(contentsOfFile: path("hub.log"), encoding: .utf8)) ?? "" }

    /// Stops the hub: SIGTERM (graceful) or SIGKILL.
    func stopHub(signal: Int32 = SIGTERM) {
        guard let hub, hub.isRunning else { return }
        kill(hub.processIdentifier, signal)
        hub.waitUntilExit()
    }

    // MARK: sites

    /// Registers a site at the hub, writes its configuration and makes its replica.
    @discardableResult
    func addSite(_ id: String, kind: String = "lpk", extra: String = "") throws -> String {
        precondition(hubPort != 0, "start the hub before adding sites")
        try Cluster.run(["hub", "add-site", "--config", hubConfig, "--id", id, "--kind", kind, "--name", "Partner \(id)",
                         "--credential-out", path("\(id).credential")])
        try writeSiteConfig(id, extra: extra)
        try Cluster.run(["site", "init", "--config", siteConfig(id)])
        sites.append(id)
        return siteConfig(id)
    }

    func siteConfig(_ id: String) -> String { path("\(id).toml") }
    func replicaPath(_ id: String) -> String { path("\(id).sqlite") }

    /// (Re)writes a site's configuration, pointing at `url` (default: the hub).
    func writeSiteConfig(_ id: String, url: String? = nil, extra: String = "") throws {
        // Each site its own copy: a daemon rewrites its schema file when it follows the hub's, and
        // must not change the hub's (or a test's) file beside it.
        let schema = "\(id).schema.json"
        if !FileManager.default.fileExists(atPath: path(schema)) {
            try FileManager.default.copyItem(atPath: path("schema.json"), toPath: path(schema))
        }
        try """
            site_id = "\(id)"
            replica = "\(id).sqlite"
            hub_url = "\(url ?? hubURL)"
            ca_file = "tls/ca.crt"
            credential_file = "\(id).credential"
            schema = "\(schema)"
            backoff_initial_ms = 100
            backoff_max_seconds = 2
            watch_interval_ms = 100
            connect_timeout_ms = 3000
            stall_seconds = 5
            \(extra)
            """.write(toFile: siteConfig(id), atomically: true, encoding: .utf8)
    }

    /// One `begawi site sync`; returns its exit status and output.
    @discardableResult
    func sync(_ id: String, expect: Int32 = 0, prefix: [String] = []) throws -> (status: Int32, output: String, errors: String) {
        try Cluster.run(["site", "sync", "--config", siteConfig(id)], expect: expect, prefix: prefix)
    }

    /// Syncs every site in turn, twice, so that each ends with everything the others sent.
    func syncAll(rounds: Int = 2) throws {
        for _ in 0..<rounds { for s in sites { try sync(s) } }
    }

    /// Starts `begawi site run` for a site.
    func startDaemon(_ id: String, environment: [String: String] = [:]) throws {
        daemons[id] = try launch(["site", "run", "--config", siteConfig(id)], environment: environment, log: path("\(id).log"))
    }

    /// Starts a long-running `begawi` process, its stderr appended to `log`.
    func launch(_ arguments: [String], environment: [String: String], log: String, prefix: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix.isEmpty ? Cluster.binary : "/usr/bin/env")
        process.arguments = prefix.isEmpty ? arguments : prefix + [Cluster.binary] + arguments
        var env = ProcessInfo.processInfo.environment
        env["BEGAWI_LOG_LEVEL"] = env["BEGAWI_LOG_LEVEL"] ?? "warning"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        process.standardError = handle
        try process.run()
        return process
    }

    func daemonProcess(_ id: String) -> Process? { daemons[id] }

    func stopDaemon(_ id: String, signal: Int32 = SIGTERM) {
        guard let p = daemons[id], p.isRunning else { return }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
    }

    // MARK: data

    /// Runs SQL on a site's replica as a staff application would (its own connection).
    func staff(_ id: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: replicaPath(id), configuration: { var c = Configuration(); c.busyMode = .timeout(10); return c }())
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }

    /// A table's rows in a replica file (the hub's is "hub"), keyed by primary key, read with plain SQL.
    func rows(_ id: String, _ table: String) throws -> [String: [String]] {
        if id == "hub", let postgres {
            var out: [String: [String]] = [:]
            for values in try postgres.query("SELECT * FROM \"\(table)\"") { out[values[0]] = Array(values.dropFirst()) }
            return out
        }
        let file = id == "hub" ? path("hub.sqlite") : replicaPath(id)
        let queue = try DatabaseQueue(path: file, configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        return try queue.read { db in
            var out: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                let values: [String] = Array(row.databaseValues).map { String.fromDatabaseValue($0) ?? ($0.isNull ? "NULL" : $0.description) }
                out[values[0]] = Array(values.dropFirst())
            }
            return out
        }
    }

    /// The conflict ledger of a replica file: (table, key, column, loser site, winner site).
    func ledger(_ id: String) throws -> [[String]] {
        if id == "hub", let postgres {
            return try postgres.query("SELECT tbl, key, col, loser_site, winner_site FROM _begawi_conflicts ORDER BY tbl, key, col, loser_site")
        }
        let file = id == "hub" ? path("hub.sqlite") : replicaPath(id)
        let queue = try DatabaseQueue(path: file, configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT tbl, key, col, loser_site, winner_site FROM _begawi_conflicts ORDER BY tbl, key, col, loser_site")
                .map { row in (0..<5).map { i in row[i] as String } }
        }
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}

/// Locates files of the repository.
enum Repository {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

extension Cluster {
    /// The hub's hybrid clock, in milliseconds, read from its database (SQLite keeps the raw value's
    /// bit pattern as a signed integer, PostgreSQL the unsigned value as text: `PostgresHubClock`).
    func hubClockMilliseconds() throws -> UInt64 {
        if postgres != nil {
            let text = try query("hub", "SELECT value FROM _begawi_state WHERE name = 'hlc'").first?.first ?? "0"
            guard let raw = UInt64(text) else { throw ClusterError("the hub's clock is not a number: \(text)") }
            return raw >> 16
        }
        let queue = try DatabaseQueue(path: path("hub.sqlite"), configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        let raw = try queue.read { db in try Int64.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'hlc'") } ?? 0
        return UInt64(bitPattern: raw) >> 16
    }
}

extension Cluster {
    /// Runs SQL through the real `sqlite3` shell on a site's replica, optionally under a command
    /// prefix such as `faketime -f +365d` (the capture triggers then record that process's clock).
    func shell(_ id: String, _ sql: String, prefix: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = prefix + ["sqlite3", "-bail", "-cmd", ".timeout 10000", replicaPath(id), sql]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ClusterError("sqlite3 at \(id) failed: \(text)") }
    }
}

extension Cluster {
    /// The exit status of a site daemon that has stopped, or nil while it runs.
    func daemonStatus(_ id: String) -> Int32? {
        guard let p = daemonProcess(id), !p.isRunning else { return nil }
        return p.terminationStatus
    }
}
