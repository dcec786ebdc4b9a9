import BegawiCore
import BegawiReplica
import Foundation
import Logging

/// A new replica's first pull as a snapshot of what this site may see (issue 16): parts of a table's
/// rows, each a small SQLite file written beside the replica, adopted without merging row by row.
extension SyncRound {
    /// The most rows a part is asked for (the hub caps it too): about 15 MB of file for enrollment rows.
    static let snapshotMaxPartRows = 50_000
    /// The seconds a part's transfer should take: a part is all or nothing, so on a link that drops
    /// every few seconds parts must be shorter than that, and on a fast one they grow to the cap.
    static let snapshotPartSeconds = 4.0
    /// Parts lost to the link in a row before the round gives up (each one asked at half the size).
    static let snapshotRetries = 3

    /// For a replica that has never pulled from this hub: adopts the hub's snapshot part by part (a
    /// cut transfer resumes at the part it was in) and returns true once its cursor is at the
    /// snapshot's position. False when the hub gives no snapshot (an older hub, or this site on
    /// another schema version): the pages then bring everything, merging the parts adopted so far.
    ///
    /// Parts are sized to the link (`BatchSizer`): the first is one page's worth, each next one at most
    /// twice the last while they arrive within `snapshotPartSeconds`, and one lost to the link is
    /// asked again at half the size.
    func adoptSnapshot(_ session: HubSession, report: inout RoundReport) async throws -> Bool {
        let hubReplicaID = session.hubReplicaID, client = self.client
        // On unless turned off (`SiteConfiguration.firstPullBySnapshot`); `BEGAWI_FIRST_PULL=pages` or
        // `snapshot` in the environment overrides it (for comparisons).
        let asked = ProcessInfo.processInfo.environment["BEGAWI_FIRST_PULL"]
        guard asked == "snapshot" || (asked != "pages" && configuration.firstPullBySnapshot) else { return false }
        guard let next = try await lane.run({ try $0.nextSnapshotPart(from: hubReplicaID) }) else { return false }
        let page = max(1, min(session.pageRows, Self.snapshotMaxPartRows))
        let sizer = SnapshotPartSizer(BatchSizer(maxRows: Self.snapshotMaxPartRows, minRows: min(50, page), startRows: page,
                                                 targetSeconds: Self.snapshotPartSeconds))
        let logger = self.logger
        /// Fetches a part at the sizer's size, and the seconds it took; a part lost to the link is asked again, smaller.
        @Sendable func fetch(_ part: SnapshotProgress) async throws -> (bytes: [UInt8], seconds: Double, compressed: Bool) {
            var lost = 0
            while true {
                let started = ContinuousClock.now, compressed = sizer.compressed
                do {
                    let bytes = try await client.snapshotPart(hubReplicaID: hubReplicaID, table: part.table, after: part.after,
                                                              maxRows: sizer.rows, compressed: compressed)
                    return (bytes, (ContinuousClock.now - started) / .seconds(1), compressed)
                } catch let error as BegawiError where error.code == .network && lost + 1 < Self.snapshotRetries {
                    lost += 1
                    sizer.lost()
                    // A warning with its cause, as a resumed push is: the operator sees why a first sync is slow.
                    logger.warning("a part of the hub's snapshot was lost to the link; asking again for a smaller one",
                                   metadata: ["rows": "\(sizer.rows)", "error": "\(error)"])
                }
            }
        }
        var (bytes, seconds, compressed): ([UInt8], Double, Bool)
        do {
            (bytes, seconds, compressed) = try await fetch(next)
        } catch let refusal as HubRefusal where refusal.status == 404 {
            logger.notice("the hub gives no snapshot to this site; pulling pages", metadata: ["reason": "\(refusal.code)"])
            try await lane.run { try $0.abandonSnapshot() }
            return false
        }
        do {
            while true {
                // The part stays in memory: a cut round fetches it again, so a file of it would only be written and read back.
                let part = bytes, received = bytes.count
                bytes = []
                let (rows, following) = try await lane.run { try $0.snapshotPart(following: part, from: hubReplicaID) }
                sizer.record(rows: rows, bytes: received, seconds: seconds, compressed: compressed)
                // The next part is fetched while this one is adopted (the hub writes it meanwhile).
                let adopting = ContinuousClock.now
                let (adoption, adopted, prefetched) = try await withThrowingTaskGroup(of: ([UInt8], Double, Bool).self) { prefetch in
                    if let following { prefetch.addTask { try await fetch(following) } }
                    let adoption = try await lane.run { try $0.adoptSnapshotPart(part, from: hubReplicaID, budget: Replica.pageWriteBudget) }
                    let adopted = ContinuousClock.now - adopting
                    return (adoption, adopted, following == nil ? nil : try await prefetch.next())
                }
                // Which side a first sync waits for: the hub and the link (fetch), or this replica (adopt).
                logger.debug("adopted a part of the hub's snapshot", metadata: [
                    "rows": "\(adoption.rows)", "bytes": "\(received)", "fetch_s": "\(String(format: "%.3f", seconds))", "compressed": "\(compressed)",
                    "adopt_s": "\(String(format: "%.3f", adopted / .seconds(1)))", "waited_s": "\(String(format: "%.3f", (ContinuousClock.now - adopting - adopted) / .seconds(1)))"])
                onProgress?()
                report.pages += 1
                report.received += adoption.rows
                report.conflictsHere += adoption.conflicts
                report.bytesReceived += received
                if let cursor = adoption.cursor {
                    logger.info("adopted the hub's snapshot; pulling pages from its position", metadata: ["cursor": "\(cursor)"])
                    return true
                }
                guard adoption.next == following, let prefetched else { return false }
                (bytes, seconds, compressed) = prefetched
            }
        } catch let error as BegawiError where error.code == .badBatch {
            logger.warning("a part of the hub's snapshot does not fit this replica; pulling pages", metadata: ["reason": "\(error.message)"])
            try await lane.run { try $0.abandonSnapshot() }
            return false
        }
    }
}
