import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import Foundation
import GRDB
import PostgresNIO
import Testing

/// Under the rules between agencies, on both stores: feed events (grants and revocations) and their
/// rows' visibility go with the purge, and a site behind the horizon is told so (the port of
/// BegawiHubTests' `PurgeHorizonRulesTests`).
@Suite(.blocking) struct HubStorePurgeRulesTests {
    /// A count from the harness's hub database (the same table names on both stores).
    static func count(_ h: RulesHarness, _ sql: String) throws -> Int {
        if let settings = h.settings {
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let row = try #require(try link.query(PostgresQuery(unsafeSQL: sql)).first)
            return Int(try row.decode(Int64.self))
        }
        let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"))
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    @Test(arguments: StoreKind.available)
    func feedEventsThroughTheHorizonAreGoneAndABehindSiteIsRefused(kind: StoreKind) throws {
        let h = try RulesHarness(kind: kind)
        defer { h.close() }
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
        let events = try Self.count(h, "SELECT count(*) FROM _hub_feed")
        #expect(events >= 2, "a grant to lpk-b and its revocation")
        #expect(try Self.count(h, "SELECT count(*) FROM _begawi_dead_enrollments") == 1)
        let behind = try h.site("lpk-b").replica.cursor(for: h.store.hubReplicaID)

        // No site has opened a session (none is active): the horizon is the feed's head 180 days ago.
        let now = UInt64(Date().timeIntervalSince1970 * 1000), day: UInt64 = 86_400_000
        try h.staff("disnaker", "INSERT INTO programs(id, provider, title) VALUES ('prog-d', 'disnaker', 'Menjahit')")
        try h.sync("disnaker")
        let store = try #require(h.store as? any ServedHubStore)
        #expect(try store.housekeep(now: now, retention: HubRetention())["tombstones.purged"] == 0)
        let done = try store.housekeep(now: now + 200 * day, retention: HubRetention())
        #expect(done["tombstones.purged"] == 1, "\(done)")
        #expect(done["feed.purged"] == events, "\(done)")
        #expect(try Self.count(h, "SELECT count(*) FROM _hub_feed") == 0)
        #expect(try Self.count(h, "SELECT count(*) FROM _begawi_dead_enrollments") == 0)
        #expect(try Self.count(h, "SELECT count(*) FROM _hub_visibility WHERE tbl = 'enrollments'") == 0)
        // lpk-b pulled to the head before the office's last change: a delete it needs may be gone.
        let site = h.site("lpk-b")
        #expect(behind.baseSeq > 0 && behind.seq < done["purge.horizon"].map(UInt64.init) ?? 0)
        #expect { try h.store.pull(site: site.record, replica: site.replica.replicaID, after: behind, maxRows: 10, schemaVersion: nil, fresh: false) } throws: { error in
            (error as? HubRefusal)?.code == .pastHorizon
        }
    }
}
