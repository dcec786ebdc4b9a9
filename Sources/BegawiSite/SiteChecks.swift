import BegawiCore
import BegawiReplica
import BegawiRules

/// The site's own checks before anything is synced: a row whose NIK is not plausible, or whose key
/// is not the one derived from its NIK, stays here with a clear entry in the refusal ledger, and so
/// do later changes to it (a delete still goes: the hub may hold an earlier, valid version).
public enum SiteChecks {
    /// Reasons the site gives itself; rows held for them are never sent.
    public static let localReasons: Set<String> = ["invalid-nik", "key-mismatch"]

    /// Splits a batch into what may be sent, notices for rows held back, and which of those were
    /// held at their insert (the hub never has any version of them).
    static func screen(_ batch: ChangeBatch, policy: AccessPolicy, held: Set<RowKey>,
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
            var problem: (reason: String, message: String)?
            if let derived = policy[table.name]?.derivedKey, let i = table.columns.firstIndex(of: derived.column), let register = row.state.columns[i] {
                problem = policy.derivedKeyProblem(table: table.name, key: row.key, column: derived.column, value: register.value)
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
}
