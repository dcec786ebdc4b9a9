import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// A NOT NULL column with a default, published while a site is offline on the version before (issue
/// 14, item 1): the site's rows reach the hub through its rules and hold the default there, a site on
/// the new version keeps the value it wrote, and the old site holds both once it migrates.
@Suite(.blocking) struct DefaultColumnTests {
    /// The Handak Begawi schema (version 1) and version 2 with `programs.location TEXT NOT NULL DEFAULT 'Bontang'`.
    static func versions() throws -> (v1: Data, v2: Data) {
        let v1 = try Data(contentsOf: HubHarness.repositoryRoot.appendingPathComponent("config/handak-begawi.json"))
        var root = try #require(try JSONSerialization.jsonObject(with: v1) as? [String: Any])
        var tables = try #require(root["tables"] as? [[String: Any]])
        for i in tables.indices where tables[i]["name"] as? String == "programs" {
            let columns = tables[i]["columns"] as? [[String: Any]] ?? []
            tables[i]["columns"] = columns + [["name": "location", "type": "TEXT", "not_null": true, "default": "Bontang"]]
        }
        root["tables"] = tables
        root["version"] = 2
        return (v1, try JSONSerialization.data(withJSONObject: root))
    }

    @Test func rowsWithoutAValueForTheNewColumnHoldItsDefaultEverywhere() throws {
        let (v1, v2) = try Self.versions()
        let hub = try HubHarness(schemaText: v1)
        try hub.addSite("lpk-a", kind: .lpk)
        try hub.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('p1', 'lpk-a', 'Las')")
        try hub.sync("lpk-a")
        try hub.publish(v2)
        let document = try SchemaDocument.parse(v2)
        try hub.addSite("lpk-b", kind: .lpk, schema: document.schema)
        hub.schemaVersions["lpk-b"] = 2

        // lpk-a, offline on version 1 meanwhile, inserts and edits; both apply at the hub.
        try hub.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('p2', 'lpk-a', 'Jahit')")
        try hub.staff("lpk-a", "UPDATE programs SET quota = 12 WHERE id = 'p1'")
        let pushed = try hub.sync("lpk-a")
        #expect(pushed.refused.isEmpty, "\(pushed.refused)")
        #expect(try hub.hubRows("programs").mapValues { $0.last } == ["p1": .text("Bontang"), "p2": .text("Bontang")])

        // lpk-b on version 2: its explicit value is kept, a row without one takes the default.
        try hub.staff("lpk-b", "INSERT INTO programs(id, provider, title, location) VALUES ('p3', 'lpk-b', 'Bubut', 'O''Brien Hall')")
        try hub.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('p4', 'lpk-b', 'Rias')")
        #expect(try hub.sync("lpk-b").refused.isEmpty)
        let expected: [String: SQLValue] = ["p1": .text("Bontang"), "p2": .text("Bontang"), "p3": .text("O'Brien Hall"), "p4": .text("Bontang")]
        #expect(try hub.hubRows("programs").mapValues { $0.last } == expected)
        #expect(try hub.siteRows("lpk-b", "programs").mapValues { $0.last } == expected)
        #expect(try hub.hubRows("programs")["p1"]?[6] == .integer(12))

        // lpk-a migrates: its stored rows take the default, and its catch-up brings lpk-b's values.
        try hub.sync("lpk-a")
        try hub.migrateSite("lpk-a", to: document, from: 1)
        #expect(try hub.siteRows("lpk-a", "programs")["p1"]?.last == .text("Bontang"))
        _ = try CatchUpTests.catchUp(hub, "lpk-a", from: 1)
        try hub.sync("lpk-a")
        #expect(try hub.siteRows("lpk-a", "programs").mapValues { $0.last } == expected)
        #expect(try hub.siteRows("lpk-a", "programs") == (try hub.hubRows("programs")))
    }
}
