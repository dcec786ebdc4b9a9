public import BegawiCore

/// Decides, inside the apply transaction, which incoming rows merge, and keeps what it needs beside
/// the engine's rows in the same transaction. The hub's rules between agencies are one.
public protocol ApplyGate {
    /// Called once before the batch's rows are shown, to read what the gate needs of the whole batch
    /// in one lookup instead of one per row. Does nothing unless the gate implements it.
    func prepare(_ batch: ChangeBatch, context: ReplicaContext) throws
    /// Decides one row of the batch; rows are shown in batch order, each after the previous merged.
    func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision
    /// Called once after the batch's rows are decided and merged, before the commit.
    func finish(merged: [StoredRowChange], refused: [RowRefusal], context: ReplicaContext) throws
}

extension ApplyGate {
    /// Nothing to read ahead.
    public func prepare(_ batch: ChangeBatch, context: ReplicaContext) throws {}
}
