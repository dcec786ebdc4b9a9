public import BegawiCore
internal import GRDB

/// Handled ledger entries leave a site's replica, with the values they kept, after the site's
/// `ledger_retention_days` (issue 15). What "handled" means at a site:
/// - a conflict entry: always, once old enough. The site cannot act on it; the hub's ledger holds the
///   same conflict (the hub merges every write), and the office reviews and re-applies it there.
/// - a refusal: unless it still holds a live row back: this site's own checks (`keeping`) or a row
///   that waits for a reference and goes again at each round (`awaiting-reference`). A refused change
///   the hub settled (the row was restored to what the hub holds) is handled.
extension Replica {
    /// What one bounded step of ledger retention removed, and where the next step goes on.
    public struct LedgerRetentionStep: Sendable, Equatable {
        /// Conflict entries removed.
        public var conflicts = 0
        /// Refusals removed.
        public var refusals = 0
        /// The last refusal id looked at, for the next step; nil when none was left to look at.
        public var lastRefusal: Int64?
        /// Whether another step may find more to remove.
        public var more: Bool { conflicts > 0 || lastRefusal != nil }
    }

    /// Removes at most `limit` conflict entries detected before `before` (ms since the Unix epoch),
    /// and looks at most at `limit` refusals recorded before it with an id above `afterRefusal`,
    /// removing the handled ones; one short write. Call again with `lastRefusal` while `more`.
    public func clearHandledLedgers(before: UInt64, keeping reasons: Set<RefusalReason>, afterRefusal: Int64 = 0,
                                    limit: Int) throws -> LedgerRetentionStep {
        let cutoff = Int64(clamping: before), limit = max(1, limit)
        return try engineWrite { tx in
            var step = LedgerRetentionStep()
            try tx.db.execute(sql: """
                DELETE FROM _begawi_conflicts WHERE id IN (SELECT id FROM _begawi_conflicts WHERE detected_at < ? ORDER BY id LIMIT ?)
                """, arguments: [cutoff, limit])
            step.conflicts = tx.db.changesCount
            let refusals = try clearRefusals(tx, before: cutoff, keeping: reasons.union(Replica.keptReasons.map { RefusalReason($0) }),
                                             after: afterRefusal, limit: limit)
            step.refusals = refusals.removed
            step.lastRefusal = refusals.last
            return step
        }
    }

    /// Looks at up to `limit` refusals recorded before `before` with an id above `after`, and removes
    /// those not for `keeping` reasons whose row is still live here. Returns how many it removed and
    /// the last id it looked at (nil when there was none).
    func clearRefusals(_ tx: EngineTransaction, before: Int64, keeping reasons: Set<RefusalReason>, after: Int64,
                       limit: Int) throws -> (removed: Int, last: Int64?) {
        let context = ReplicaContext(tx: tx, replica: self)
        var removed = 0, last: Int64?
        for row in try Row.fetchAll(tx.db, sql: "SELECT id, tbl, key, reason FROM _begawi_refusals WHERE at < ? AND id > ? ORDER BY id LIMIT ?",
                                    arguments: [before, after, limit]) {
            let id: Int64 = row[0], table: String = row[1], key: String = row[2], reason = RefusalReason(row[3] as String)
            last = id
            if reasons.contains(reason), try context.row(table, key: key)?.live == true { continue }
            try tx.db.execute(sql: "DELETE FROM _begawi_refusals WHERE id = ?", arguments: [id])
            removed += 1
        }
        return (removed, last)
    }
}
