import BegawiCore
import BegawiHub
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// A change of the access rules that lets a site receive more rows is counted per site: before the
/// hub runs with it (what `hub schema publish` prints), and when the hub recomputes who may see what
/// at its next start (what it logs); the two counts agree.
@Suite(.blocking) struct RulesWideningTests {
    /// The programme's schema without the link through enrollments: a training site does not receive
    /// the participants enrolled in its programs.
    static func narrowed() throws -> (narrow: SchemaDocument, full: SchemaDocument) {
        let url = HubHarness.repositoryRoot.appendingPathComponent("config/handak-begawi.json")
        let full = try SchemaDocument.load(path: url.path)
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var tables = try #require(root["tables"] as? [[String: Any]])
        let i = try #require(tables.firstIndex { $0["name"] as? String == "participants" })
        var access = try #require(tables[i]["access"] as? [String: Any])
        let links = try #require(access["linked_by"] as? [[String: Any]])
        access["linked_by"] = links.filter { $0["table"] as? String != "enrollments" }
        tables[i]["access"] = access
        root["tables"] = tables
        return (try SchemaDocument.parse(try JSONSerialization.data(withJSONObject: root)), full)
    }

    @Test func aWideningIsCountedPerSiteBeforeAndAtTheRecomputation() throws {
        let (narrow, full) = try Self.narrowed()
        let h = try HubHarness(document: narrow)
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        var people: [String] = []
        for n in 1...3 {
            let person = Person.make(n), key = person.key(h.policy)
            try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, 'lpk-a')",
                        [key, person.nik, person.name, person.birth, person.female ? "P" : "L"])
            people.append(key)
        }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Operator Forklift')")
        // Two of the three enrolled at LPK B; the third stays with LPK A only.
        for (n, key) in people.prefix(2).enumerated() {
            try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-b', 'registered')", ["enr-\(n)", key])
        }
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants").isEmpty)
        let path = h.folder.file("hub.sqlite")

        // Before: counted, nothing written; the same rules again are no change.
        #expect(try SQLiteHubStore.widening(at: path, policy: full.policy!) == ["lpk-b": 2])
        #expect(try SQLiteHubStore.widening(at: path, policy: narrow.policy!) == nil)
        #expect(h.store.rulesRecomputed == nil)

        // At the recomputation: the same count, then the rows arrive.
        h.close()
        let store = try SQLiteHubStore(path: path, policy: full.policy)
        #expect(store.rulesRecomputed == ["lpk-b": 2])
        try store.close()
        #expect(try SQLiteHubStore.widening(at: path, policy: full.policy!) == nil)
        let reopened = try SQLiteHubStore(path: path, policy: full.policy)
        #expect(reopened.rulesRecomputed == nil)
        try reopened.close()
    }
}
