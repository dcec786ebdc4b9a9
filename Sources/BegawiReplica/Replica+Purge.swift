import BegawiCore
internal import GRDB

extension Replica {
    /// Purges one chunk of tombstones of `table`: rows last changed below `belowSeq` that have no live
    /// row, at most `limit`: their dead-table row and their merge state. One engine
    /// transaction; the condition is evaluated inside it, so a row re-inserted or changed before the
    /// chunk runs (a live row, a newer seq) keeps its metadata. `alongside` runs in the same transaction
    /// with the purged keys, which are also in `temp._begawi_purge_keys` meanwhile (the hub remembers
    /// them). Returns the purged keys.
    @discardableResult
    public func purgeTombstones(of table: String, belowSeq: UInt64, limit: Int,
                                alongside: (ReplicaContext, [String]) throws -> Void = { _, _ in }) throws -> [String] {
        guard let index = tableByName[table] else {
            throw BegawiError(.invalidArgument, "no synced table '\(table)' in \(path)")
        }
        let spec = tables[index].spec, id = tables[index].id
        let key = ReplicaSQL.quote(spec.primaryKey.name)
        return try engineWrite { tx in
            let db = tx.db
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS _begawi_purge_keys(key TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
            try db.execute(sql: "DELETE FROM temp._begawi_purge_keys")
            // Driven by the tombstones (few, once purged), not by the change sequence, where every live row below the horizon lies.
            try db.execute(sql: """
                INSERT INTO temp._begawi_purge_keys(key)
                SELECT d.\(key) FROM \(ReplicaSQL.dead(spec)) d JOIN _begawi_rows r ON r.tbl = ? AND r.key = d.\(key)
                WHERE r.seq < ? AND NOT EXISTS (SELECT 1 FROM \(ReplicaSQL.quote(spec.name)) l WHERE l.\(key) = d.\(key))
                LIMIT ?
                """, arguments: [id, Int64(clamping: belowSeq), max(1, limit)])
            let keys = try String.fetchAll(db, sql: "SELECT key FROM temp._begawi_purge_keys")
            guard !keys.isEmpty else { return [] }
            try db.execute(sql: "DELETE FROM \(ReplicaSQL.dead(spec)) WHERE \(key) IN (SELECT key FROM temp._begawi_purge_keys)")
            try db.execute(sql: "DELETE FROM _begawi_rows WHERE tbl = ? AND key IN (SELECT key FROM temp._begawi_purge_keys)", arguments: [id])
            try alongside(ReplicaContext(tx: tx, replica: self), keys)
            try db.execute(sql: "DELETE FROM temp._begawi_purge_keys")
            return keys
        }
    }

    /// A site's purge of its own tombstones (issue 15): notes this replica's head at the hour (marks in
    /// `_begawi_purge_marks`, pruned as they age), then purges, in chunks, tombstones changed at or
    /// before the head it had at `before` (the hub's wall time `retention_days` ago) and at or before
    /// `acknowledgedSeq` (the hub's cursor for this replica: the hub holds those deletes). Returns how many.
    public func purgeOwnTombstones(before: UInt64, acknowledgedSeq: UInt64, chunk: Int = 2_000) throws -> Int {
        let now = Int64(clamping: wallClock.nowMilliseconds()), cutoff = Int64(clamping: before)
        let marked = try pool.write { db -> Int64 in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS _begawi_purge_marks(at INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
            try db.execute(sql: """
                INSERT INTO _begawi_purge_marks(at, seq) SELECT ?1, coalesce((SELECT value FROM _begawi_state WHERE name = 'seq'), 0)
                WHERE NOT EXISTS (SELECT 1 FROM _begawi_purge_marks WHERE at > ?1 - 3600000)
                """, arguments: [now])
            try db.execute(sql: "DELETE FROM _begawi_purge_marks WHERE at < (SELECT max(at) FROM _begawi_purge_marks WHERE at <= ?)", arguments: [cutoff])
            return try Int64.fetchOne(db, sql: "SELECT max(seq) FROM _begawi_purge_marks WHERE at <= ?", arguments: [cutoff]) ?? 0
        }
        let through = min(UInt64(clamping: marked), acknowledgedSeq)
        guard through > 0 else { return 0 }
        var purged = 0
        for table in schema.tables {
            while true {
                let keys = try purgeTombstones(of: table.name, belowSeq: through + 1, limit: chunk)
                purged += keys.count
                if keys.count < chunk { break }
            }
        }
        return purged
    }
}
