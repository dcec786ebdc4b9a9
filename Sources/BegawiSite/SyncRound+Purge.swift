import BegawiCore
import BegawiReplica
import Logging

/// A site's purge of its own tombstones, by what the hub announces (issue 15).
extension SyncRound {
    /// Purges this replica's tombstones older than the session's `purgeBefore` whose delete the hub
    /// holds (at or before `pushed`, the hub's cursor for this replica after the round's push).
    func purgeOwnTombstones(_ session: HubSession, pushed: ExchangeCursor) async throws {
        guard let before = session.purgeBefore else { return }
        let acknowledged = pushed.seq
        let purged = try await lane.run { try $0.purgeOwnTombstones(before: before, acknowledgedSeq: acknowledged) }
        if purged > 0 { logger.notice("purged tombstones the hub holds", metadata: ["rows.purged": "\(purged)"]) }
    }
}
