public import BegawiCore

/// A row whose stored state a batch changed, with its values before and after.
public struct MergedRow: Sendable {
    /// The table.
    public var table: String
    /// The key.
    public var key: String
    /// The row before; nil if this replica did not have it.
    public var before: StoredRow?
    /// The row after.
    public var after: StoredRow
}
