import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Who receives what: catalogue rows everywhere, participants only where they are linked, rows
/// arriving whole when a link appears and leaving a replica (only) when it ends.
@Suite(.blocking) struct VisibilityTests {
    func cluster() throws -> HubHarness {
        try HubHarness.withPartners([("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk), ("pt-x", .company)])
    }

    @Test func participantsReachOnlyLinkedSites() throws {
        let h = try cluster()
        let x = try h.register("lpk-a", Person.make(1))
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Pengelasan SMAW 3G')")
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-a', ?, 'prog-a', 'registered')", [x])
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Operator Forklift')")
        try h.syncAll()

        #expect(try Set(h.siteRows("lpk-b", "programs").keys) == ["prog-a", "prog-b"])
        #expect(try Set(h.siteRows("lpk-b", "partners").keys).count == 4)
        #expect(try h.siteStateKeys("lpk-b", "participants").isEmpty)
        #expect(try h.siteStateKeys("lpk-b", "enrollments").isEmpty)
        #expect(try h.siteStateKeys("pt-x", "participants").isEmpty)
        #expect(try Set(h.siteRows("disnaker", "participants").keys) == [x])
        #expect(try Set(h.siteRows("lpk-a", "enrollments").keys) == ["enr-a"])

        // The person comes to LPK B: once enrolled there, B receives the participant whole.
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'registered')", [x])
        try h.syncAll()
        let atB = try h.siteRows("lpk-b", "participants")
        #expect(atB[x] == (try h.hubRows("participants"))[x])
        #expect(try Set(h.siteRows("lpk-b", "enrollments").keys) == ["enr-b"])

        // The enrollment ends: B loses sight of the participant; nobody else loses the row.
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b'")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants").isEmpty)
        #expect(try Set(h.siteRows("lpk-a", "participants").keys) == [x])
        #expect(try Set(h.hubRows("participants").keys) == [x])

        // A placement links the company.
        try h.staff("pt-x", "INSERT INTO placements(id, participant_id, company, position, kind) VALUES ('pl-1', ?, 'pt-x', 'Welder', 'employment')", [x])
        try h.syncAll()
        #expect(try Set(h.siteRows("pt-x", "participants").keys) == [x])
        #expect(try h.siteStateKeys("lpk-b", "placements").isEmpty)
    }

    @Test func refusedRowsAreSettledAndTheRestLands() throws {
        let h = try cluster()
        let x = try h.register("lpk-a", Person.make(2))
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.syncAll()
        // LPK B inserts a program in A's name (refused) and one of its own (lands) in one batch.
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('forged', 'lpk-a', 'Palsu')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        // ...and renames A's program, which it can see but not write.
        try h.staff("lpk-b", "UPDATE programs SET title = 'Renamed' WHERE id = 'prog-a'")
        let exchange = try h.sync("lpk-b")
        #expect(Set(exchange.refused.map(\.reason)) == ["not-owner"])
        #expect(exchange.refused.count == 2)
        let hub = try h.hubRows("programs")
        #expect(hub["forged"] == nil)
        #expect(hub["prog-b"] != nil)
        #expect(hub["prog-a"]?[1] == .text("Las"))
        // B's replica is what the hub holds: its forged row is gone, A's program has its title back.
        let atB = try h.siteRows("lpk-b", "programs")
        #expect(atB["forged"] == nil)
        #expect(atB["prog-a"]?[1] == .text("Las"))
        #expect(try h.site("lpk-b").replica.refusalCount() == 2)
        // Nothing is sent again.
        #expect(try h.sync("lpk-b").refused.isEmpty)
        // Handled refusals can be cleared, with the values they kept; a row the site still holds
        // back keeps its entry until the row is gone.
        let replica = h.site("lpk-b").replica
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES ('p-held', '123', 'Held Back', 'lpk-b')")
        try replica.holdBack([RowRefusal(table: "participants", key: "p-held", reason: "invalid-nik", message: "held")])
        #expect(try replica.clearRefusals(before: 0, keeping: ["invalid-nik"]) == 0)
        #expect(try replica.clearRefusals(keeping: ["invalid-nik"]) == 2)
        #expect(try replica.refusals().map(\.reason) == ["invalid-nik"])
        try h.staff("lpk-b", "DELETE FROM participants WHERE id = 'p-held'")
        #expect(try replica.clearRefusals(keeping: ["invalid-nik"]) == 1)
        #expect(try replica.refusalCount() == 0)
        _ = x
    }

    /// Rows go in the order of their last change, so an enrollment can reach the hub before the
    /// program it belongs to (edited after it): within a batch the hub judges it after the rest, and
    /// across batches the site sends it once more after its program.
    @Test(arguments: [500, 1])
    func anEnrollmentSentBeforeItsProgramLands(batchRows: Int) throws {
        let h = try cluster()
        let x = try h.register("lpk-a", Person.make(3))
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-a', ?, 'prog-a', 'registered')", [x])
        try h.staff("lpk-a", "UPDATE programs SET title = 'Las Listrik' WHERE id = 'prog-a'")
        let exchange = try h.sync("lpk-a", batchRows: batchRows)
        #expect(Set(try h.hubRows("enrollments").keys) == ["enr-a"])
        #expect(Set(try h.siteRows("lpk-a", "enrollments").keys) == ["enr-a"])
        #expect(exchange.refused.allSatisfy { $0.reason == "unknown-reference" })
        // A reference that never arrives: sent once more in the same round, refused for good the
        // second time, and not sent again.
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-x', ?, 'prog-nowhere', 'registered')", [x])
        #expect(try h.sync("lpk-a").refused.map(\.reason) == ["unknown-reference", "unknown-reference"])
        #expect(try h.hubRows("enrollments")["enr-x"] == nil)
        #expect(try h.siteRows("lpk-a", "enrollments")["enr-x"] == nil)
        #expect(try h.sync("lpk-a").refused.isEmpty)
    }

    /// Which edits change who sees what: pointing an enrollment at another person moves sight from
    /// one to the other; an edit of any other field changes nobody's sight (no feed entries).
    @Test func onlyOwnersAndLinksMoveSight() throws {
        let h = try cluster()
        let x = try h.register("lpk-a", Person.make(4))
        let y = try h.register("lpk-a", Person.make(5))
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'registered')", [x])
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [x])

        func feedEntries() throws -> Int {
            let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"), configuration: { var c = Configuration(); c.readonly = true; return c }())
            defer { try? queue.close() }
            return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_feed") ?? 0 }
        }
        let before = try feedEntries()
        try h.staff("lpk-b", "UPDATE enrollments SET status = 'active', started_on = '2026-12-01' WHERE id = 'enr-b'")
        try h.staff("lpk-a", "UPDATE participants SET phone = '0811-5400-444' WHERE id = ?", [x])
        try h.syncAll()
        #expect(try feedEntries() == before)
        #expect(try h.siteRows("lpk-b", "participants")[x] == h.hubRows("participants")[x])

        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b'", [y])
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [y])
        #expect(try feedEntries() == before + 2)
    }
}
