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
    /// `before` as values by column name (nil when `before` is), made once by the merge for the gate
    /// and for the list of merged rows the gate gets at the end.
    public var beforeRow: StoredRow?
    /// `after` as values by column name, made once as `beforeRow` is.
    public var afterRow: StoredRow
}

extension MergeCandidate {
    /// Makes a candidate outside the engine's merge: the PostgreSQL hub store shows its rows to the
    /// same gate (`HubGate`).
    package init(table: TableSpec, key: String, incoming: RowState, before: RowState?, after: RowState, final: Bool) {
        self.init(table: table, key: key, incoming: incoming, before: before, after: after, final: final,
                  beforeRow: before.map { StoredRow(table, $0) }, afterRow: StoredRow(table, after))
    }
}
