import BegawiTestSupport
import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB
import Testing

/// A push is one transaction of the hub's replica: the claim of the site's replica, the merge, the
/// rules' visibility and audit trail, and the site's health figures commit together or not at all.
@Suite(.blocking) struct PushTransactionTests {
    /// Made to fail the health ledger's write from outside, as a full disk or a damaged page would.
    static let blockHealth = "CREATE TRIGGER block_health BEFORE INSERT ON _hub_site_health BEGIN SELECT RAISE(ABORT, 'health blocked'); END"

    func hubSQL(_ h: HubHarness, _ sql: String) throws {
        let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"))
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    @Test func aPushWhoseHealthCannotBeWrittenLeavesNothingBehind() throws {
        let h = try HubHarness()
        try h.addSite("lpk-a", kind: .lpk)
        let person = Person.make(7)
        let key = person.key(h.policy)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [key, person.nik, person.name, person.birth, person.female ? "P" : "L", "lpk-a"])
        let replica = h.site("lpk-a").replica.replicaID
        try hubSQL(h, PushTransactionTests.blockHealth)

        #expect(throws: (any Error).self) { try h.sync("lpk-a") }
        #expect(try h.hubRows("participants").isEmpty)
        #expect(try h.store.auditCount() == 0)
        #expect(try h.store.cursor(forReplica: replica) == .start)
        #expect(try h.store.health().first { $0.site == "lpk-a" }?.pushes == 0)

        // The same push, sent again once the ledger can be written, lands whole and is counted once.
        try hubSQL(h, "DROP TRIGGER block_health")
        try h.sync("lpk-a")
        #expect(try h.hubRows("participants").keys.sorted() == [key])
        #expect(try h.store.auditCount(action: "inserted") == 1)
        #expect(try h.store.cursor(forReplica: replica) != .start)
        let health = try #require(try h.store.health().first { $0.site == "lpk-a" })
        #expect(health.rowsReceived == 1)
        #expect(health.rowsRefused == 0)
    }

    /// The claim is part of the push's transaction: a replica that another site claimed first is
    /// refused before anything merges, and the other site's claim stays.
    @Test func aPushFromAnotherSitesReplicaMergesNothing() throws {
        let h = try HubHarness()
        try h.addSite("lpk-a", kind: .lpk)
        let b = try h.addSite("lpk-b", kind: .lpk)
        let person = Person.make(8)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [person.key(h.policy), person.nik, person.name, person.birth, person.female ? "P" : "L", "lpk-a"])
        let a = h.site("lpk-a").replica
        _ = try h.store.session(site: h.site("lpk-a").record, replica: a.replicaID, configuration: HubConfiguration())
        let batch = try a.export(after: .start, for: h.store.hubReplicaID, limits: BatchLimits(maxRows: 100))
        #expect(!batch.rows.isEmpty)

        let refusal = #expect(throws: BegawiError.self) { try h.store.push(site: b.record, replica: a.replicaID, batch: batch) }
        #expect(refusal?.code == .unauthorized)
        #expect(try h.hubRows("participants").isEmpty)
        #expect(try h.store.auditCount() == 0)
        #expect(try h.store.health().first { $0.site == "lpk-b" }?.pushes == 0)
        #expect(try h.store.push(site: h.site("lpk-a").record, replica: a.replicaID, batch: batch).rowsChanged == batch.rows.count)
    }
}
