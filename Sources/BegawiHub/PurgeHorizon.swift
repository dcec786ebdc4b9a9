import Foundation

/// What the hub keeps in memory about its purge horizon: each site replica's acknowledged pull
/// position (noted at each pull, a read, and written to `_hub_acks` at the housekeeping pass, so a
/// pull adds no write), the highest horizon purged through, the sites silent past the retention at
/// the last pass, and whether anything was ever purged.
///
/// `@unchecked Sendable`: every field is behind `lock`.
final class PurgeHorizon: @unchecked Sendable {
    struct Reader: Hashable { let site: String, replica: String }

    private let lock = NSLock()
    private var acknowledged: [Reader: UInt64] = [:]
    private var purgedThrough: UInt64?
    private var silent: Set<String>?
    private var anyPurged: Bool?
    private var hook: (@Sendable (Int) -> Void)?
    /// Tombstones per purge transaction at most (fewer when a chunk takes longer than 50 ms).
    var chunkRows: Int {
        get { lock.withLock { chunk } }
        set { lock.withLock { chunk = newValue } }
    }
    private var chunk = 2_000

    /// Notes that a site replica holds the feed through `seq`, its latest pull's cursor: lower than
    /// the last when it went back (a re-baseline starts again from 0), so the horizon waits for it.
    func note(_ replica: Reader, seq: UInt64) {
        lock.withLock { acknowledged[replica] = seq }
    }

    /// The positions noted since the last call, handed over to be written.
    func takeAcknowledged() -> [Reader: UInt64] {
        lock.withLock {
            defer { acknowledged = [:] }
            return acknowledged
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
    var betweenChunks: (@Sendable (Int) -> Void)? {
        get { lock.withLock { hook } }
        set { lock.withLock { hook = newValue } }
    }
}
