import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// After a site migrates, the hub sends it once the rows holding values in the columns and tables it
/// added, and only those: not everything again (issue 14, item 3).
@Suite(.blocking) struct CatchUpTests {
    /// Fetches every catch-up page for a site that migrated from `from`, applies them; the rows received.
    static func catchUp(_ hub: HubHarness, _ id: String, from: Int, pageRows: Int = 7) throws -> Int {
        let site = hub.site(id)
        var after: UInt64 = 0
        var received = 0
        while true {
            let (batch, _, next) = try hub.store.catchUp(site: site.record, replica: site.replica.replicaID, fromVersion: from,
                                                         schemaVersion: hub.schemaVersions[id], afterSeq: after, maxRows: pageRows)
            _ = try site.replica.apply(batch)
            received += batch.rows.count
            guard let next else { break }
            #expect(next > after)
            after = next
        }
        return received
    }

    @Test func aMigratedSiteReceivesTheNewValuesWithFewerThanFivePercentOfItsRows() throws {
        let hub = try HubHarness(schemaText: OldSiteTests.v1)
        try hub.addSite("old", kind: .lpk)
        for n in 0..<1000 { try hub.staff("old", "INSERT INTO courses(id, title, quota) VALUES (?, ?, ?)", ["c\(n)", "Kelas \(n)", n]) }
        try hub.sync("old")
        let v2 = try SchemaDocument.parse(OldSiteTests.v2)
        try hub.publish(OldSiteTests.v2)
        try hub.addSite("new", kind: .lpk, schema: v2.schema)
        hub.schemaVersions["new"] = 2
        try hub.sync("new")
        for n in stride(from: 0, to: 1000, by: 50) { try hub.staff("new", "UPDATE courses SET room = ? WHERE id = ?", ["R\(n)", "c\(n)"]) }
        try hub.staff("new", "INSERT INTO rooms(id, building) VALUES ('R0', 'Gedung A'), ('R50', 'Gedung B')")
        try hub.sync("new")
        // Offline at version 1, the old site edits every row; its edits apply by column name and the
        // rooms stay. It is sent back only the 20 rows the hub merged with the rooms (cut to v1).
        try hub.staff("old", "UPDATE courses SET quota = quota + 1000")
        #expect(try hub.sync("old").received == 20)
        let atHub = try hub.hubRows("courses")
        #expect(atHub.values.filter { if case .integer(let q) = $0[1] { q >= 1000 } else { false } }.count == 1000)
        #expect(atHub.values.filter { $0[2] != .null }.count == 20)
        #expect(atHub["c50"] == [.text("Kelas 50"), .integer(1050), .text("R50")])
        try hub.migrateSite("old", to: v2, from: 1)

        let caught = try Self.catchUp(hub, "old", from: 1)
        #expect(caught == 22)
        // The feed after the migration sends nothing more: 22 of 1,000 rows sent again.
        let feed = try hub.sync("old").received
        #expect(feed == 0)
        #expect(caught + feed < 50, "\(caught) + \(feed) rows sent again of 1,000")
        let courses = try hub.siteRows("old", "courses")
        #expect(courses.count == 1000)
        #expect(courses.values.filter { $0[2] != .null }.count == 20)
        #expect(courses["c50"] == [.text("Kelas 50"), .integer(1050), .text("R50")])
        #expect(try hub.siteRows("old", "rooms") == ["R0": [.text("Gedung A")], "R50": [.text("Gedung B")]])
        // Its pending catch-up is the replica's to clear; another fetch sends the same rows, nothing more.
        #expect(try hub.site("old").replica.schemaCatchUpFrom() == 1)
        #expect(try Self.catchUp(hub, "old", from: 1, pageRows: 500) == 22)
    }
}
