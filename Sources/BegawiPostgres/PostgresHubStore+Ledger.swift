import BegawiCore
import NIOCore
import PostgresNIO

/// The conflict ledger (`_begawi_conflicts`) read back: one statement's columns and one row's
/// decoding, shared by the ledger's readers (`conflicts()`, the office's reviews and re-apply).
extension PostgresHubStore {
    /// The ledger's columns in the order `ledgerEntry` decodes them, from `_begawi_conflicts`.
    static let ledgerSelect = """
        SELECT id, tbl, key, col, loser_value, winner_value, winner_deleted, loser_clock, loser_site, loser_counter,
               winner_clock, winner_site, winner_counter, detected_at FROM _begawi_conflicts
        """

    /// One entry from a row of `ledgerSelect`, as the SQLite replica's ledger gives it (values in
    /// `BatchCodec`'s encoding, clocks and counters as bit patterns); anything else is a damaged database.
    static func ledgerEntry(_ row: PostgresRow) throws -> ConflictLedgerEntry {
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
