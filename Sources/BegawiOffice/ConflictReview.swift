public import BegawiCore
package import BegawiRules

/// A conflict as the office reviews it: the ledger's entry, and whether the losing value was
/// re-applied (and when), or why it cannot be.
public struct ConflictReview: Sendable {
    /// The ledger's entry.
    public var entry: ConflictLedgerEntry
    /// When the office re-applied the losing value, if it did.
    public var reappliedAt: Int64?
    /// Why the losing value cannot be re-applied from the dashboard; nil when it can.
    public var blocked: String?

    /// Makes a review of a ledger entry (either store builds them).
    package init(entry: ConflictLedgerEntry, reappliedAt: Int64?, blocked: String?) {
        self.entry = entry
        self.reappliedAt = reappliedAt
        self.blocked = blocked
    }

    /// Why a losing value cannot be written back from the dashboard, on either store: the winner
    /// deleted the row, the table or column is no longer synced (`schema`, the hub's current one),
    /// or the column decides who owns or sees the row, or derives its key, under `policy` (such a
    /// column changes at the owner's site, where the rules judge it). Nil when it can.
    package static func block(_ c: ConflictLedgerEntry, schema: Schema, policy: AccessPolicy?) -> String? {
        if c.winnerIsDelete { return "baris ini sudah dihapus" }
        guard let spec = schema.table(named: c.table) else { return "tabel ini tidak lagi disinkronkan" }
        guard spec.columns.contains(where: { $0.name == c.column }) else { return "kolom ini tidak lagi ada" }
        if let policy, let rule = policy.tables[c.table] {
            var deciding = rule.ownerColumn == c.column || rule.derivedKey?.column == c.column
            if case .via(let column, _) = rule.owner, column == c.column { deciding = true }
            if policy.tables.values.contains(where: { $0.linkedBy.contains { $0.table == c.table && $0.column == c.column } }) { deciding = true }
            if deciding { return "kolom ini menentukan pemilik atau penerima baris; ubah di situs pemiliknya" }
        }
        return nil
    }
}

/// The refusals of a re-apply, in the same words on both stores.
package enum ReapplyRefusal {
    /// No ledger entry has this id.
    package static func unknown(_ id: Int64) -> BegawiError { BegawiError(.invalidArgument, "there is no conflict \(id) in the ledger") }
    /// The entry's losing value may not be written back from the dashboard (`ConflictReview.block`).
    package static func blocked(_ id: Int64, _ why: String) -> BegawiError {
        BegawiError(.invalidArgument, "conflict \(id) cannot be re-applied: \(why)")
    }
    /// The office re-applied it before.
    package static func done(_ id: Int64) -> BegawiError { BegawiError(.invalidArgument, "conflict \(id) was already re-applied") }
    /// The row is no longer live at the hub.
    package static func gone(_ id: Int64) -> BegawiError {
        BegawiError(.invalidArgument, "the row of conflict \(id) is no longer at the hub (deleted or erased)")
    }
}
