public import BegawiCore
internal import GRDB

extension Replica {
    static let insertConflictHead = """
        INSERT INTO _begawi_conflicts(tbl, key, col, loser_value, winner_value, winner_deleted,
          loser_clock, loser_site, loser_counter, winner_clock, winner_site, winner_counter, detected_at) VALUES\u{20}
        """


    func recordConflict(_ tx: EngineTransaction, table: TableSpec, key: String, conflict: Conflict, at now: Int64) throws {
        try tx.newConflicts.add([
            .text(table.name), .text(key), .text(table.columns[conflict.column].name),
            conflict.loser.value, conflict.winnerIsDelete ? .null : conflict.winner.value, .integer(conflict.winnerIsDelete ? 1 : 0),
            .integer(Int64(bitPattern: conflict.loser.stamp.clock.rawValue)), .text(conflict.loser.stamp.site), .integer(Int64(conflict.loser.stamp.counter)),
            .integer(Int64(bitPattern: conflict.winner.stamp.clock.rawValue)), .text(conflict.winner.stamp.site), .integer(Int64(conflict.winner.stamp.counter)),
            .integer(now),
        ])
    }

    /// The conflict ledger, oldest first.
    public func conflicts() throws -> [ConflictLedgerEntry] {
        try conflicts(where: "1 ORDER BY id", [])
    }

    /// The newest `limit` entries of the conflict ledger, newest first.
    public func conflicts(newest limit: Int) throws -> [ConflictLedgerEntry] {
        try conflicts(where: "1 ORDER BY id DESC LIMIT ?", [.integer(Int64(max(0, limit)))])
    }

    /// One entry of the conflict ledger.
    public func conflict(id: Int64) throws -> ConflictLedgerEntry? {
        try conflicts(where: "id = ?", [.integer(id)]).first
    }

    func conflicts(where condition: String, _ arguments: [SQLValue]) throws -> [ConflictLedgerEntry] {
        try pool.read { db in
            let s = try FastStatement(db, """
                SELECT id, tbl, key, col, loser_value, winner_value, winner_deleted, loser_clock, loser_site, loser_counter,
                       winner_clock, winner_site, winner_counter, detected_at FROM _begawi_conflicts WHERE \(condition)
                """)
            s.reset()
            for (i, value) in arguments.enumerated() { s.bind(Int32(i + 1), value) }
            var out: [ConflictLedgerEntry] = []
            while try s.step() {
                out.append(ConflictLedgerEntry(
                    id: s.int64(0), table: s.text(1), key: s.text(2), column: s.text(3),
                    loserValue: s.value(4), winnerValue: s.value(5), winnerIsDelete: s.int64(6) != 0,
                    loser: Stamp(clock: HybridTimestamp(rawValue: UInt64(bitPattern: s.int64(7))), site: s.text(8), counter: UInt64(clamping: s.int64(9))),
                    winner: Stamp(clock: HybridTimestamp(rawValue: UInt64(bitPattern: s.int64(10))), site: s.text(11), counter: UInt64(clamping: s.int64(12))),
                    detectedAt: UInt64(clamping: s.int64(13))))
            }
            s.reset()
            return out
        }
    }

    /// The visible rows of a synced table, by key, values in declared column order.
    public func rows(of table: String) throws -> [String: [SQLValue]] {
        guard let i = tableByName[table] else {
            throw BegawiError(.invalidArgument, "table '\(table)' is not synced by this replica")
        }
        let spec = tables[i].spec
        return try pool.read { db in
            let list = ([spec.primaryKey] + spec.columns).map { ReplicaSQL.quote($0.name) }.joined(separator: ", ")
            let s = try FastStatement(db, "SELECT \(list) FROM \(ReplicaSQL.quote(spec.name))")
            s.reset()
            var out: [String: [SQLValue]] = [:]
            while try s.step() {
                out[s.text(0)] = (0..<spec.columns.count).map { s.value(Int32($0 + 1)) }
            }
            s.reset()
            return out
        }
    }
}

extension Replica {
    /// The merge state of every row of a synced table, tombstones included (for tests and diagnostics).
    public func rowStates(of table: String) throws -> [String: RowState] {
        guard let i = tableByName[table] else {
            throw BegawiError(.invalidArgument, "table '\(table)' is not synced by this replica")
        }
        return try pool.read { db in
            let tx = try engineTransaction(db)
            let keys = try String.fetchAll(db, sql: "SELECT key FROM _begawi_rows WHERE tbl = ?", arguments: [tables[i].id])
            var out: [String: RowState] = [:]
            for key in keys {
                out[key] = try tx.loadRecord(table: i, key: key, withValues: true)?.state
            }
            return out
        }
    }
}
