public import BegawiCore
internal import GRDB

/// Reads and writes beside the engine inside one of its transactions, for rules that a replica's
/// owner (the hub) keeps in its own tables. Valid only during the call it is passed to.
public final class ReplicaContext {
    let tx: EngineTransaction
    let replica: Replica
    private struct LinkQuery: Hashable { let table: Int, column: String, live: Bool }
    private var linkSQL: [LinkQuery: String] = [:]

    init(tx: EngineTransaction, replica: Replica) {
        self.tx = tx
        self.replica = replica
    }

    /// The stored row of a synced table, live or a tombstone; nil if there is none.
    public func row(_ table: String, key: String) throws -> StoredRow? {
        guard let index = replica.tableByName[table] else { return nil }
        try tx.flush(table: index)
        let statements = try tx.statements(index)
        let spec = replica.tables[index].spec
        for (statement, live) in [(statements.selectLive, true), (statements.selectDead, false)] {
            statement.reset()
            statement.bind(1, key)
            defer { statement.reset() }
            if try statement.step() {
                var values: [String: SQLValue] = [:]
                for (i, c) in spec.columns.enumerated() { values[c.name] = statement.value(Int32(i)) }
                return StoredRow(values: values, live: live)
            }
        }
        return nil
    }

    /// Rows of a synced table whose `column` holds `value`: live ones, and tombstones unless `liveOnly`.
    public func rows(_ table: String, where column: String, is value: String, liveOnly: Bool = false) throws -> [(key: String, row: StoredRow)] {
        guard let index = replica.tableByName[table] else { return [] }
        let spec = replica.tables[index].spec
        guard spec.position(of: column) != nil else { return [] }
        try tx.flush(table: index)
        var found: [(key: String, row: StoredRow)] = []
        for live in [true, false] where live || !liveOnly {
            let which = LinkQuery(table: index, column: column, live: live)
            let sql: String
            if let known = linkSQL[which] {
                sql = known
            } else {
                let q = ReplicaSQL.quote
                let list = ([spec.primaryKey] + spec.columns).map { q($0.name) }.joined(separator: ", ")
                sql = "SELECT \(list) FROM \(live ? q(spec.name) : ReplicaSQL.dead(spec)) WHERE \(q(column)) = ?"
                linkSQL[which] = sql
            }
            let s = try tx.statement(sql)
            s.reset()
            s.bind(1, value)
            defer { s.reset() }
            while try s.step() {
                var values: [String: SQLValue] = [:]
                for (i, c) in spec.columns.enumerated() { values[c.name] = s.value(Int32(i + 1)) }
                found.append((s.text(0), StoredRow(values: values, live: live)))
            }
        }
        return found
    }

    /// Runs a statement on the replica's file in the current transaction, on tables kept beside the
    /// engine's (the engine's own inserts may still be collected: read synced tables with `row`/`rows`).
    public func execute(_ sql: String, _ arguments: [SQLValue] = []) throws {
        try tx.statement(sql).run(bindings: arguments)
    }

    /// Runs a query on the replica's file in the current transaction, on tables kept beside the
    /// engine's (see `execute`).
    public func query(_ sql: String, _ arguments: [SQLValue] = []) throws -> [[SQLValue]] {
        let s = try tx.statement(sql)
        s.reset()
        for (i, a) in arguments.enumerated() { s.bind(Int32(i + 1), a) }
        defer { s.reset() }
        var rows: [[SQLValue]] = []
        let n = s.columnCount
        while try s.step() { rows.append((0..<n).map { s.value($0) }) }
        return rows
    }

    /// Takes the next number of the replica's change sequence, so that entries kept beside the
    /// engine's rows share its order (and a receiver's cursor covers both).
    public func nextSequence() -> UInt64 {
        tx.state.seq += 1
        return tx.state.seq
    }

    /// The current end of the change sequence.
    public var sequence: UInt64 { tx.state.seq }

    /// The replica's synced tables.
    public var schema: Schema { replica.schema }

    /// Writes the rows the engine has collected so far, so that `query` sees every synced row as
    /// merged (for set-based reads of the synced tables beside the engine's).
    public func flush() throws { try tx.flush() }
}

extension ReplicaContext {
    /// Removes a row from this replica only, with its ledger entries (see `Replica.evict`).
    @discardableResult
    public func evict(_ table: String, key: String) throws -> Bool {
        guard let index = replica.tableByName[table] else { return false }
        return try replica.evict(tx, table: index, key: key)
    }
}
