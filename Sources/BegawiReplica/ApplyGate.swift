public import BegawiCore

/// Decides, inside the apply transaction, which incoming rows merge, and keeps what it needs beside
/// the engine's rows in the same transaction. The hub's rules between agencies are one.
public protocol ApplyGate {
    /// Decides one row of the batch; rows are shown in batch order, each after the previous merged.
    func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision
    /// Called once after the batch's rows are decided and merged, before the commit.
    func finish(merged: [StoredRowChange], refused: [RowRefusal], context: ReplicaContext) throws
}
