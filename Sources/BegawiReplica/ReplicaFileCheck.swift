import BegawiCore
import Foundation
internal import CSQLite

/// Checks a file before anything opens it for writing, so that a wrong or damaged file is left untouched.
///
/// It uses the C API directly: GRDB cannot open a file `immutable`, and any ordinary connection to a
/// database in WAL mode creates `-wal` and `-shm` files beside it.
enum ReplicaFileCheck {
    static let sqliteHeader = Array("SQLite format 3\0".utf8)

    static func verify(path: String) throws {
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
        } catch {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite's check failed. Restore it from a backup", cause: "\(error)")
        }
        guard problems == ["ok"] else {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite's quick_check found \(problems.count) problem(s). Restore it from a backup", cause: problems.prefix(3).joined(separator: "; "))
        }
    }
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
    }

    deinit { sqlite3_close_v2(db) }

    func rows(_ sql: String) throws -> [[SQLValue]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BegawiError(.corrupted, String(cString: sqlite3_errmsg(db)))
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
                throw BegawiError(.corrupted, String(cString: sqlite3_errmsg(db)))
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
