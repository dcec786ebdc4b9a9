public import BegawiCore
public import BegawiHub
import PostgresNIO

/// Retention of records on PostgreSQL, as the SQLite hub applies it (`SQLiteHubStore+Retention`):
/// handled conflict entries leave the ledger after `ledger_retention_days`, and the audit is
/// archived (`AuditArchive`, the same files) and pruned after `audit_retention_days`. The sites
/// expired by the purge horizon are read here too, for `hub sites`.
extension PostgresHubStore {
    /// The sites expired at `now` (silent longer than `retention_days`, or behind the horizon), by
    /// id, as of the last housekeeping pass's record of what they acknowledged (as on SQLite).
    public func expiredSites(now: UInt64, retention: HubRetention) throws -> [String] {
        try pool.withLink { link in
            try link.transaction { link in
                try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                return try PostgresHubStore.horizon(epoch: try PostgresHubStore.readEpoch(link), now: now, retention: retention, on: link).expired
            }
        }
    }

    /// Clears handled conflict entries older than the ledger's retention, then archives and prunes
    /// the audit entries older than the audit's; the counts by the SQLite pass's names. The archive's
    /// folder must be named (`audit_archive_dir`): this store has no database file to put it beside.
    func applyRetention(now: UInt64, retention: HubRetention, on link: PostgresLink) throws -> [String: Int] {
        func cutoff(_ days: Int) -> Int64 { Int64(clamping: now) - Int64(days) * SQLiteHubStore.day }
        var done: [String: Int] = [:]
        done["conflicts.cleared"] = try clearHandledConflicts(before: cutoff(retention.ledgerRetentionDays), on: link)
        // Last: an archive folder that cannot be written fails the pass (logged), with the audit kept whole.
        if let days = retention.auditRetentionDays {
            guard let folder = retention.auditArchiveFolder else { throw PostgresHubStore.auditArchiveUnnamed }
            done["audit.archived"] = try AuditArchive(folder: folder, epoch: hubReplicaID)
                .archive(before: cutoff(days), from: PostgresAudit(link: link), chunk: SQLiteHubStore.auditChunk,
                         chunks: SQLiteHubStore.auditChunksPerPass)
        }
        return done
    }

    /// The refusal of an audit retention without an archive folder (the store's and hub.toml's check).
    public static let auditArchiveUnnamed = BegawiError(.configuration, "audit_retention_days is set but audit_archive_dir is not: a hub on PostgreSQL has no database file to keep the audit's archive beside; name a folder in hub.toml (audit_archive_dir), or leave audit_retention_days out to keep the audit")

    /// Deletes the conflict entries detected before `cutoff` that are handled: re-applied by the
    /// office (`_hub_reapplied`, when the office made it), or whose row is no longer live at the hub
    /// (deleted, erased, or of a table no longer synced). Entries the office has not acted on stay,
    /// however old, and so does the newest (its id, which `_hub_reapplied` refers to, is never handed
    /// out again). A thousand entries a statement, each its own transaction.
    func clearHandledConflicts(before cutoff: Int64, on link: PostgresLink) throws -> Int {
        let tables = currentDocument?.schema.tables ?? []
        guard let found = try link.query("SELECT to_regclass('_hub_reapplied') IS NOT NULL").first else { return 0 }
        let reapplied = try PostgresHubStore.decode("_hub_reapplied") { try found.decode(Bool.self) }
        // Live: a row of the entry's table's live copy (the synced tables follow every merge).
        let live = tables.isEmpty ? "false" : tables.enumerated().map { i, table in
            let key = SyncedTables.quote(table.primaryKey.name)
            return "(k.tbl = $\(i + 4) AND EXISTS (SELECT 1 FROM \(SyncedTables.quote(table.name)) l WHERE l.\(key) = k.key))"
        }.joined(separator: " OR ")
        let handled = reapplied ? "EXISTS (SELECT 1 FROM _hub_reapplied r WHERE r.conflict = k.id) OR NOT (\(live))" : "NOT (\(live))"
        let forget = reapplied ? ", forgotten AS (DELETE FROM _hub_reapplied r USING gone WHERE r.conflict = gone.id)" : ""
        var cleared = 0, after: Int64 = 0
        while true {
            var bindings = PostgresBindings()
            bindings.append(cutoff)
            bindings.append(after)
            bindings.append(Int64(SQLiteHubStore.conflictChunk))
            for table in tables { bindings.append(table.name) }
            guard let row = try link.query(PostgresQuery(unsafeSQL: """
                WITH k AS (
                    SELECT c.id, c.tbl, c.key FROM _begawi_conflicts c
                    WHERE c.detected_at < $1 AND c.id > $2 AND c.id < (SELECT max(id) FROM _begawi_conflicts) ORDER BY c.id LIMIT $3),
                gone AS (DELETE FROM _begawi_conflicts c USING k WHERE c.id = k.id AND (\(handled)) RETURNING c.id)\(forget)
                SELECT (SELECT max(id) FROM k), (SELECT count(*) FROM gone)
                """, binds: bindings)).first else { return cleared }
            let (last, count) = try PostgresHubStore.decode("_begawi_conflicts") { try row.decode((Int64?, Int64).self) }
            guard let last else { return cleared }
            cleared += Int(clamping: count)
            after = last
        }
    }
}

/// The PostgreSQL hub's `_hub_audit`, read and pruned by `AuditArchive.archive` on the pass's session.
struct PostgresAudit: AuditEntries {
    let link: PostgresLink

    func bounds() throws -> (first: Int64, newest: Int64)? {
        guard let row = try link.query("SELECT min(id), max(id) FROM _hub_audit").first else { return nil }
        let (first, newest) = try PostgresHubStore.decode("_hub_audit") { try row.decode((Int64?, Int64?).self) }
        guard let first, let newest else { return nil }
        return (first, newest)
    }

    func entries(in ids: ClosedRange<Int64>) throws -> [AuditArchive.Entry] {
        try read(link.query("""
            SELECT id, at, site, tbl, key, action, reason FROM _hub_audit WHERE id BETWEEN \(ids.lowerBound) AND \(ids.upperBound) ORDER BY id
            """))
    }

    func entries(below newest: Int64, limit: Int) throws -> [AuditArchive.Entry] {
        try read(link.query("SELECT id, at, site, tbl, key, action, reason FROM _hub_audit WHERE id < \(newest) ORDER BY id LIMIT \(Int64(limit))"))
    }

    func delete(_ ids: ClosedRange<Int64>) throws {
        try link.query("DELETE FROM _hub_audit WHERE id BETWEEN \(ids.lowerBound) AND \(ids.upperBound)")
    }

    private func read(_ rows: [PostgresRow]) throws -> [AuditArchive.Entry] {
        try rows.map { row in
            let (id, at, site, table, key, action, reason) = try PostgresHubStore.decode("_hub_audit") {
                try row.decode((Int64, Int64, String, String, String, String, String?).self)
            }
            return AuditArchive.Entry(id: id, at: at, site: site, table: table, key: key, action: action, reason: reason)
        }
    }
}
