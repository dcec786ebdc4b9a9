package import BegawiCore

/// The check of values against their columns' limits (size, control characters), shared by the
/// SQLite store's `ValueGate` and the PostgreSQL store, which merges without the replica's engine.
package enum ValueCheck {
    /// Whether any row of the batch has a key or value that `schema` does not accept. Without rules,
    /// only such a batch goes through the gate: a gate makes the apply look up every row, which a
    /// first sync into empty tables otherwise skips.
    package static func mayRefuse(_ batch: ChangeBatch, schema: Schema) -> Bool {
        let specs = batch.tables.map { schema.table(named: $0.name) }
        let columns = batch.tables.map { table in
            table.columns.map { name in schema.table(named: table.name)?.columns.first { $0.name == name } }
        }
        for row in batch.rows {
            guard let spec = specs[row.table] else { continue }
            if spec.keyProblem(row.key) != nil { return true }
            for (i, register) in row.state.columns.enumerated() {
                guard let register, i < columns[row.table].count, let column = columns[row.table][i] else { continue }
                if column.problem(with: register.value) != nil { return true }
            }
        }
        return false
    }

    /// Why a row cannot be stored: a value it brings that its column does not accept. Only values
    /// new to the hub are judged (a register the hub already holds was judged when it came).
    /// `before` is the stored state, nil for a row new to the hub; `declared` the schema file's
    /// declarations, whose limits win over the table's.
    package static func problem(table: TableSpec, key: String, incoming: RowState, before: RowState?, declared: Schema?) -> String? {
        if before == nil, let problem = table.keyProblem(key) { return problem + "; the row was not stored" }
        // The schema file's table, found once per row rather than once per column.
        let declaredTable = declared?.table(named: table.name)
        for (i, register) in incoming.columns.enumerated() {
            guard let register, i < table.columns.count, before?.columns[i]?.stamp != register.stamp else { continue }
            let installed = table.columns[i]
            let column = declaredTable?.columns.first { $0.name == installed.name } ?? installed
            if let problem = column.problem(with: register.value) {
                return problem + "; the row of '\(table.name)' was not stored"
            }
        }
        return nil
    }
}
