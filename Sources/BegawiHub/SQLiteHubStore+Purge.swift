package import BegawiCore
import BegawiReplica
import HTTPTypes
internal import GRDB

/// The purge horizon (issue 15): what the sites have acknowledged, the horizon through which no
/// active site needs the feed, and the purge of tombstones and feed events through it.
extension SQLiteHubStore {
    static let purgeSQL = """
        CREATE TABLE IF NOT EXISTS _hub_acks(
            site TEXT NOT NULL, replica TEXT NOT NULL, epoch TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(site, replica, epoch)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _hub_feed_marks(at INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS _hub_purged(tbl TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(tbl, key)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _hub_horizon(id INTEGER PRIMARY KEY CHECK (id = 1), purged_through INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS _hub_silent(site TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
        """
    package static let day: Int64 = 86_400_000

    /// Before a pull: refuses a cursor the purge left behind, and notes what the site acknowledges
    /// (its cursor's position: every change up to it is held) in memory only, so a pull stays a read.
    func admitPull(site: String, replica id: String, after cursor: ExchangeCursor) throws {
        if cursor.seq == 0 { purgeState.notSilent(site) }
        try refusePastHorizon(site: site, cursor)
        purgeState.note(.init(site: site, replica: id), seq: cursor.seq)
    }

    /// Throws `past-horizon` when deletes the site needs may be gone. A site that holds the feed
    /// through a position (base past 0) needs every delete after it: refused below the horizon. A copy
    /// under way (base 0: a new site's first pull, or a re-baseline) needs only the deletes of rows
    /// it received, made after it began: its own acknowledgement holds the horizon back while it is
    /// active, so it is refused only after falling silent past the retention. Asked again after the
    /// export: the horizon is raised before a purge commits.
    func refusePastHorizon(site: String, _ cursor: ExchangeCursor) throws {
        guard cursor.seq > 0 else { return }
        let through = try purgeState.purged { try replica.ownerRead(SQLiteHubStore.purgedThrough) }
        if cursor.baseSeq > 0 ? cursor.seq < through
            : try purgeState.isSilent(site, load: { try replica.ownerRead { db in Set(try String.fetchAll(db, sql: "SELECT site FROM _hub_silent")) } }) {
            throw SQLiteHubStore.pastHorizon(cursor, through: through)
        }
    }

    /// The refusal of a cursor behind the horizon `through`, in the words of both hub stores.
    package static func pastHorizon(_ cursor: ExchangeCursor, through: UInt64) -> HubRefusal {
        HubRefusal(.gone, .pastHorizon, "this replica's cursor \(cursor) is behind the hub's purge horizon \(through): the site was away longer than retention_days, or its replica went back; it re-baselines by itself (keeps its unsent changes, pulls a fresh copy)")
    }

    /// What a session announces: the hub's time `retentionDays` ago, before which a site may purge the
    /// tombstones whose delete the hub holds.
    func purgeBefore(retention: HubRetention) -> UInt64 {
        SQLiteHubStore.purgeBefore(now: clock.nowMilliseconds(), retention: retention)
    }

    /// `purgeBefore` at the hub's time `now` (ms since the Unix epoch), for both hub stores.
    package static func purgeBefore(now: UInt64, retention: HubRetention) -> UInt64 {
        let span = UInt64(retention.retentionDays) * UInt64(SQLiteHubStore.day)
        return now > span ? now - span : 0
    }

    /// The next chunk's size: aimed at 50 ms a transaction, so that a chunk holds the writer well
    /// under 100 ms on a slow or busy disk, between 100 rows (or `most`, if fewer) and `most`.
    package static func nextChunk(_ size: Int, took: Duration, most: Int) -> Int {
        let milliseconds = max(1, Int(took.components.seconds) * 1000 + Int(took.components.attoseconds / 1_000_000_000_000_000))
        return min(most, max(min(100, most), size * 50 / milliseconds))
    }

    static func purgedThrough(_ db: Database) throws -> UInt64 {
        UInt64(clamping: try Int64.fetchOne(db, sql: "SELECT purged_through FROM _hub_horizon WHERE id = 1") ?? 0)
    }

    /// The refusal of a write to a purged row (`PurgedGate`), in the words of both hub stores.
    package static func purgedMessage(table: String) -> String {
        "this row of '\(table)' was deleted at the hub and its record purged; it is not written again (see the refusal ledger)"
    }

    /// The gate of a push: `inner`, behind a check against purged rows once any row was purged.
    func purgedGate(around inner: (any ApplyGate)?) throws -> (any ApplyGate)? {
        let purged = try purgeState.hasPurged {
            try replica.ownerRead { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM _hub_purged)") ?? false }
        }
        return purged ? PurgedGate(inner: inner) : inner
    }

    /// The horizon at `now`: the least position acknowledged by an active site (not revoked, in
    /// contact within `retentionDays`), never below the feed's head `retentionDays` ago; the sites
    /// silent longer, and the expired ones (silent, or acknowledged below the horizon), by id.
    static func horizon(_ db: Database, epoch: String, now: UInt64, retention: HubRetention) throws -> (through: UInt64, silent: [String], expired: [String]) {
        let cutoff = PurgeHorizon.cutoff(now: now, retention: retention)
        let cap = UInt64(clamping: try Int64.fetchOne(db, sql: "SELECT max(seq) FROM _hub_feed_marks WHERE at <= ?", arguments: [cutoff]) ?? 0)
        let sites = try Row.fetchAll(db, sql: """
            SELECT s.id, h.last_contact, (SELECT a.seq FROM _hub_acks a WHERE a.site = s.id AND a.replica = h.replica AND a.epoch = ?)
            FROM _hub_sites s JOIN _hub_site_health h ON h.site = s.id WHERE s.revoked_at IS NULL AND h.last_contact IS NOT NULL
            """, arguments: [epoch]).map { row in
            PurgeHorizon.Contact(site: row[0], lastContact: row[1], acknowledged: UInt64(clamping: (row[2] as Int64?) ?? 0))
        }
        return PurgeHorizon.horizon(cap: cap, sites: sites, cutoff: cutoff)
    }

    /// The sites expired at `now` (silent longer than `retentionDays`, or behind the horizon), by id,
    /// as of the last housekeeping pass's record of what they acknowledged.
    public func expiredSites(now: UInt64, retention: HubRetention) throws -> [String] {
        try replica.ownerRead { db in try SQLiteHubStore.horizon(db, epoch: replica.replicaID, now: now, retention: retention).expired }
    }

    /// Records what the sites acknowledged and the feed's head at `now`, computes the horizon, and
    /// purges through it: tombstones (remembering their keys in `_hub_purged`, so that a late write to
    /// one is refused) and feed events older than `feedRetentionDays`. In chunks, each its own write
    /// transaction that re-checks its condition, so pushes keep flowing and a row written meanwhile
    /// keeps its metadata.
    public func purgeBelowHorizon(now: UInt64, retention: HubRetention) throws -> [String: Int] {
        let acknowledged = purgeState.takeAcknowledged()
        let epoch = replica.replicaID, head = try replica.headSeq()
        let (through, expired) = try replica.ownerWrite { db in
            for (reader, seq) in acknowledged {
                try db.execute(sql: """
                    INSERT INTO _hub_acks(site, replica, epoch, seq) VALUES (?, ?, ?, ?)
                    ON CONFLICT(site, replica, epoch) DO UPDATE SET seq = excluded.seq
                    """, arguments: [reader.site, reader.replica, epoch, Int64(clamping: seq)])
            }
            // Positions in the feed of an epoch before a restore say nothing of this one's.
            try db.execute(sql: "DELETE FROM _hub_acks WHERE epoch <> ?", arguments: [epoch])
            try db.execute(sql: "INSERT OR REPLACE INTO _hub_feed_marks(at, seq) VALUES (?, ?)", arguments: [Int64(clamping: now), Int64(clamping: head)])
            let cutoff = PurgeHorizon.cutoff(now: now, retention: retention)
            try db.execute(sql: "DELETE FROM _hub_feed_marks WHERE at < (SELECT max(at) FROM _hub_feed_marks WHERE at <= ?)", arguments: [cutoff])
            let found = try SQLiteHubStore.horizon(db, epoch: epoch, now: now, retention: retention)
            // Raised here, before anything through it goes: a pull checks it again after its export.
            purgeState.raise(to: found.through)
            purgeState.setSilent(Set(found.silent))
            try db.execute(sql: """
                INSERT INTO _hub_horizon(id, purged_through) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET purged_through = max(purged_through, excluded.purged_through)
                """, arguments: [Int64(clamping: found.through)])
            try db.execute(sql: "DELETE FROM _hub_silent")
            for site in found.silent { try db.execute(sql: "INSERT INTO _hub_silent(site) VALUES (?)", arguments: [site]) }
            return (found.through, found.expired)
        }
        let chunk = purgeState.chunkRows
        var tombstones = 0, size = chunk
        for table in schema.tables {
            while true {
                let started = ContinuousClock.now
                let keys = try replica.purgeTombstones(of: table.name, belowSeq: through &+ 1, limit: size) { [policy] context, _ in
                    try context.execute("INSERT OR REPLACE INTO _hub_purged(tbl, key, at) SELECT ?, key, ? FROM temp._begawi_purge_keys",
                                        [.text(table.name), .integer(Int64(clamping: now))])
                    if policy != nil {
                        try context.execute("DELETE FROM _hub_visibility WHERE tbl = ? AND key IN (SELECT key FROM temp._begawi_purge_keys)", [.text(table.name)])
                    }
                }
                if keys.isEmpty { break }
                tombstones += keys.count
                purgeState.notePurged()
                purgeState.betweenChunks?(keys.count)
                if keys.count < size { break }
                size = SQLiteHubStore.nextChunk(size, took: ContinuousClock.now - started, most: chunk)
            }
        }
        let feedCutoff = Int64(clamping: now) - Int64(retention.feedRetentionDays) * SQLiteHubStore.day
        var events = 0
        let hasFeed = try replica.ownerRead { db in try db.tableExists("_hub_feed") }
        while hasFeed {
            let removed = try replica.ownerWrite { db in
                try db.execute(sql: "DELETE FROM _hub_feed WHERE seq IN (SELECT seq FROM _hub_feed WHERE seq <= ? AND at < ? ORDER BY seq LIMIT ?)",
                               arguments: [Int64(clamping: through), feedCutoff, chunk])
                return db.changesCount
            }
            events += removed
            if removed < chunk { break }
        }
        return ["purge.horizon": Int(clamping: through), "sites.expired": expired.count, "tombstones.purged": tombstones, "feed.purged": events]
    }
}
