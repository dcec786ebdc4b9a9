import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiSite
import Foundation
import Testing

/// Issue 15, items 1 and 2: a site away past the hub's purge horizon comes back through real rounds
/// of the site daemon; nothing the hub deleted and purged comes back.
@Suite struct RebaselineTests {
    @Test(.timeLimit(.minutes(5))) func aSiteAwayTwoHundredDaysComesBackWithoutResurrectingAnything() async throws {
        let world = try PurgeWorld()
        let ids = (0..<20).map { String(format: "lpk-%02d", $0) }
        for id in ids { try world.addSite(id) }
        let office = ids[0], away = ids[19], active = Array(ids.dropLast())
        let doomed = try world.insert(office, count: 500, tag: "doomed")
        let kept = try world.insert(office, count: 100, tag: "kept")
        for id in active.dropFirst() { _ = try world.insert(id, count: 5, tag: "own") }
        for _ in 0..<2 { for id in ids { try await world.sync(id) } }
        #expect(try world.keys(world.path(away)).isSuperset(of: doomed + kept))

        // Away, it edits 20 rows the office will delete, 5 it keeps, and inserts 10.
        for key in doomed.prefix(20) + kept.prefix(5) {
            try world.staff(away, "UPDATE notes SET body = 'edited while away' WHERE id = ?", [key])
        }
        let new = try world.insert(away, count: 10, tag: "new")

        // 200 days: the office deletes the 500 over the first 100; the others sync every 20 days and
        // the hub keeps house after them. Nothing is purged while the away site counts as active.
        var purged = 0, expired = 0
        for step in 1...10 {
            world.clock.advance(days: 20)
            if step <= 5 {
                for key in doomed[(step - 1) * 100 ..< step * 100] { try world.staff(office, "DELETE FROM notes WHERE id = ?", [key]) }
            }
            for id in active {
                let transport = world.transport(id)
                try await world.sync(id, transport: transport)
                // An active site's pull is never refused past the horizon (it would then pull a fresh copy).
                #expect(!transport.pulls.contains { $0.fresh }, "\(id) re-baselined on day \(step * 20)")
            }
            let done = try world.housekeep()
            if step < 10 { #expect(done["tombstones.purged"] == 0, "purged on day \(step * 20) while \(away) was still active") }
            purged += done["tombstones.purged"] ?? 0
            expired = done["sites.expired"] ?? 0
        }
        #expect(purged == 500)
        #expect(expired == 1)
        #expect(try world.store.expiredSites(now: world.clock.nowMilliseconds(), retention: world.retention) == [away])
        // The hub keeps no tombstone and no merge state of a deleted row, only the keys it purged.
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_dead_notes") == 0)
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_rows") == world.count(world.hubPath, "SELECT count(*) FROM notes"))
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _hub_purged") == 500)
        // Sites purge their own tombstones older than the hub's announced 180 days, once the hub holds
        // the delete: on day 200, those of day 20's deletes; the 400 later ones wait.
        for id in [office, ids[7]] {
            #expect(try world.count(world.path(id), "SELECT count(*) FROM _begawi_dead_notes") == 400)
            #expect(try world.count(world.path(id), "SELECT count(*) FROM _begawi_rows") == world.count(world.path(id), "SELECT count(*) FROM notes") + 400)
        }

        // The return: its edits to purged rows are refused, its old cursor too; it re-baselines.
        let back = world.transport(away)
        try await world.sync(away, transport: back)
        #expect(back.pulls.first?.fresh == false && back.pulls.first?.cursor.seq ?? 0 > 0)
        #expect(back.pulls.count > 1 && back.pulls.dropFirst().allSatisfy { $0.fresh })
        let hubLive = try world.keys(world.hubPath)
        #expect(hubLive.isDisjoint(with: doomed))
        #expect(hubLive.isSuperset(of: new))
        // These three catch a resurrection (checked by taking the `purged` refusal out): without it the
        // hub merges the 20 edits made while away into rows it no longer has, keeps merge state for
        // them again, refuses nothing, and the away site keeps them live.
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_rows WHERE key LIKE '\(office)-doomed-%'") == 0)
        #expect(try world.keys(world.path(away)) == hubLive)
        #expect(try world.keys(world.path(away), dead: true).isDisjoint(with: doomed))
        let replica = try Replica.open(at: world.path(away))
        let ledger = try replica.refusals()
        try replica.close()
        #expect(Set(ledger.filter { $0.reason == .purged }.map(\.key)) == Set(doomed.prefix(20)))
        let bodies = try world.store.rows(of: "notes")
        #expect(kept.prefix(5).allSatisfy { bodies[$0]?.first == .text("edited while away") })

        // From now on it is an active site again, and the others receive its new rows.
        let again = world.transport(away)
        try await world.sync(away, transport: again)
        #expect(!again.pulls.contains { $0.fresh })
        try await world.sync(office)
        #expect(try world.keys(world.path(office)) == hubLive)
    }
}
