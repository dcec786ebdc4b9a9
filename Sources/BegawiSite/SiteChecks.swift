public import BegawiCore
public import BegawiReplica
import BegawiRules

/// The site's own checks before anything is synced: a row whose NIK is not plausible, or whose key
/// is not the one derived from its NIK, stays here with a clear entry in the refusal ledger, and so
/// do later changes to it (a delete still goes: the hub may hold an earlier, valid version). So does
/// a row with a value its column does not accept (too large, or a control character), until the
/// value is corrected: then it is sent whole (`releaseCorrected`).
public enum SiteChecks {
    /// Reasons the site gives itself; rows held for them are never sent.
    public static let localReasons: Set<RefusalReason> = [.invalidNIK, .keyMismatch, valueReason]
    /// The reason of a value its column does not accept (the hub refuses such a row with the same).
    public static let valueReason = RefusalReason.badValue

    /// The rows this site's checks hold back now. The hub refuses with `bad-value` too; a row it
    /// refused (and restored) is not held here.
    public static func heldRows(_ replica: Replica) throws -> Set<RowKey> {
        try replica.heldRows(reasons: localReasons, heldHereOnly: [valueReason])
    }

    /// How many live rows this site's checks hold back (`site sync` exits 3 while any are): only
    /// refusals these checks recorded, none the hub gave.
    public static func heldBackCount(_ replica: Replica) throws -> Int {
        try replica.heldBackCount(reasons: localReasons, heldHereOnly: localReasons)
    }

    /// Releases rows held for a value that has since been corrected (or whose column now allows it):
    /// they are sent whole next.
    static func releaseCorrected(_ replica: Replica, declared: Schema?) throws -> Int {
        try replica.releaseHeld(reason: valueReason) { spec, key, values in
            spec.keyProblem(key) != nil || zip(spec.columns, values).contains { column, value in
                (declared?.declared(column, of: spec.name) ?? column).problem(with: value) != nil
            }
        }
    }

    /// Splits a batch into what may be sent, notices for rows held back, and which of those were
    /// held at their insert (the hub never has any version of them). Values are judged against
    /// `schema` when this site (`site`) wrote them; NIKs and keys against `policy`, if any.
    static func screen(_ batch: ChangeBatch, site: String, schema: Schema, policy: AccessPolicy?, held: Set<RowKey>,
                       heldInserts: Set<RowKey>) -> (ChangeBatch, [RowRefusal], Set<RowKey>) {
        var kept: [RowChange] = []
        var notices: [RowRefusal] = []
        var inserts = Set<RowKey>()
        for row in batch.rows {
            let table = batch.tables[row.table]
            let address = RowKey(table: table.name, key: row.key)
            if row.state.deleted?.value == RowState.deletedMarker {
                // The deletion of a row the hub never had is not news to it.
                if !heldInserts.contains(address) { kept.append(row) }
                continue
            }
            if held.contains(address) { continue }
            var problem: (reason: RefusalReason, message: String)?
            if let policy, let derived = policy[table.name]?.derivedKey, let i = table.columns.firstIndex(of: derived.column),
               let register = row.state.columns[i] {
                problem = policy.derivedKeyProblem(table: table.name, key: row.key, column: derived.column, value: register.value)
            }
            if problem == nil, let spec = schema.table(named: table.name) {
                problem = valueProblem(row, columns: table.columns, spec: spec, site: site)
            }
            if let problem {
                notices.append(RowRefusal(table: address.table, key: address.key, reason: problem.reason, message: problem.message))
                if row.state.deleted?.value == RowState.liveMarker { inserts.insert(address) }
            } else {
                kept.append(row)
            }
        }
        var screened = batch
        screened.rows = kept
        return (screened, notices, inserts)
    }

    /// A value this site wrote that its column does not accept.
    static func valueProblem(_ row: RowChange, columns: [String], spec: TableSpec, site: String) -> (reason: RefusalReason, message: String)? {
        if let problem = spec.keyProblem(row.key) { return (valueReason, problem + "; the row stays here, unsent") }
        for (i, register) in row.state.columns.enumerated() {
            guard let register, register.stamp.site == site, i < columns.count, let position = spec.position(of: columns[i]),
                  let problem = spec.columns[position].problem(with: register.value) else { continue }
            return (valueReason, problem + "; the row stays here, unsent, until the value is corrected")
        }
        return nil
    }
}
