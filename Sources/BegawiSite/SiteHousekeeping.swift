import BegawiCore
import BegawiReplica
public import Logging

/// The site's housekeeping (issue 15): handled ledger entries cleared after `ledger_retention_days`,
/// then free pages given back and the write-ahead log truncated, once an hour. The sync loop calls
/// `runIfDue` between rounds; each call works on the replica's lane in short steps for at most
/// `budget`, and the pass goes on at the next call, so a round waits for housekeeping no longer than that.
public struct SiteHousekeeping {
    /// Milliseconds between the starts of passes.
    public static let interval: UInt64 = 3_600_000
    /// Lane time one call takes at most (a step begun before it ran out is finished).
    public static let budget = Duration.milliseconds(100)
    /// Ledger entries looked at per step.
    static let ledgerStep = 200
    /// Pages given back per step (256 KiB of 4 KiB pages).
    static let vacuumStep = 64

    enum Phase { case ledgers, vacuum, log }

    /// A pass under way: where it is and what it did.
    struct Pass {
        var phase = Phase.ledgers
        var lastRefusal: Int64 = 0
        var conflicts = 0, refusals = 0, pagesFreed = 0
        let startedAt = ContinuousClock.now
    }

    let lane: ReplicaLane
    let logger: Logger
    var nextPassAt: UInt64 = 0
    var pass: Pass?

    /// Housekeeping for the replica on `lane`; the first pass is due at the first call.
    public init(lane: ReplicaLane, logger: Logger) {
        self.lane = lane
        self.logger = logger
    }

    /// Works on the pass for at most `budget` when one is due or under way (`now` in ms since the Unix
    /// epoch). A step that fails is logged and the pass ends; the next is due an interval later.
    public mutating func runIfDue(now: UInt64, ledgerRetentionDays: Int) async {
        if pass == nil {
            guard now >= nextPassAt else { return }
            pass = Pass()
            nextPassAt = now &+ Self.interval
        }
        let span = UInt64(clamping: ledgerRetentionDays).multipliedReportingOverflow(by: 86_400_000)
        let before = span.overflow || span.partialValue > now ? 0 : now - span.partialValue
        let started = ContinuousClock.now
        do {
            while var current = pass, ContinuousClock.now - started < Self.budget {
                let finished = try await step(&current, before: before)
                pass = finished ? nil : current
            }
        } catch {
            pass = nil
            logger.warning("housekeeping failed; it is tried again at the next pass", metadata: ["error": "\(error)"])
        }
    }

    /// One short step of `current` on the lane; at the end of the pass, its log line. Returns whether the pass is done.
    func step(_ current: inout Pass, before: UInt64) async throws -> Bool {
        switch current.phase {
        case .ledgers:
            let after = current.lastRefusal
            let step = try await lane.run {
                try $0.clearHandledLedgers(before: before, keeping: SiteChecks.localReasons, afterRefusal: after, limit: Self.ledgerStep)
            }
            current.conflicts += step.conflicts
            current.refusals += step.refusals
            if let last = step.lastRefusal { current.lastRefusal = last }
            if !step.more { current.phase = .vacuum }
            return false
        case .vacuum:
            let freed = try await lane.run { try $0.vacuumStep(pages: Self.vacuumStep) }
            current.pagesFreed += freed
            if freed < Self.vacuumStep { current.phase = .log }
            return false
        case .log:
            // A staff application's long read may keep the log from being emptied: never wait long for it.
            let (space, path) = try await lane.run { replica -> (Replica.Space, String) in
                try replica.truncateLog(waitMilliseconds: 20)
                return (try replica.space(), replica.path)
            }
            let elapsed = ContinuousClock.now - current.startedAt
            logger.info("housekeeping done", metadata: [
                "ledger.conflicts_cleared": "\(current.conflicts)", "ledger.refusals_cleared": "\(current.refusals)",
                "pages.freed": "\(current.pagesFreed)", "pages.free": "\(space.freePages)",
                "duration_ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
            if !space.incremental, space.freePages > 0 {
                logger.notice("this replica was made before free pages were given back in steps; run `begawi replica compact --file \(path)` once, in a quiet hour",
                              metadata: ["pages.free": "\(space.freePages)"])
            }
            return true
        }
    }
}
