import Foundation
import GRDB

/// A process started without waiting for it (a `begawi` command, or a helper such as the fault
/// proxy), its standard output and error in one file, so that a test can kill it at any moment.
final class BackgroundRun {
    let process: Process
    let outputPath: String
    let started = Date()

    /// Starts `executable` with `arguments`; output goes to `outputPath` (appended).
    init(executable: String, arguments: [String], outputPath: String, environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["BEGAWI_LOG_LEVEL"] = env["BEGAWI_LOG_LEVEL"] ?? "warning"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        self.outputPath = outputPath
        if !FileManager.default.fileExists(atPath: outputPath) {
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: outputPath) else { throw ClusterError("cannot write \(outputPath)") }
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        try log.close()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    var isRunning: Bool { process.isRunning }
    var elapsed: TimeInterval { Date().timeIntervalSince(started) }

    /// Sends SIGKILL and reaps the process; returns whether the signal is what ended it (false when it
    /// had already exited on its own).
    @discardableResult
    func killNow() -> Bool {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    /// Sends `signal` and waits up to `timeout` seconds; SIGKILL after that. Returns the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 10) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        if wait(timeout: timeout) == nil { killNow() }
        return process.terminationStatus
    }

    /// Waits up to `timeout` seconds; the exit status, or nil while it still runs.
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Everything the process wrote so far.
    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
}

/// What one `begawi site sync` printed on success: "sent N rows in B batches …; received M rows in P pages …".
struct SyncSummary: Equatable {
    var sent: Int
    var batches: Int
    var received: Int
    var pages: Int

    init?(_ output: String) {
        for line in output.split(separator: "\n") where line.hasPrefix("sent ") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            // sent N rows in B batches (conflicts at the hub: C); received M rows in P pages (conflicts here: D)
            guard numbers.count >= 6 else { continue }
            sent = numbers[0]
            batches = numbers[1]
            received = numbers[3]
            pages = numbers[4]
            return
        }
        return nil
    }
}

extension Cluster {
    /// Starts `begawi site sync` for a site without waiting; its output goes to `<id>.sync.log`.
    func startSync(_ id: String) throws -> BackgroundRun {
        try BackgroundRun(executable: Cluster.binary, arguments: ["site", "sync", "--config", siteConfig(id)],
                          outputPath: path("\(id).sync-\(UUID().uuidString.prefix(8)).log"))
    }

    /// Sets `key = value` (value written as given: quote strings) in a site's configuration,
    /// replacing the line that sets it, or appending one.
    func setSiteOption(_ id: String, _ key: String, _ value: String) throws {
        let text = try String(contentsOfFile: siteConfig(id), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let setting = "\(key) = \(value)"
        if let i = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(key) ") || $0.trimmingCharacters(in: .whitespaces).hasPrefix("\(key)=") }) {
            lines[i] = setting
        } else {
            lines.append(setting)
        }
        try lines.joined(separator: "\n").write(toFile: siteConfig(id), atomically: true, encoding: .utf8)
    }

    /// Runs a read-only query on a replica file (the hub's is "hub"); each row as text (NULL as "NULL").
    func query(_ id: String, _ sql: String, _ arguments: StatementArguments = []) throws -> [[String]] {
        if id == "hub", let postgres {
            guard arguments.isEmpty else { throw ClusterError("a query of the hub on PostgreSQL takes its values as strings: query(_:_:_: [String])") }
            return try postgres.query(sql)
        }
        let file = id == "hub" ? path("hub.sqlite") : replicaPath(id)
        let queue = try DatabaseQueue(path: file, configuration: { var c = Configuration(); c.readonly = true; c.busyMode = .timeout(10); return c }())
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                Array(row.databaseValues).map { value in
                    if value.isNull { return "NULL" }
                    if let text = String.fromDatabaseValue(value) { return text }
                    return value.description
                }
            }
        }
    }

    /// `query` with text values in place of its `?` (the hub on PostgreSQL gets them as quoted
    /// literals: test values only, never input).
    func query(_ id: String, _ sql: String, _ values: [String]) throws -> [[String]] {
        guard id == "hub", let postgres else { return try query(id, sql, StatementArguments(values)) }
        var text = sql
        for value in values {
            guard let mark = text.firstIndex(of: "?") else { break }
            text.replaceSubrange(mark...mark, with: "'" + value.replacingOccurrences(of: "'", with: "''") + "'")
        }
        return try postgres.query(text)
    }

    /// A replica's own id (the hub's is its epoch).
    func replicaID(_ id: String) throws -> String {
        guard let value = try query(id, "SELECT value FROM _begawi_state WHERE name = 'replica_id'").first?.first else {
            throw ClusterError("\(id) has no replica_id")
        }
        return value
    }

    /// The hub's push cursor for a site's replica (`_begawi_cursors` base, position) in the site's change sequence.
    func hubCursor(for site: String) throws -> (baseSeq: Int, seq: Int) {
        let row = try query("hub", "SELECT base, position FROM _begawi_cursors WHERE source = ?", [try replicaID(site)]).first
        return (Int(row?[0] ?? "0") ?? 0, Int(row?[1] ?? "0") ?? 0)
    }

    /// Runs `begawi site sync` until it exits 0, at most `attempts` times; the successful output.
    @discardableResult
    func syncUntilDone(_ id: String, attempts: Int = 10) throws -> String {
        var last = ""
        for _ in 0..<attempts {
            let (status, output, errors) = try sync(id, expect: -1)
            if status == 0 { return output }
            last = "exit \(status)\nstdout: \(output)\nstderr: \(errors)"
        }
        throw ClusterError("begawi site sync for \(id) did not succeed in \(attempts) attempts; last: \(last)")
    }
}
