import BegawiCore
internal import CSQLite
import Foundation
internal import GRDB

extension Replica {
    /// Writes one part of a snapshot to a new file at `path`: up to `maxRows` rows of `table` after
    /// `afterKey` (in key order) that `scope` lets through, with their merge state and values, all read
    /// in one transaction of a separate connection (exporting never holds this replica's writer). Rows
    /// the receiver sent itself are left out, as a pull leaves them out (`receiverReplicaID`).
    public func writeSnapshotPart(to path: String, table name: String, after afterKey: String?, maxRows: Int,
                                  receiverReplicaID: String?, scope: SnapshotScope) throws -> SnapshotPart {
        let table = try snapshotTable(name)
        try? FileManager.default.removeItem(atPath: path)
        do {
            return try exportSnapshotPart(into: try DatabaseQueue(path: path, configuration: Replica.snapshotExportConfiguration), table: table, after: afterKey, maxRows: maxRows,
                                          receiverReplicaID: receiverReplicaID, scope: scope) { _ in }
        } catch let error as DatabaseError {
            try? FileManager.default.removeItem(atPath: path)
            throw BegawiError(.storage, "a snapshot part of table '\(name)' could not be written at \(path); check the free space there",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    /// One part of a snapshot as `writeSnapshotPart` writes it, as its file's bytes: built in memory,
    /// so that no file is written and read back (the hub's part is sent and forgotten).
    public func snapshotPartFile(table name: String, after afterKey: String?, maxRows: Int,
                                 receiverReplicaID: String?, scope: SnapshotScope) throws -> (part: SnapshotPart, file: [UInt8]) {
        let table = try snapshotTable(name)
        var file: [UInt8] = []
        do {
            let part = try exportSnapshotPart(into: try DatabaseQueue(configuration: Replica.snapshotExportConfiguration), table: table, after: afterKey, maxRows: maxRows,
                                              receiverReplicaID: receiverReplicaID, scope: scope) { db in
                file = try SnapshotPartWriter.serialize(db, table: name)
            }
            return (part, file)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            throw BegawiError(.storage, "a snapshot part of table '\(name)' could not be read: the hub's file stayed locked for 30 s "
                              + "(another process holding it?); the site asks for the part again by itself",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "a snapshot part of table '\(name)' could not be built in memory; check the hub's free memory",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }

    /// The part's own connection reads the replica through ATTACH. Closing it must not checkpoint the
    /// replica's log: a connection that believes itself the file's last takes its exclusive lock to
    /// do so, and other parts' connections opening the file meanwhile were refused ("database is
    /// locked": many sites' first syncs at once). It also waits for a lock as the replica's
    /// connections do, instead of failing the site's part at once.
    static var snapshotExportConfiguration: Configuration {
        _ = sqliteSetUp
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in _ = begawi_sqlite_no_checkpoint_on_close(db.sqliteConnection) }
        return configuration
    }

    /// The spec and number of the table a part is asked of.
    private func snapshotTable(_ name: String) throws -> (spec: TableSpec, id: Int64) {
        guard let index = tableByName[name] else {
            throw BegawiError(.invalidArgument, "this replica does not sync a table named '\(name)'; ask for a table of the current schema")
        }
        return (tables[index].spec, tables[index].id)
    }

    /// Fills the empty database of `queue` with the part, then hands it to `finish` (still open).
    private func exportSnapshotPart(into queue: DatabaseQueue, table: (spec: TableSpec, id: Int64), after afterKey: String?, maxRows: Int,
                                    receiverReplicaID: String?, scope: SnapshotScope, finish: (Database) throws -> Void) throws -> SnapshotPart {
        let (spec, id) = table
        return try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF")
            try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [self.path])
            var part: SnapshotPart?
            do {
                try db.inTransaction(.deferred) {
                    part = try fillSnapshotPart(db, spec: spec, id: id, after: afterKey, maxRows: max(1, maxRows),
                                                receiverReplicaID: receiverReplicaID, scope: scope)
                    return .commit
                }
            } catch {
                try? db.execute(sql: "DETACH DATABASE source")
                throw error
            }
            try db.execute(sql: "DETACH DATABASE source")
            try finish(db)
            return part!
        }
    }

    private func fillSnapshotPart(_ db: Database, spec: TableSpec, id: Int64, after afterKey: String?, maxRows: Int,
                                  receiverReplicaID: String?, scope: SnapshotScope) throws -> SnapshotPart {
        let quoted = ([spec.primaryKey.name] + spec.columns.map(\.name)).map(ReplicaSQL.quote)
        try SnapshotPartWriter.createLayout(db, spec: spec)
        try db.execute(sql: "CREATE TEMP TABLE wanted(key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
        // The head first: the rows read after it in this transaction are as of it.
        let position = try Int64.fetchOne(db, sql: "SELECT value FROM source._begawi_state WHERE name = 'seq'") ?? 0
        let receiver = try receiverReplicaID.flatMap {
            try Int64.fetchOne(db, sql: "SELECT id FROM source._begawi_peers WHERE replica = ?", arguments: [$0])
        } ?? -1
        let after = afterKey ?? ""
        switch scope {
        case .none: break
        case .all:
            try db.execute(sql: "INSERT INTO wanted SELECT key FROM source._begawi_rows WHERE tbl = ?3 AND key > ?1 ORDER BY key LIMIT ?2",
                           arguments: [after, maxRows, id])
        case .keys(let sql, let extra):
            let values = [after.databaseValue, maxRows.databaseValue, id.databaseValue, receiver.databaseValue] + extra.map(\.databaseValue)
            let arguments = StatementArguments(values)
            try db.execute(sql: "INSERT INTO wanted SELECT key FROM (\(sql))", arguments: arguments)
        }
        // CROSS JOIN keeps the wanted keys the outer loop: otherwise SQLite may scan every row of the
        // table for each part (a first sync quadratic in the rows: 14 s of hub CPU at 1,000,000).
        try db.execute(sql: """
            INSERT INTO records(key, vector, stamps) SELECT r.key, r.vector, r.stamps FROM wanted w
              CROSS JOIN source._begawi_rows r ON r.tbl = ? AND r.key = w.key WHERE r.origin IS NOT ? ORDER BY w.key
            """, arguments: [id, receiver])
        let table = ReplicaSQL.quote(spec.name), key = quoted[0], columns = quoted.map { "t." + $0 }.joined(separator: ", ")
        try db.execute(sql: "INSERT INTO live SELECT r.n, \(columns) FROM records r CROSS JOIN source.\(table) t ON t.\(key) = r.key")
        try db.execute(sql: """
            INSERT INTO dead SELECT r.n, \(columns) FROM records r CROSS JOIN source.\(ReplicaSQL.dead(spec)) t ON t.\(key) = r.key
              WHERE NOT EXISTS (SELECT 1 FROM live WHERE live.n = r.n)
            """)
        try db.execute(sql: "INSERT INTO sites SELECT id, site FROM source._begawi_sites")
        let scanned = try Int.fetchOne(db, sql: "SELECT count(*) FROM wanted") ?? 0
        let lastKey = try String.fetchOne(db, sql: "SELECT max(key) FROM wanted")
        let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0
        let part = SnapshotPart(table: spec.name, position: UInt64(clamping: position), rows: rows, lastKey: lastKey ?? afterKey,
                                finished: scanned < maxRows)
        try SnapshotPartWriter.recordFields(db, part: part, epoch: replicaID, spec: spec)
        try db.execute(sql: "DROP TABLE wanted")
        return part
    }
}
