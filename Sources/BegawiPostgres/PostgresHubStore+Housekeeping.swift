import BegawiCore
public import BegawiHub
import PostgresNIO

/// One housekeeping pass on PostgreSQL (`HubHousekeeping` runs it in every hub process): the SQLite
/// pass's steps, purge and retention, one process at a time.
///
/// No space step: what SQLite's `giveSpaceBack` does (free pages out of the file, the log folded)
/// is autovacuum's work here. A plain `VACUUM` after the deletes would only make the dead rows'
/// space reusable sooner, which autovacuum does once a table's dead rows pass its threshold (a
/// purge deletes in batches, well spread); it cannot run in a transaction, reads the whole table,
/// and gives nothing back to the file system. `VACUUM FULL`, which does, locks the table against
/// every push for its whole run. So the pass leaves space to the server (docs/postgresql.md).
extension PostgresHubStore {
    /// Runs the pass at `now` (ms since the Unix epoch): writes what this process's pulls
    /// acknowledged, then, when no other process is running a pass (`housekeepingLock`, tried, not
    /// waited for), purges below the horizon and applies the retention, each step even when the
    /// other failed, as on SQLite. Returns the counts by the SQLite pass's names;
    /// `housekeeping.elsewhere` 1 when another process held the pass (this one did nothing more).
    public func housekeep(now: UInt64, retention: HubRetention) throws -> [String: Int] {
        try refresh()
        return try pool.withLink { link in
            try writeAcknowledged(on: link)
            guard let row = try link.query("SELECT pg_try_advisory_lock(\(PostgresHubStore.housekeepingLock))").first,
                  try PostgresHubStore.decode("pg_try_advisory_lock", { try row.decode(Bool.self) }) else {
                return ["housekeeping.elsewhere": 1]
            }
            defer {
                // A session that keeps the lock would stop every later pass of every process: closed
                // (and so dropped by the pool, the server releasing its lock) when it cannot let go.
                if (try? link.query("SELECT pg_advisory_unlock(\(PostgresHubStore.housekeepingLock))")) == nil { link.close() }
            }
            return try SQLiteHubStore.housekeepingSteps([
                ("purge", { try self.purgeBelowHorizon(now: now, retention: retention, on: link) }),
                ("retention", { try self.applyRetention(now: now, retention: retention, on: link) }),
            ])
        }
    }
}
