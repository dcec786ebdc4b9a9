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
        let (start, replicaPath) = try await lane.run { replica in (try replica.nextSnapshotPart(from: hubReplicaID), replica.path) }
        guard let next = start else { return false }
        let path = replicaPath + ".snapshot"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let page = max(1, min(session.pageRows, Self.snapshotMaxPartRows))
        let sizer = SnapshotPartSizer(BatchSizer(maxRows: Self.snapshotMaxPartRows, minRows: min(50, page), startRows: page,
                                                 targetSeconds: Self.snapshotPartSeconds))
        let logger = self.logger
        /// Fetches a part at the sizer's size, and the seconds it took; a part lost to the link is asked again, smaller.
        @Sendable func fetch(_ part: SnapshotProgress) async throws -> (bytes: [UInt8], seconds: Double) {
            var lost = 0
            while true {
                let started = ContinuousClock.now
                do {
                    let bytes = try await client.snapshotPart(hubReplicaID: hubReplicaID, table: part.table, after: part.after, maxRows: sizer.rows)
                    return (bytes, (ContinuousClock.now - started) / .seconds(1))
                } catch let error as BegawiError where error.code == .network && lost + 1 < Self.snapshotRetries {
                    lost += 1
                    sizer.lost()
                    logger.info("a part of the hub's snapshot was lost to the link; asking again for a smaller one",
                                metadata: ["rows": "\(sizer.rows)"])
                }
            }
        }
        var (bytes, seconds): ([UInt8], Double)
        do {
            (bytes, seconds) = try await fetch(next)
        } catch let refusal as HubRefusal where refusal.status == 404 {
            logger.notice("the hub gives no snapshot to this site; pulling pages", metadata: ["reason": "\(refusal.code)"])
            try await lane.run { try $0.abandonSnapshot() }
            return false
        }
        do {
            while true {
                try Self.writePart(bytes, to: path)
                let received = bytes.count
                bytes = []
                let (rows, following) = try await lane.run { try $0.snapshotPart(following: path, from: hubReplicaID) }
                sizer.record(rows: rows, bytes: received, seconds: seconds)
                // The next part is fetched while this one is adopted (the hub writes it meanwhile).
                let adopting = ContinuousClock.now
                let (adoption, adopted, prefetched) = try await withThrowingTaskGroup(of: ([UInt8], Double).self) { prefetch in
                    if let following { prefetch.addTask { try await fetch(following) } }
                    let adoption = try await lane.run { try $0.adoptSnapshotPart(at: path, from: hubReplicaID, budget: Replica.pageWriteBudget) }
                    let adopted = ContinuousClock.now - adopting
                    return (adoption, adopted, following == nil ? nil : try await prefetch.next())
                }
                // Which side a first sync waits for: the hub and the link (fetch), or this replica (adopt).
                logger.debug("adopted a part of the hub's snapshot", metadata: [
                    "rows": "\(adoption.rows)", "bytes": "\(received)", "fetch_s": "\(String(format: "%.3f", seconds))",
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
                (bytes, seconds) = prefetched
            }
        } catch let error as BegawiError where error.code == .badBatch {
            logger.warning("a part of the hub's snapshot does not fit this replica; pulling pages", metadata: ["reason": "\(error.message)"])
            try await lane.run { try $0.abandonSnapshot() }
            return false
        }
    }

    /// Writes a part's bytes to the file the replica attaches (from the array: through `Data` they were copied once more).
    static func writePart(_ bytes: [UInt8], to path: String) throws {
        let failed = BegawiError(.storage, "a part of the hub's snapshot could not be written at \(path); check the free space beside the replica")
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else { throw failed }
        defer { try? file.close() }
        do { try file.write(contentsOf: bytes) } catch { throw failed }
    }
}
