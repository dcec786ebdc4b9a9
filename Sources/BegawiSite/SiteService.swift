public import BegawiCore
import BegawiReplica
import BegawiRules
public import Logging
import Foundation

/// The site daemon's loop: a sync round soon after each local write, a pull now and then, and
/// capped exponential backoff with jitter while the hub cannot be reached, or the wait the hub asks
/// for when it says one (`retry_after_seconds`, at most an hour).
///
/// Not `Sendable`: it drives the replica (through its lane) and runs in one task.
public final class SiteService {
    let lane: ReplicaLane
    var client: HubClient
    var configuration: SiteConfiguration
    let clock: any WallClock
    let logger: Logger
    let sleep: @Sendable (UInt64) async throws -> Void
    var backoff: Backoff
    var status: SiteStatus
    var random = SystemRandomNumberGenerator()
    /// The hub's schema the replica was migrated to while running: a reload keeps it (site.toml's
    /// schema file is read again only at a restart).
    var adopted: SchemaDocument?
    /// Called whenever the loop or a round makes progress (the service manager's watchdog).
    public var onAlive: (@Sendable () -> Void)?
    /// Called after each round with one line of state ("3 pending, last sync 14:02, hub reachable").
    public var onStatus: (@Sendable (String) -> Void)?
    /// Asked at each turn of the loop: a new configuration and transport after a reload (SIGHUP),
    /// or nil to keep going with the ones in force. The replica and site id never change this way.
    public var reload: (@Sendable () -> (SiteConfiguration, any HubTransport)?)?
    /// Called once a held pull has settled (sent, and a first look for local writes found none):
    /// the daemon has nothing to do until a change.
    public var onIdle: (@Sendable () -> Void)?
    /// Figures for the metrics listener.
    public let metrics: SiteMetrics
    /// How often the loop should call `onAlive` at the least, in ms (as often as the watchdog takes pings), or nil.
    public var aliveIntervalMilliseconds: UInt64?
    /// The last round's measure of the link for pushed batches: the next round starts from it.
    var pushSizer: BatchSizer?
    /// Whether a held pull watches the replica with inotify; off, it looks every `watch_interval_ms` (tests).
    var watchesFiles = true

    /// Makes the service. `sleep` waits the given milliseconds (injected so tests can drive time).
    public init(lane: ReplicaLane, client: HubClient, configuration: SiteConfiguration, clock: any WallClock = SystemWallClock(),
                logger: Logger, metrics: SiteMetrics? = nil,
                sleep: @escaping @Sendable (UInt64) async throws -> Void = { try await Task.sleep(nanoseconds: $0 * 1_000_000) }) {
        self.lane = lane
        self.client = client
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.sleep = sleep
        backoff = Backoff(initialMilliseconds: configuration.backoffInitialMilliseconds, capMilliseconds: configuration.backoffCapMilliseconds)
        status = SiteStatus.load(from: configuration.statusPath)
        self.metrics = metrics ?? SiteMetrics(now: Double(clock.nowMilliseconds()) / 1000)
    }

    /// One round, with its outcome recorded in the status file. Throws what made the round fail.
    @discardableResult
    public func syncOnce() async throws -> RoundReport {
        var client = self.client
        client.schemaVersion = try await lane.run { try $0.schemaVersion() }
        var round = SyncRound(lane: lane, client: client, configuration: configuration, logger: logger)
        round.onProgress = onAlive
        round.pause = sleep
        round.sizer = pushSizer
        round.onSized = { [unowned self] in pushSizer = $0 }
        round.onMigrated = { [unowned self] schema in
            adopted = schema
            configuration.adopt(schema)
        }
        let acknowledgedSeq = status.acknowledged?.seq ?? 0, hubReplicaID = status.hubReplicaID
        let pending = try? await lane.run { try $0.pendingChanges(afterSeq: acknowledgedSeq, for: hubReplicaID) }
        round.sessionHeaders = [(WireHeader.siteTime, String(clock.nowMilliseconds()))] + (pending.map { [(WireHeader.pending, String($0))] } ?? [])
        let started = ContinuousClock.now
        func seconds() -> Double {
            let d = ContinuousClock.now - started
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        do {
            let report = try await round.run()
            metrics.round(report, seconds: seconds(), now: Double(clock.nowMilliseconds()) / 1000)
            status.lastSuccessAt = clock.nowMilliseconds()
            status.lastError = nil
            status.lastErrorAt = nil
            status.hubReplicaID = report.hubReplicaID
            status.clockOffsetMilliseconds = report.offset
            status.acknowledged = report.acknowledged
            status.lastRoundSent = report.sent
            status.lastRoundReceived = report.received
            await saveStatus()
            if report.sent > 0 || report.received > 0 {
                logger.info("synced", metadata: ["rows.sent": "\(report.sent)", "rows.received": "\(report.received)",
                                                  "conflicts": "\(report.conflictsAtHub + report.conflictsHere)"])
            }
            await reportStatus()
            return report
        } catch {
            metrics.round(nil, seconds: seconds(), now: Double(clock.nowMilliseconds()) / 1000)
            status.lastError = "\(error)"
            status.lastErrorAt = clock.nowMilliseconds()
            await saveStatus()
            await reportStatus()
            throw error
        }
    }

    /// One line of state for the service manager.
    func reportStatus() async {
        let acknowledgedSeq = status.acknowledged?.seq ?? 0, hubReplicaID = status.hubReplicaID, countHeld = onStatus != nil
        let counts = try? await lane.run { replica in
            (pending: try? replica.pendingChanges(afterSeq: acknowledgedSeq, for: hubReplicaID), refused: try? replica.refusalCount(),
             held: countHeld ? try? SiteChecks.heldBackCount(replica) : nil)
        }
        let pendingNow = counts?.pending, refusedNow = counts?.refused
        metrics.state(pending: pendingNow, refusals: refusedNow)
        guard let onStatus else { return }
        let pending = pendingNow ?? 0
        let refused = refusedNow ?? 0
        var parts = ["\(pending) pending"]
        if refused > 0 { parts.append("\(refused) refused") }
        if let held = counts?.held ?? nil, held > 0 { parts.append("\(held) held back") }
        if let at = status.lastSuccessAt {
            let seconds = Int(at / 1000)
            let utc = (seconds % 86_400 + 86_400) % 86_400
            parts.append(String(format: "last sync %02d:%02d UTC", utc / 3600, utc % 3600 / 60))
        } else {
            parts.append("never synced")
        }
        parts.append(status.lastError == nil ? "hub reachable" : "hub unreachable")
        onStatus(parts.joined(separator: ", "))
    }

    func saveStatus() async {
        let status = self.status, path = configuration.statusPath
        do { try await lane.run { _ in try status.save(to: path) } } catch { logger.warning("cannot save status", metadata: ["error": "\(error)"]) }
    }

    /// Runs until the task is cancelled.
    public func run() async throws {
        var lastRound: UInt64 = 0
        var due = true
        var waitUntil: UInt64 = 0
        // Whether the last round reached the head, so that a pull may be held there, and when the
        // next may be held (after an early answer, not before the pull interval).
        var atHead = false
        var holdAfter: UInt64 = 0
        var reloaded: (SiteConfiguration, any HubTransport)?
        await reportStatus()
        var housekeeping = SiteHousekeeping(lane: lane, logger: logger)
        while !Task.isCancelled {
            onAlive?()
            if let (next, transport) = reloaded ?? reload?() {
                reloaded = nil
                configuration = next
                if let adopted { configuration.adopt(adopted) }
                client = HubClient(transport: transport, replicaID: lane.replicaID)
                backoff = Backoff(initialMilliseconds: next.backoffInitialMilliseconds, capMilliseconds: next.backoffCapMilliseconds)
                waitUntil = 0
                due = true  // try the new settings at once
            }
            let now = clock.nowMilliseconds()
            let holding = atHead && configuration.waitSeconds > 0 && now >= holdAfter
            // While pulls are held, a round (a session: the site's report, the hub's schema and clock) only now and then.
            if !due, now &- lastRound >= (holding ? SiteService.roundIntervalWhileHolding : configuration.pullIntervalMilliseconds) { due = true }
            if !due, (try? await lane.run { try $0.pendingCaptureCount() }) ?? 0 > 0 { due = true }
            if due, now >= waitUntil {
                do {
                    let report = try await syncOnce()
                    lastRound = clock.nowMilliseconds()
                    if backoff.failures > 0 { logger.notice("hub reachable again") }
                    backoff.succeed()
                    waitUntil = 0
                    // Stay due while the round did not reach a quiet state (writes during the round).
                    due = !report.caughtUp
                    atHead = report.caughtUp
                } catch let refusal as HubRefusal where refusal.code == .tooOld {
                    // Only an upgrade of this site's package mends it: ask at the longest interval,
                    // with nothing of the replica touched (the refusal comes before any change is sent).
                    lastRound = clock.nowMilliseconds()
                    let delay = backoff.failAtCap(random: &random)
                    waitUntil = lastRound + delay
                    atHead = false
                    logger.error("the hub refuses this site's daemon as too old; upgrade the begawi package (unsent changes are kept)", metadata: [
                        "error": "\(refusal)", "retry.in_ms": "\(delay)", "version": "\(DaemonVersion.current)"])
                    due = true
                } catch {
                    lastRound = clock.nowMilliseconds()
                    var delay = backoff.fail(random: &random)
                    // A hub that says how long to wait (`too-many-failures`, limits it cannot read) is
                    // waited for, past this site's own cap if need be (at most an hour).
                    if let refusal = error as? HubRefusal, let asked = refusal.retryAfterMilliseconds { delay = max(delay, asked) }
                    waitUntil = lastRound + delay
                    atHead = false
                    logger.warning("sync failed; retrying later", metadata: [
                        "error": "\(error)", "retry.in_ms": "\(delay)", "failures": "\(backoff.failures)"])
                    due = true
                }
            }
            await housekeeping.runIfDue(now: clock.nowMilliseconds(), ledgerRetentionDays: configuration.ledgerRetentionDays)
            guard !due, atHead, configuration.waitSeconds > 0, clock.nowMilliseconds() >= holdAfter, let hub = status.hubReplicaID else {
                try await sleep(configuration.watchIntervalMilliseconds)
                continue
            }
            let started = clock.nowMilliseconds()
            do {
                switch try await hold(hubReplicaID: hub) {
                case .page(_, let complete): due = !complete
                case .quiet(let early): if early { holdAfter = started &+ configuration.pullIntervalMilliseconds }
                case .localWrite: due = true
                case .reload(let next, let transport): reloaded = (next, transport)
                }
            } catch is CancellationError {
                return
            } catch {
                // The round that follows meets the same trouble, and backs off as usual.
                logger.info("held pull ended; starting a round", metadata: ["error": "\(error)"])
                atHead = false
                due = true
            }
        }
    }

    /// How often a site whose pulls the hub holds opens a full round anyway, in ms: its report
    /// (pending changes, clock, versions) and the hub's schema and clock offset are refreshed,
    /// at the cost of a session request. The hub notes each held pull as a contact.
    static let roundIntervalWhileHolding: UInt64 = 6 * 3_600_000
}
