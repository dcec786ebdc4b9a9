import BegawiRules
import Foundation
import Testing

extension AgenciesTests {
    /// Rows the hub refuses do not stop the round: the legitimate row goes through, the refused ones
    /// are undone at the site and listed by `site status`, and nothing is sent again.
    @Test(arguments: ClusterStore.available) func refusedRowsAreUndoneAndListedWhileTheRoundSucceeds(store: ClusterStore) throws {
        let agencies = try Agencies(label: "refusals", store: store)
        for lpk in ["lpk-a", "lpk-b"] { try agencies.addSite(lpk, kind: "lpk") }
        try agencies.offerProgram("prog-b", by: "lpk-b", title: "Teknisi Instrumentasi")
        try agencies.sync("lpk-b")
        try agencies.sync("lpk-a")
        let before = try agencies.rows("hub", "programs")

        // A program in another LPK's name, an edit of another LPK's program, and a program of its own.
        try agencies.offerProgram("prog-fake", by: "lpk-a", provider: "lpk-b", title: "Welding Class B")
        try agencies.cluster.staff("lpk-a", "UPDATE programs SET title = 'Kelas Dibatalkan' WHERE id = 'prog-b'")
        try agencies.offerProgram("prog-a", by: "lpk-a", title: "Operator Forklift")
        let output = try agencies.sync("lpk-a")
        #expect(SyncSummary(output)?.sent == 3, "\(output)")
        #expect(output.contains("refused by the hub: 2"), "\(output)")

        let hub = try agencies.rows("hub", "programs")
        #expect(Set(hub.keys) == ["prog-a", "prog-b"])
        #expect(hub["prog-b"] == before["prog-b"], "the hub took another LPK's edit")
        #expect(hub["prog-a"]?.first == "lpk-a")
        #expect(try agencies.rows("lpk-a", "programs") == hub, "lpk-a's replica does not show the hub's programs again")
        #expect(try agencies.keys("lpk-a", "programs") == ["prog-a", "prog-b"], "a refused insert left a tombstone")

        let status = try agencies.status("lpk-a")
        #expect(status.contains("refused changes: 2"), "\(status)")
        for key in ["prog-fake", "prog-b"] {
            let line = status.split(separator: "\n").first { $0.contains("programs \(key) ") }
            #expect(line?.contains("not-owner: ") == true, "no not-owner refusal of \(key) in:\n\(status)")
        }
        #expect(try agencies.statusJSON("lpk-a")["refusals"] as? Int == 2)
        #expect(try agencies.cluster.query("hub", "SELECT count(*) FROM _hub_audit WHERE site = 'lpk-a' AND action = 'refused' AND reason = 'not-owner'") == [["2"]])

        // Nothing is sent again, and nothing new is refused.
        let again = try agencies.sync("lpk-a")
        #expect(SyncSummary(again)?.sent == 0, "\(again)")
        #expect(!again.contains("refused by the hub"), "\(again)")
        #expect(try agencies.statusJSON("lpk-a")["refusals"] as? Int == 2)
        #expect(try agencies.rows("hub", "programs") == hub)

        // The approval of its own program is the office's to give.
        try agencies.cluster.staff("lpk-a", "UPDATE programs SET approved_on = '2025-06-01' WHERE id = 'prog-a'")
        let approval = try agencies.sync("lpk-a")
        #expect(approval.contains("refused by the hub: 1"), "\(approval)")
        #expect(try agencies.rows("lpk-a", "programs") == hub)
        let line = try agencies.status("lpk-a").split(separator: "\n").first { $0.contains("programs prog-a ") }
        #expect(line?.contains("office-only: ") == true, "\(String(describing: line))")
        #expect(try agencies.statusJSON("lpk-a")["refusals"] as? Int == 3)
        // The owner still has its program as it wrote it.
        try agencies.sync("lpk-b")
        #expect(try agencies.rows("lpk-b", "programs") == hub)
    }

    /// The site holds back a participant whose NIK is not a date, and one whose key is not derived
    /// from its NIK: the hub never sees them, and no message or log shows the NIK.
    @Test(arguments: ClusterStore.available) func theSiteHoldsBackImplausibleNIKsAndKeysNotDerivedFromThem(store: ClusterStore) throws {
        let agencies = try Agencies(label: "nik-check", store: store)
        try agencies.addSite("lpk-a", kind: "lpk")
        let (good, thirteenth, misKeyed, wrongKey) = try AgenciesTests.registerOneGoodTwoBad(
            agencies, series: 2, thirteenthNIK: Bontang.nik(kecamatan: "02", day: 17, month: 13, year: 1, female: true, serial: 9412))

        // Rows held back are not done: the round says so with status 3.
        let output = try agencies.sync("lpk-a", expect: 3)
        #expect(output.contains("held back by this site's checks: 2"), "\(output)")
        #expect(output.contains("2 rows are held back"), "\(output)")
        #expect(Set(try agencies.rows("hub", "participants").keys) == [good.key])
        try agencies.expectAbsent(thirteenth.personalValues + misKeyed.personalValues, from: "hub", "the site held them back")
        try agencies.expectPresent(good.personalValues, in: "hub", "the valid participant was sent")
        // The site keeps them as its staff typed them.
        #expect(Set(try agencies.rows("lpk-a", "participants").keys) == [good.key, thirteenth.key, wrongKey])

        let status = try agencies.status("lpk-a")
        let lines = status.split(separator: "\n")
        let invalid = lines.first { $0.contains("participants \(thirteenth.key) ") }
        let mismatch = lines.first { $0.contains("participants \(wrongKey) ") }
        #expect(invalid?.contains("invalid-nik: ") == true && invalid?.contains("birth date") == true, "\(status)")
        #expect(mismatch?.contains("key-mismatch: ") == true && mismatch?.contains("participant-key") == true, "\(status)")
        #expect(lines.contains("held back:       2 (not synced until fixed; see their refusals below)"), "\(status)")
        #expect(lines.contains("pending changes: 0"), "\(status)")
        #expect(try agencies.statusJSON("lpk-a")["refusals"] as? Int == 2)
        #expect(try agencies.statusJSON("lpk-a")["heldBack"] as? Int == 2)
        for p in [thirteenth, misKeyed] { #expect(!status.contains(p.nik), "site status shows the NIK of \(p.name)") }

        // A later edit of a held row is held too, without a second ledger entry.
        try agencies.cluster.staff("lpk-a", "UPDATE participants SET education = 'D3' WHERE id = ?", [thirteenth.key])
        let again = try agencies.sync("lpk-a", expect: 3)
        #expect(SyncSummary(again)?.sent == 0, "\(again)")
        #expect(try agencies.statusJSON("lpk-a")["refusals"] as? Int == 2)
        #expect(Set(try agencies.rows("hub", "participants").keys) == [good.key])

        // The key to use comes from `site participant-key`, which reads the NIK on stdin.
        let config = agencies.cluster.siteConfig("lpk-a")
        let key = try agencies.run(["site", "participant-key", "--config", config], input: misKeyed.nik + "\n").output
        #expect(key.trimmingCharacters(in: .whitespacesAndNewlines) == misKeyed.key)
        // The staff do as the message says: delete the held row and insert the person under that key.
        try agencies.cluster.staff("lpk-a", "DELETE FROM participants WHERE id = ?", [wrongKey])
        try agencies.register(misKeyed, at: "lpk-a")
        // The person with an implausible NIK is still held back.
        let fixed = try agencies.sync("lpk-a", expect: 3)
        #expect(fixed.contains("1 rows are held back"), "\(fixed)")
        #expect(try agencies.statusJSON("lpk-a")["heldBack"] as? Int == 1)
        #expect(Set(try agencies.rows("hub", "participants").keys) == [good.key, misKeyed.key])
        #expect(try agencies.rows("lpk-a", "participants")[misKeyed.key] == agencies.rows("hub", "participants")[misKeyed.key])
        let unknown = try agencies.cluster.query("lpk-a", "SELECT count(*) FROM _begawi_refusals WHERE reason = 'unknown-row'")
        // The deletion of a row whose insert was held back is not sent: the hub never had it.
        #expect(!fixed.contains("refused by the hub") || fixed.contains("refused by the hub: 0;"), "\(fixed)")
        #expect(unknown == [["0"]], "a spurious unknown-row refusal is in lpk-a's ledger")
        let refused = try agencies.run(["site", "participant-key", "--config", config], expect: -1, input: thirteenth.nik + "\n")
        #expect(refused.status != 0)
        #expect(refused.errors.contains("birth date"), "\(refused.errors)")
        try agencies.expectAbsent(thirteenth.personalValues, from: "hub", "the site still holds it back")
        // Once no row is held back, the round is done.
        try agencies.cluster.staff("lpk-a", "DELETE FROM participants WHERE id = ?", [thirteenth.key])
        try agencies.sync("lpk-a")
        #expect(try agencies.statusJSON("lpk-a")["heldBack"] as? Int == 0)
        agencies.expectNoPersonalData([good, thirteenth, misKeyed])
    }

    /// Two LPKs register one person offline: the hub keeps the first registration and puts the field
    /// that differs in its conflict ledger. A NIK mistyped by one digit shows in `hub duplicates`.
    @Test(arguments: ClusterStore.available) func onePersonIsOneParticipantAndMistypedNIKsShowAsDuplicates(store: ClusterStore) throws {
        let agencies = try Agencies(label: "one-person", store: store)
        for lpk in ["lpk-a", "lpk-b", "lpk-c"] { try agencies.addSite(lpk, kind: "lpk") }
        var source = Bontang(series: 3)
        let p = source.person(female: true)
        let otherPhone = "081250773318"
        try agencies.register(p, at: "lpk-a")
        try agencies.register(p, at: "lpk-b", phone: otherPhone)
        try agencies.offerProgram("prog-b", by: "lpk-b", title: "Tata Boga")
        try agencies.enroll("enr-b-p", p.key, in: "prog-b", at: "lpk-b")
        try agencies.sync("lpk-a")
        let output = try agencies.sync("lpk-b")
        #expect(output.contains("refused by the hub: 1"), "\(output)")

        let hub = try agencies.rows("hub", "participants")
        #expect(hub.count == 1)
        #expect(hub[p.key] == [p.nik, p.name, p.birthDate, p.sex, p.phone, p.address, p.kelurahan, p.kecamatan, p.education, "lpk-a", "NULL"])
        let ledger = try agencies.cluster.ledger("hub")
        #expect(ledger.contains(["participants", p.key, "phone", "lpk-b", "lpk-a"]), "\(ledger)")
        #expect(Set(ledger.map { $0[2] }).isSubset(of: ["phone", "registered_by"]), "\(ledger)")
        if store == .postgres {
            // The ledger's values are BatchCodec's encoding (bytea) on PostgreSQL.
            #expect(try agencies.cluster.query("hub", """
                SELECT count(*) FROM _begawi_conflicts WHERE col = 'phone' AND strpos(encode(loser_value, 'hex'), encode(convert_to(?, 'UTF8'), 'hex')) > 0
                """, [otherPhone]) == [["1"]])
        } else {
            #expect(try agencies.cluster.query("hub", "SELECT loser_value FROM _begawi_conflicts WHERE col = 'phone'") == [[otherPhone]])
        }
        // lpk-b trains the person, so it holds the hub's registration, not its own.
        #expect(try agencies.rows("lpk-b", "participants") == hub)
        #expect(try agencies.status("lpk-b").contains("already-registered"))

        // One person registered twice under NIKs one digit apart, with the same name and birth date.
        let typed = source.person()
        var mistyped = typed
        mistyped.nik = String(typed.nik.dropLast()) + (typed.nik.last == "9" ? "8" : String(typed.nik.last!.wholeNumberValue! + 1))
        try agencies.register(typed, at: "lpk-a")
        try agencies.register(mistyped, at: "lpk-c")
        try agencies.sync("lpk-a")
        try agencies.sync("lpk-c")
        #expect(try agencies.rows("hub", "participants").count == 3)
        let duplicates = try agencies.hub("duplicates").split(separator: "\n").dropFirst()
        #expect(duplicates.count == 1, "\(duplicates)")
        let fields = duplicates.first.map { $0.split(separator: "\t").map(String.init) } ?? []
        #expect(Set(fields.prefix(2)) == [typed.key, mistyped.key], "\(fields)")
        #expect(Set(fields.dropFirst(2).prefix(2)) == ["lpk-a", "lpk-c"], "\(fields)")
        #expect(fields.last == "1", "\(fields)")
        agencies.expectNoPersonalData([p, typed, mistyped], also: [("lpk-b's phone of \(p.name)", otherPhone)])
    }
}

extension AgenciesTests {
    /// A site whose schema file lacks the NIK rule (an old copy, or another program writing to the
    /// hub) sends implausible and mis-keyed participants: the hub refuses them with the same reasons,
    /// keeps no byte of them, and logs no NIK.
    @Test(arguments: ClusterStore.available) func theHubRefusesImplausibleNIKsFromASiteWithoutTheChecks(store: ClusterStore) throws {
        let agencies = try Agencies(label: "nik-hub", store: store)
        try agencies.addSite("lpk-a", kind: "lpk")
        let schema = try String(contentsOfFile: agencies.cluster.path("schema.json"), encoding: .utf8)
        let rule = #""key_from": {"column": "nik", "check": "nik", "salt": "\#(Bontang.salt)"}"#
        #expect(schema.contains(rule), "the schema's key_from rule is not where this test looks for it")
        try schema.replacingOccurrences(of: ",\n        " + rule, with: "")
            .write(toFile: agencies.cluster.path("schema-unchecked.json"), atomically: true, encoding: .utf8)
        try agencies.cluster.setSiteOption("lpk-a", "schema", "\"schema-unchecked.json\"")

        let (good, thirteenth, misKeyed, wrongKey) = try AgenciesTests.registerOneGoodTwoBad(
            agencies, series: 5, thirteenthNIK: Bontang.nik(kecamatan: "03", day: 9, month: 13, year: 99, female: true, serial: 9533))
        let output = try agencies.sync("lpk-a")
        #expect(output.contains("refused by the hub: 2; held back by this site's checks: 0"), "\(output)")

        #expect(Set(try agencies.rows("hub", "participants").keys) == [good.key])
        try agencies.expectAbsent(thirteenth.personalValues + misKeyed.personalValues, from: "hub", "the hub refused them")
        try agencies.expectPresent(good.personalValues, in: "hub", "the valid participant was accepted")
        let status = try agencies.status("lpk-a")
        let lines = status.split(separator: "\n")
        #expect(lines.contains { $0.contains("participants \(thirteenth.key)  invalid-nik: ") }, "\(status)")
        #expect(lines.contains { $0.contains("participants \(wrongKey)  key-mismatch: ") }, "\(status)")
        #expect(try agencies.cluster.query("hub", "SELECT reason FROM _hub_audit WHERE action = 'refused' ORDER BY reason") == [["invalid-nik"], ["key-mismatch"]])
        agencies.expectNoPersonalData([good, thirteenth, misKeyed])
    }
}

extension AgenciesTests {
    /// Registers at lpk-a one valid person, one whose NIK has month 13, and one under a key not
    /// derived from the NIK (another salt).
    static func registerOneGoodTwoBad(_ agencies: Agencies, series: Int, thirteenthNIK: String) throws
        -> (good: Person, thirteenth: Person, misKeyed: Person, wrongKey: String) {
        var source = Bontang(series: series)
        let good = source.person()
        var thirteenth = source.person(female: true)
        thirteenth.nik = thirteenthNIK
        let misKeyed = source.person()
        try agencies.register(good, at: "lpk-a")
        try agencies.register(thirteenth, at: "lpk-a")
        let wrongKey = NIK.key(for: misKeyed.nik, salt: "salah-garam")
        try agencies.register(misKeyed, at: "lpk-a", key: wrongKey)
        return (good, thirteenth, misKeyed, wrongKey)
    }
}
