public import BegawiCore
internal import GRDB

extension Replica {
    /// Removes a row from this replica only — its table row or tombstone, its merge state, and (with
    /// `purgeLedgers`) its conflict and refusal entries — without capturing anything. True if it was here.
    func evict(_ tx: EngineTransaction, table: Int, key: String, purgeLedgers: Bool = true) throws -> Bool {
        try tx.flush()
        let statements = try tx.statements(table)
        var removed = false
        for statement in [statements.deleteLive, statements.deleteDead] {
            statement.reset()
            statement.bind(1, key)
            try statement.run()
            statement.reset()
            removed = removed || sqlite3Changes(tx) > 0
        }
        try tx.statement("DELETE FROM _begawi_rows WHERE tbl = ? AND key = ?").run(bindings: [.integer(tables[table].id), .text(key)])
        removed = removed || sqlite3Changes(tx) > 0
        if purgeLedgers {
            let name = SQLValue.text(tables[table].spec.name)
            try tx.statement("DELETE FROM _begawi_conflicts WHERE tbl = ? AND key = ?").run(bindings: [name, .text(key)])
            try tx.statement("DELETE FROM _begawi_refusals WHERE tbl = ? AND key = ?").run(bindings: [name, .text(key)])
        }
        return removed
    }

    private func sqlite3Changes(_ tx: EngineTransaction) -> Int { tx.db.changesCount }

    /// Removes rows from this replica only (see `evict`), in one transaction; returns how many were here.
    @discardableResult
    public func evict(_ rows: [RowKey]) throws -> Int {
        try engineWrite { tx in
            _ = try absorbOutbox(tx)
            var count = 0
            for row in rows {
                guard let table = tableByName[row.table] else { continue }
                if try evict(tx, table: table, key: row.key) { count += 1 }
            }
            return count
        }
    }

    /// The stored row of a synced table as a row change carrying every register (for a receiver that
    /// must receive it whole), with the replica that holds it whole; nil if there is none.
    func wholeRow(_ tx: EngineTransaction, table: Int, key: String) throws -> (change: RowChange, heldWholeBy: Int64?)? {
        guard let record = try tx.loadRecord(table: table, key: key, withValues: true) else { return nil }
        let heldWholeBy = try Int64.fetchOne(tx.db, sql: "SELECT origin FROM _begawi_rows WHERE tbl = ? AND key = ?", arguments: [tables[table].id, key])
        return (RowChange(table: table, key: key, state: record.state), heldWholeBy)
    }
}
