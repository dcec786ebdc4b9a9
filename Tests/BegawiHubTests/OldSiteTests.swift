import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// A site that has not migrated keeps syncing with a hub at a later schema version (issue 14, item 3):
/// it receives the tables and columns of its version, and its pushes never touch the values of
/// columns it does not know.
@Suite(.blocking) struct OldSiteTests {
    static let v1 = Data(#"{"tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}]}]}"#.utf8)
    static let v2 = Data(#"""
        {"version": 2, "tables": [
          {"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}, {"name": "room"}]},
          {"name": "rooms", "columns": [{"name": "building"}]}]}
        """#.utf8)

    /// A hub at v2 with a v1 site ("old") and a v2 site ("new") that wrote the new column and table.
    static func world() throws -> HubHarness {
        let hub = try HubHarness(schemaText: v1)
        try hub.addSite("old", kind: .lpk)
        try hub.sync("old")
        try hub.publish(v2)
        try hub.addSite("new", kind: .lpk, schema: try SchemaDocument.parse(v2).schema)
        hub.schemaVersions["new"] = 2
        try hub.staff("new", "INSERT INTO courses(id, title, quota, room) VALUES ('c1', 'Las', 10, 'R1'), ('c2', 'Jahit', 8, NULL)")
        try hub.staff("new", "INSERT INTO rooms(id, building) VALUES ('R1', 'Gedung A')")
        try hub.sync("new")
        return hub
    }

    @Test func anOldSitePullsItsColumnsOnly() throws {
        let hub = try Self.world()
        try hub.sync("old")
        #expect(try hub.siteRows("old", "courses") == ["c1": [.text("Las"), .integer(10)], "c2": [.text("Jahit"), .integer(8)]])
        // The page it got names no column or table its replica lacks.
        let old = hub.site("old")
        let page = try BatchCodec.decode(try hub.store.pull(site: old.record, replica: old.replica.replicaID, after: .start, maxRows: 100).bytes)
        #expect(page.tables == [BatchTable(name: "courses", columns: ["title", "quota"])])
        #expect(page.rows.count == 2)
    }

    @Test func anOldSitesEditsApplyAndLeaveTheNewColumnsAlone() throws {
        let hub = try Self.world()
        try hub.sync("old")
        try hub.staff("old", "UPDATE courses SET title = 'Las listrik', quota = 12 WHERE id = 'c1'")
        try hub.staff("old", "INSERT INTO courses(id, title, quota) VALUES ('c3', 'Bubut', 6)")
        try hub.sync("old")
        #expect(try hub.hubRows("courses") == [
            "c1": [.text("Las listrik"), .integer(12), .text("R1")],
            "c2": [.text("Jahit"), .integer(8), .null],
            "c3": [.text("Bubut"), .integer(6), .null],
        ])
        #expect(try hub.hubRows("rooms") == ["R1": [.text("Gedung A")]])
        try hub.sync("new")
        #expect(try hub.siteRows("new", "courses")["c1"] == [.text("Las listrik"), .integer(12), .text("R1")])
        // The hub's register of the column the old site does not know is the new site's write still.
        let replica = try Replica.open(at: hub.folder.file("hub.sqlite"))
        defer { try? replica.close() }
        #expect(try replica.rowStates(of: "courses")["c1"]?.columns[2]?.stamp.site == "new")
    }

    @Test func aVersionTheHubNeverPublishedIsRefused() throws {
        let hub = try Self.world()
        let old = hub.site("old")
        let error = #expect(throws: BegawiError.self) {
            try hub.store.pull(site: old.record, replica: old.replica.replicaID, after: .start, maxRows: 100, schemaVersion: 3)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("schema version 3, which this hub never published (it published 1, 2)") == true, "\(error?.message ?? "")")
    }

    @Test func aSiteThatDoesNotSayHoldsTheVersionTheHubWasMadeWith() throws {
        // A hub made with a file that said version 3: daemons from before versions say nothing.
        let v3 = Data(String(decoding: Self.v1, as: UTF8.self).replacingOccurrences(of: "{\"tables\"", with: "{\"version\": 3, \"tables\"").utf8)
        let hub = try HubHarness(schemaText: v3)
        try hub.addSite("old", kind: .lpk)
        try hub.staff("old", "INSERT INTO courses(id, title, quota) VALUES ('c1', 'Las', 10)")
        try hub.sync("old")
        #expect(try hub.hubRows("courses") == ["c1": [.text("Las"), .integer(10)]])
        // A catch-up from a version it never published starts from its oldest: nothing was added.
        #expect(try CatchUpTests.catchUp(hub, "old", from: 1) == 0)
    }
}
