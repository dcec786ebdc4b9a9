import BegawiCore
import BegawiReplica
internal import GRDB

/// Retention of records at the hub (issue 15, item 3): the audit is archived and pruned when
/// `audit_retention_days` is set, and handled conflict entries leave the ledger, with their values,
/// after `ledger_retention_days`. (The hub keeps no refused values: a refusal is an audit entry.)
extension SQLiteHubStore {
    /// Audit entries archived and deleted together, in one file per month.
    package static let auditChunk = 5_000
    /// Chunks archived in one pass at most: a backlog (the first pass after retention is set) is
    /// worked off over several passes, so that the pushes queued behind a pass wait little.
    package static let auditChunksPerPass = 20
    /// Conflict entries looked at in one write.
    package static let conflictChunk = 1_000

    /// Clears handled conflict entries older than the ledger's retention, then archives and prunes the
    /// audit entries older than the audit's; returns the counts for the pass's log line.
    public func applyRetention(now: UInt64, retention: HubRetention) throws -> [String: Int] {
        func cutoff(_ days: Int) -> Int64 { Int64(clamping: now) - Int64(days) * 86_400_000 }
        var done: [String: Int] = [:]
        done["conflicts.cleared"] = try clearHandledConflicts(before: cutoff(retention.ledgerRetentionDays))
        // Last: an archive folder that cannot be written fails the pass (logged), with the audit kept whole.
        if let days = retention.auditRetentionDays {
            done["audit.archived"] = try archiveAudit(before: cutoff(days), folder: retention.auditArchive(database: replica.path))
        }
        return done
    }

    /// Writes the audit entries recorded before `cutoff` to the archive and deletes them
    /// (`AuditArchive.archive`, which says how nothing is lost or archived twice). Returns how many
    /// entries left the database.
    func archiveAudit(before cutoff: Int64, folder: String, afterWriting: () throws -> Void = {}) throws -> Int {
        // A hub without rules keeps no audit.
        guard try replica.ownerRead({ db in try db.tableExists("_hub_audit") }) else { return 0 }
        return try AuditArchive(folder: folder, epoch: replica.replicaID)
            .archive(before: cutoff, from: SQLiteAudit(replica: replica), chunk: Self.auditChunk, chunks: Self.auditChunksPerPass,
                     afterWriting: afterWriting)
    }

    /// Deletes the conflict entries detected before `cutoff` that are handled: re-applied by the office,
    /// or whose row is no longer at the hub (deleted, erased, or of a table no longer synced), so that
    /// nothing is left to re-apply. Entries the office has not acted on stay, however old. The newest
    /// entry stays too, so that its id (which `_hub_reapplied` refers to) is never handed out again.
    func clearHandledConflicts(before cutoff: Int64) throws -> Int {
        var cleared = 0, after: Int64 = 0
        while true {
            let step: (cleared: Int, last: Int64?) = try replica.write { context in
                var step: (cleared: Int, last: Int64?) = (0, nil)
                for row in try context.query("""
                    SELECT c.id, c.tbl, c.key, r.conflict IS NOT NULL FROM _begawi_conflicts c LEFT JOIN _hub_reapplied r ON r.conflict = c.id
                    WHERE c.detected_at < ? AND c.id > ? AND c.id < (SELECT max(id) FROM _begawi_conflicts) ORDER BY c.id LIMIT ?
                    """, [.integer(cutoff), .integer(after), .integer(Int64(Self.conflictChunk))]) {
                    guard case .integer(let id) = row[0], let table = row[1].text, let key = row[2].text else { continue }
                    step.last = id
                    let reapplied = row[3] == .integer(1)
                    guard try reapplied || context.row(table, key: key)?.live != true else { continue }
                    try context.execute("DELETE FROM _begawi_conflicts WHERE id = ?", [.integer(id)])
                    try context.execute("DELETE FROM _hub_reapplied WHERE conflict = ?", [.integer(id)])
                    step.cleared += 1
                }
                return step
            }
            guard let last = step.last else { return cleared }
            cleared += step.cleared
            after = last
        }
    }
}

/// The SQLite hub's `_hub_audit`, read and pruned by `AuditArchive.archive`.
struct SQLiteAudit: AuditEntries {
    let replica: Replica

    func bounds() throws -> (first: Int64, newest: Int64)? {
        try replica.ownerRead { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT min(id), max(id) FROM _hub_audit"),
                  let first = row[0] as Int64?, let newest = row[1] as Int64? else { return nil }
            return (first, newest)
        }
    }

    func entries(in ids: ClosedRange<Int64>) throws -> [AuditArchive.Entry] {
        try read("id BETWEEN ? AND ? ORDER BY id", [ids.lowerBound, ids.upperBound])
    }

    func entries(below newest: Int64, limit: Int) throws -> [AuditArchive.Entry] {
        try read("id < ? ORDER BY id LIMIT ?", [newest, limit])
    }

    func delete(_ ids: ClosedRange<Int64>) throws {
        try replica.ownerWrite { db in
            try db.execute(sql: "DELETE FROM _hub_audit WHERE id BETWEEN ? AND ?", arguments: [ids.lowerBound, ids.upperBound])
        }
    }

    private func read(_ condition: String, _ arguments: StatementArguments) throws -> [AuditArchive.Entry] {
        try replica.ownerRead { db in
            try Row.fetchAll(db, sql: "SELECT id, at, site, tbl, key, action, reason FROM _hub_audit WHERE \(condition)", arguments: arguments).map {
                AuditArchive.Entry(id: $0[0], at: $0[1], site: $0[2], table: $0[3], key: $0[4], action: $0[5], reason: $0[6])
            }
        }
    }
}
