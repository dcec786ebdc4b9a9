import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A new replica's first sync by snapshot parts under the rules, on each store: the parts hold what
/// the site's pulls would give it and nothing of another agency's people.
@Suite(.blocking) struct HubStoreRulesSnapshotTests {
    /// lpk-a and lpk-b each register their own people; lpk-b enrolls two of lpk-a's in its program,
    /// which lets it see those two. A new replica of lpk-b (a reinstalled machine) adopts the
    /// snapshot: it must hold exactly the participants lpk-b's synced replica holds.
    @Test(arguments: StoreKind.available)
    func aSnapshotHoldsOnlyWhatTheSiteMaySee(kind: StoreKind) throws {
        let h = try RulesHarness.withPartners(kind, [("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
        defer { h.close() }
        let own = try (1...30).map { try h.register("lpk-a", Person.make($0)) }
        let theirs = try (31...50).map { try h.register("lpk-b", Person.make($0)) }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        for i in 0..<2 {
            try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-b', 'registered')",
                        ["enr-b-\(i)", own[i]])
        }
        try h.syncAll()
        let sees = try h.siteStateKeys("lpk-b", "participants")
        #expect(sees == Set(theirs).union(own[0..<2]), "the synced replica sees its own people and the two it enrolled")

        let fresh = try Replica.create(at: h.folder.file("lpk-b-new.sqlite"), siteID: "lpk-b", schema: h.document.schema)
        defer { try? fresh.close() }
        let record = h.site("lpk-b").record
        let epoch = h.store.hubReplicaID
        var next = try #require(try fresh.nextSnapshotPart(from: epoch))
        var parts = 0
        while true {
            // Small parts, so that a table spans several and the filter meets the keyset page.
            let part = try #require(try h.store.snapshotPart(site: record, replica: fresh.replicaID, table: next.table, after: next.after,
                                                              maxRows: 7, schemaVersion: nil, compressed: false))
            let adoption = try fresh.adoptSnapshotPart(part.bytes, from: epoch, budget: .seconds(60))
            parts += 1
            if adoption.cursor != nil { break }
            next = try #require(adoption.next)
            try #require(parts < 1_000)
        }
        let adopted = Set(try fresh.rowStates(of: "participants").keys)
        #expect(adopted == sees, "the snapshot held \(adopted.subtracting(sees).count) participants lpk-b may not see and lacked \(sees.subtracting(adopted).count)")
        #expect(adopted.isDisjoint(with: own[2...]), "none of lpk-a's other people")
        #expect(Set(try fresh.rowStates(of: "enrollments").keys) == Set(try h.site("lpk-b").replica.rowStates(of: "enrollments").keys))
    }
}
