import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// One person per NIK, erasure, and what follows an owner's change, through the hub store.
@Suite(.blocking) struct PersonTests {
    func cluster() throws -> HubHarness {
        let h = try HubHarness()
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        try h.addSite("pt-x", kind: .company)
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        return h
    }

    func register(_ h: HubHarness, _ site: String, _ p: Person, phone: String, program: String) throws -> String {
        let key = p.key(h.policy)
        try h.staff(site, "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [key, p.nik, p.name, p.birth, phone, site])
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')",
                    ["enr-\(site)-\(key.prefix(8))", key, program])
        return key
    }

    @Test func theSamePersonRegisteredAtTwoSitesIsOneParticipant() throws {
        let h = try cluster()
        let p = Person.make(7)
        let key = try register(h, "lpk-a", p, phone: "0811-5400-111", program: "prog-a")
        _ = try register(h, "lpk-b", p, phone: "0811-5400-222", program: "prog-b")
        try h.sync("lpk-a")
        let exchange = try h.sync("lpk-b")
        #expect(exchange.refused.map(\.reason) == ["already-registered"])
        let hub = try h.hubRows("participants")
        #expect(hub.count == 1)
        let phone = h.document.schema.table(named: "participants")!.position(of: "phone")!
        #expect(hub[key]?[phone] == .text("0811-5400-111"))
        // The second registration's differing fields are in the hub's ledger (the phone, and who
        // registered: the office sees both sites), once, even when re-sent.
        let ledger = try h.store.conflicts().filter { $0.key == key }
        #expect(Set(ledger.map(\.column)) == ["phone", "registered_by"])
        #expect(ledger.first { $0.column == "phone" }?.loserValue == .text("0811-5400-222"))
        // B enrolled the person, so it sees the one participant: the hub's values.
        #expect(try h.siteRows("lpk-b", "participants")[key] == hub[key])
        try h.syncAll()
        #expect(try h.store.conflicts().filter { $0.key == key }.count == 2)
        #expect(try h.siteRows("lpk-a", "participants")[key] == hub[key])
        #expect(try h.site("lpk-b").replica.refusals().first?.reason == "already-registered")
    }

    @Test func erasureRemovesThePersonEverywhereInOneRound() throws {
        let h = try cluster()
        let p = Person.make(8)
        let key = try register(h, "lpk-a", p, phone: "0811-5400-333", program: "prog-a")
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'registered')", [key])
        try h.staff("pt-x", "INSERT INTO placements(id, participant_id, company, position, kind) VALUES ('pl-1', ?, 'pt-x', 'Welder', 'employment')", [key])
        try h.syncAll()
        #expect(try h.siteRows("pt-x", "participants")[key] != nil)
        for id in ["disnaker", "lpk-a", "lpk-b", "pt-x"] {
            #expect(try h.rawContains(h.folder.file("\(id).sqlite"), p.nik), "control: \(id)'s files hold the NIK before the erasure")
        }
        // An offline edit at the owner, not yet sent when the office erases the person.
        try h.staff("lpk-a", "UPDATE participants SET phone = '0811-5400-999' WHERE id = ?", [key])

        let report = try h.store.erase(key: key)
        #expect(Set(report.rows.map(\.table)) == ["participants", "enrollments", "placements"])
        #expect(Set(report.sites) == ["disnaker", "lpk-a", "lpk-b", "pt-x"])
        #expect(try h.hubRows("participants").isEmpty)

        for id in ["disnaker", "lpk-a", "lpk-b", "pt-x"] {
            let exchange = try h.sync(id)
            for table in ["participants", "enrollments", "placements"] {
                #expect(try h.siteStateKeys(id, table).isEmpty, "\(id) still holds \(table)")
            }
            if id == "lpk-a" { #expect(exchange.refused.map(\.reason) == ["erased"]) }
        }
        // No values kept anywhere: not in the refusal ledger of the site whose edit was refused.
        let refusals = try h.site("lpk-a").replica.refusals()
        #expect(refusals.allSatisfy { $0.valuesJSON == nil || !$0.valuesJSON!.contains(p.nik) })
        for id in ["disnaker", "lpk-a", "lpk-b", "pt-x", "hub"] {
            #expect(try !h.rawContains(h.folder.file("\(id).sqlite"), p.nik), "\(id)'s files still hold the NIK")
            #expect(try !h.rawContains(h.folder.file("\(id).sqlite"), p.name), "\(id)'s files still hold the name")
        }
        let trace = try h.store.trace(key: key)
        #expect(trace.contains { $0.action == "erased" })
        #expect(trace.contains { $0.action == "granted" && $0.site == "pt-x" })
    }

    @Test func movingAProgramMovesWhoSeesItsParticipants() throws {
        let h = try cluster()
        let key = try register(h, "lpk-a", Person.make(9), phone: "0811", program: "prog-a")
        try h.syncAll()
        // The office hands prog-a over to LPK B.
        try h.staff("disnaker", "UPDATE programs SET provider = 'lpk-b' WHERE id = 'prog-a'")
        try h.syncAll()
        // The enrollment now belongs to B, which receives it and the participant; A keeps its own registrant.
        #expect(try h.siteStateKeys("lpk-b", "participants") == [key])
        #expect(try h.siteStateKeys("lpk-b", "enrollments").count == 1)
        #expect(try h.siteStateKeys("lpk-a", "enrollments").isEmpty)
        #expect(try h.siteStateKeys("lpk-a", "participants") == [key])
    }

    /// The key of an identity number comes from the check and salt of the schema's `key_from`: the
    /// same as the sites derive, and an implausible number is refused without being repeated.
    @Test func anIdentityNumberGivesTheKeyTheSchemaDerives() throws {
        let h = try HubHarness()
        let p = Person.make(11)
        #expect(try h.store.derivedKey(for: p.nik) == p.key(h.policy))
        let wrong = String(p.nik.dropLast()) + "x"
        let error = try #require(throws: BegawiError.self) { try h.store.derivedKey(for: wrong) }
        #expect(error.code == .invalidArgument && error.message.contains("16 digits"), "\(error)")
        #expect(!error.message.contains(String(p.nik.prefix(12))), "\(error)")
    }

    /// A hub that ran with rules remembers it, so that `hub run` refuses a schema file without them
    /// (every site would otherwise receive every row).
    @Test func aHubRemembersItsRules() throws {
        let h = try HubHarness()
        #expect(try h.store.installedRulesDigest() == h.policy.digest)
        let plain = TemporaryFolder()
        try SQLiteHubStore.create(at: plain.file("hub.sqlite"), schema: h.document.schema)
        let store = try SQLiteHubStore(path: plain.file("hub.sqlite"))
        defer { try? store.close() }
        #expect(try store.installedRulesDigest() == nil)
    }
}
