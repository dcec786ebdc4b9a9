/// A batch cut down to an older version of the schema, for a replica that has not migrated yet:
/// columns are mapped by name on the wire, so leaving some out is all the receiver needs.
extension ChangeBatch {
    /// This batch with only the tables and columns `schema` declares. A row that carried changes only
    /// in columns or tables left out is left out too: sent as a bare version vector it would make the
    /// receiver store a row with none of its values. The range the batch covers stays as it was.
    public func projected(onto schema: Schema) -> ChangeBatch {
        var tableIndex: [Int: Int] = [:]
        var kept: [[Int]] = []
        var projectedTables: [BatchTable] = []
        for (i, table) in tables.enumerated() {
            guard let spec = schema.table(named: table.name) else { continue }
            let columns = table.columns.indices.filter { spec.position(of: table.columns[$0]) != nil }
            tableIndex[i] = projectedTables.count
            kept.append(columns)
            projectedTables.append(BatchTable(name: table.name, columns: columns.map { table.columns[$0] }))
        }
        var copy = self
        copy.tables = projectedTables
        copy.rows = rows.compactMap { row in
            guard let table = tableIndex[row.table] else { return nil }
            var state = RowState(columnCount: kept[table].count)
            state.vector = row.state.vector
            state.deleted = row.state.deleted
            for (n, i) in kept[table].enumerated() where i < row.state.columns.count { state.columns[n] = row.state.columns[i] }
            let carried = row.state.deleted != nil || row.state.columns.contains { $0 != nil }
            let carries = state.deleted != nil || state.columns.contains { $0 != nil }
            if carried, !carries { return nil }
            return RowChange(table: table, key: row.key, state: state)
        }
        copy.evictions = evictions.compactMap { eviction in
            tableIndex[eviction.table].map { RowEviction(table: $0, key: eviction.key) }
        }
        return copy
    }
}
