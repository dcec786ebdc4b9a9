import BegawiCore
import NIOCore
import PostgresNIO

/// The synced tables on PostgreSQL: one per schema table with its live rows, and its
/// `_begawi_dead_<table>` twin with the last values of deleted rows, as in a SQLite replica. They
/// are the office's readable copy; the values of record are in the rows' merge state
/// (`MergeState`), so a value that does not fit its column's type is written here as NULL
/// (`readable`).
enum SyncedTables {
    /// A name quoted for SQL (names come from a checked schema: letters, digits and '_').
    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// The dead twin's name, as in SQLite.
    static func dead(_ table: TableSpec) -> String { quote("_begawi_dead_" + table.name) }

    /// PostgreSQL's type for a schema column type.
    static func type(of column: ColumnSpec) -> String {
        switch column.type.uppercased() {
        case "INTEGER": "bigint"
        case "REAL": "double precision"
        case "BLOB": "bytea"
        case "NUMERIC": "numeric"
        default: "text"
        }
    }

    /// Makes the tables of `schema` when missing and adds the columns a later version brings
    /// (a schema version only adds: `SchemaEvolution` refuses the rest). Runs in the publish's transaction.
    static func install(_ schema: Schema, on link: PostgresLink) throws {
        for table in schema.tables {
            for name in [quote(table.name), dead(table)] {
                try link.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(name) (\(quote(table.primaryKey.name)) text PRIMARY KEY)"))
                for column in table.columns {
                    try link.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(name) ADD COLUMN IF NOT EXISTS \(quote(column.name)) \(type(of: column))"))
                }
            }
        }
    }

    /// Writes rows' values (`key`, then one value per column of `table`) into the live table or the
    /// dead twin, removing them from the other, several rows per statement.
    static func write(_ rows: [(key: String, values: [SQLValue], live: Bool)], table: TableSpec, on link: PostgresLink) throws {
        let width = table.columns.count + 1
        // PostgreSQL binds at most 65,535 values per statement.
        let perStatement = max(1, 60_000 / width)
        for live in [true, false] {
            let chosen = rows.filter { $0.live == live }
            var start = 0
            while start < chosen.count {
                let chunk = chosen[start..<min(chosen.count, start + perStatement)]
                start += chunk.count
                let into = live ? quote(table.name) : dead(table)
                let other = live ? dead(table) : quote(table.name)
                var bindings = PostgresBindings(capacity: chunk.count * width)
                var tuples: [String] = []
                tuples.reserveCapacity(chunk.count)
                var n = 0
                for row in chunk {
                    var parts: [String] = []
                    bindings.append(row.key)
                    n += 1
                    parts.append("$\(n)::text")
                    for (column, value) in zip(table.columns, row.values) {
                        append(readable(value, for: column), to: &bindings)
                        n += 1
                        parts.append("$\(n)::\(type(of: column))")
                    }
                    tuples.append("(" + parts.joined(separator: ", ") + ")")
                }
                let names = ([table.primaryKey] + table.columns).map { quote($0.name) }
                let updates = table.columns.map { "\(quote($0.name)) = EXCLUDED.\(quote($0.name))" }
                try link.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(into) (\(names.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))
                    ON CONFLICT (\(quote(table.primaryKey.name))) DO UPDATE SET \(updates.joined(separator: ", "))
                    """, binds: bindings))
                var keys = PostgresBindings()
                keys.append(chunk.map(\.key))
                try link.query(PostgresQuery(unsafeSQL: "DELETE FROM \(other) WHERE \(quote(table.primaryKey.name)) = ANY($1::text[])", binds: keys))
            }
        }
    }

    /// A value as the readable copy holds it.
    enum Readable {
        case null, text(String), integer(Int64), real(Double), bytes([UInt8])
    }

    /// `value` converted to the column's PostgreSQL type as SQLite's affinity would hold it, or NULL
    /// when it does not fit (the merge state keeps it as it came).
    static func readable(_ value: SQLValue, for column: ColumnSpec) -> Readable {
        switch (type(of: column), value) {
        case (_, .null): return .null
        case ("text", .text(let s)): return .text(s)
        case ("text", .integer(let i)): return .text(String(i))
        case ("text", .real(let d)): return .text(String(d))
        case ("bigint", .integer(let i)): return .integer(i)
        case ("bigint", .real(let d)): return Int64(exactly: d).map(Readable.integer) ?? .null
        case ("bigint", .text(let s)): return Int64(s).map(Readable.integer) ?? .null
        case ("double precision", .real(let d)): return .real(d)
        case ("double precision", .integer(let i)): return .real(Double(i))
        case ("double precision", .text(let s)): return Double(s).map(Readable.real) ?? .null
        case ("numeric", .integer(let i)): return .text(String(i))
        case ("numeric", .real(let d)): return d.isFinite ? .text(String(d)) : .null
        case ("numeric", .text(let s)):
            // Only a plain decimal number: Swift's Double also reads hexadecimal, which numeric does not.
            let plain = !s.isEmpty && s.utf8.allSatisfy { (0x30...0x39).contains($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E || $0 == 0x45 || $0 == 0x65 }
            return plain && Double(s)?.isFinite == true ? .text(s) : .null
        case ("bytea", .blob(let b)): return .bytes(b)
        case ("bytea", .text(let s)): return .bytes(Array(s.utf8))
        default: return .null
        }
    }

    private static func append(_ value: Readable, to bindings: inout PostgresBindings) {
        switch value {
        case .null: bindings.appendNull()
        case .text(let s): bindings.append(s)
        case .integer(let i): bindings.append(i)
        case .real(let d): bindings.append(d)
        case .bytes(let b): bindings.append(ByteBuffer(bytes: b))
        }
    }
}
