import BegawiCore
import BegawiReplica

extension ReplicaContext {
    /// Inserts rows several at a time (`head` is `INSERT INTO t(a, b) VALUES `, `values` the rows'
    /// values one after the other, `width` per row): one statement per 64 rows instead of per row.
    /// `tuple`: one row's expressions, with `width` parameters (default: the values themselves).
    func insert(_ head: String, width: Int, tuple: String? = nil, _ values: [SQLValue]) throws {
        guard width > 0, !values.isEmpty else { return }
        precondition(values.count % width == 0, "bulk insert: values are not whole rows")
        let chunk = 64 * width
        let tuple = tuple ?? "(" + Array(repeating: "?", count: width).joined(separator: ",") + ")"
        var start = 0
        while start < values.count {
            let end = min(values.count, start + chunk)
            let rows = (end - start) / width
            try execute(head + Array(repeating: tuple, count: rows).joined(separator: ","), Array(values[start..<end]))
            start = end
        }
    }
}

extension ReplicaContext {
    /// The rows of `batch` that a hub table keyed by (tbl, key) holds (`_hub_purged`, `_hub_erased`):
    /// one statement per table of the batch and chunk of keys, instead of one per row.
    func rows(of batch: ChangeBatch, in hubTable: String) throws -> Set<RowKey> {
        var keys = [[String]](repeating: [], count: batch.tables.count)
        for row in batch.rows where row.table < keys.count { keys[row.table].append(row.key) }
        var found = Set<RowKey>()
        let sql = """
            SELECT h.key FROM (SELECT DISTINCT value AS key FROM json_each(?1)) b
            JOIN \(HubVisibility.quote(hubTable)) h ON h.tbl = ?2 AND h.key = b.key
            """
        for (i, table) in batch.tables.enumerated() where !keys[i].isEmpty {
            for start in stride(from: 0, to: keys[i].count, by: HubVisibility.chunk) {
                let list = try HubVisibility.jsonArray(keys[i][start..<min(keys[i].count, start + HubVisibility.chunk)])
                for r in try query(sql, [.text(list), .text(table.name)]) {
                    if let key = r.first?.text { found.insert(RowKey(table: table.name, key: key)) }
                }
            }
        }
        return found
    }
}
