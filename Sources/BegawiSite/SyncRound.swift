public import BegawiCore
public import BegawiReplica
public import Logging
import BegawiRules
import Foundation

/// What one sync round did.
public struct RoundReport: Sendable, Equatable {
    /// Rows pushed, and rows the hub's merge changed.
    public var sent = 0
    public var changedAtHub = 0
    /// Conflicts the hub recorded while merging this site's rows.
    public var conflictsAtHub = 0
    /// Rows received, and conflicts recorded here while merging them.
    public var received = 0
    public var conflictsHere = 0
    /// Pages pulled and batches pushed.
    public var pages = 0
    public var batches = 0
    /// The hub's epoch and its cursor for this replica at the end.
    public var epoch = ""
    public var acknowledged = ExchangeCursor.start
    /// The estimated clock offset to the hub.
    public var offset: Int64?
    /// Own unsent stamps moved by a clock correction.
    public var restamped = 0
    /// Whether the hub had already seen everything local and the pull reached the feed's head.
    public var caughtUp = false
    /// Rows the hub refused in this round, and rows this site's own checks held back.
    public var refused = 0
    public var heldBack = 0
    /// Rows removed from this replica because the hub no longer lets this site see them (or erased them).
    public var evicted = 0
    /// Encoded bytes pushed and pulled (batches and pages, before the transport's own compression).
    public var bytesSent = 0
    public var bytesReceived = 0
}

/// One sync round: session, push of everything unacknowledged, pull to the head of the hub's feed.
///
/// Not `Sendable`: it drives a `Replica`, one round at a time.
public struct SyncRound {
    let replica: Replica
    let client: HubClient
    let configuration: SiteConfiguration
    let logger: Logger
    /// Called after each batch pushed and each page applied (the service manager's watchdog).
    public var onProgress: (@Sendable () -> Void)?
    /// What the site tells the hub about itself when the round opens (pending changes, its clock).
    public var sessionHeaders: [(String, String)] = []

    /// Makes a round.
    public init(replica: Replica, client: HubClient, configuration: SiteConfiguration, logger: Logger) {
        self.replica = replica
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the round; throws on the first failure (what was acknowledged or applied stays).
    public func run() async throws -> RoundReport {
        var report = RoundReport()
        let (session, offset, _) = try await client.session(extraHeaders: sessionHeaders)
        report.epoch = session.epoch
        report.offset = offset
        try followEpoch(session)
        if let offset { report.restamped += try replica.correctClock(offset: offset, unsentAfter: session.pushCursor.position) }

        // Rows that wait for a row they reference go once more; those the hub takes leave the ledger.
        let awaiting = try replica.requeueAwaitingReferences()
        var landed: [RowKey: Bool] = Dictionary(uniqueKeysWithValues: awaiting.map { ($0, false) })

        // Push: everything the hub lacks, batch by batch, each acknowledged after the hub's commit.
        _ = try SiteChecks.releaseCorrected(replica, declared: configuration.declared)
        var cursor = session.pushCursor
        var clockRetries = 0
        var orderRetries = 0
        while true {
            var (batch, bytes) = try replica.exportEncoded(
                after: cursor, for: session.epoch, limits: BatchLimits(maxRows: configuration.batchRows, maxValueBytes: configuration.batchBytes),
                soleRecipient: true)
            let settled = batch.rows.isEmpty && batch.complete && cursor == ExchangeCursor(base: batch.through, position: batch.through)
            if settled { break }
            do {
                let (screened, notices, inserts) = SiteChecks.screen(batch, site: replica.siteID, schema: configuration.declared ?? replica.schema, policy: configuration.policy,
                                                                     held: try SiteChecks.heldRows(replica),
                                                                     heldInserts: try replica.heldInserts())
                if screened.rows.count != batch.rows.count {
                    try replica.holdBack(notices, inserts: inserts)
                    report.heldBack += batch.rows.count - screened.rows.count
                    if !notices.isEmpty {
                        logger.warning("rows held back by the site's checks; see `begawi site status`",
                                       metadata: ["rows": "\(notices.count)", "reasons": "\(Set(notices.map(\.reason.code)).sorted().joined(separator: ","))"])
                    }
                    batch = screened
                    bytes = try BatchCodec.encode(screened)
                }
            }
            do {
                let (answer, _) = try await client.push(bytes)
                onProgress?()
                report.batches += 1
                report.sent += batch.rows.count
                report.bytesSent += bytes.count
                report.changedAtHub += answer.rowsChanged
                report.conflictsAtHub += answer.conflicts
                if !answer.refused.isEmpty {
                    try settle(answer)
                    report.refused += answer.refused.count
                }
                let waiting = Set(answer.refused.filter { $0.reason.action == .keep }.map { RowKey(table: $0.table, key: $0.key) })
                for row in batch.rows {
                    let address = RowKey(table: batch.tables[row.table].name, key: row.key)
                    if waiting.contains(address) { landed[address] = false } else if landed[address] != nil { landed[address] = true }
                }
                guard answer.cursor != cursor || !batch.rows.isEmpty else {
                    throw BegawiError(.network, "the hub acknowledged a batch without moving its cursor (\(cursor)); this is a bug, please report it")
                }
                cursor = answer.cursor
            } catch let refusal as HubRefusal where refusal.code == .clockAhead && clockRetries < 2 {
                clockRetries += 1
                guard let corrected = refusal.offset else { throw refusal }
                logger.warning("the hub refused stamps from this site's future; re-stamping unsent changes",
                               metadata: ["clock.offset_ms": "\(corrected)"])
                report.restamped += try replica.correctClock(offset: corrected, unsentAfter: cursor.position, threshold: 0)
                report.offset = corrected
            } catch let refusal as HubRefusal where refusal.code == .outOfOrder && orderRetries < 3 {
                orderRetries += 1
                guard let hubCursor = refusal.cursor else { throw refusal }
                cursor = hubCursor
            }
        }
        report.acknowledged = cursor
        try replica.resolveAwaiting(Set(landed.filter(\.value).keys))

        // Pull: pages of the hub's feed, each applied with its cursor in one transaction. The next
        // page is fetched while this one is applied, so the hub builds pages as the site stores them.
        let epoch = session.epoch, pageRows = session.pageRows
        var pullCursor = try replica.cursor(for: epoch)
        var bytes = try await client.pull(epoch: epoch, after: pullCursor, maxRows: pageRows)
        while true {
            let batch = try BatchCodec.decode(bytes)
            report.bytesReceived += bytes.count
            guard batch.source == epoch else {
                throw BegawiError(.network, "the hub's page names source \(batch.source), not its epoch \(epoch); start a new round")
            }
            let expected = batch.cursorAfter
            let prefetch: Task<[UInt8], any Error>? = batch.complete ? nil : Task { [client] in
                try await client.pull(epoch: epoch, after: expected, maxRows: pageRows)
            }
            let result: ApplyResult
            do {
                result = try replica.apply(batch, budget: Replica.pageWriteBudget)
            } catch {
                prefetch?.cancel()
                throw error
            }
            onProgress?()
            report.pages += 1
            report.received += batch.rows.count
            report.conflictsHere += result.conflicts
            report.evicted += result.evicted
            guard result.advancedCursor else {
                prefetch?.cancel()
                throw BegawiError(.network, "the hub's page did not continue this site's cursor \(pullCursor); starting a new round")
            }
            let moved = result.cursor != pullCursor
            pullCursor = result.cursor
            guard let prefetch else { break }
            guard moved else {
                prefetch.cancel()
                throw BegawiError(.network, "the hub's feed did not advance past \(pullCursor); starting a new round")
            }
            if result.cursor == expected {
                bytes = try await prefetch.value
            } else {
                prefetch.cancel()
                _ = try? await prefetch.value
                bytes = try await client.pull(epoch: epoch, after: pullCursor, maxRows: pageRows)
            }
        }
        // Removed rows must not linger in the write-ahead log either.
        if report.evicted > 0 { try replica.checkpoint() }
        report.caughtUp = try replica.pendingChanges(after: cursor.position, for: session.epoch) == 0
        return report
    }

    /// Records the hub's refusals and makes each refused row what the hub holds (or removes it).
    func settle(_ answer: PushOutcome) throws {
        var restore: ChangeBatch?
        if let text = answer.restore {
            guard let data = Data(base64Encoded: text) else {
                throw BegawiError(.network, "the hub's answer carries a malformed restore batch; starting a new round")
            }
            restore = try BatchCodec.decode(Array(data))
        }
        try replica.settleRefusals(answer.refused, restore: restore)
        let reasons = Set(answer.refused.map(\.reason.code)).sorted().joined(separator: ",")
        logger.warning("the hub refused rows; they are in the refusal ledger (`begawi site status`)",
                       metadata: ["rows": "\(answer.refused.count)", "reasons": "\(reasons)"])
        if answer.refused.contains(where: { $0.reason.action == .erase }) { try replica.checkpoint() }
    }

    /// After a restore of the hub from a backup, carries this site's pull cursor over to the new
    /// epoch, limited to the part of the feed the backup shares with the epoch it knew.
    func followEpoch(_ session: HubSession) throws {
        let known = Set(try replica.cursorSources())
        guard !known.contains(session.epoch) else { return }
        for link in session.lineage.reversed() where known.contains(link.epoch) {
            let cursor = try replica.adoptCursor(from: link.epoch, to: session.epoch, sharedThrough: link.through)
            logger.notice("the hub has a new epoch (restored from a backup); resuming its feed from the shared part",
                          metadata: ["hub.epoch": "\(session.epoch)", "cursor": "\(cursor)"])
            return
        }
    }
}
