import BegawiCore
import BegawiRules
import NIOCore
import PostgresNIO

/// The rules' view of the hub's rows during a push on PostgreSQL: the batch's rows as merged so far
/// (held in memory until the push writes them), and other rows read from the database once each.
///
/// Rows not in the batch cannot change while the push runs: it reads only rows its turn locked, or
/// holds the whole turn (`RulesTurn`), so what is read once stays true until the commit. A row the
/// turn did not lock is refused (`RulesTurn.Missing`), and the push is tried again in the whole turn.
final class PostgresRuleLookup: RuleLookup {
    let link: PostgresLink
    let schema: Schema
    /// The push's turn: which rows it may read.
    let turn: RulesTurn
    /// The batch's rows, by key: their state as merged so far (nil: the hub does not hold the row).
    var batch: [RowKey: RowState?]
    /// Rows read from the database, by key (nil: the hub never had the row).
    private var read: [RowKey: StoredRow?] = [:]

    init(link: PostgresLink, schema: Schema, batch: [RowKey: RowState?], turn: RulesTurn) {
        self.link = link
        self.schema = schema
        self.batch = batch
        self.turn = turn
    }

    /// Reads at once the rows the batch's rows name through the rules' references (a program, a
    /// participant) in their incoming or stored values, so that judging them reads no row one at a
    /// time: one statement per referenced table.
    func prefetch(_ batch: ChangeBatch, policy: AccessPolicy) throws {
        var wanted: [String: Set<String>] = [:]
        for row in batch.rows where row.table < batch.tables.count {
            let name = batch.tables[row.table].name
            let columns = batch.tables[row.table].columns
            for (column, target) in policy.references(of: name) {
                if let i = columns.firstIndex(of: column), i < row.state.columns.count, case .text(let key)? = row.state.columns[i]?.value {
                    wanted[target, default: []].insert(key)
                }
                if let spec = schema.table(named: name), let i = spec.position(of: column),
                   case .some(.some(let state)) = self.batch[RowKey(table: name, key: row.key)], i < state.columns.count,
                   case .text(let key)? = state.columns[i]?.value {
                    wanted[target, default: []].insert(key)
                }
            }
        }
        for (table, keys) in wanted {
            guard let spec = schema.table(named: table) else { continue }
            let missing = keys.filter { self.batch[RowKey(table: table, key: $0)] == nil && read[RowKey(table: table, key: $0)] == nil }
            for key in missing { try turn.require(RowKey(table: table, key: key)) }
            let found = try states(table, keys: Array(missing))
            for key in missing { read[RowKey(table: table, key: key)] = .some(found[key].map { StoredRow(spec, $0) }) }
        }
    }

    func row(_ table: String, key: String) throws -> StoredRow? {
        let address = RowKey(table: table, key: key)
        guard let spec = schema.table(named: table) else { return nil }
        if let held = batch[address] { return held.map { StoredRow(spec, $0) } }
        if let known = read[address] { return known }
        try turn.require(address)
        let found = try states(table, keys: [key])[key].map { StoredRow(spec, $0) }
        read[address] = .some(found)
        return found
    }

    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)] {
        guard let spec = schema.table(named: table), spec.position(of: column) != nil else { return [] }
        // Rows found by value cannot have been locked before: only in the whole turn.
        try turn.requireWhole()
        let q = SyncedTables.quote
        let pk = q(spec.primaryKey.name)
        var sources = [q(table)]
        if !liveOnly { sources.append(SyncedTables.dead(spec)) }
        var bindings = PostgresBindings()
        bindings.append(value)
        let sql = sources.map { "SELECT \(pk) FROM \($0) WHERE (\(q(column)))::text = $1" }.joined(separator: " UNION ")
        var keys = Set<String>()
        for row in try link.query(PostgresQuery(unsafeSQL: sql, binds: bindings)) {
            keys.insert(try PostgresHubStore.decode(table) { try row.decode(String.self) })
        }
        // The batch's rows as merged so far, which the database does not show yet.
        var found: [String: StoredRow] = [:]
        for (address, held) in batch where address.table == table {
            keys.remove(address.key)
            guard let held else { continue }
            let row = StoredRow(spec, held)
            if row.text(column) == value, row.live || !liveOnly { found[address.key] = row }
        }
        for (key, state) in try states(table, keys: Array(keys)) {
            let row = StoredRow(spec, state)
            read[RowKey(table: table, key: key)] = .some(row)
            found[key] = row
        }
        return found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The merge states of some rows of a table, in one statement.
    private func states(_ table: String, keys: [String]) throws -> [String: RowState] {
        guard !keys.isEmpty, let spec = schema.table(named: table) else { return [:] }
        var bindings = PostgresBindings()
        bindings.append(table)
        bindings.append(keys)
        var found: [String: RowState] = [:]
        for row in try link.query(PostgresQuery(unsafeSQL: "SELECT key, state FROM _begawi_rows WHERE tbl = $1 AND key = ANY($2::text[]) AND state IS NOT NULL",
                                                binds: bindings)) {
            let (key, bytes) = try PostgresHubStore.decode("_begawi_rows") { try row.decode((String, ByteBuffer).self) }
            found[key] = try MergeState.decode(Array(bytes.readableBytesView), columnCount: spec.columns.count)
        }
        return found
    }
}
