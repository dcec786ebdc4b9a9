internal import CSQLite
internal import GRDB
import BegawiCore

/// A GRDB prepared statement driven through the C API on the hot paths (capture, export, apply).
///
/// GRDB owns the statement (its lifetime, caching and errors); binding and stepping here avoid the
/// per-call argument arrays that GRDB's `StatementArguments` allocate, which dominated apply time.
struct FastStatement {
    let statement: Statement
    var handle: OpaquePointer { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ index: Int32, _ value: SQLValue) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .integer(let v): sqlite3_bind_int64(handle, index, v)
        case .real(let v): sqlite3_bind_double(handle, index, v)
        case .text(let v): bind(index, v)
        case .blob(let v): bind(index, blob: v)
        }
    }

    func bind(_ index: Int32, _ text: String) {
        var text = text
        // Native strings are contiguous already; withUTF8 copies only bridged or foreign ones.
        text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), begawi_sqlite_transient())
            }
        }
    }

    func bind(_ index: Int32, blob: [UInt8]) {
        blob.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), begawi_sqlite_transient())
        }
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    /// Binds `key` at 1 and `values` from 2 on, runs the statement, and resets it.
    func run(key: String, values: [SQLValue]) throws {
        var all: [SQLValue] = [.text(key)]
        all.reserveCapacity(values.count + 1)
        all.append(contentsOf: values)
        try run(bindings: all)
    }

    /// Binds `values` from parameter 1 on, runs the statement, and resets it.
    ///
    /// Text and blob bytes are gathered into one buffer and bound without copies (SQLITE_STATIC);
    /// the bindings are cleared before the buffer goes away.
    func run(bindings values: [SQLValue]) throws {
        var size = 0
        for v in values {
            switch v {
            case .text(let t): size += t.utf8.count
            case .blob(let b): size += b.count
            default: break
            }
        }
        var arena: [UInt8] = []
        arena.reserveCapacity(size)
        var offsets: [Int] = []
        offsets.reserveCapacity(values.count + 1)
        for v in values {
            offsets.append(arena.count)
            switch v {
            case .text(let t): arena.append(contentsOf: t.utf8)
            case .blob(let b): arena.append(contentsOf: b)
            default: break
            }
        }
        offsets.append(arena.count)
        let handle = handle
        try arena.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            sqlite3_reset(handle)
            for (i, v) in values.enumerated() {
                let index = Int32(i + 1)
                let start = base + offsets[i]
                let length = Int32(offsets[i + 1] - offsets[i])
                switch v {
                case .null: sqlite3_bind_null(handle, index)
                case .integer(let x): sqlite3_bind_int64(handle, index, x)
                case .real(let x): sqlite3_bind_double(handle, index, x)
                case .text: sqlite3_bind_text(handle, index, start.assumingMemoryBound(to: CChar.self), length, begawi_sqlite_static())
                case .blob: sqlite3_bind_blob(handle, index, start, length, begawi_sqlite_static())
                }
            }
            defer {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
            try run()
        }
    }

    /// Steps once; true when a row is available.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            if code & 0xFF == SQLITE_CONSTRAINT {
                // Only data from elsewhere can break a synced table's constraints in the engine's writes.
                throw BegawiError(.badBatch, "a change would break a constraint of a synced table (\(message)); nothing was applied. Check that both sides declare the same schema")
            }
            throw BegawiError(.storage, "SQLite failed (\(code)): \(message)", cause: statement.sql)
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(handle, column) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(handle, column))
        guard n > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    /// The number of result columns.
    var columnCount: Int32 { sqlite3_column_count(handle) }

    func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT: .text(text(column))
        case SQLITE_BLOB: .blob(blob(column))
        default: .null
        }
    }
}
