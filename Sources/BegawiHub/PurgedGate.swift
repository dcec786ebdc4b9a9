import BegawiCore
import BegawiReplica

/// Refuses a write to a row the hub deleted and then purged below its horizon (`_hub_purged`) from a
/// site that never saw the delete, before the hub's other gate (rules or values) judges the row: the
/// row is not re-inserted, and the site moves it to its refusal ledger (`purged`, action evict).
struct PurgedGate: ApplyGate {
    /// The hub's gate for the rest (`HubGate` or `ValueGate`); nil to merge what is not purged.
    let inner: (any ApplyGate)?

    func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision {
        // A row the hub holds (live, or still a tombstone) was not purged, or was written again since.
        if candidate.before == nil,
           try !context.query("SELECT 1 FROM _hub_purged WHERE tbl = ? AND key = ?", [.text(candidate.table.name), .text(candidate.key)]).isEmpty {
            return .refuse(reason: .purged, message: "this row of '\(candidate.table.name)' was deleted at the hub and its record purged; it is not written again (see the refusal ledger)")
        }
        return try inner?.admit(candidate, context: context) ?? .merge
    }

    func finish(merged: [StoredRowChange], refused: [RowRefusal], context: ReplicaContext) throws {
        try inner?.finish(merged: merged, refused: refused, context: context)
    }
}
