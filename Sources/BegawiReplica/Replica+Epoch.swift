public import BegawiCore
import Foundation
internal import GRDB

extension Replica {
    /// The replicas this one descends from by backup, oldest first.
    public func lineage() throws -> [LineageLink] {
        try pool.read { db in try Replica.loadLineage(db) }
    }

    static func loadLineage(_ db: Database) throws -> [LineageLink] {
        guard let text = try String.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'lineage'") else { return [] }
        return (try? JSONDecoder().decode([LineageLink].self, from: Data(text.utf8))) ?? []
    }

    /// Writes a consistent copy of this replica to `path` while it stays in use (readers and
    /// writers go on), and gives the copy a new replica id: its epoch.
    ///
    /// If the copy is ever put back into service, other replicas see a new epoch whose lineage says how
    /// much of the old change feed it shares, re-send what it lacks, and fetch again only what
    /// changed after the copy was made.
    public func backup(to path: String) throws {
        if FileManager.default.fileExists(atPath: path) {
            throw BegawiError(.invalidArgument, "\(path) already exists; choose a new file for the backup")
        }
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let copy = try DatabaseQueue(path: partial)
            try pool.backup(to: copy)
            try copy.write { db in
                let seq = try Int64.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'seq'") ?? 0
                var lineage = try Replica.loadLineage(db)
                lineage.append(LineageLink(replicaID: replicaID, throughSeq: UInt64(clamping: seq)))
                let text = String(decoding: try JSONEncoder().encode(lineage), as: UTF8.self)
                var generator = UUIDv7Generator()
                try db.execute(sql: "UPDATE _begawi_state SET value = ? WHERE name = 'replica_id'", arguments: [generator.next()])
                try db.execute(sql: "INSERT OR REPLACE INTO _begawi_state(name, value) VALUES ('lineage', ?)", arguments: [text])
            }
            try copy.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            try copy.close()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch let error as BegawiError {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw BegawiError(.storage, "cannot write the backup \(path); check the folder and free space", cause: "\(error)")
        }
    }

    /// Starts this replica's cursor for another replica's backup (a new epoch, `newReplicaID`) from its
    /// cursor for the ancestor (`oldReplicaID`), limited to the part of the feed the two share. Does
    /// nothing when the new replica has a cursor. Returns the cursor now held for `newReplicaID`.
    @discardableResult
    public func adoptCursor(from oldReplicaID: String, to newReplicaID: String, sharedThroughSeq: UInt64) throws -> ExchangeCursor {
        try pool.write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM _begawi_cursors WHERE source = ?", arguments: [newReplicaID]) != nil {
                return try loadCursor(db, replicaID: newReplicaID)
            }
            let old = try loadCursor(db, replicaID: oldReplicaID)
            let next = ExchangeCursor(baseSeq: min(old.baseSeq, sharedThroughSeq), seq: min(old.seq, sharedThroughSeq))
            try db.execute(sql: "INSERT INTO _begawi_cursors(source, base, position) VALUES (?, ?, ?)",
                           arguments: [newReplicaID, Int64(next.baseSeq), Int64(next.seq)])
            return next
        }
    }

    /// The replicas this replica holds cursors for.
    public func cursorReplicaIDs() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT source FROM _begawi_cursors") }
    }
}
