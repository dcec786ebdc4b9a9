import BegawiCore
public import BegawiHub
import PostgresNIO

/// Wrong credentials per client address in the hub's PostgreSQL database (`_hub_auth_failures`),
/// counted together by every hub process on it: N processes behind a load balancer give a guesser
/// the tries of one. A row is an address's token bucket as `FailureBuckets` keeps it in a process
/// (tries left when last counted, and when), on the database's clock (`clock_timestamp()`), the one
/// clock every process shares. An address with no row has all its tries.
///
/// An address that runs out of tries is said on `begawi_auth` (`NOTIFY`), so that every process
/// asks the database about it before its next check of that address's credential.
///
/// Bounded: a bucket untouched for 60 s has refilled whatever the allowance, so each count removes
/// up to 100 such rows of other addresses in the same statement (rows another session holds are
/// skipped, never waited for, so concurrent counts cannot deadlock). Addresses are not personal
/// data, but they are bound values only and never appear in an error.
struct PostgresAuthFailures: SharedAuthFailures {
    let pool: PostgresPool
    /// What this process heard other processes refuse (`PostgresFeedListener`).
    let refused: RefusedAddresses

    /// The channel on which a process says it refused an address (the payload).
    static let channel = "begawi_auth"

    /// The table and its index on the time of the last count (the sweep's), made at open.
    static let tables: [PostgresQuery] = [
        "CREATE TABLE IF NOT EXISTS _hub_auth_failures (address text PRIMARY KEY, tries double precision NOT NULL, updated double precision NOT NULL)",
        "CREATE INDEX IF NOT EXISTS _hub_auth_failures_updated ON _hub_auth_failures (updated)",
    ]

    /// The tries `address` has left now, refilled at `perMinute` a minute since its last count.
    func triesLeft(_ address: String, perMinute: Int) throws -> Double {
        let rows = try pool.withLink { link in
            try link.query("""
                SELECT LEAST(\(perMinute)::float8, tries + GREATEST(0, extract(epoch FROM clock_timestamp())::float8 - updated) * \(perMinute)::float8 / 60)
                FROM _hub_auth_failures WHERE address = \(address)
                """)
        }
        guard let row = rows.first else { return Double(perMinute) }
        return try PostgresHubStore.decode("_hub_auth_failures") { try row.decode(Double.self) }
    }

    /// Counts a wrong credential from `address` in one statement (the bucket refilled to now, less
    /// one, never below 0), sweeping refilled rows of other addresses; returns the tries left.
    func failed(_ address: String, perMinute: Int) throws -> Double {
        let rows = try pool.withLink { link in
            try link.query("""
                WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
                swept AS (
                    DELETE FROM _hub_auth_failures WHERE address IN (
                        SELECT address FROM _hub_auth_failures
                        WHERE updated < (SELECT now FROM t) - 60 AND address <> \(address)
                        ORDER BY updated LIMIT 100 FOR UPDATE SKIP LOCKED))
                INSERT INTO _hub_auth_failures AS f (address, tries, updated)
                SELECT \(address), \(perMinute)::float8 - 1, now FROM t
                ON CONFLICT (address) DO UPDATE SET
                    tries = GREATEST(0, LEAST(\(perMinute)::float8, f.tries + GREATEST(0, EXCLUDED.updated - f.updated) * \(perMinute)::float8 / 60) - 1),
                    updated = GREATEST(f.updated, EXCLUDED.updated)
                RETURNING f.tries
                """)
        }
        guard let row = rows.first else {
            throw BegawiError(.storage, "counting a wrong credential in _hub_auth_failures returned no row; check the hub's PostgreSQL database")
        }
        let tries = try PostgresHubStore.decode("_hub_auth_failures") { try row.decode(Double.self) }
        if tries < 1 {
            // Out of tries: every process hears it, and asks the database before its next check of
            // this address (a second statement, made only when an address runs out).
            try pool.withLink { link in try link.query("SELECT pg_notify('begawi_auth', \(address))") }
        }
        return tries
    }

    /// Whether another process said within the last minute that `address` ran out of tries.
    func othersRefused(_ address: String) -> Bool { refused.contains(address) }
}

extension PostgresHubStore {
    /// Wrong credentials counted in the database, shared by every hub process on it.
    public func sharedAuthFailures() -> (any SharedAuthFailures)? { PostgresAuthFailures(pool: pool, refused: listener.refused) }
}
