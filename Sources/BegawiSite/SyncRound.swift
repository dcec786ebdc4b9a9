public import BegawiCore
import BegawiReplica
public import Logging
public import BegawiRules
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
    /// The hub's replica id (its epoch) and its cursor for this replica at the end.
    public var hubReplicaID = ""
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
/// Not `Sendable`: it drives a replica (through its lane), one round at a time.
public struct SyncRound {
    let lane: ReplicaLane
    var client: HubClient
    var configuration: SiteConfiguration
    let logger: Logger
    /// Called after each batch pushed and each page applied (the service manager's watchdog).
    public var onProgress: (@Sendable () -> Void)?
    /// Called with the hub's schema once the replica is migrated to it (even if the round then fails):
    /// the site's checks judge by its tables and rules from then on.
    public var onMigrated: ((SchemaDocument) -> Void)?
    /// What the site tells the hub about itself when the round opens (pending changes, its clock).
    public var sessionHeaders: [(String, String)] = []
    /// The pushed batches' sizer to start from (an earlier round's measure of the link), and where
    /// each new measure goes, so that the next round starts from it.
    var sizer: BatchSizer?
    var onSized: ((BatchSizer) -> Void)?
    /// Waits the given milliseconds between attempts to resume a push (injected so tests can drive time).
    var pause: @Sendable (UInt64) async throws -> Void = { try await Task.sleep(nanoseconds: $0 * 1_000_000) }

    /// Makes a round.
    public init(lane: ReplicaLane, client: HubClient, configuration: SiteConfiguration, logger: Logger) {
        self.lane = lane
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the round; throws on the first failure (what was acknowledged or applied stays).
    public func run() async throws -> RoundReport {
        var report = RoundReport()
        let (session, offset, _) = try await client.session(extraHeaders: sessionHeaders)
        let (migrated, caughtUp) = try await followSchema(session)
        if let migrated {
            // Again from a new session, saying the new version (the hub's pages then carry its columns),
            // with the site's checks judging by the new tables and rules.
            var next = self
            next.client.schemaVersion = migrated.version
            next.configuration.adopt(migrated)
            var report = try await next.run()
            report.received += caughtUp
            return report
        }
        report.received += caughtUp
        report.hubReplicaID = session.hubReplicaID
        report.offset = offset
        try await followEpoch(session)
        if let offset {
            report.restamped += try await lane.run { try $0.correctClock(offset: offset, unsentAfterSeq: session.pushCursor.seq) }
        }

        // What the last push refused, if its answer never arrived, before anything is sent again.
        try await settleUnsettled(session, report: &report)

        // Rows that wait for a row they reference go once more; those the hub takes leave the ledger.
        let awaiting = try await lane.run { try $0.requeueAwaitingReferences() }
        var landed: [RowKey: Bool] = Dictionary(uniqueKeysWithValues: awaiting.map { ($0, false) })

        // Push: everything the hub lacks, batch by batch, each acknowledged after the hub's commit.
        let declared = configuration.declared
        _ = try await lane.run { try SiteChecks.releaseCorrected($0, declared: declared) }
        var cursor = session.pushCursor
        var clockRetries = 0
        var orderRetries = 0
        var sizer = self.sizer.flatMap { $0.maxRows == configuration.batchRows ? $0 : nil } ?? BatchSizer(maxRows: configuration.batchRows)
        // Whether a batch was acknowledged since the round began or last resumed: the link worked a moment ago.
        var progressed = false
        while true {
            let (batch, bytes, settled) = try await nextBatch(after: cursor, for: session.hubReplicaID, rows: sizer.rows, report: &report)
            if settled { break }
            do {
                let started = ContinuousClock.now
                let (answer, _) = try await client.push(bytes)
                sizer.record(rows: batch.rows.count, bytes: bytes.count, seconds: (ContinuousClock.now - started) / .seconds(1))
                onSized?(sizer)
                progressed = true
                onProgress?()
                report.batches += 1
                report.sent += batch.rows.count
                report.bytesSent += bytes.count
                report.changedAtHub += answer.rowsChanged
                report.conflictsAtHub += answer.conflicts
                if !answer.refused.isEmpty {
                    try await settle(answer)
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
                let pushedSeq = cursor.seq
                report.restamped += try await lane.run { try $0.correctClock(offset: corrected, unsentAfterSeq: pushedSeq, threshold: 0) }
                report.offset = corrected
            } catch let refusal as HubRefusal where refusal.code == .outOfOrder && orderRetries < 3 {
                orderRetries += 1
                guard let hubCursor = refusal.cursor else { throw refusal }
                cursor = hubCursor
            } catch let lost as BegawiError where lost.code == .network && progressed {
                // Once per acknowledged batch, so that a link that keeps failing falls to the daemon's backoff.
                progressed = false
                let resumedSession = try await resumePush(after: lost, hubReplicaID: session.hubReplicaID)
                try await settleUnsettled(resumedSession, report: &report)
                let resumed = resumedSession.pushCursor
                // The hub may have committed the batch before its answer was lost: its cursor says so,
                // and the round's report counts what the hub took (the answer's tallies are gone).
                if !batch.rows.isEmpty, resumed.seq >= batch.throughSeq, resumed.seq > cursor.seq {
                    report.batches += 1
                    report.sent += batch.rows.count
                    report.bytesSent += bytes.count
                }
                cursor = resumed
            }
        }
        report.acknowledged = cursor
        let arrived = Set(landed.filter(\.value).keys)
        try await lane.run { try $0.resolveAwaiting(arrived) }

        try await pullOrRebaseline(session, pushed: cursor, report: &report)
        try await purgeOwnTombstones(session, pushed: cursor)
        // Removed rows must not linger in the write-ahead log either.
        if report.evicted > 0 { try await lane.run { try $0.checkpoint() } }
        let acknowledgedSeq = cursor.seq
        report.caughtUp = try await lane.run { try $0.pendingChanges(afterSeq: acknowledgedSeq, for: session.hubReplicaID) == 0 }
        return report
    }

    /// The next batch to push after `cursor`, of at most `rows` rows, screened by this site's checks
    /// (the rows they hold back are recorded here), and whether nothing is left to push.
    func nextBatch(after cursor: ExchangeCursor, for hubReplicaID: String, rows: Int, report: inout RoundReport) async throws -> (ChangeBatch, [UInt8], settled: Bool) {
        let limits = BatchLimits(maxRows: rows, maxValueBytes: configuration.batchBytes)
        let declared = configuration.declared, policy = configuration.policy
        let (batch, bytes, settled, held, notices) = try await lane.run { replica -> (ChangeBatch, [UInt8], Bool, Int, [RowRefusal]) in
            let (batch, bytes) = try replica.exportEncoded(after: cursor, for: hubReplicaID, limits: limits, soleRecipient: true)
            let settled = batch.rows.isEmpty && batch.complete && cursor == ExchangeCursor(baseSeq: batch.throughSeq, seq: batch.throughSeq)
            if settled { return (batch, bytes, true, 0, []) }
            let (screened, notices, inserts) = SiteChecks.screen(batch, site: replica.siteID, schema: declared ?? replica.schema, policy: policy,
                                                                 held: try SiteChecks.heldRows(replica),
                                                                 heldInserts: try replica.heldInserts())
            guard screened.rows.count != batch.rows.count else { return (batch, bytes, false, 0, []) }
            try replica.holdBack(notices, inserts: inserts)
            return (screened, try BatchCodec.encode(screened), false, batch.rows.count - screened.rows.count, notices)
        }
        report.heldBack += held
        if !notices.isEmpty {
            logger.warning("rows held back by the site's checks; see `begawi site status`",
                           metadata: ["rows": "\(notices.count)", "reasons": "\(Set(notices.map { $0.reason.code }).sorted().joined(separator: ","))"])
        }
        return (batch, bytes, settled)
    }

    /// Pulls pages of the hub's feed, each applied with its cursor in one transaction. The next
    /// page is fetched while this one is applied, so the hub builds pages as the site stores them.
    func pull(_ session: HubSession, report: inout RoundReport) async throws {
        let hubReplicaID = session.hubReplicaID, pageRows = session.pageRows, client = self.client, marking = client.freshCopy
        var pullCursor = try await lane.run { try $0.cursor(for: hubReplicaID) }
        if pullCursor == .start, !marking, try await adoptSnapshot(session, report: &report) {
            pullCursor = try await lane.run { try $0.cursor(for: hubReplicaID) }
        }
        var bytes = try await client.pull(hubReplicaID: hubReplicaID, after: pullCursor, maxRows: pageRows)
        while true {
            let batch = try BatchCodec.decode(bytes)
            report.bytesReceived += bytes.count
            guard batch.replicaID == hubReplicaID else {
                throw BegawiError(.network, "the hub's page names source \(batch.replicaID), not its epoch \(hubReplicaID); start a new round")
            }
            let expected = batch.cursorAfter
            // The prefetch is a child task: a failure here cancels it and waits for it to end.
            let next: [UInt8]? = try await withThrowingTaskGroup(of: [UInt8].self) { prefetch in
                if !batch.complete {
                    prefetch.addTask { try await client.pull(hubReplicaID: hubReplicaID, after: expected, maxRows: pageRows) }
                }
                let result = try await lane.run { replica in
                    if marking { try replica.markRebaseline(batch) }
                    return try replica.apply(batch, budget: Replica.pageWriteBudget)
                }
                onProgress?()
                report.pages += 1
                report.received += batch.rows.count
                report.conflictsHere += result.conflicts
                report.evicted += result.evicted
                guard result.advancedCursor else {
                    throw BegawiError(.network, "the hub's page did not continue this site's cursor \(pullCursor); starting a new round")
                }
                let moved = result.cursor != pullCursor
                pullCursor = result.cursor
                if batch.complete { return nil }
                guard moved else {
                    throw BegawiError(.network, "the hub's feed did not advance past \(pullCursor); starting a new round")
                }
                if result.cursor == expected, let page = try await prefetch.next() { return page }
                prefetch.cancelAll()
                _ = try? await prefetch.next()
                return try await client.pull(hubReplicaID: hubReplicaID, after: pullCursor, maxRows: pageRows)
            }
            guard let next else { break }
            bytes = next
        }
    }

    /// Settles what the replica's last push refused when the session repeats it (its answer may have
    /// been lost with the connection) and this replica has not settled it yet.
    func settleUnsettled(_ session: HubSession, report: inout RoundReport) async throws {
        guard let answer = session.unsettled, !answer.refused.isEmpty, try await settle(answer) else { return }
        report.refused += answer.refused.count
    }

    /// Records the hub's refusals and makes each refused row what the hub holds (or removes it),
    /// unless this answer was settled already; whether it settled them.
    @discardableResult
    func settle(_ answer: PushOutcome) async throws -> Bool {
        var restore: ChangeBatch?
        if let text = answer.restore {
            guard let data = Data(base64Encoded: text) else {
                throw BegawiError(.network, "the hub's answer carries a malformed restore batch; starting a new round")
            }
            restore = try BatchCodec.decode(Array(data))
        }
        let refused = answer.refused, restored = restore, through = answer.cursor.seq
        guard try await lane.run({ try $0.settleRefusals(refused, restore: restored, through: through) }) else { return false }
        let reasons = Set(answer.refused.map(\.reason.code)).sorted().joined(separator: ",")
        logger.warning("the hub refused rows; they are in the refusal ledger (`begawi site status`)",
                       metadata: ["rows": "\(answer.refused.count)", "reasons": "\(reasons)"])
        if answer.refused.contains(where: { $0.reason.action == .erase }) { try await lane.run { try $0.checkpoint() } }
        return true
    }

    /// After a restore of the hub from a backup, carries this site's pull cursor over to the new
    /// epoch, limited to the part of the feed the backup shares with the epoch it knew.
    func followEpoch(_ session: HubSession) async throws {
        let known = Set(try await lane.run { try $0.cursorReplicaIDs() })
        guard !known.contains(session.hubReplicaID) else { return }
        for link in session.lineage.reversed() where known.contains(link.replicaID) {
            let cursor = try await lane.run { try $0.adoptCursor(from: link.replicaID, to: session.hubReplicaID, sharedThroughSeq: link.throughSeq) }
            logger.notice("the hub has a new epoch (restored from a backup); resuming its feed from the shared part",
                          metadata: ["hub.epoch": "\(session.hubReplicaID)", "cursor": "\(cursor)"])
            return
        }
    }
}
