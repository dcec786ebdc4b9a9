public import BegawiCore

/// A conflict as the office reviews it: the ledger's entry, and whether the losing value was
/// re-applied (and when), or why it cannot be.
public struct ConflictReview: Sendable {
    /// The ledger's entry.
    public var entry: ConflictLedgerEntry
    /// When the office re-applied the losing value, if it did.
    public var reappliedAt: Int64?
    /// Why the losing value cannot be re-applied from the dashboard; nil when it can.
    public var blocked: String?
}
