import BegawiCore
import BegawiReplica

/// The hub's check of values against their columns' limits (size, control characters), for hubs
/// whose schema declares no rules between agencies; `HubGate` makes the same check beside its rules.
struct ValueGate: ApplyGate {
    /// The schema file's declarations (limits may have changed since the tables were made), if read.
    let declared: Schema?

    func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision {
        guard let problem = ValueGate.problem(candidate, declared: declared) else { return .merge }
        return .refuse(reason: .badValue, message: problem)
    }

    func finish(merged: [StoredRowChange], refused: [RowRefusal], context: ReplicaContext) throws {}

    /// Whether any row of the batch has a key or value that `schema` does not accept (`ValueCheck`).
    static func mayRefuse(_ batch: ChangeBatch, schema: Schema) -> Bool {
        ValueCheck.mayRefuse(batch, schema: schema)
    }

    /// Why the row cannot be stored (`ValueCheck`).
    static func problem(_ candidate: MergeCandidate, declared: Schema?) -> String? {
        ValueCheck.problem(table: candidate.table, key: candidate.key, incoming: candidate.incoming, before: candidate.before, declared: declared)
    }
}
