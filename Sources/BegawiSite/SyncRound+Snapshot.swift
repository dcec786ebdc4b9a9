import BegawiCore
import BegawiReplica
import Foundation
import Logging

/// A new replica's first pull as a snapshot of what this site may see (issue 16): parts of a table's
/// rows, each a small SQLite file written beside the replica, adopted without merging row by row.
extension SyncRound {
    /// Pages' worth of rows asked for in one snapshot part: 20,000 rows with the hub's default pages,
    /// about 6 MB of file for enrollment rows and 1–2 MB on the wire, so that a cut transfer loses little.
    static let snapshotPartPages = 10

    /// For a replica that has never pulled from this hub: adopts the hub's snapshot part by part (a
    /// cut transfer resumes at the part it was in) and returns true once its cursor is at the
    /// snapshot's position. False when the hub gives no snapshot (an older hub, or this site on
    /// another schema version): the pages then bring everything, merging the parts adopted so far.
    func adoptSnapshot(_ session: HubSession, report: inout RoundReport) async throws -> Bool {
        let hubReplicaID = session.hubReplicaID, client = self.client, partRows = max(1, min(session.pageRows, 10_000)) * Self.snapshotPartPages
        // Off unless asked for (`SiteConfiguration.firstPullBySnapshot`); `BEGAWI_FIRST_PULL=snapshot`
        // or `pages` in the environment overrides it (for comparisons).
        let asked = ProcessInfo.processInfo.environment["BEGAWI_FIRST_PULL"]
        guard asked == "snapshot" || (asked != "pages" && configuration.firstPullBySnapshot) else { return false }
        let (start, replicaPath) = try await lane.run { replica in (try replica.nextSnapshotPart(from: hubReplicaID), replica.path) }
        guard let next = start else { return false }
        let path = replicaPath + ".snapshot"
        defer { try? FileManager.default.removeItem(atPath: path) }
        func fetch(_ part: SnapshotProgress) async throws -> [UInt8] {
            try await client.snapshotPart(hubReplicaID: hubReplicaID, table: part.table, after: part.after, maxRows: partRows)
        }
        var bytes: [UInt8]
        do {
            bytes = try await fetch(next)
        } catch let refusal as HubRefusal where refusal.status == 404 {
            logger.notice("the hub gives no snapshot to this site; pulling pages", metadata: ["reason": "\(refusal.code)"])
            try await lane.run { try $0.abandonSnapshot() }
            return false
        }
        do {
            while true {
                guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                    throw BegawiError(.storage, "a part of the hub's snapshot could not be written at \(path); check the free space beside the replica")
                }
                let following = try await lane.run { try $0.snapshotPart(following: path, from: hubReplicaID) }
                // The next part is fetched while this one is adopted (the hub writes it meanwhile).
                let (adoption, prefetched) = try await withThrowingTaskGroup(of: [UInt8].self) { prefetch in
                    if let following { prefetch.addTask { try await fetch(following) } }
                    let adoption = try await lane.run { try $0.adoptSnapshotPart(at: path, from: hubReplicaID, budget: Replica.pageWriteBudget) }
                    return (adoption, following == nil ? nil : try await prefetch.next())
                }
                onProgress?()
                report.pages += 1
                report.received += adoption.rows
                report.conflictsHere += adoption.conflicts
                report.bytesReceived += bytes.count
                if let cursor = adoption.cursor {
                    logger.info("adopted the hub's snapshot; pulling pages from its position", metadata: ["cursor": "\(cursor)"])
                    return true
                }
                guard adoption.next == following, let prefetched else { return false }
                bytes = prefetched
            }
        } catch let error as BegawiError where error.code == .badBatch {
            logger.warning("a part of the hub's snapshot does not fit this replica; pulling pages", metadata: ["reason": "\(error.message)"])
            try await lane.run { try $0.abandonSnapshot() }
            return false
        }
    }
}
