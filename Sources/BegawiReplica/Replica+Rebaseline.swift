public import BegawiCore
internal import GRDB

/// Re-baselining (issue 15): a replica that returns after the hub purged changes it never received
/// pulls a fresh copy from position 0, marking each row the copy includes, then removes what it
/// still holds that the copy left out and that it has not sent. The state is in the file
/// (`_begawi_state` `rebaseline`, the marks in `_begawi_rebaseline`): a crash in the middle resumes it.
extension Replica {
    static let rebaselineSQL = "CREATE TABLE IF NOT EXISTS _begawi_rebaseline(tbl INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY(tbl, key)) WITHOUT ROWID"

    /// Whether a re-baseline is under way: begun and not finished (a crash leaves it so).
    public func isRebaselining() throws -> Bool {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT 1 FROM _begawi_state WHERE name = 'rebaseline'") != nil }
    }

    /// Begins (or begins again) a re-baseline from the hub `hubReplicaID`: its pull cursor goes back to
    /// the start and the marks made so far are forgotten, in one transaction.
    public func beginRebaseline(from hubReplicaID: String) throws {
        try pool.write { db in
            try db.execute(sql: Replica.rebaselineSQL)
            try db.execute(sql: "DELETE FROM _begawi_rebaseline")
            try db.execute(sql: "INSERT OR REPLACE INTO _begawi_state(name, value) VALUES ('rebaseline', ?)", arguments: [hubReplicaID])
            try db.execute(sql: "INSERT OR REPLACE INTO _begawi_cursors(source, base, position) VALUES (?, 0, 0)", arguments: [hubReplicaID])
        }
    }

    /// Marks the rows of a page of the fresh copy, before the page is applied: a crash in between leaves
    /// marks for rows that the same page, pulled again, brings anyway.
    public func markRebaseline(_ batch: ChangeBatch) throws {
        guard !batch.rows.isEmpty else { return }
        let ids = batch.tables.map { tableByName[$0.name].map { tables[$0].id } }
        try pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO _begawi_rebaseline(tbl, key) VALUES (?, ?)")
            for row in batch.rows {
                guard row.table < ids.count, let id = ids[row.table] else { continue }
                try insert.execute(arguments: [id, row.key])
            }
        }
    }

    /// Ends a re-baseline once the fresh copy is applied: removes, from this replica only (nothing is
    /// captured: no outbox row, no tombstone), every row it holds that the copy left out and that has no
    /// unsent change (changed after `pushedSeq`, the hub's cursor for this replica, or waiting in the
    /// outbox) and that its refusal ledger does not hold back here, then forgets the marks. Returns the
    /// rows removed.
    public func finishRebaseline(pushedSeq: UInt64) throws -> Int {
        try engineWrite { tx in
            let db = tx.db
            var removed = 0
            for table in tables {
                let key = ReplicaSQL.quote(table.spec.primaryKey.name)
                let gone = """
                    SELECT key FROM _begawi_rows WHERE tbl = \(table.id) AND seq <= ?1
                      AND key NOT IN (SELECT key FROM _begawi_rebaseline WHERE tbl = \(table.id))
                      AND key NOT IN (SELECT key FROM _begawi_outbox WHERE tbl = \(table.id))
                      AND key NOT IN (SELECT key FROM _begawi_refusals WHERE tbl = ?2)
                    """
                let arguments: StatementArguments = [Int64(clamping: pushedSeq), table.spec.name]
                try db.execute(sql: "DELETE FROM \(ReplicaSQL.quote(table.spec.name)) WHERE \(key) IN (\(gone))", arguments: arguments)
                removed += db.changesCount
                try db.execute(sql: "DELETE FROM \(ReplicaSQL.dead(table.spec)) WHERE \(key) IN (\(gone))", arguments: arguments)
                try db.execute(sql: "DELETE FROM _begawi_rows WHERE key IN (\(gone)) AND tbl = \(table.id)", arguments: arguments)
            }
            try db.execute(sql: "DELETE FROM _begawi_rebaseline")
            try db.execute(sql: "DELETE FROM _begawi_state WHERE name = 'rebaseline'")
            return removed
        }
    }
}
