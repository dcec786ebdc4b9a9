import BegawiCore
import BegawiReplica

/// Refuses a write to a row the hub deleted and then purged below its horizon (`_hub_purged`) from a
/// site that never saw the delete, before the hub's other gate (rules or values) judges the row: the
/// row is not re-inserted, and the site moves it to its refusal ledger (`purged`, action evict).
final class PurgedGate: ApplyGate {
    /// The hub's gate for the rest (`HubGate` or `ValueGate`); nil to merge what is not purged.
    let inner: (any ApplyGate)?
    /// The batch's rows that were purged, read for the whole batch at once in `prepare`.
    private var purged = Set<RowKey>()

    init(inner: (any ApplyGate)?) {
        self.inner = inner
    }

    func prepare(_ batch: ChangeBatch, context: ReplicaContext) throws {
        purged = try context.rows(of: batch, in: "_hub_purged")
        try inner?.prepare(batch, context: context)
    }

    func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision {
        // A row the hub holds (live, or still a tombstone) was not purged, or was written again since.
        if candidate.before == nil, purged.contains(RowKey(table: candidate.table.name, key: candidate.key)) {
            return .refuse(reason: .purged, message: SQLiteHubStore.purgedMessage(table: candidate.table.name))
        }
        return try inner?.admit(candidate, context: context) ?? .merge
    }

    func finish(merged: [StoredRowChange], refused: [RowRefusal], context: ReplicaContext) throws {
        try inner?.finish(merged: merged, refused: refused, context: context)
    }
}
