import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiSite
import Foundation
import Testing

/// A connection reset in the middle of a push (issue 16, item 5): what the hub committed is not sent
/// again, what it did not commit is sent once.
@Suite struct PushResumeTests {
    @Test func aPushWhoseAnswerIsLostAfterTheHubCommittedIsNotSentAgain() async throws {
        let world = try PurgeWorld()
        try world.addSite("lpk-a")
        let keys = try world.insert("lpk-a", count: 1500, tag: "n")
        // The second batch reaches the hub and is committed; its answer is lost with the connection,
        // and the link stays down: the round fails (after trying to resume).
        let cut = StoreTransport(store: world.store, site: world.records["lpk-a"]!, loseAnswerOfPush: 2)
        cut.downAfterLoss = true
        await #expect(throws: BegawiError.self) { try await world.sync("lpk-a", transport: cut) }
        let committed = cut.pushed.flatMap { $0 }
        #expect(cut.pushed.count == 2 && committed.count < keys.count, "batches: \(cut.pushed.map(\.count))")
        #expect(try world.keys(world.hubPath) == Set(committed))

        let resumed = world.transport("lpk-a")
        let report = try await world.sync("lpk-a", transport: resumed)
        let sentAgain = resumed.pushed.flatMap { $0 }
        #expect(Set(sentAgain).isDisjoint(with: committed), "rows the hub had committed were sent again")
        #expect(sentAgain.count == Set(sentAgain).count && committed.count + sentAgain.count == keys.count)
        #expect(report.sent == keys.count - committed.count && report.changedAtHub == report.sent)
        #expect(try world.keys(world.hubPath) == Set(keys))
        // The hub's feed holds each row once, as its last change.
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_rows") == keys.count)
    }

    /// A reset after an acknowledged batch, with the link back at once: the same round resumes from
    /// the hub's cursor in a new session, and the batch the hub committed is not sent again.
    @Test func aPushWhoseAnswerIsLostAfterProgressResumesInTheSameRound() async throws {
        let world = try PurgeWorld()
        try world.addSite("lpk-a")
        let keys = try world.insert("lpk-a", count: 1500, tag: "n")
        let cut = StoreTransport(store: world.store, site: world.records["lpk-a"]!, loseAnswerOfPush: 2)
        let report = try await world.sync("lpk-a", transport: cut)
        let sent = cut.pushed.flatMap { $0 }
        #expect(cut.pushed.count >= 3, "batches: \(cut.pushed.map(\.count))")
        #expect(sent.count == Set(sent).count && sent.count == keys.count, "rows were sent twice: \(cut.pushed.map(\.count))")
        // The batch whose answer was lost was committed: the hub's cursor at the resume says so, and
        // the round counts its rows as sent (what the hub took); the answer's tallies are gone with it.
        #expect(report.sent == keys.count && report.batches == cut.pushed.count)
        #expect(report.changedAtHub == keys.count - cut.pushed[1].count)
        #expect(try world.keys(world.hubPath) == Set(keys))
        #expect(try world.count(world.hubPath, "SELECT sessions FROM _hub_site_health WHERE site = 'lpk-a'") == 2)
    }

    /// A reset before anything was acknowledged says nothing of the link: the round fails at once
    /// and the daemon's backoff decides when to try again.
    @Test func aPushLostBeforeAnyAcknowledgementFailsTheRound() async throws {
        let world = try PurgeWorld()
        try world.addSite("lpk-a")
        _ = try world.insert("lpk-a", count: 100, tag: "n")
        let cut = StoreTransport(store: world.store, site: world.records["lpk-a"]!, loseAnswerOfPush: 1)
        await #expect(throws: BegawiError.self) { try await world.sync("lpk-a", transport: cut) }
        #expect(cut.pushed.count == 1)
        #expect(try world.count(world.hubPath, "SELECT sessions FROM _hub_site_health WHERE site = 'lpk-a'") == 1)
    }
}
