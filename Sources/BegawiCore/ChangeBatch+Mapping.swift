/// Where a batch's tables and columns are in the receiver's schema: batches name them, so that
/// replicas on different schema versions exchange by name.
extension ChangeBatch {
    /// For each of the batch's tables, the receiver's table index and, for each of its columns, the
    /// receiver's column position. A table or column the receiver does not sync, or a column named
    /// twice, is refused with what to do, and nothing is applied.
    public func columnMapping(onto tables: [TableSpec]) throws -> [(Int, [Int])] {
        try self.tables.map { bt in
            guard let table = tables.firstIndex(where: { $0.name == bt.name }) else {
                throw BegawiError(.badBatch, "the batch names table '\(bt.name)', which this replica does not sync; nothing was applied. Install the same schema on both sides")
            }
            let spec = tables[table]
            let columns = try bt.columns.map { name in
                guard let position = spec.position(of: name) else {
                    throw BegawiError(.badBatch, "the batch names column '\(name)' of table '\(bt.name)', which this replica does not have; nothing was applied. Install the same schema on both sides")
                }
                return position
            }
            guard Set(columns).count == columns.count else {
                throw BegawiError(.badBatch, "the batch names a column of table '\(bt.name)' twice; nothing was applied")
            }
            return (table, columns)
        }
    }
}
