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

/// What a gate decides for one incoming row.
public enum GateDecision: Sendable, Equatable {
    /// Merge the row.
    case merge
    /// Leave the stored row as it is.
    case refuse(reason: String, message: String)
    /// Leave the stored row as it is, and put the incoming values that differ from it in the
    /// conflict ledger as losers.
    case refuseKeepingConflicts(reason: String, message: String)
    /// Decide after the rest of the batch has merged (the row references one that comes later).
    case later
    /// Merge this incoming state instead (the incoming one with some registers left out or replaced),
    /// and tell the sender why. The gate is asked once more about the row as it would then merge;
    /// when nothing of the row would change, the row is refused whole.
    case mergeAdjusted(RowState, reason: String, message: String)
}

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

/// Decides, inside the apply transaction, which incoming rows merge, and keeps what it needs beside
/// the engine's rows in the same transaction. The hub's rules between agencies are one.
public protocol ApplyGate {
    /// Decides one row of the batch; rows are shown in batch order, each after the previous merged.
    func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision
    /// Called once after the batch's rows are decided and merged, before the commit.
    func finish(merged: [MergedRow], refused: [RowRefusal], context: ReplicaContext) throws
}

/// Chooses, inside an export's read transaction, which rows a peer may receive, and adds rows it
/// must receive whole or remove (the hub's view for one site).
public protocol ExportView {
    /// The last sequence number this page may cover, or nil for no bound (keeps extras per page bounded).
    func bound(after position: UInt64, maxRows: Int, context: ReplicaContext) throws -> UInt64?
    /// Whether the peer may receive this row.
    func includes(table: String, key: String, context: ReplicaContext) throws -> Bool
    /// Rows to send whole (newly visible) and rows the peer must remove (no longer visible), for the
    /// part of the sequence the page covers.
    func extras(after position: UInt64, through: UInt64, context: ReplicaContext) throws -> (whole: [RowKey], evict: [RowKey])
}
