import BegawiCore
internal import GRDB

extension Replica {
    /// Purges one chunk of tombstones of `table`: rows last changed below `belowSeq` that have no live
    /// row, oldest change first, at most `limit`: their dead-table row and their merge state. One engine
    /// transaction; the condition is evaluated inside it, so a row re-inserted or changed before the
    /// chunk runs (a live row, a newer seq) keeps its metadata. `alongside` runs in the same transaction
    /// with the purged keys (the hub remembers them). Returns the purged keys.
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
            try db.execute(sql: """
                INSERT INTO temp._begawi_purge_keys(key)
                SELECT r.key FROM _begawi_rows r
                WHERE r.tbl = ? AND r.seq < ? AND NOT EXISTS (SELECT 1 FROM \(ReplicaSQL.quote(spec.name)) l WHERE l.\(key) = r.key)
                ORDER BY r.seq LIMIT ?
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
}
