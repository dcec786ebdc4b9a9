import BegawiCore
import BegawiReplica
import BegawiRules

/// The rules' view of the hub's rows, read inside the engine's transaction.
struct HubLookup: RuleLookup {
    let context: ReplicaContext
    var cache: HubLookupCache?

    func row(_ table: String, key: String) throws -> StoredRow? {
        if let cache, cache.tables.contains(table) {
            let address = RowKey(table: table, key: key)
            if let hit = cache.rows[address] { return hit }
            let row = try context.row(table, key: key)
            cache.rows[address] = .some(row)
            return row
        }
        return try context.row(table, key: key)
    }

    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)] {
        try context.rows(table, where: column, is: value, liveOnly: liveOnly)
    }
}

/// Rows of the tables other rows take their owner from (programs, for enrollments) or reference
/// through a link (participants), read once per push: most rows of a batch name the same few, and
/// the gate and the rules both look them up. A row of those tables that the batch merges is dropped
/// from the cache before it changes.
final class HubLookupCache {
    let tables: Set<String>
    var rows: [RowKey: StoredRow?] = [:]

    init(policy: AccessPolicy) {
        var targets = Set<String>()
        for rule in policy.tables.values {
            if case .via(_, let table) = rule.owner { targets.insert(table) }
            if !rule.linkedBy.isEmpty { targets.insert(rule.table) }
        }
        tables = targets
    }

    func forget(_ table: String, key: String) {
        if tables.contains(table) { rows[RowKey(table: table, key: key)] = nil }
    }

    /// Keeps a row as the merge stores it, when it is of a table kept here.
    func remember(_ table: String, key: String, _ row: StoredRow) {
        if tables.contains(table) { rows[RowKey(table: table, key: key)] = .some(row) }
    }
}
