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
            try link.query("""
                SELECT id, tbl, key, col, loser_value, winner_value, winner_deleted, loser_clock, loser_site, loser_counter,
                       winner_clock, winner_site, winner_counter, detected_at FROM _begawi_conflicts ORDER BY id
                """).map { row in
                let (id, table, key, column, loserValue, winnerValue, deleted, loserClock, loserSite, loserCounter,
                     winnerClock, winnerSite, winnerCounter, detectedAt) = try PostgresHubStore.decode("_begawi_conflicts") {
                    try row.decode((Int64, String, String, String, ByteBuffer, ByteBuffer, Bool, Int64, String, Int64, Int64, String, Int64, Int64).self)
                }
                func value(_ buffer: ByteBuffer) throws -> SQLValue {
                    var r = ByteReader(Array(buffer.readableBytesView), what: "a ledger value")
                    do {
                        return try BatchCodec.decodeValue(&r)
                    } catch {
                        throw PostgresHubStore.damaged("a value of the conflict ledger (_begawi_conflicts) cannot be read")
                    }
                }
                guard let detected = UInt64(exactly: detectedAt) else {
                    throw PostgresHubStore.damaged("a time of the conflict ledger (_begawi_conflicts) is negative")
                }
                return ConflictLedgerEntry(
                    id: id, table: table, key: key, column: column, loserValue: try value(loserValue), winnerValue: try value(winnerValue),
                    winnerIsDelete: deleted,
                    loser: Stamp(clock: HybridTimestamp(rawValue: UInt64(bitPattern: loserClock)), site: loserSite, counter: UInt64(bitPattern: loserCounter)),
                    winner: Stamp(clock: HybridTimestamp(rawValue: UInt64(bitPattern: winnerClock)), site: winnerSite, counter: UInt64(bitPattern: winnerCounter)),
                    detectedAt: detected)
            }
        }
    }

    /// The hub's cursor for a replica.
    public func cursor(forReplica id: String) throws -> ExchangeCursor {
        try pool.withLink { link in try PostgresHubStore.cursor(for: id, on: link, lock: false) }
    }
}
