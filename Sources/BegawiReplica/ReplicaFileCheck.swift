import BegawiCore
import Foundation
internal import CSQLite

/// Checks a file before anything opens it for writing, so that a wrong or damaged file is left untouched.
///
/// It uses the C API directly: GRDB cannot open a file `immutable`, and any ordinary connection to a
/// database in WAL mode creates `-wal` and `-shm` files beside it.
enum ReplicaFileCheck {
    static let sqliteHeader = Array("SQLite format 3\0".utf8)

    /// How many times a check that failed for a reason that may pass is made again, and how long
    /// it waits in between: a staff application writing while the daemon starts can hold a lock, or
    /// change a file read `immutable` under the check, and neither is damage.
    static let attempts = 10
    static let pause: TimeInterval = 0.2

    /// Refuses a missing file, another SQLite database, a replica of a newer format, and a damaged
    /// file; a check that failed only because the file was busy or changing is made again before
    /// anything is called damage, and a file still locked after every attempt is a storage error
    /// (try again), never "damaged".
    static func verify(path: String) throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try verifyOnce(path: path)
            } catch let error as BegawiError where error.code == .corrupted || error.code == .storage {
                // Damage stays damage when read again; a lock or a file changing under an immutable read does not.
                guard attempt < attempts else { throw error }
                Thread.sleep(forTimeInterval: pause)
            }
        }
    }

    private static func verifyOnce(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BegawiError(.notAReplica, "no replica at \(path): the file does not exist or cannot be read; check the path, or create the replica first")
        }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        try? handle.close()
        guard header.count >= 100, Array(header.prefix(16)) == sqliteHeader else {
            throw BegawiError(.notAReplica, "\(path) is not a Begawi replica: it is not an SQLite database. Check the path in the configuration")
        }
        let connection = try ReadOnlyConnection(path: path)
        let format: Int64?
        do {
            guard try connection.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_begawi_state'") == 1 else {
                throw BegawiError(.notAReplica, "\(path) is an SQLite database but not a Begawi replica (it has no _begawi_state table). Check the path in the configuration")
            }
            format = try connection.scalar("SELECT value FROM _begawi_state WHERE name = 'format'")
        } catch let error as BegawiError where error.code == .notAReplica {
            throw error
        } catch let failure as ReadFailure where failure.isLock {
            throw ReplicaFileCheck.locked(path, failure)
        } catch {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite cannot read its schema. Restore it from a backup", cause: "\(error)")
        }
        guard let format, format >= 1 else {
            throw BegawiError(.corrupted, "\(path) has no valid replica format marker; restore it from a backup")
        }
        guard format <= ReplicaSQL.format else {
            throw BegawiError(.newerFormat, "\(path) was made by a newer Begawi (replica format \(format); this one reads up to \(ReplicaSQL.format)). Upgrade Begawi; the file was not changed")
        }
        let problems: [String]
        do {
            problems = try connection.column("PRAGMA quick_check")
        } catch let failure as ReadFailure where failure.isLock {
            throw ReplicaFileCheck.locked(path, failure)
        } catch {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite's check failed. Restore it from a backup", cause: "\(error)")
        }
        guard problems == ["ok"] else {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite's quick_check found \(problems.count) problem(s). Restore it from a backup", cause: problems.prefix(3).joined(separator: "; "))
        }
    }
}

extension ReplicaFileCheck {
    /// The file is locked by another program (a staff application's write, a checkpoint): not damage.
    static func locked(_ path: String, _ failure: ReadFailure) -> BegawiError {
        BegawiError(.storage, "\(path) is locked by another program (\(attempts) tries over \(Int(Double(attempts) * pause)) s); the file was not changed. Try again, and check which program holds it if this repeats",
                    cause: failure.description)
    }
}

/// A failed read of the file by the check: SQLite's primary result code and message.
struct ReadFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    /// A lock held by another connection: the read may pass when tried again.
    var isLock: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    var description: String { "\(message) (SQLite \(code))" }
}

/// A read-only connection that creates no file: `immutable` when no write-ahead log exists
/// (nothing newer than the main file to read), plain read-only otherwise.
private final class ReadOnlyConnection {
    let db: OpaquePointer

    init(path: String) throws {
        let walExists = FileManager.default.fileExists(atPath: path + "-wal")
        var uri = URLComponents()
        uri.scheme = "file"
        uri.path = path
        uri.queryItems = [URLQueryItem(name: "mode", value: "ro")] + (walExists ? [] : [URLQueryItem(name: "immutable", value: "1")])
        var connection: OpaquePointer?
        let status = sqlite3_open_v2(uri.string ?? path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        guard status == SQLITE_OK, let connection else {
            if let connection { sqlite3_close_v2(connection) }
            throw BegawiError(.corrupted, "\(path) cannot be opened as an SQLite database; it may be damaged. Restore it from a backup", cause: "SQLite status \(status)")
        }
        db = connection
        // A writer's short lock (a commit, a checkpoint) is waited for rather than taken for damage.
        sqlite3_busy_timeout(connection, 1_000)
    }

    /// The failure of the last call on this connection.
    private var failure: ReadFailure {
        ReadFailure(code: sqlite3_extended_errcode(db) & 0xff, message: String(cString: sqlite3_errmsg(db)))
    }

    deinit { sqlite3_close_v2(db) }

    func rows(_ sql: String) throws -> [[SQLValue]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure
        }
        defer { sqlite3_finalize(statement) }
        var out: [[SQLValue]] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                out.append((0..<sqlite3_column_count(statement)).map { i in
                    switch sqlite3_column_type(statement, i) {
                    case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, i))
                    case SQLITE_TEXT: .text(String(cString: sqlite3_column_text(statement, i)))
                    case SQLITE_NULL: .null
                    default: .blob([])
                    }
                })
            case SQLITE_DONE:
                return out
            default:
                throw failure
            }
        }
    }

    func scalar(_ sql: String) throws -> Int64? {
        guard case .integer(let v)? = try rows(sql).first?.first else { return nil }
        return v
    }

    func column(_ sql: String) throws -> [String] {
        try rows(sql).map { row in
            if case .text(let s)? = row.first { return s }
            return "?"
        }
    }
}
