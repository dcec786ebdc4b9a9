import BegawiCore
import BegawiReplica
import Logging

/// Re-baselining a replica the hub's purge left behind (issue 15): see `Replica.beginRebaseline`.
extension SyncRound {
    /// Pulls to the head of the hub's feed. When the hub answers `past-horizon` (it purged changes
    /// this replica never received), or a re-baseline was under way (a crash), pulls a fresh copy from
    /// position 0 through the normal merge and then removes what the copy left out and this site has
    /// not sent. The round has pushed this site's changes first (through `pushed`): the hub merged them,
    /// or refused them into this site's refusal ledger (`purged` for rows it purged).
    func pullOrRebaseline(_ session: HubSession, pushed: ExchangeCursor, report: inout RoundReport) async throws {
        let hubReplicaID = session.hubReplicaID
        if try await !lane.run({ try $0.isRebaselining() }) {
            do {
                return try await pull(session, report: &report)
            } catch let refusal as HubRefusal where refusal.code == .pastHorizon {
                logger.notice("the hub purged changes this site never received (it was away past the hub's horizon); re-baselining: unsent changes are kept, a fresh copy is pulled",
                              metadata: ["hub.epoch": "\(hubReplicaID)"])
                try await lane.run { try $0.beginRebaseline(from: hubReplicaID) }
            }
        }
        var fresh = self
        fresh.client.freshCopy = true
        let before = report.received
        do {
            try await fresh.pull(session, report: &report)
        } catch let refusal as HubRefusal where refusal.code == .pastHorizon {
            // Resumed from a cursor the horizon has passed since: from the start again.
            try await lane.run { try $0.beginRebaseline(from: hubReplicaID) }
            try await fresh.pull(session, report: &report)
        }
        let pushedSeq = pushed.seq
        let removed = try await lane.run { try $0.finishRebaseline(pushedSeq: pushedSeq) }
        report.evicted += removed
        logger.notice("re-baseline done", metadata: ["rows.received": "\(report.received - before)", "rows.removed": "\(removed)"])
    }
}
