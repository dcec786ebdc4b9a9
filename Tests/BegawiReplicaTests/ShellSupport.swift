import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The real `sqlite3` command-line shell, run as a child process on a replica file: a program that
/// knows nothing of Begawi, in its own process, with its own SQLite library.
enum SQLiteShell {
    static let executable = "/usr/bin/sqlite3"

    /// The shell exited with an error; its standard error says why.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `sql` (one or more statements, or a dot-command) in a fresh shell process and returns its output.
    ///
    /// `-bail` stops at the first error and exits non-zero, which throws here.
    @discardableResult
    static func run(_ path: String, _ sql: String, options: [String] = []) throws -> String {
        let result = try ChildProcess.run(executable, ["-bail", "-batch", "-cmd", ".timeout 10000"] + options + [path, sql], input: "")
        guard result.reason == .exit, result.status == 0 else {
            throw Failure(description: "sqlite3 exited with \(result.status): \(result.errors)")
        }
        return result.output
    }

    /// Whether `PRAGMA quick_check` in the shell reports the file sound; runs on a copy, so the file is not touched.
    static func quickCheckPasses(_ path: String) throws -> Bool {
        let copy = path + ".check-copy"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
        }
        let result = (try? run(copy, "PRAGMA quick_check")) ?? "error"
        return result.trimmingCharacters(in: .whitespacesAndNewlines) == "ok"
    }
}

/// A `sqlite3` shell that reads statements from a pipe and stays alive until it is killed.
final class ShellSession {
    let process = Process()
    private let input = Pipe()

    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: SQLiteShell.executable)
        process.arguments = ["-batch", "-cmd", ".timeout 10000", path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Sends statements; the shell runs each as soon as its line arrives.
    func send(_ sql: String) {
        input.fileHandleForWriting.write(Data((sql + "\n").utf8))
    }

    /// Kills the shell with SIGKILL, as a power cut or the OOM killer would, and waits for it to die.
    func kill() {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
    }
}

/// Waits until another connection holds the write lock of the file (its transaction has written).
func waitForWriteLock(on path: String, timeout: TimeInterval = 10) throws -> Bool {
    var config = Configuration()
    config.busyMode = .immediateError
    let probe = try DatabaseQueue(path: path, configuration: config)
    defer { try? probe.close() }
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        do {
            try probe.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "ROLLBACK")
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return true
        }
        usleep(2_000)
    }
    return false
}

/// A file's bytes and the names beside it (to see -wal, -shm or -journal files appear).
struct FileSnapshot: Equatable {
    let bytes: Data?
    let folderListing: [String]

    init(_ path: String) {
        bytes = FileManager.default.contents(atPath: path)
        let folder = (path as NSString).deletingLastPathComponent
        folderListing = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }
}

/// Everything a test can observe of a replica: rows, merge state, ledger, cursors, and the whole file as
/// the `sqlite3` shell dumps it (bookkeeping, clock state and outbox included).
struct ReplicaSnapshot: Equatable {
    let rows: [String: [String: [SQLValue]]]
    let states: [String: [String: RowState]]
    let conflicts: [ConflictLedgerEntry]
    let cursors: [ExchangeCursor]
    let pending: Int
    let dump: String

    init(_ replica: Replica, sources: [String] = []) throws {
        var rows: [String: [String: [SQLValue]]] = [:]
        var states: [String: [String: RowState]] = [:]
        for table in replica.schema.tables {
            rows[table.name] = try replica.rows(of: table.name)
            states[table.name] = try replica.rowStates(of: table.name)
        }
        self.rows = rows
        self.states = states
        conflicts = try replica.conflicts()
        cursors = try sources.map { try replica.cursor(for: $0) }
        pending = try replica.pendingCaptureCount()
        dump = try SQLiteShell.run(replica.path, ".dump")
    }
}

/// The stamps of every register of a row state: the deleted register first, then the columns.
func stamps(of state: RowState) -> [Stamp] {
    ([state.deleted] + state.columns).compactMap { $0?.stamp }
}
