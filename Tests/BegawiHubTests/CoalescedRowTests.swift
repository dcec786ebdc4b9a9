import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// A row a site changed several times between two pushes is judged as the writes it carries: an
/// office-only column or an owner change written after the insert loses only that column; a row born
/// and deleted between two pushes sends nothing; a deleted registration may be registered anew, and
/// no row may reference one the hub does not hold live.
@Suite(.blocking) struct CoalescedRowTests {
    func cluster() throws -> HubHarness {
        let h = try HubHarness()
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        return h
    }

    /// What the hub's audit trail recorded for a key, in order.
    func audit(_ h: HubHarness, _ key: String) throws -> [String] {
        let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"), configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchAll(db, sql: "SELECT action FROM _hub_audit WHERE key = ? ORDER BY id", arguments: [key]) }
    }

    func column(_ h: HubHarness, _ table: String, _ name: String) -> Int { h.document.schema.table(named: table)!.position(of: name)! }

    @Test func anOfficeOnlyColumnSetBeforeTheFirstPushIsRefusedAloneAndTheRegistrationKept() throws {
        let h = try cluster()
        let p = Person.make(21)
        let key = p.key(h.policy)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, '0811', 'lpk-a')",
                    [key, p.nik, p.name, p.birth])
        try h.staff("lpk-a", "UPDATE participants SET verified_on = '2025-06-01', education = 'SMK' WHERE id = ?", [key])
        let exchange = try h.sync("lpk-a")
        #expect(exchange.refused.map(\.reason) == ["office-only"])
        #expect(exchange.refused.first?.message.contains("rest of the change was accepted") == true)

        let hub = try #require(try h.hubRows("participants")[key], "the registration was lost at the hub")
        #expect(hub[column(h, "participants", "verified_on")] == .null)
        #expect(hub[column(h, "participants", "education")] == .text("SMK"))
        #expect(hub[column(h, "participants", "full_name")] == .text(p.name))
        // The site keeps the registration, as the hub holds it, and the refusal in its ledger.
        #expect(try h.siteRows("lpk-a", "participants")[key] == hub)
        #expect(try h.site("lpk-a").replica.refusals().map(\.reason) == ["office-only"])
        // Nothing more to send, nothing refused again; the office still sets the column.
        #expect(try h.sync("lpk-a").refused.isEmpty)
        try h.sync("disnaker")
        try h.staff("disnaker", "UPDATE participants SET verified_on = '2025-06-02' WHERE id = ?", [key])
        try h.syncAll()
        #expect(try h.siteRows("lpk-a", "participants")[key]?[column(h, "participants", "verified_on")] == .text("2025-06-02"))
        #expect(try h.siteRows("lpk-a", "participants")[key] == h.hubRows("participants")[key])

        // An insert that itself sets the column is still refused whole.
        let q = Person.make(22)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, registered_by, verified_on) VALUES (?, ?, ?, ?, 'lpk-a', '2025-06-01')",
                    [q.key(h.policy), q.nik, q.name, q.birth])
        #expect(try h.sync("lpk-a").refused.map(\.reason) == ["office-only"])
        #expect(try h.hubRows("participants")[q.key(h.policy)] == nil)
    }

    @Test func anOwnerChangedBeforeTheFirstPushStaysTheWriter() throws {
        let h = try cluster()
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a2', 'lpk-a', 'Las 2')")
        try h.staff("lpk-a", "UPDATE programs SET provider = 'lpk-b', title = 'Las 3G' WHERE id = 'prog-a2'")
        let exchange = try h.sync("lpk-a")
        #expect(exchange.refused.map(\.reason) == ["owner-change"])
        let hub = try #require(try h.hubRows("programs")["prog-a2"])
        #expect(hub[column(h, "programs", "provider")] == .text("lpk-a"))
        #expect(hub[column(h, "programs", "title")] == .text("Las 3G"))
        #expect(try h.siteRows("lpk-a", "programs")["prog-a2"] == hub)
        try h.syncAll()
        #expect(try h.siteRows("lpk-b", "programs")["prog-a2"] == hub)

        // With a push in between, the same: the insert lands, the change of owner does not.
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a3', 'lpk-a', 'Las 4')")
        try h.sync("lpk-a")
        try h.staff("lpk-a", "UPDATE programs SET provider = 'lpk-b' WHERE id = 'prog-a3'")
        #expect(try h.sync("lpk-a").refused.map(\.reason) == ["owner-change"])
        #expect(try h.hubRows("programs")["prog-a3"]?[column(h, "programs", "provider")] == .text("lpk-a"))
    }

    @Test func aRowBornAndDeletedBetweenTwoPushesSendsNothing() throws {
        let h = try cluster()
        let p = Person.make(23)
        let key = p.key(h.policy)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, registered_by) VALUES (?, ?, ?, ?, 'lpk-a')",
                    [key, p.nik, p.name, p.birth])
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-tmp', 'lpk-a', 'Sementara')")
        _ = try h.site("lpk-a").replica.captureLocalChanges() // stamped apart, as a daemon's pull would do
        try h.staff("lpk-a", "DELETE FROM participants WHERE id = ?", [key])
        try h.staff("lpk-a", "DELETE FROM programs WHERE id = 'prog-tmp'")
        let session = try h.store.session(site: h.site("lpk-a").record, replica: h.site("lpk-a").replica.replicaID, configuration: HubConfiguration())
        let batch = try h.site("lpk-a").replica.export(after: session.pushCursor, for: session.hubReplicaID, soleRecipient: true)
        #expect(batch.rows.isEmpty, "\(batch.rows.map(\.key))")
        let exchange = try h.sync("lpk-a")
        #expect(exchange.refused.isEmpty, "\(exchange.refused.map(\.reason))")
        #expect(try h.site("lpk-a").replica.refusals().isEmpty)
        #expect(try h.store.rows(of: "programs")["prog-tmp"] == nil)
        #expect(try audit(h, "prog-tmp").isEmpty && audit(h, key).isEmpty)
        #expect(try h.site("lpk-a").replica.pendingChanges(afterSeq: h.store.cursor(forReplica: h.site("lpk-a").replica.replicaID).seq) == 0)

        // A row the hub had is still deleted there; so is one revived and deleted again.
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-kept', 'lpk-a', 'Tetap')")
        try h.sync("lpk-a")
        try h.staff("lpk-a", "DELETE FROM programs WHERE id = 'prog-kept'")
        _ = try h.site("lpk-a").replica.captureLocalChanges()
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-kept', 'lpk-a', 'Lagi')")
        _ = try h.site("lpk-a").replica.captureLocalChanges()
        try h.staff("lpk-a", "DELETE FROM programs WHERE id = 'prog-kept'")
        #expect(try h.sync("lpk-a").refused.isEmpty)
        #expect(try audit(h, "prog-kept") == ["inserted", "deleted"])
        try h.syncAll()
        #expect(try h.siteRows("lpk-b", "programs")["prog-kept"] == nil)
        #expect(try h.siteStateKeys("lpk-b", "programs").contains("prog-kept"))
    }

    @Test func aDeletedRegistrationIsRegisteredAnewByAnotherSite() throws {
        let h = try cluster()
        let p = Person.make(24)
        let key = p.key(h.policy)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, '0811-1', 'lpk-a')",
                    [key, p.nik, p.name, p.birth])
        try h.sync("lpk-a")
        try h.staff("lpk-a", "DELETE FROM participants WHERE id = ?", [key])
        try h.sync("lpk-a")

        // lpk-b enrolls the person without registering them: the hub holds no live participant.
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b1', ?, 'prog-b', 'registered')", [key])
        // Sent once more after the rest of the site's changes, then at each round; it stays at lpk-b,
        // listed in its ledger once.
        #expect(try h.sync("lpk-b").refused.map(\.reason) == ["awaiting-reference", "awaiting-reference"])
        #expect(try h.sync("lpk-b").refused.map(\.reason) == ["awaiting-reference"])
        #expect(try h.siteRows("lpk-b", "enrollments")["enr-b1"] != nil)
        #expect(try h.hubRows("enrollments")["enr-b1"] == nil)
        #expect(try h.site("lpk-b").replica.refusals().map(\.reason) == ["awaiting-reference"])
        #expect(try h.hubRows("enrollments")["enr-b1"] == nil)

        // lpk-b registers the person anew and enrolls them: its registration, not lpk-a's.
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, '0811-2', 'lpk-b')",
                    [key, p.nik, p.name, p.birth])
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b2', ?, 'prog-b', 'registered')", [key])
        let exchange = try h.sync("lpk-b")
        #expect(exchange.refused.isEmpty, "\(exchange.refused.map(\.reason))")
        let hub = try #require(try h.hubRows("participants")[key])
        #expect(hub[column(h, "participants", "registered_by")] == .text("lpk-b"))
        #expect(hub[column(h, "participants", "phone")] == .text("0811-2"))
        #expect(try h.hubRows("enrollments")["enr-b2"] != nil)
        // The waiting enrollment landed with it and left the ledger.
        #expect(try h.hubRows("enrollments")["enr-b1"] != nil)
        #expect(try h.site("lpk-b").replica.refusals().isEmpty)
        try h.syncAll()
        #expect(try h.siteRows("lpk-b", "participants")[key] == hub)
        // lpk-a, which deleted its registration and holds nothing linking it, does not receive lpk-b's.
        #expect(try h.siteRows("lpk-a", "participants")[key] == nil)
    }
}
