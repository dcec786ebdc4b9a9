public import BegawiCore
internal import CSQLite
import Foundation
internal import GRDB

/// Writes snapshot part files (`SnapshotPart` describes the layout): the layout and the part's own
/// fields for every exporter, and the rows of a `SnapshotRowSource` for exporters that are not a
/// replica file (a replica fills its parts straight from its file, `Replica+SnapshotExport`).
public enum SnapshotPartWriter {
    /// One part from `source`, as its file's bytes (built in memory: the hub sends it and forgets it).
    public static func file(table spec: TableSpec, after afterKey: String?, maxRows: Int,
                            from source: any SnapshotRowSource) throws -> (part: SnapshotPart, file: [UInt8]) {
        var file: [UInt8] = []
        do {
            let queue = try DatabaseQueue(configuration: Replica.snapshotExportConfiguration)
            let part = try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF")
                var part: SnapshotPart?
                try db.inTransaction(.deferred) {
                    part = try fill(db, spec: spec, after: afterKey, maxRows: max(1, maxRows), source: source)
                    return .commit
                }
                file = try serialize(db, table: spec.name)
                return part!
            }
            return (part, file)
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "a snapshot part of table '\(spec.name)' could not be built in memory; check the hub's free memory",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    /// Makes the part's tables in an empty database.
    static func createLayout(_ db: Database, spec: TableSpec) throws {
        let quoted = ([spec.primaryKey.name] + spec.columns.map(\.name)).map(ReplicaSQL.quote)
        // Values are numbered as their records (the receiver reads both in ranges of numbers): no index on keys.
        let definition = "(n INTEGER PRIMARY KEY, " + quoted.joined(separator: ", ") + ")"
        try db.execute(sql: """
            CREATE TABLE part(name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
            CREATE TABLE sites(id INTEGER PRIMARY KEY, site TEXT NOT NULL);
            CREATE TABLE records(n INTEGER PRIMARY KEY, key TEXT NOT NULL, vector BLOB NOT NULL, stamps BLOB NOT NULL);
            CREATE TABLE live \(definition);
            CREATE TABLE dead \(definition);
            """)
    }

    /// Records the part's own fields (its format, the exporter's epoch, its position, the table and
    /// its columns, the last key, whether it is the table's last part, its rows).
    static func recordFields(_ db: Database, part: SnapshotPart, epoch: String, spec: TableSpec) throws {
        let names = [spec.primaryKey.name] + spec.columns.map(\.name)
        guard let position = Int64(exactly: part.position) else {
            throw BegawiError(.invalidArgument, "a snapshot part's position \(part.position) is past SQLite's integers; the exporter's feed is damaged")
        }
        let fields: [(String, DatabaseValue)] = [
            ("format", SnapshotPart.format.databaseValue), ("epoch", epoch.databaseValue), ("position", position.databaseValue),
            ("table", spec.name.databaseValue), ("columns", names.joined(separator: "\n").databaseValue),
            ("last_key", part.lastKey?.databaseValue ?? .null), ("finished", (part.finished ? 1 : 0).databaseValue),
            ("rows", part.rows.databaseValue),
        ]
        for (name, value) in fields {
            try db.execute(sql: "INSERT INTO part(name, value) VALUES (?, ?)", arguments: [name, value])
        }
    }

    /// The in-memory database's bytes, as a file.
    static func serialize(_ db: Database, table: String) throws -> [UInt8] {
        var size: sqlite3_int64 = 0
        guard let data = sqlite3_serialize(db.sqliteConnection, "main", &size, 0), size >= 0, let count = Int(exactly: size) else {
            throw BegawiError(.storage, "a snapshot part of table '\(table)' could not be serialized; check the hub's free memory")
        }
        defer { sqlite3_free(data) }
        return Array(UnsafeBufferPointer(start: data, count: count))
    }

    /// Fills the layout from the source's rows, checking that they come as a part needs them: in
    /// key order after `afterKey`, no more than asked, each with the table's columns.
    private static func fill(_ db: Database, spec: TableSpec, after afterKey: String?, maxRows: Int,
                             source: any SnapshotRowSource) throws -> SnapshotPart {
        try createLayout(db, spec: spec)
        let marks = Array(repeating: "?", count: spec.columns.count + 2).joined(separator: ", ")
        let record = try FastStatement(db, "INSERT INTO records(n, key, vector, stamps) VALUES (?, ?, ?, ?)")
        let live = try FastStatement(db, "INSERT INTO live VALUES (\(marks))")
        let dead = try FastStatement(db, "INSERT INTO dead VALUES (\(marks))")
        var n = 0
        var previous = afterKey
        let refused = { (what: String) in
            BegawiError(.storage, "the snapshot source gave \(what) for a part of table '\(spec.name)'; the part was not written (a fault of the hub's store)")
        }
        let read = try source.read(table: spec, after: afterKey, maxRows: maxRows) { row in
            guard n < maxRows else { throw refused("more than the \(maxRows) rows asked for") }
            if let previous, row.key <= previous { throw refused("rows out of key order") }
            guard row.values.count == spec.columns.count else {
                throw refused("a row of \(row.values.count) values, not the table's \(spec.columns.count)")
            }
            n += 1
            previous = row.key
            try record.run(bindings: [.integer(Int64(n)), .text(row.key), .blob(row.vector), .blob(row.stamps)])
            try (row.live ? live : dead).run(bindings: [.integer(Int64(n)), .text(row.key)] + row.values)
        }
        // The last key read covers the last row handed over (the next part starts after it).
        let covered = n == 0 || previous.map { last in read.lastKey.map { $0 >= last } ?? false } ?? false
        guard read.scanned >= n, read.scanned <= maxRows, covered else {
            throw refused("a read of \(read.scanned) keys through \(read.lastKey == nil ? "none" : "a key") for \(n) rows")
        }
        for (id, site) in read.sites.sorted(by: { $0.key < $1.key }) {
            try db.execute(sql: "INSERT INTO sites(id, site) VALUES (?, ?)", arguments: [id, site])
        }
        let part = SnapshotPart(table: spec.name, position: read.position, rows: n, lastKey: read.lastKey ?? afterKey,
                                finished: read.scanned < maxRows)
        try recordFields(db, part: part, epoch: source.epoch, spec: spec)
        return part
    }
}
