extension ChangeBatch {
    /// Throws `badBatch` unless every row is well formed: its table is named, it carries one
    /// register slot per named column, and its vector covers every register's write.
    ///
    /// The wire decoder guarantees this; a batch built in memory is checked before it is applied.
    public func validate() throws {
        guard !replicaID.isEmpty, afterSeq <= throughSeq, baseSeq <= throughSeq, throughSeq <= UInt64(Int64.max) else {
            throw BegawiError(.badBatch, "the batch's header is inconsistent (source, or base \(baseSeq) / after \(afterSeq) / through \(throughSeq))")
        }
        for table in tables where table.columns.count > TableSpec.maximumColumns {
            throw BegawiError(.badBatch, "the batch's table '\(table.name)' names more than \(TableSpec.maximumColumns) columns")
        }
        for eviction in evictions {
            guard eviction.table >= 0, eviction.table < tables.count, !eviction.key.isEmpty else {
                throw BegawiError(.badBatch, "an eviction refers to table number \(eviction.table), which the batch does not name, or has an empty key; nothing was applied")
            }
        }
        for row in rows {
            guard row.table >= 0, row.table < tables.count else {
                throw BegawiError(.badBatch, "a row refers to table number \(row.table), which the batch does not name; nothing was applied")
            }
            guard row.state.columns.count == tables[row.table].columns.count else {
                throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' carries \(row.state.columns.count) column slots where the batch names \(tables[row.table].columns.count); nothing was applied")
            }
            guard !row.key.isEmpty else { throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has an empty key; nothing was applied") }
            for entry in row.state.vector.entries where entry.site.isEmpty || entry.counter == 0 || entry.counter >= 1 << 62 {
                throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has a malformed version vector; nothing was applied")
            }
            var registers = row.state.columns.compactMap { $0 }
            if let d = row.state.deleted {
                guard d.value == RowState.liveMarker || d.value == RowState.deletedMarker else {
                    throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has a malformed deleted flag; nothing was applied")
                }
                registers.append(d)
            }
            for r in registers {
                guard !r.stamp.site.isEmpty, r.stamp.counter > 0, row.state.vector.covers(r.stamp) else {
                    throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has a stamp its version vector does not cover (site '\(r.stamp.site)', counter \(r.stamp.counter)); nothing was applied")
                }
            }
        }
    }
}
