import BegawiCore
import BegawiHub
import BegawiReplica
import Foundation
import GRDB
import Testing

/// Under the rules between agencies: feed events (grants and revocations) and their rows' visibility
/// go with the purge, and a site behind the horizon is told so.
@Suite(.blocking) struct PurgeHorizonRulesTests {
    @Test func feedEventsThroughTheHorizonAreGoneAndABehindSiteIsRefused() throws {
        let h = try HubHarness()
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let person = Person.make(3), key = person.key(h.policy)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [key, person.nik, person.name, person.birth, person.female ? "P" : "L", "lpk-a"])
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Operator Forklift')")
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'registered')", [key])
        try h.syncAll()
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b'")
        try h.syncAll()
        let hub = h.folder.file("hub.sqlite")
        func count(_ sql: String) throws -> Int {
            let queue = try DatabaseQueue(path: hub)
            defer { try? queue.close() }
            return try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
        }
        let events = try count("SELECT count(*) FROM _hub_feed")
        #expect(events >= 2, "a grant to lpk-b and its revocation")
        #expect(try count("SELECT count(*) FROM _begawi_dead_enrollments") == 1)
        let behind = try h.site("lpk-b").replica.cursor(for: h.store.hubReplicaID)

        // No site has opened a session (none is active): the horizon is the feed's head 180 days ago.
        let now = UInt64(Date().timeIntervalSince1970 * 1000), day: UInt64 = 86_400_000
        try h.staff("disnaker", "INSERT INTO programs(id, provider, title) VALUES ('prog-d', 'disnaker', 'Menjahit')")
        try h.sync("disnaker")
        #expect(try h.store.housekeep(now: now, retention: HubRetention())["tombstones.purged"] == 0)
        let done = try h.store.housekeep(now: now + 200 * day, retention: HubRetention())
        #expect(done["tombstones.purged"] == 1)
        #expect(done["feed.purged"] == events)
        #expect(try count("SELECT count(*) FROM _hub_feed") == 0)
        #expect(try count("SELECT count(*) FROM _begawi_dead_enrollments") == 0)
        #expect(try count("SELECT count(*) FROM _hub_visibility WHERE tbl = 'enrollments'") == 0)
        // lpk-b pulled to the head before the office's last change: a delete it needs may be gone.
        let site = h.site("lpk-b")
        #expect(behind.baseSeq > 0 && behind.seq < done["purge.horizon"].map(UInt64.init) ?? 0)
        #expect { try h.store.pull(site: site.record, replica: site.replica.replicaID, after: behind, maxRows: 10) } throws: { error in
            (error as? HubRefusal)?.code == .pastHorizon
        }
    }
}
