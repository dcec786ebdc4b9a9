public import BegawiCore
import NIOCore
import PostgresNIO

/// What the store holds, read back for reports and tests: the merged rows and the conflict ledger.
extension PostgresHubStore {
    /// The live rows of a synced table, by key, values in declared column order (as merged, from
    /// their merge state).
    public func rows(of table: String) throws -> [String: [SQLValue]] {
        guard let spec = currentDocument?.schema.table(named: table) else {
            throw BegawiError(.invalidArgument, "table '\(table)' is not synced by this hub")
        }
        return try pool.withLink { link in
            var out: [String: [SQLValue]] = [:]
            for row in try link.query("SELECT key, state FROM _begawi_rows WHERE tbl = \(table) AND state IS NOT NULL") {
                let (key, bytes) = try PostgresHubStore.decode("_begawi_rows") { try row.decode((String, ByteBuffer).self) }
                let state = try MergeState.decode(Array(bytes.readableBytesView), columnCount: spec.columns.count)
                guard state.isLive else { continue }
                out[key] = zip(state.columns, spec.columns).map { $0?.value ?? $1.absentValue }
            }
            return out
        }
    }

    /// The conflict ledger, oldest first.
    public func conflicts() throws -> [ConflictLedgerEntry] {
        try pool.withLink { link in
            try link.query(PostgresQuery(unsafeSQL: PostgresHubStore.ledgerSelect + " ORDER BY id")).map(PostgresHubStore.ledgerEntry)
        }
    }

    /// The hub's cursor for a replica.
    public func cursor(forReplica id: String) throws -> ExchangeCursor {
        try pool.withLink { link in try PostgresHubStore.cursor(for: id, on: link, lock: false) }
    }
}
