import BegawiCore
import BegawiReplica
internal import GRDB

/// Retention of records at the hub (issue 15, item 3): the audit is archived and pruned when
/// `audit_retention_days` is set, and handled conflict entries leave the ledger, with their values,
/// after `ledger_retention_days`. (The hub keeps no refused values: a refusal is an audit entry.)
extension SQLiteHubStore {
    /// Audit entries archived and deleted together, in one file per month.
    static let auditChunk = 5_000
    /// Chunks archived in one pass at most: a backlog (the first pass after retention is set) is
    /// worked off over several passes, so that the pushes queued behind a pass wait little.
    static let auditChunksPerPass = 20
    /// Conflict entries looked at in one write.
    static let conflictChunk = 1_000

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

    /// Writes the audit entries recorded before `cutoff` to the archive, oldest first in chunks, and
    /// deletes each chunk once its files are durable. The newest entry always stays, so that its id is
    /// never handed out again and no later chunk can take an archived chunk's name. A chunk whose files
    /// exist but whose entries are still here (a crash or an error between the two: `afterWriting`
    /// lets a test throw there) is written again whole, to the same names, before it is deleted: no
    /// entry is lost, none archived twice. Returns how many entries left the database.
    func archiveAudit(before cutoff: Int64, folder: String, afterWriting: () throws -> Void = {}) throws -> Int {
        // A hub without rules keeps no audit.
        guard try replica.ownerRead({ db in try db.tableExists("_hub_audit") }) else { return 0 }
        let archive = AuditArchive(folder: folder, epoch: replica.replicaID)
        archive.removeTemporaries()
        var archived = 0
        for _ in 0..<Self.auditChunksPerPass {
            let chunk: (ids: ClosedRange<Int64>, entries: [AuditArchive.Entry])? = try replica.ownerRead { db in
                guard let first = try Int64.fetchOne(db, sql: "SELECT min(id) FROM _hub_audit"),
                      let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM _hub_audit") else { return nil }
                if let ids = try archive.unfinished(startingAt: first) {
                    return (ids, try Self.auditEntries(db, "id BETWEEN ? AND ? ORDER BY id", [ids.lowerBound, ids.upperBound]))
                }
                // In id order up to the first entry not yet old enough: a later pass starts where this one ended.
                let entries = try Self.auditEntries(db, "id < ? ORDER BY id LIMIT ?", [newest, Self.auditChunk]).prefix { $0.at < cutoff }
                guard let low = entries.first?.id, let high = entries.last?.id else { return nil }
                return (low...high, Array(entries))
            }
            guard let chunk else { break }
            _ = try archive.write(chunk.entries, ids: chunk.ids)
            try afterWriting()
            try replica.ownerWrite { db in
                try db.execute(sql: "DELETE FROM _hub_audit WHERE id BETWEEN ? AND ?", arguments: [chunk.ids.lowerBound, chunk.ids.upperBound])
            }
            archived += chunk.entries.count
        }
        return archived
    }

    static func auditEntries(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [AuditArchive.Entry] {
        try Row.fetchAll(db, sql: "SELECT id, at, site, tbl, key, action, reason FROM _hub_audit WHERE \(condition)", arguments: arguments).map {
            let at: Int64 = $0[1]
            return AuditArchive.Entry(id: $0[0], at: at, time: AuditArchive.time(of: at), site: $0[2], table: $0[3], key: $0[4],
                                      action: $0[5], reason: $0[6])
        }
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
