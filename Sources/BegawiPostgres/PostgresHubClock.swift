public import BegawiCore
import PostgresNIO

/// The hub's own hybrid clock on PostgreSQL, shared by every hub process on the database: the
/// rows 'hlc' (the greatest timestamp issued or seen, as an unsigned decimal) and 'counter' (the
/// hub's write counter) of `_begawi_state`, each advanced by one atomic statement
/// (`… SET value = GREATEST(…) RETURNING value`), so that two processes never issue one stamp
/// twice and the clock never goes back. The SQLite hub keeps the same two in its replica file.
///
/// The clock takes in the stamps of every batch a push merged (`observe`, after the push's commit,
/// in a statement of its own so that pushes do not take turns on the row), and stamps the hub's
/// own writes (`tick`: the office's re-apply), whose counter is never below the timestamp's raw
/// value: after a restore from an older dump, the hub's next write stays above every write the lost
/// database made (sites may hold those in their vectors). Stamps too far in the hub's future never reach it:
/// the hub's routes refuse such a batch before the store sees it (`HubRoutes.push`, on both stores).
enum PostgresHubClock {
    /// The hub's site id in its own stamps, as on SQLite.
    static let site = "hub"

    /// Made at open when missing (the install's transaction).
    static let install: PostgresQuery = "INSERT INTO _begawi_state (name, value) VALUES ('hlc', '0'), ('counter', '0') ON CONFLICT DO NOTHING"

    /// The next timestamp for a write of the hub at wall time `wallMilliseconds`, later than every
    /// timestamp the clock issued or saw and than `floor`, and the hub's next write counter, above
    /// `counterFloor` and the last counter, and no lower than the timestamp's raw value; in the
    /// caller's transaction (a rollback gives nothing back, which only skips).
    static func tick(wallMilliseconds: UInt64, after floor: HybridTimestamp, counterAbove counterFloor: UInt64,
                     on link: PostgresLink) throws -> (clock: HybridTimestamp, counter: UInt64) {
        let wall = HybridTimestamp(milliseconds: wallMilliseconds, counter: 0)
        guard floor.rawValue < UInt64.max, counterFloor < UInt64.max else { throw exhausted }
        let candidate = max(wall.rawValue, floor.rawValue + 1)
        let clock = try advance("hlc", to: String(candidate), on: link)
        // Never below the clock (as `Replica.keepCounterAtClock` on SQLite): a database restored
        // from an older dump signs its next writes above every write the lost one made after the
        // dump, which sites may hold in their vectors.
        let counter = try advance("counter", to: String(max(counterFloor + 1, clock)), on: link)
        guard counter < 1 << 62 else { throw exhausted } // the wire's codec refuses counters from 2^62 (`BatchCodec`)
        return (HybridTimestamp(rawValue: clock), counter)
    }

    /// Takes in a timestamp seen from a site, so that the hub's later writes order after it.
    static func observe(_ seen: HybridTimestamp, on link: PostgresLink) throws {
        try link.query("""
            INSERT INTO _begawi_state AS s (name, value) VALUES ('hlc', \(String(seen.rawValue))) ON CONFLICT (name)
            DO UPDATE SET value = EXCLUDED.value WHERE s.value::numeric < EXCLUDED.value::numeric
            """)
    }

    /// The clock as stored (0 before anything was stamped or seen).
    static func read(on link: PostgresLink) throws -> HybridTimestamp {
        guard let row = try link.query("SELECT value FROM _begawi_state WHERE name = 'hlc'").first else { return HybridTimestamp(rawValue: 0) }
        let text = try PostgresHubStore.decode("_begawi_state") { try row.decode(String.self) }
        guard let raw = UInt64(text) else { throw PostgresHubStore.damaged("the hub's clock (_begawi_state 'hlc') is not a number") }
        return HybridTimestamp(rawValue: raw)
    }

    /// Sets the row to one more than it held, or to `floor` if that is greater, and returns it.
    private static func advance(_ name: String, to floor: String, on link: PostgresLink) throws -> UInt64 {
        let rows = try link.query("""
            INSERT INTO _begawi_state AS s (name, value) VALUES (\(name), \(floor)) ON CONFLICT (name)
            DO UPDATE SET value = GREATEST(s.value::numeric + 1, EXCLUDED.value::numeric)::text RETURNING value
            """)
        guard let row = rows.first else { throw PostgresHubStore.damaged("the hub's clock (_begawi_state '\(name)') cannot be advanced") }
        let text = try PostgresHubStore.decode("_begawi_state") { try row.decode(String.self) }
        // Past UInt64's range only after 2^64 writes or a damaged row: refused, the transaction rolls back.
        guard let value = UInt64(text) else { throw exhausted }
        return value
    }

    /// The refusal when the clock or the counter cannot advance any more.
    static let exhausted = BegawiError(.clock, "the hub's hybrid clock reached its largest value; its state (_begawi_state 'hlc', 'counter') in the hub's PostgreSQL database is damaged: restore the database from a backup (pg_dump)")
}

extension PostgresHubStore {
    /// The hub's hybrid clock as stored (for reports and tests).
    public func hubClock() throws -> HybridTimestamp {
        try pool.withLink { link in try PostgresHubClock.read(on: link) }
    }
}
