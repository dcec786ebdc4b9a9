import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// A site that skips its own checks (the harness pushes what the replica exports, as a forged client
/// would): the hub refuses each row with a value its column does not accept as `bad-value`, the rest
/// of the batch lands, and no such value ever reaches another site.
@Suite(.blocking) struct ValueLimitTests {
    /// Programs with bad and good titles, pushed by lpk-a in one batch.
    static let titles: [(key: String, title: String, accepted: Bool)] = [
        ("too-long", String(repeating: "Las ", count: 2 << 18), false),        // 2 MB, as in the issue
        ("one-over", String(repeating: "a", count: 1025), false),             // max_bytes 1024 in the schema
        ("at-limit", String(repeating: "a", count: 1024), true),
        ("nul", "Pelatihan\u{0}rahasia", false),
        ("bare-cr", "Las\r=cmd|' /C calc'!A0", false),
        ("bare-lf", "Las\n=cmd|' /C calc'!A0", false),
        ("crlf", "Las\r\nlistrik", false),                                    // title is one line
        ("tab", "Las\tlistrik", false),
        ("c1", "Las\u{85}listrik", false),
        ("bidi", "Pelatihan \u{202E}fdp.exe", true),                          // stored; the dashboard shows it
        ("plain", "Operator Forklift", true),
    ]

    func run(_ schemaFile: String, provider: Bool) throws {
        let h = try HubHarness(schemaFile: schemaFile)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        for (key, title, _) in Self.titles {
            // A NUL reaches SQLite through char(0): a bound Swift string would end at it.
            let value = key == "nul" ? "replace(?, '|', char(0))" : "?"
            let text = key == "nul" ? title.replacingOccurrences(of: "\u{0}", with: "|") : title
            if provider {
                try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES (?, 'lpk-a', \(value))", [key, text])
            } else {
                try h.staff("lpk-a", "INSERT INTO programs(id, title) VALUES (?, \(value))", [key, text])
            }
        }
        // Multiline notes accept lines, but not a bare CR.
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status, notes) VALUES ('e-lines', 'p', 'plain', 'registered', ?)",
                    ["baris satu\r\nbaris dua\n\tbaris tiga"])
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status, notes) VALUES ('e-cr', 'p', 'plain', 'registered', ?)",
                    ["baris satu\rbaris dua"])
        // Keys: one too long, one with a line break (it would start a new CSV row wherever keys are listed).
        let badKeys = [String(repeating: "k", count: TableSpec.maxKeyBytes + 1), "key\n=cmd"]
        for key in badKeys {
            try h.staff("lpk-a", provider ? "INSERT INTO programs(id, provider, title) VALUES (?, 'lpk-a', 'Las')" : "INSERT INTO programs(id, title) VALUES (?, 'Las')", [key])
        }
        let exchange = try h.sync("lpk-a")
        for key in badKeys {
            #expect(exchange.refused.first { $0.key == key }?.reason == "bad-value", "key of \(key.utf8.count) bytes")
            #expect(try h.hubRows("programs")[key] == nil)
        }
        let refused = Dictionary(exchange.refused.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let hub = try h.hubRows("programs")
        for (key, title, accepted) in Self.titles {
            if accepted {
                #expect(refused[key] == nil, "\(key): \(refused[key].map(\.message) ?? "")")
                #expect(hub[key] != nil, "\(key) did not land")
            } else {
                #expect(refused[key]?.reason == "bad-value", "\(key): \(refused[key].map { "\($0.reason)" } ?? "accepted")")
                #expect(refused[key]?.message.contains("'title'") == true, "\(key): \(refused[key]?.message ?? "")")
                #expect(hub[key] == nil, "\(key) reached the hub")
                #expect(refused[key].map { !$0.message.contains(title.prefix(6)) } ?? true, "the message repeats the value")
            }
        }
        #expect(refused["e-cr"]?.reason == "bad-value" && refused["e-lines"]?.reason != "bad-value", "\(exchange.refused)")

        // Nothing refused reaches another site; what landed does.
        try h.sync("lpk-b")
        let other = try h.siteRows("lpk-b", "programs")
        for (key, _, accepted) in Self.titles { #expect((other[key] != nil) == accepted, "\(key) at lpk-b") }
        let hubFile = try Data(contentsOf: URL(fileURLWithPath: h.folder.file("hub.sqlite")))
        #expect(hubFile.range(of: Data("rahasia".utf8)) == nil)
    }

    @Test func theHubRefusesBadValuesUnderRules() throws { try run("config/handak-begawi.json", provider: true) }

    @Test func theHubRefusesBadValuesWithoutRules() throws { try run("config/schema.example.json", provider: false) }

    /// The limits in force are the schema file's, read at start: raised or lowered after the tables
    /// were made, they apply.
    @Test func theLimitsInForceAreTheSchemaFiles() throws {
        let h = try HubHarness()
        let site = try h.addSite("lpk-a", kind: .lpk)
        var declared = h.document.schema
        let t = try #require(declared.tables.firstIndex { $0.name == "programs" })
        for i in declared.tables[t].columns.indices {
            switch declared.tables[t].columns[i].name {
            case "title": declared.tables[t].columns[i].maxBytes = 4096   // 1024 when the hub was made
            case "sector": declared.tables[t].columns[i].maxBytes = 8
            default: break
            }
        }
        let store = try SQLiteHubStore(path: h.folder.file("hub.sqlite"), policy: h.policy, declared: declared)
        defer { try? store.close() }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('long', 'lpk-a', ?)", [String(repeating: "a", count: 2000)])
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title, sector) VALUES ('sector', 'lpk-a', 'Las', 'manufaktur')")
        let session = try store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
        let batch = try site.replica.export(after: session.pushCursor, for: session.hubReplicaID)
        let outcome = try store.push(site: site.record, replica: site.replica.replicaID, batch: batch)
        #expect(outcome.refused.map(\.key) == ["sector"], "\(outcome.refused)")
        #expect(outcome.refused.first?.message.contains("'sector'") == true)
        #expect(try store.rows(of: "programs")["long"] != nil)
    }
}
