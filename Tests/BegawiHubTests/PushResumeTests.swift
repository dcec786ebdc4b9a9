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
        // The second batch reaches the hub and is committed; its answer is lost with the connection.
        let cut = StoreTransport(store: world.store, site: world.records["lpk-a"]!, loseAnswerOfPush: 2)
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
}
