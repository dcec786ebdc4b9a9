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

    static let v3 = Data(#"""
        {"version": 3, "tables": [
          {"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}, {"name": "room"}, {"name": "level"}]},
          {"name": "rooms", "columns": [{"name": "building"}]},
          {"name": "mentors", "columns": [{"name": "full_name"}]}]}
        """#.utf8)

    /// The issue's case: the hub moves to v3 (a new column and a new table) while a v2 site is offline
    /// with 1,000 edits. They all apply and leave the v3 values alone; after migrating, the site holds
    /// those values with fewer than 5 % of its rows sent again (26: the 25 rows with a level, the mentor).
    @Test func aSiteOfflineAtV2MeetsAHubAtV3() throws {
        let hub = try HubHarness(schemaText: OldSiteTests.v1)
        try hub.publish(OldSiteTests.v2)
        let v2 = try SchemaDocument.parse(OldSiteTests.v2), v3 = try SchemaDocument.parse(Self.v3)
        try hub.addSite("away", kind: .lpk, schema: v2.schema)
        hub.schemaVersions["away"] = 2
        for n in 0..<1000 { try hub.staff("away", "INSERT INTO courses(id, title, quota) VALUES (?, ?, ?)", ["c\(n)", "Kelas \(n)", n]) }
        try hub.sync("away")
        try hub.publish(Self.v3)
        try hub.addSite("office", kind: .lpk, schema: v3.schema)
        hub.schemaVersions["office"] = 3
        try hub.sync("office")
        for n in stride(from: 0, to: 1000, by: 40) { try hub.staff("office", "UPDATE courses SET level = ? WHERE id = ?", ["L\(n % 3)", "c\(n)"]) }
        try hub.staff("office", "INSERT INTO mentors(id, full_name) VALUES ('m1', 'Mentor Satu')")
        try hub.sync("office")

        // Offline at v2, the site edits all 1,000 rows: they apply by name, and `level` stays.
        try hub.staff("away", "UPDATE courses SET quota = quota + 1000, room = 'R' || quota")
        _ = try hub.sync("away")
        let atHub = try hub.hubRows("courses")
        #expect(atHub.values.filter { if case .integer(let q) = $0[1] { q >= 1000 } else { false } }.count == 1000)
        #expect(atHub.values.filter { $0[3] != .null }.count == 25)
        #expect(atHub["c40"] == [.text("Kelas 40"), .integer(1040), .text("R40"), .text("L1")])

        try hub.migrateSite("away", to: v3, from: 2)
        let caught = try Self.catchUp(hub, "away", from: 2)
        let feed = try hub.sync("away").received
        #expect(caught + feed < 50, "\(caught) + \(feed) rows sent again of 1,000")
        let courses = try hub.siteRows("away", "courses")
        #expect(courses.count == 1000)
        #expect(courses.values.filter { $0[3] != .null }.count == 25)
        #expect(courses["c40"] == [.text("Kelas 40"), .integer(1040), .text("R40"), .text("L1")])
        #expect(try hub.siteRows("away", "mentors") == ["m1": [.text("Mentor Satu")]])
    }
}
