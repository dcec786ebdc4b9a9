public import BegawiCore

/// One incoming row, as it would merge, shown to an `ApplyGate` before anything is stored.
public struct MergeCandidate: Sendable {
    /// The table.
    public var table: TableSpec
    /// The row's key.
    public var key: String
    /// The incoming registers and vector, by this replica's column positions.
    public var incoming: RowState
    /// The stored row with its values; nil if this replica never had it.
    public var before: RowState?
    /// The row after the merge.
    public var after: RowState
    /// Whether the gate must decide now: the rest of the batch has merged, so `.later` is not allowed.
    public var final: Bool
}
