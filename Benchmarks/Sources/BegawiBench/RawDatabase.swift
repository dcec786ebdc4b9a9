import BegawiCore
import CSQLite

/// A bare SQLite connection for the benchmark's baselines: the same C calls on both sides of a ratio.
final class RawDatabase {
    let handle: OpaquePointer

    init(path: String) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db else {
            throw BegawiError(.storage, "cannot open \(path)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
        try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
    }

    deinit { sqlite3_close_v2(handle) }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "?"
            sqlite3_free(error)
            throw BegawiError(.storage, "SQLite: \(message)", cause: sql)
        }
    }

    /// Inserts rows with one prepared statement, binding each value through the C API.
    func insert(_ sql: String, rows: [[SQLValue]]) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BegawiError(.storage, "cannot prepare", cause: sql)
        }
        defer { sqlite3_finalize(statement) }
        for row in rows {
            sqlite3_reset(statement)
            for (i, v) in row.enumerated() {
                let index = Int32(i + 1)
                switch v {
                case .null: sqlite3_bind_null(statement, index)
                case .integer(let x): sqlite3_bind_int64(statement, index, x)
                case .real(let x): sqlite3_bind_double(statement, index, x)
                case .text(let x): sqlite3_bind_text(statement, index, x, -1, begawi_sqlite_transient())
                case .blob(let x): sqlite3_bind_blob(statement, index, x, Int32(x.count), begawi_sqlite_transient())
                }
            }
            guard sqlite3_step(statement) == SQLITE_DONE else {
                throw BegawiError(.storage, "insert failed: \(String(cString: sqlite3_errmsg(handle)))")
            }
        }
    }
}
