import BegawiCore
import BegawiHub
import PostgresNIO

/// The purge horizon on PostgreSQL, as the SQLite hub keeps it (`SQLiteHubStore+Purge`, issue 15):
/// what the sites acknowledged, the horizon through which no active site needs the feed, and the
/// purge of tombstones and feed events through it.
///
/// Several hub processes: each notes the positions its pulls acknowledge in memory, with the time
/// (a pull stays a read), and writes them at its own housekeeping pass, never over a later note
/// another process wrote first; one pass at a time purges (`housekeepingLock`). Clocks of hub
/// machines a little apart can still let an older note win: harmless, because a replica's
/// positions only grow but when it starts a copy again from 0, and every position it acknowledged
/// before that copy is below the feed's head when the copy began, so below every delete the copy
/// needs; an older note of a growing position only holds the horizon back.
///
/// A pull reads the horizon in the snapshot of its rows, so it sees either the horizon raised (and
/// is refused) or every tombstone still there: the horizon commits before the first tombstone
/// through it goes.
extension PostgresHubStore {
    /// The purge's tables, named and shaped as in the SQLite hub.
    static let purgeTables: [PostgresQuery] = [
        """
        CREATE TABLE IF NOT EXISTS _hub_acks (
            site text NOT NULL, replica text NOT NULL, epoch text NOT NULL, seq bigint NOT NULL, noted_at bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (site, replica, epoch))
        """,
        "CREATE TABLE IF NOT EXISTS _hub_feed_marks (at bigint PRIMARY KEY, seq bigint NOT NULL)",
        "CREATE TABLE IF NOT EXISTS _hub_purged (tbl text NOT NULL, key text NOT NULL, at bigint NOT NULL, PRIMARY KEY (tbl, key))",
        "CREATE TABLE IF NOT EXISTS _hub_horizon (id integer PRIMARY KEY CHECK (id = 1), purged_through bigint NOT NULL)",
        "CREATE TABLE IF NOT EXISTS _hub_silent (site text PRIMARY KEY)",
    ]

    /// The session-level advisory lock one housekeeping pass at a time holds, across processes (the
    /// install's is 7301946, the rules' pushes' 7301947).
    static let housekeepingLock: Int64 = 7_301_955

    /// What a session announces: the hub's time `retention_days` ago, before which a site may purge
    /// the tombstones whose delete the hub holds (as on SQLite).
    func purgeBefore(retention: HubRetention) -> UInt64 {
        SQLiteHubStore.purgeBefore(now: clock.nowMilliseconds(), retention: retention)
    }

    /// Before a pull or a snapshot part: a copy from the beginning (`cursor.seq` 0: a new site, or a
    /// re-baseline) takes the site off the silent list, as SQLite's `admitPull` does.
    static func startCopy(site: String, _ cursor: ExchangeCursor, on link: PostgresLink) throws {
        if cursor.seq == 0 { try link.query("DELETE FROM _hub_silent WHERE site = \(site)") }
    }

    /// Throws `past-horizon` when deletes the site needs may be gone, as SQLite's `refusePastHorizon`:
    /// a replica holding the feed through a position (base past 0) is refused below the horizon; a
    /// copy under way (base 0) only once it fell silent past the retention. Run in the snapshot that
    /// reads the page's rows.
    static func refusePastHorizon(site: String, _ cursor: ExchangeCursor, on link: PostgresLink) throws {
        guard cursor.seq > 0 else { return }
        guard let row = try link.query("""
            SELECT coalesce((SELECT purged_through FROM _hub_horizon WHERE id = 1), 0), EXISTS (SELECT 1 FROM _hub_silent WHERE site = \(site))
            """).first else { return }
        let (stored, silent) = try decode("_hub_horizon") { try row.decode((Int64, Bool).self) }
        let through = UInt64(clamping: stored)
        if cursor.baseSeq > 0 ? cursor.seq < through : silent {
            throw SQLiteHubStore.pastHorizon(cursor, through: through)
        }
    }

    /// Notes that a site replica holds the feed through `seq` (its pull's cursor) at the hub's time,
    /// in memory: written to `_hub_acks` at this process's next housekeeping pass.
    func acknowledge(site: String, replica id: String, seq: UInt64) {
        purgeState.note(.init(site: site, replica: id), seq: seq, at: clock.nowMilliseconds())
    }

    /// The keys among the batch's rows the hub does not hold that were purged (`_hub_purged`): a
    /// write to one is refused (`PurgedGate` on SQLite). Read after the rows are locked, so a purge
    /// that committed meanwhile shows. No statement when the hub holds every row of the batch.
    static func purgedRows(_ rows: MergeRows, on link: PostgresLink) throws -> Set<RowKey> {
        let new = rows.keys.filter { rows.entries[$0]?.state == nil }
        guard !new.isEmpty else { return [] }
        var bindings = PostgresBindings()
        bindings.append(new.map(\.table))
        bindings.append(new.map(\.key))
        var purged = Set<RowKey>()
        for row in try link.query(PostgresQuery(unsafeSQL: """
            SELECT p.tbl, p.key FROM unnest($1::text[], $2::text[]) AS u(tbl, key) JOIN _hub_purged p ON p.tbl = u.tbl AND p.key = u.key
            """, binds: bindings)) {
            let (table, key) = try decode("_hub_purged") { try row.decode((String, String).self) }
            purged.insert(RowKey(table: table, key: key))
        }
        return purged
    }

    /// Writes the positions this process noted since its last pass (`_hub_acks`), in one
    /// statement. A note older than the one recorded (another process saw the replica's later pull
    /// and wrote first) is not written over it.
    func writeAcknowledged(on link: PostgresLink) throws {
        let noted = purgeState.takeAcknowledgedWithTimes()
        guard !noted.isEmpty else { return }
        let entries = noted.sorted { ($0.key.site, $0.key.replica) < ($1.key.site, $1.key.replica) }
        let epoch = try PostgresHubStore.readEpoch(link)
        var bindings = PostgresBindings()
        bindings.append(entries.map { $0.key.site })
        bindings.append(entries.map { $0.key.replica })
        bindings.append(entries.map { Int64(clamping: $0.value.seq) })
        bindings.append(entries.map { Int64(clamping: $0.value.at) })
        bindings.append(epoch)
        try link.query(PostgresQuery(unsafeSQL: """
            INSERT INTO _hub_acks (site, replica, epoch, seq, noted_at)
            SELECT site, replica, $5, seq, noted_at FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS u(site, replica, seq, noted_at)
            ON CONFLICT (site, replica, epoch) DO UPDATE SET seq = EXCLUDED.seq, noted_at = EXCLUDED.noted_at
            WHERE _hub_acks.noted_at <= EXCLUDED.noted_at
            """, binds: bindings))
    }

    /// The horizon at `now` from what is recorded (`PurgeHorizon.horizon`, as on SQLite).
    static func horizon(epoch: String, now: UInt64, retention: HubRetention, on link: PostgresLink) throws -> (through: UInt64, silent: [String], expired: [String]) {
        let cutoff = PurgeHorizon.cutoff(now: now, retention: retention)
        guard let capRow = try link.query("SELECT coalesce(max(seq), 0) FROM _hub_feed_marks WHERE at <= \(cutoff)").first else {
            throw damaged("the feed's marks (_hub_feed_marks) cannot be read")
        }
        let cap = UInt64(clamping: try decode("_hub_feed_marks") { try capRow.decode(Int64.self) })
        var sites: [PurgeHorizon.Contact] = []
        for row in try link.query("""
            SELECT s.id, h.last_contact, (SELECT a.seq FROM _hub_acks a WHERE a.site = s.id AND a.replica = h.replica AND a.epoch = \(epoch))
            FROM _hub_sites s JOIN _hub_site_health h ON h.site = s.id WHERE s.revoked_at IS NULL AND h.last_contact IS NOT NULL
            """) {
            let (site, contact, seq) = try decode("_hub_site_health") { try row.decode((String, Int64, Int64?).self) }
            sites.append(PurgeHorizon.Contact(site: site, lastContact: contact, acknowledged: UInt64(clamping: seq ?? 0)))
        }
        return PurgeHorizon.horizon(cap: cap, sites: sites, cutoff: cutoff)
    }

    /// Records the feed's head at `now`, computes the horizon and raises the recorded one to it, in
    /// one transaction committed before anything through it goes; then purges through it, in
    /// batches each its own transaction: tombstones (their keys kept in `_hub_purged`, so that a late
    /// write to one is refused; who may see them forgotten), then feed events older than
    /// `feed_retention_days`. Rows a push holds are skipped (`SKIP LOCKED`) and rows changed since
    /// the horizon was computed are not purged (their position moved, or they wait to be placed).
    /// Runs under the pass's lock. The counts by the SQLite pass's names.
    func purgeBelowHorizon(now: UInt64, retention: HubRetention, on link: PostgresLink) throws -> [String: Int] {
        let (through, expired) = try link.transaction { link in
            let epoch = try PostgresHubStore.readEpoch(link)
            try link.query("DELETE FROM _hub_acks WHERE epoch <> \(epoch)")
            let at = Int64(clamping: now), cutoff = PurgeHorizon.cutoff(now: now, retention: retention)
            try link.query("""
                INSERT INTO _hub_feed_marks (at, seq) SELECT \(at), pos FROM _begawi_feed_head ON CONFLICT (at) DO UPDATE SET seq = EXCLUDED.seq
                """)
            try link.query("DELETE FROM _hub_feed_marks WHERE at < (SELECT max(at) FROM _hub_feed_marks WHERE at <= \(cutoff))")
            let found = try PostgresHubStore.horizon(epoch: epoch, now: now, retention: retention, on: link)
            try link.query("""
                INSERT INTO _hub_horizon (id, purged_through) VALUES (1, \(Int64(clamping: found.through)))
                ON CONFLICT (id) DO UPDATE SET purged_through = greatest(_hub_horizon.purged_through, EXCLUDED.purged_through)
                """)
            try link.query("DELETE FROM _hub_silent")
            if !found.silent.isEmpty {
                try link.query("INSERT INTO _hub_silent (site) SELECT unnest(\(found.silent)::text[])")
            }
            return (found.through, found.expired)
        }
        let most = purgeState.chunkRows
        var tombstones = 0
        let below = Int64(clamping: through)
        for table in currentDocument?.schema.tables ?? [] {
            var size = most
            while true {
                let started = ContinuousClock.now
                let purged = try purgeTombstones(of: table, through: below, limit: size, at: Int64(clamping: now), on: link)
                if purged == 0 { break }
                tombstones += purged
                purgeState.betweenChunks?(purged)
                if purged < size { break }
                size = SQLiteHubStore.nextChunk(size, took: ContinuousClock.now - started, most: most)
            }
        }
        let feedCutoff = Int64(clamping: now) - Int64(retention.feedRetentionDays) * SQLiteHubStore.day
        var events = 0
        while true {
            guard let row = try link.query("""
                WITH gone AS (
                    DELETE FROM _hub_feed WHERE id IN (SELECT id FROM _hub_feed WHERE pos <= \(below) AND at < \(feedCutoff) ORDER BY pos LIMIT \(Int64(most)))
                    RETURNING 1)
                SELECT count(*) FROM gone
                """).first else { break }
            let removed = Int(clamping: try PostgresHubStore.decode("_hub_feed") { try row.decode(Int64.self) })
            events += removed
            if removed < most { break }
        }
        return ["purge.horizon": Int(clamping: through), "sites.expired": expired.count, "tombstones.purged": tombstones, "feed.purged": events]
    }

    /// Purges at most `limit` of `table`'s tombstones placed at or before `through` in one
    /// statement, its own transaction (taking the pushes' turn under the rules): the merge state,
    /// the dead twin's row and who may see the row go, the key is kept in `_hub_purged`. A tombstone
    /// is a row of the dead twin with no live row, as on SQLite; one a push holds, or changed since
    /// it was placed, stays. Returns how many.
    func purgeTombstones(of table: TableSpec, through: Int64, limit: Int, at now: Int64, on link: PostgresLink) throws -> Int {
        let key = SyncedTables.quote(table.primaryKey.name)
        var bindings = PostgresBindings()
        bindings.append(table.name)
        bindings.append(through)
        bindings.append(Int64(max(1, limit)))
        bindings.append(now)
        // Driven by the dead twin (few rows, once purged), not by the feed, where every live row below the horizon lies.
        let statement = PostgresQuery(unsafeSQL: """
            WITH doomed AS (
                SELECT r.key FROM \(SyncedTables.dead(table)) d JOIN _begawi_rows r ON r.tbl = $1 AND r.key = d.\(key)
                WHERE r.pos <= $2 AND NOT r.pending AND r.state IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM \(SyncedTables.quote(table.name)) l WHERE l.\(key) = d.\(key))
                LIMIT $3 FOR UPDATE OF r SKIP LOCKED),
            gone AS (DELETE FROM _begawi_rows r USING doomed WHERE r.tbl = $1 AND r.key = doomed.key RETURNING r.key),
            twin AS (DELETE FROM \(SyncedTables.dead(table)) d USING gone WHERE d.\(key) = gone.key),
            sight AS (DELETE FROM _hub_visibility v USING gone WHERE v.tbl = $1 AND v.key = gone.key),
            kept AS (INSERT INTO _hub_purged (tbl, key, at) SELECT $1, key, $4 FROM gone ON CONFLICT (tbl, key) DO UPDATE SET at = EXCLUDED.at)
            SELECT count(*) FROM gone
            """, binds: bindings)
        let rows = try link.transaction { link in
            // Under the rules a push recomputes who may see rows as of every earlier push, in turns
            // (`rulesLock`); the batch takes its turn too, so that no push writes sight of a row it
            // removes (on SQLite the one writer gives the same). A batch holds the turn ~50 ms.
            if policy != nil { try link.query("SELECT pg_advisory_xact_lock(\(PostgresHubStore.rulesLock))") }
            return try link.query(statement)
        }
        guard let row = rows.first else { return 0 }
        return Int(clamping: try PostgresHubStore.decode("_begawi_rows") { try row.decode(Int64.self) })
    }
}
