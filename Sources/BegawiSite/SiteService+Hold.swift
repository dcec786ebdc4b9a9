import BegawiCore
import BegawiReplica
import Foundation

extension SiteService {
    /// How a held pull ended.
    enum HoldEnd {
        /// The hub sent a page; `complete` says whether it reached the head.
        case page(rows: Int, complete: Bool)
        /// The wait ended with nothing to see; `early` when the hub answered long before it (an
        /// older hub, or one whose `max_wait_seconds` is 0 or low).
        case quiet(early: Bool)
        /// A local write is waiting to be pushed: the held pull was given up for a round.
        case localWrite
        /// A reload (SIGHUP) prepared new settings.
        case reload(SiteConfiguration, any HubTransport)
    }

    private enum Event: Sendable {
        case answer([UInt8])
        case localWrite
        case reload(SiteConfiguration, any HubTransport)
    }

    /// A site at the head of the feed waits for the hub's next change in one held pull, while it
    /// watches its replica for local writes (`ReplicaWatcher`: inotify, or a look every
    /// `watch_interval_ms` where there is none): a write aborts the held pull (the transfer ends at
    /// once, its connection with it) so that the round that sends it starts without waiting. The
    /// abort costs a new connection, the price of one connection per site: a second one kept for
    /// pushes would cost its own handshake and keep-alive traffic every day, written or not.
    func hold(hubReplicaID: String) async throws -> HoldEnd {
        var asking = self.client
        asking.schemaVersion = try await lane.run { try $0.schemaVersion() }
        let client = asking
        let cursor = try await lane.run { try $0.cursor(for: hubReplicaID) }
        let wait = configuration.waitSeconds, interval = configuration.watchIntervalMilliseconds, path = configuration.replicaPath
        let lane = self.lane, onAlive = self.onAlive, reload = self.reload, onIdle = self.onIdle, inotify = watchesFiles
        // The slow look also feeds the watchdog: a little after the notifier's pace, so that no look
        // comes a moment too early to ping (under systemd's 60 s, a look every 16 s).
        let fallback = min(ReplicaWatcher.fallbackMilliseconds, aliveIntervalMilliseconds.map { max(50, $0 + $0 / 16) } ?? .max)
        let started = clock.nowMilliseconds()
        let event: Event = try await withThrowingTaskGroup(of: Event.self) { group in
            // The hub cuts the page at its own page size: ask for its largest.
            group.addTask { .answer(try await client.pull(hubReplicaID: hubReplicaID, after: cursor, maxRows: 100_000, wait: wait)) }
            group.addTask {
                let watcher = ReplicaWatcher(path: path, inotify: inotify, fallbackMilliseconds: fallback, pollMilliseconds: interval)
                var looks = 0
                var reloaded: (SiteConfiguration, any HubTransport)?
                let written = try await watcher.waitForWrite(pending: {
                    (try? await lane.run { try $0.pendingCaptureCount() }) ?? 0 > 0
                }, onLook: {
                    onAlive?()
                    reloaded = reload?()
                    // Once the pull is on its way and one look found nothing, only the watch runs until a change.
                    looks += 1
                    if looks == 2 { onIdle?() }
                    return reloaded != nil
                })
                if let (next, transport) = reloaded { return .reload(next, transport) }
                guard written else { throw CancellationError() }
                return .localWrite
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
        switch event {
        case .localWrite: return .localWrite
        case .reload(let next, let transport): return .reload(next, transport)
        case .answer(let bytes):
            let early = clock.nowMilliseconds() &- started < UInt64(wait) * 500
            return try await applyHeld(bytes, hubReplicaID: hubReplicaID, early: early)
        }
    }

    /// Applies the page a held pull brought, as a round's pull does, and records it.
    private func applyHeld(_ bytes: [UInt8], hubReplicaID: String, early: Bool) async throws -> HoldEnd {
        let batch = try BatchCodec.decode(bytes)
        guard batch.replicaID == hubReplicaID else {
            throw BegawiError(.network, "the hub's page names source \(batch.replicaID), not its epoch \(hubReplicaID); start a new round")
        }
        let result = try await lane.run { replica in try replica.apply(batch, budget: Replica.pageWriteBudget) }
        guard result.advancedCursor else {
            throw BegawiError(.network, "the hub's page did not continue this site's cursor; starting a new round")
        }
        guard !batch.rows.isEmpty else { return .quiet(early: early) }
        if result.evicted > 0 { try await lane.run { try $0.checkpoint() } }
        var report = RoundReport()
        report.received = batch.rows.count
        report.conflictsHere = result.conflicts
        report.evicted = result.evicted
        report.pages = 1
        report.bytesReceived = bytes.count
        report.hubReplicaID = hubReplicaID
        metrics.round(report, seconds: 0, now: Double(clock.nowMilliseconds()) / 1000)
        status.lastSuccessAt = clock.nowMilliseconds()
        status.lastRoundSent = 0
        status.lastRoundReceived = batch.rows.count
        await saveStatus()
        logger.info("synced", metadata: ["rows.sent": "0", "rows.received": "\(batch.rows.count)", "conflicts": "\(result.conflicts)"])
        await reportStatus()
        return .page(rows: batch.rows.count, complete: batch.complete)
    }
}
