import BegawiCore
@testable import BegawiHub
import BegawiReplica
import BegawiSite
import Foundation
import GRDB
import Testing

/// The hub's purge below its horizon (issue 15, item 1): its re-check against writes that land while
/// it runs, a re-baseline stopped in the middle, and a restored hub that keeps its horizon.
@Suite struct PurgeHorizonTests {
    /// Two sites hold five notes that one of them deleted; both have pulled past the deletes.
    func deletedEverywhere() async throws -> (PurgeWorld, [String]) {
        let world = try PurgeWorld()
        try world.addSite("lpk-a")
        try world.addSite("lpk-b")
        let keys = try world.insert("lpk-a", count: 5, tag: "n")
        try await world.sync("lpk-a")
        try await world.sync("lpk-b")
        for key in keys { try world.staff("lpk-a", "DELETE FROM notes WHERE id = ?", [key]) }
        for _ in 0..<2 {
            try await world.sync("lpk-a")
            try await world.sync("lpk-b")
        }
        return (world, keys)
    }

    @Test func aRowWrittenAgainWhileThePurgeRunsKeepsItsMetadata() async throws {
        let (world, keys) = try await deletedEverywhere()
        #expect(try world.keys(world.hubPath, dead: true) == Set(keys))
        // One tombstone per transaction; after the first, site b re-inserts one still there (it saw the
        // delete) and pushes: between the horizon's computation and that row's DELETE.
        world.store.purgeState.chunkRows = 1
        nonisolated(unsafe) var chosen: String?
        world.store.purgeState.betweenChunks = { _ in
            guard chosen == nil, let key = try? world.keys(world.hubPath, dead: true).sorted().first else { return }
            chosen = key
            try? world.staff("lpk-b", "INSERT INTO notes(id, body, site) VALUES (?, 'again', 'lpk-b')", [key])
            try? world.pushNow("lpk-b")
        }
        let done = try world.housekeep()
        let again = try #require(chosen)
        #expect(done["tombstones.purged"] == 4)
        #expect(try world.keys(world.hubPath) == [again])
        #expect(try world.keys(world.hubPath, dead: true).isEmpty)
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_rows WHERE key = '\(again)'") == 1)
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _hub_purged WHERE key = '\(again)'") == 0)
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _hub_purged") == 4)
    }

    @Test func aReBaselineStoppedInTheMiddleFinishesAtTheNextRound() async throws {
        let world = try PurgeWorld()
        world.retention.retentionDays = 30
        world.hubConfiguration.pageRows = 40
        try world.addSite("lpk-a")
        try world.addSite("lpk-b")
        let rows = try world.insert("lpk-a", count: 300, tag: "n")
        try await world.sync("lpk-a")
        try await world.sync("lpk-b")
        for key in rows.prefix(100) { try world.staff("lpk-a", "DELETE FROM notes WHERE id = ?", [key]) }
        for _ in 0..<4 {
            world.clock.advance(days: 10)
            try await world.sync("lpk-a")
            try world.housekeep()
        }
        #expect(try world.keys(world.hubPath, dead: true).isEmpty)

        // Its first pull is refused, two pages of the fresh copy arrive, then the link is lost.
        let cut = world.transport("lpk-b", failPullsAfter: 3)
        await #expect(throws: BegawiError.self) { try await world.sync("lpk-b", transport: cut) }
        var replica = try Replica.open(at: world.path("lpk-b"))
        #expect(try replica.isRebaselining())
        let stopped = try replica.cursor(for: world.store.hubReplicaID), replicaID = replica.replicaID
        try replica.close()
        #expect(stopped.seq > 0)

        let next = world.transport("lpk-b")
        try await world.sync("lpk-b", transport: next)
        // Resumed where it stopped, not from the start.
        #expect(next.pulls.first?.fresh == true && next.pulls.first?.cursor == stopped)
        #expect(try world.keys(world.path("lpk-b")) == Set(rows.dropFirst(100)))
        #expect(try world.keys(world.path("lpk-b"), dead: true).isEmpty)
        replica = try Replica.open(at: world.path("lpk-b"))
        #expect(try !replica.isRebaselining())
        try replica.close()
        #expect(try world.count(world.path("lpk-b"), "SELECT count(*) FROM _begawi_rebaseline") == 0)

        // A backup keeps the horizon it was purged below: restored, the hub still refuses the old cursor.
        try world.store.backup(to: world.folder.file("restored.sqlite"))
        let restored = try SQLiteHubStore(path: world.folder.file("restored.sqlite"), clock: world.clock)
        defer { try? restored.close() }
        let site = try restored.sites().first { $0.id == "lpk-b" }!
        let old = cut.pulls[0].cursor
        #expect(throws: HubRefusal.self) {
            try restored.pull(site: site, replica: replicaID, after: old, maxRows: 10)
        }
        #expect(try restored.pull(site: site, replica: replicaID, after: .start, maxRows: 10).batch.rows.count == 10)
    }
}
