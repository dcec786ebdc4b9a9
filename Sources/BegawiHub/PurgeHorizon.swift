import Foundation

/// What the hub keeps in memory about its purge horizon: each site replica's acknowledged pull
/// position (noted at each pull, a read, and written to `_hub_acks` at the housekeeping pass, so a
/// pull adds no write), the highest horizon purged through, the sites silent past the retention at
/// the last pass, and whether anything was ever purged.
///
/// `@unchecked Sendable`: every field is behind `lock`.
package final class PurgeHorizon: @unchecked Sendable {
    /// A site's replica, whose acknowledged position is kept per epoch.
    package struct Reader: Hashable, Sendable {
        package let site: String, replica: String
        package init(site: String, replica: String) {
            self.site = site
            self.replica = replica
        }
    }

    private let lock = NSLock()
    private var acknowledged: [Reader: UInt64] = [:]
    /// When each position was noted (ms since the Unix epoch; 0 when the caller gave no time).
    private var notedAt: [Reader: UInt64] = [:]
    private var purgedThrough: UInt64?
    private var silent: Set<String>?
    private var anyPurged: Bool?
    private var hook: (@Sendable (Int) -> Void)?
    /// Tombstones per purge transaction at most (fewer when a chunk takes longer than 50 ms).
    package var chunkRows: Int {
        get { lock.withLock { chunk } }
        set { lock.withLock { chunk = newValue } }
    }
    private var chunk = 2_000

    /// Makes an empty record: nothing acknowledged, the horizon and the silent sites to be loaded.
    package init() {}

    /// Notes that a site replica holds the feed through `seq`, its latest pull's cursor: lower than
    /// the last when it went back (a re-baseline starts again from 0), so the horizon waits for it.
    package func note(_ replica: Reader, seq: UInt64, at time: UInt64 = 0) {
        lock.withLock {
            acknowledged[replica] = seq
            notedAt[replica] = time
        }
    }

    /// The positions noted since the last call, handed over to be written.
    package func takeAcknowledged() -> [Reader: UInt64] {
        takeAcknowledgedWithTimes().mapValues(\.seq)
    }

    /// The positions noted since the last call with the time each was noted, handed over to be
    /// written where several processes write theirs (the latest note wins, whoever writes last).
    package func takeAcknowledgedWithTimes() -> [Reader: (seq: UInt64, at: UInt64)] {
        lock.withLock {
            defer {
                acknowledged = [:]
                notedAt = [:]
            }
            return acknowledged.reduce(into: [:]) { $0[$1.key] = ($1.value, notedAt[$1.key] ?? 0) }
        }
    }

    /// The horizon purged through, loading it with `load` the first time.
    func purged(load: () throws -> UInt64) rethrows -> UInt64 {
        if let known = lock.withLock({ purgedThrough }) { return known }
        let loaded = try load()
        return lock.withLock {
            purgedThrough = max(purgedThrough ?? 0, loaded)
            return purgedThrough!
        }
    }

    /// Raises the horizon, before the purge through it commits: a pull that read the purged feed then
    /// sees the raised horizon when it checks again after its export.
    func raise(to horizon: UInt64) {
        lock.withLock { purgedThrough = max(purgedThrough ?? 0, horizon) }
    }

    /// Whether the site was silent longer than the retention at the last pass (loaded with `load` the
    /// first time): a copy it had begun may have lost deletes since.
    func isSilent(_ site: String, load: () throws -> Set<String>) rethrows -> Bool {
        if let known = lock.withLock({ silent }) { return known.contains(site) }
        let loaded = try load()
        return lock.withLock {
            if silent == nil { silent = loaded }
            return silent!.contains(site)
        }
    }

    /// Sets the silent sites (at a pass), or removes one that starts a copy from the beginning.
    func setSilent(_ sites: Set<String>) { lock.withLock { silent = sites } }
    func notSilent(_ site: String) { lock.withLock { _ = silent?.remove(site) } }

    /// Whether any row was ever purged (a push then checks new rows against `_hub_purged`).
    func hasPurged(load: () throws -> Bool) rethrows -> Bool {
        if let known = lock.withLock({ anyPurged }), known { return true }
        let loaded = try load()
        lock.withLock { anyPurged = loaded }
        return loaded
    }

    /// Marks that rows were purged.
    func notePurged() { lock.withLock { anyPurged = true } }

    /// For tests: called between purge chunks with the chunk's count, outside any transaction.
    package var betweenChunks: (@Sendable (Int) -> Void)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }

    /// A site in the horizon's reckoning: its last contact (ms since the Unix epoch) and the position
    /// its replica acknowledged in the current epoch (0 when none is recorded).
    package struct Contact: Sendable {
        package let site: String, lastContact: Int64, acknowledged: UInt64
        package init(site: String, lastContact: Int64, acknowledged: UInt64) {
            self.site = site
            self.lastContact = lastContact
            self.acknowledged = acknowledged
        }
    }

    /// The time `retention.retentionDays` before `now`: a site last in contact before it is silent,
    /// and the feed's head then caps the horizon from below.
    package static func cutoff(now: UInt64, retention: HubRetention) -> Int64 {
        Int64(clamping: now) - Int64(retention.retentionDays) * SQLiteHubStore.day
    }

    /// The horizon, from the feed's head at the cutoff (`cap`) and the sites in contact (not
    /// revoked): the least position acknowledged by an active site (in contact since `cutoff`),
    /// never below `cap`; the sites silent longer, and the expired ones (silent, or acknowledged
    /// below the horizon), by id. Both hub stores reckon it so.
    package static func horizon(cap: UInt64, sites: [Contact], cutoff: Int64) -> (through: UInt64, silent: [String], expired: [String]) {
        var active: [(site: String, seq: UInt64)] = []
        var silent: [String] = []
        for site in sites {
            if site.lastContact < cutoff { silent.append(site.site) } else { active.append((site.site, site.acknowledged)) }
        }
        let through = max(active.map(\.seq).min() ?? cap, cap)
        return (through, silent.sorted(), (silent + active.filter { $0.seq < through }.map(\.site)).sorted())
    }
}
