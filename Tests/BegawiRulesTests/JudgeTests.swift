import BegawiCore
import BegawiRules
import Foundation
import Testing

/// The hub's rows as a test holds them, for rules that follow references.
struct MemoryLookup: RuleLookup {
    var tables: [String: [String: StoredRow]] = [:]

    func row(_ table: String, key: String) throws -> StoredRow? { tables[table]?[key] }

    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)] {
        (tables[table] ?? [:]).filter { $0.value.text(column) == value && ($0.value.live || !liveOnly) }
            .sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    mutating func put(_ table: String, _ key: String, _ values: [String: SQLValue], live: Bool = true) {
        tables[table, default: [:]][key] = StoredRow(values: values, live: live)
    }
}

/// The rules' verdicts on single row changes, without a database: who may write which rows, and
/// the checks on values and derived keys.
@Suite struct JudgeTests {
    static let policy: AccessPolicy = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try! SchemaDocument.load(path: root.appendingPathComponent("config/handak-begawi.json").path).policy!
    }()
    static let salt = "handak-begawi-bontang-v1"
    static let nikA = "6474014512990001"
    static let nikB = "6474020101800123"
    static var keyA: String { NIK.key(for: nikA, salt: salt) }
    static var keyB: String { NIK.key(for: nikB, salt: salt) }

    /// The hub holds: A's participant, programs of lpk-a and lpk-b, an enrollment in lpk-a's program,
    /// a certification by lpk-a, a placement and a vacancy of pt-x, and a partner row.
    static var lookup: MemoryLookup {
        var l = MemoryLookup()
        l.put("participants", keyA, ["nik": .text(nikA), "full_name": .text("Ani Saputra"), "sex": .text("P"),
                                     "registered_by": .text("lpk-a"), "verified_on": .null])
        l.put("programs", "prog-a", ["provider": .text("lpk-a"), "title": .text("Las"), "approved_on": .null])
        l.put("programs", "prog-b", ["provider": .text("lpk-b"), "title": .text("Forklift"), "approved_on": .text("2025-01-02")])
        l.put("enrollments", "enr-a", ["participant_id": .text(keyA), "program_id": .text("prog-a"), "status": .text("registered")])
        l.put("certifications", "cert-a", ["participant_id": .text(keyA), "number": .text("C-1"), "scheme": .text("Las"),
                                           "issuer": .text("LSP"), "recorded_by": .text("lpk-a"), "verified_on": .null])
        l.put("placements", "pl-x", ["participant_id": .text(keyA), "company": .text("pt-x"), "position": .text("Welder"),
                                     "kind": .text("employment"), "verified_on": .null])
        l.put("vacancies", "vac-x", ["company": .text("pt-x"), "title": .text("Welder")])
        l.put("partners", "lpk-a", ["kind": .text("lpk"), "name": .text("LPK A")])
        return l
    }

    /// A change to `key`: the registers it carries (`written`), applied over the hub's row.
    static func change(_ table: String, _ key: String, _ written: [String: SQLValue], deletes: Bool? = nil,
                       knewRow: Bool = true, lookup: MemoryLookup = JudgeTests.lookup) -> RowWrite {
        let before = lookup.tables[table]?[key]
        var after = before ?? StoredRow(values: [:], live: false)
        for (c, v) in written { after.values[c] = v }
        if let deletes { after.live = !deletes }
        return RowWrite(table: table, key: key, before: before, after: after, written: written, deletes: deletes, knewRow: knewRow)
    }

    static func judge(_ write: RowWrite, _ site: String, _ kind: SiteKind, lookup: MemoryLookup = JudgeTests.lookup) throws -> Verdict {
        try policy.judge(write, site: site, kind: kind, lookup: lookup)
    }

    /// The reason of a refusal, nil for any other verdict.
    static func reason(_ verdict: Verdict) -> String? {
        if case .refuse(let reason, let message) = verdict {
            #expect(!message.isEmpty)
            return reason.code
        }
        return nil
    }

    static func insertParticipant(_ key: String, nik: SQLValue, by site: String, _ extra: [String: SQLValue] = [:]) -> RowWrite {
        var values: [String: SQLValue] = ["nik": nik, "full_name": .text("Budi Wijaya"), "registered_by": .text(site)]
        for (c, v) in extra { values[c] = v }
        return change("participants", key, values, deletes: false)
    }

    // MARK: not-writer

    @Test func siteKindsOutsideTheWritersAreRefused() throws {
        let cases: [(RowWrite, String, SiteKind)] = [
            (JudgeTests.change("programs", "prog-x", ["provider": .text("pt-x"), "title": .text("K3")], deletes: false), "pt-x", .company),
            (JudgeTests.change("placements", "pl-a", ["participant_id": .text(JudgeTests.keyA), "company": .text("lpk-a"),
                                                      "position": .text("Welder"), "kind": .text("employment")], deletes: false), "lpk-a", .lpk),
            (JudgeTests.change("vacancies", "vac-x", ["title": .text("Fitter")]), "lpk-a", .lpk),
            (JudgeTests.change("partners", "lpk-a", ["name": .text("LPK A Jaya")]), "lpk-a", .lpk),
            (JudgeTests.change("partners", "blki", ["kind": .text("blki"), "name": .text("BLKI")], deletes: false), "blki", .blki),
            (JudgeTests.change("partners", "pt-x", ["kind": .text("company"), "name": .text("PT X")], deletes: false), "pt-x", .company),
            (JudgeTests.insertParticipant(JudgeTests.keyB, nik: .text(JudgeTests.nikB), by: "pt-x"), "pt-x", .company),
            (JudgeTests.change("participants", JudgeTests.keyA, ["phone": .text("0811")]), "pt-x", .company),
            (JudgeTests.change("enrollments", "enr-a", ["status": .text("active")]), "pt-x", .company),
            (JudgeTests.change("certifications", "cert-a", [:], deletes: true), "pt-x", .company),
        ]
        for (write, site, kind) in cases {
            #expect(JudgeTests.reason(try JudgeTests.judge(write, site, kind)) == "not-writer", "\(kind) on \(write.table)")
        }
        let unknown = RowWrite(table: "salaries", key: "s1", before: nil, after: StoredRow(values: [:], live: true),
                               written: [:], deletes: false, knewRow: true)
        #expect(JudgeTests.reason(try JudgeTests.judge(unknown, "disnaker", .office)) == "not-writer")
    }

    // MARK: not-owner and owner-change

    @Test func writesToAnotherSitesRowsAreRefused() throws {
        let cases: [(RowWrite, String, SiteKind)] = [
            (JudgeTests.change("programs", "prog-a", ["title": .text("Renamed")]), "lpk-b", .lpk),
            (JudgeTests.change("programs", "prog-a", [:], deletes: true), "blki", .blki),
            (JudgeTests.change("participants", JudgeTests.keyA, ["phone": .text("0811")]), "lpk-b", .lpk),
            (JudgeTests.change("participants", JudgeTests.keyA, [:], deletes: true, knewRow: false), "lpk-b", .lpk),
            (JudgeTests.change("certifications", "cert-a", ["number": .text("C-2")]), "bplk", .bplk),
            (JudgeTests.change("placements", "pl-x", ["position": .text("Fitter")]), "pt-y", .company),
            (JudgeTests.change("vacancies", "vac-x", [:], deletes: true), "pt-y", .company),
            // An insert naming another site as the owner.
            (JudgeTests.change("programs", "prog-new", ["provider": .text("lpk-a"), "title": .text("Palsu")], deletes: false), "lpk-b", .lpk),
            (JudgeTests.change("vacancies", "vac-new", ["company": .text("pt-x"), "title": .text("Palsu")], deletes: false), "pt-y", .company),
            (JudgeTests.insertParticipant(JudgeTests.keyB, nik: .text(JudgeTests.nikB), by: "lpk-a"), "lpk-b", .lpk),
            // An insert naming no owner at all.
            (JudgeTests.change("programs", "prog-new", ["title": .text("Tanpa pemilik")], deletes: false), "lpk-b", .lpk),
        ]
        for (write, site, kind) in cases {
            #expect(JudgeTests.reason(try JudgeTests.judge(write, site, kind)) == "not-owner", "\(site) on \(write.table)/\(write.key)")
        }
    }

    @Test func changingTheOwnerColumnIsRefused() throws {
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("programs", "prog-a", ["provider": .text("lpk-b")]), "lpk-a", .lpk)) == "owner-change")
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("participants", JudgeTests.keyA, ["registered_by": .text("blki")]), "lpk-a", .lpk)) == "owner-change")
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("placements", "pl-x", ["company": .text("pt-y")]), "pt-x", .company)) == "owner-change")
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("programs", "prog-a", ["provider": .null]), "lpk-a", .lpk)) == "owner-change")
        // Writing the same owner again is no change.
        #expect(try JudgeTests.judge(JudgeTests.change("programs", "prog-a", ["provider": .text("lpk-a"), "title": .text("Las 2")]), "lpk-a", .lpk) == .accept)
    }

    // MARK: office-only, values, identifiers

    @Test func officeOnlyColumnsAreRefusedToSites() throws {
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("participants", JudgeTests.keyA, ["verified_on": .text("2025-03-01")]), "lpk-a", .lpk)) == "office-only")
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("programs", "prog-a", ["approved_on": .text("2025-03-01")]), "lpk-a", .lpk)) == "office-only")
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("certifications", "cert-a", ["verified_on": .text("2025-03-01")]), "lpk-a", .lpk)) == "office-only")
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("placements", "pl-x", ["verified_on": .text("2025-03-01")]), "pt-x", .company)) == "office-only")
        // Clearing the office's approval is setting it too.
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("programs", "prog-b", ["approved_on": .null]), "lpk-b", .lpk)) == "office-only")
        // An insert that sets it.
        let insert = JudgeTests.change("programs", "prog-new", ["provider": .text("lpk-a"), "title": .text("K3"), "approved_on": .text("2025-03-01")], deletes: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(insert, "lpk-a", .lpk)) == "office-only")
        // Carrying the value the hub holds is not setting it.
        #expect(try JudgeTests.judge(JudgeTests.change("programs", "prog-b", ["approved_on": .text("2025-01-02"), "title": .text("Forklift 2")]), "lpk-b", .lpk) == .accept)
        let empty = JudgeTests.change("programs", "prog-new", ["provider": .text("lpk-a"), "title": .text("K3"), "approved_on": .null], deletes: false)
        #expect(try JudgeTests.judge(empty, "lpk-a", .lpk) == .accept)
    }

    @Test func valuesOutsideTheAllowedListAreRefused() throws {
        let cases: [(RowWrite, String, SiteKind)] = [
            (JudgeTests.change("participants", JudgeTests.keyA, ["sex": .text("X")]), "lpk-a", .lpk),
            (JudgeTests.change("participants", JudgeTests.keyA, ["education": .text("SMU")]), "lpk-a", .lpk),
            (JudgeTests.change("participants", JudgeTests.keyA, ["sex": .integer(1)]), "lpk-a", .lpk),
            (JudgeTests.change("programs", "prog-a", ["funding": .text("gift")]), "lpk-a", .lpk),
            (JudgeTests.change("enrollments", "enr-a", ["status": .text("graduated")]), "lpk-a", .lpk),
            (JudgeTests.change("placements", "pl-x", ["kind": .text("internship")]), "pt-x", .company),
            // The office too: a bad value is bad from anyone.
            (JudgeTests.change("partners", "lpk-a", ["kind": .text("school")]), "disnaker", .office),
            (JudgeTests.change("participants", JudgeTests.keyA, ["sex": .text("l")]), "disnaker", .office),
        ]
        for (write, site, kind) in cases {
            #expect(JudgeTests.reason(try JudgeTests.judge(write, site, kind)) == "bad-value", "\(write.table) \(write.written)")
        }
        #expect(try JudgeTests.judge(JudgeTests.change("participants", JudgeTests.keyA, ["sex": .null, "education": .text("SMK")]), "lpk-a", .lpk) == .accept)
    }

    @Test func implausibleNIKsAndForeignKeysAreRefused() throws {
        let bad: [SQLValue] = [.text("123"), .text("9974014512990001"), .text("6474017201990001"), .integer(6474014512990001), .null]
        for nik in bad {
            for (site, kind) in [("lpk-b", SiteKind.lpk), ("disnaker", .office)] {
                let write = JudgeTests.insertParticipant(JudgeTests.keyB, nik: nik, by: site)
                let verdict = try JudgeTests.judge(write, site, kind)
                #expect(JudgeTests.reason(verdict) == "invalid-nik", "\(nik) by \(kind)")
                if case .refuse(_, let message) = verdict, case .text(let text) = nik, !text.isEmpty {
                    #expect(!message.contains(text))
                }
            }
        }
        // A plausible NIK under a key that is not derived from it, from another salt, or made up.
        for key in [JudgeTests.keyA, NIK.key(for: JudgeTests.nikB, salt: "another-programme"), "p0000", "550e8400-e29b-41d4-a716-446655440000"] {
            for (site, kind) in [("lpk-b", SiteKind.lpk), ("disnaker", .office)] {
                let write = JudgeTests.insertParticipant(key, nik: .text(JudgeTests.nikB), by: site)
                let verdict = try JudgeTests.judge(write, site, kind, lookup: MemoryLookup())
                #expect(JudgeTests.reason(verdict) == "key-mismatch", "\(key) by \(kind)")
                if case .refuse(_, let message) = verdict { #expect(!message.contains(JudgeTests.nikB)) }
            }
        }
        // Changing the NIK of a row is a key mismatch: a changed NIK is a new row.
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("participants", JudgeTests.keyA, ["nik": .text(JudgeTests.nikB)]), "lpk-a", .lpk)) == "key-mismatch")
        // The derived key passes.
        #expect(try JudgeTests.judge(JudgeTests.insertParticipant(JudgeTests.keyB, nik: .text(JudgeTests.nikB), by: "lpk-b"), "lpk-b", .lpk) == .accept)
        // A new participant without any NIK register cannot pass under a made-up key.
        for (site, kind) in [("lpk-b", SiteKind.lpk), ("disnaker", .office)] {
            let bare = JudgeTests.change("participants", "p-made-up", ["full_name": .text("Budi Wijaya"), "registered_by": .text(site)],
                                         deletes: false, lookup: MemoryLookup())
            #expect(JudgeTests.reason(try JudgeTests.judge(bare, site, kind, lookup: MemoryLookup())) == "invalid-nik", "by \(kind)")
        }
    }

    // MARK: unknown rows and second registrations

    @Test func changesToRowsTheHubNeverHadAreRefused() throws {
        let update = JudgeTests.change("programs", "prog-gone", ["title": .text("K3")])
        #expect(JudgeTests.reason(try JudgeTests.judge(update, "lpk-a", .lpk)) == "unknown-row")
        let delete = JudgeTests.change("programs", "prog-gone", [:], deletes: true)
        #expect(JudgeTests.reason(try JudgeTests.judge(delete, "lpk-a", .lpk)) == "unknown-row")
        let deleteParticipant = JudgeTests.change("participants", JudgeTests.keyB, [:], deletes: true)
        #expect(JudgeTests.reason(try JudgeTests.judge(deleteParticipant, "lpk-a", .lpk)) == "unknown-row")
    }

    @Test func aSecondRegistrationOfAPersonIsAlreadyRegistered() throws {
        // LPK B registers the person LPK A registered, without having seen A's row.
        let again = JudgeTests.insertParticipant(JudgeTests.keyA, nik: .text(JudgeTests.nikA), by: "lpk-b")
        var unseen = again
        unseen.knewRow = false
        #expect(try JudgeTests.judge(unseen, "lpk-b", .lpk) == .alreadyRegistered)
        #expect(try JudgeTests.judge(unseen, "blki", .blki) == .alreadyRegistered)
        // Having seen the row, the same write is a write to another site's row.
        #expect(JudgeTests.reason(try JudgeTests.judge(again, "lpk-b", .lpk)) == "not-owner")
        // Updates and deletes are never second registrations.
        let update = JudgeTests.change("participants", JudgeTests.keyA, ["phone": .text("0811")], knewRow: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(update, "lpk-b", .lpk)) == "not-owner")
        // Nor is an insert into a table whose key is not derived.
        let program = JudgeTests.change("programs", "prog-a", ["provider": .text("lpk-b"), "title": .text("Las")], deletes: false, knewRow: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(program, "lpk-b", .lpk)) == "not-owner")
        // A company is not a writer at all.
        #expect(JudgeTests.reason(try JudgeTests.judge(unseen, "pt-x", .company)) == "not-writer")
        // A second registration with an implausible NIK is refused for the NIK.
        var badNIK = JudgeTests.insertParticipant(JudgeTests.keyA, nik: .text("6474014512990000"), by: "lpk-b")
        badNIK.knewRow = false
        #expect(JudgeTests.reason(try JudgeTests.judge(badNIK, "lpk-b", .lpk)) == "invalid-nik")
    }

    // MARK: what is accepted

    @Test func ownersWriteTheirOwnRows() throws {
        let cases: [(RowWrite, String, SiteKind)] = [
            (JudgeTests.change("programs", "prog-a", ["title": .text("Las 3G")]), "lpk-a", .lpk),
            (JudgeTests.change("programs", "prog-a", [:], deletes: true), "lpk-a", .lpk),
            (JudgeTests.change("programs", "prog-c", ["provider": .text("blki"), "title": .text("Listrik")], deletes: false), "blki", .blki),
            (JudgeTests.change("programs", "prog-d", ["provider": .text("bplk"), "title": .text("Otomotif")], deletes: false), "bplk", .bplk),
            (JudgeTests.change("participants", JudgeTests.keyA, ["phone": .text("0811"), "education": .text("SMK")]), "lpk-a", .lpk),
            (JudgeTests.change("participants", JudgeTests.keyA, [:], deletes: true), "lpk-a", .lpk),
            (JudgeTests.insertParticipant(JudgeTests.keyB, nik: .text(JudgeTests.nikB), by: "bplk"), "bplk", .bplk),
            (JudgeTests.change("certifications", "cert-a", ["issued_on": .text("2025-02-01")]), "lpk-a", .lpk),
            (JudgeTests.change("placements", "pl-x", ["position": .text("Fitter")]), "pt-x", .company),
            (JudgeTests.change("vacancies", "vac-y", ["company": .text("pt-y"), "title": .text("Operator")], deletes: false), "pt-y", .company),
            (JudgeTests.change("vacancies", "vac-x", [:], deletes: true), "pt-x", .company),
        ]
        for (write, site, kind) in cases {
            #expect(try JudgeTests.judge(write, site, kind) == .accept, "\(site) on \(write.table)/\(write.key)")
        }
    }

    @Test func enrollmentsBelongToTheProgramsProvider() throws {
        let lookup = JudgeTests.lookup
        let rule = JudgeTests.policy["enrollments"]!
        #expect(try JudgeTests.policy.owner(of: lookup.tables["enrollments"]!["enr-a"]!, rule, lookup: lookup) == "lpk-a")

        let own = JudgeTests.change("enrollments", "enr-new", ["participant_id": .text(JudgeTests.keyA), "program_id": .text("prog-a"),
                                                               "status": .text("registered")], deletes: false)
        #expect(try JudgeTests.judge(own, "lpk-a", .lpk) == .accept)
        #expect(JudgeTests.reason(try JudgeTests.judge(own, "lpk-b", .lpk)) == "not-owner")

        let elsewhere = JudgeTests.change("enrollments", "enr-new", ["participant_id": .text(JudgeTests.keyA), "program_id": .text("prog-b"),
                                                                     "status": .text("registered")], deletes: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(elsewhere, "lpk-a", .lpk)) == "not-owner")
        #expect(try JudgeTests.judge(elsewhere, "lpk-b", .lpk) == .accept)

        let nowhere = JudgeTests.change("enrollments", "enr-new", ["participant_id": .text(JudgeTests.keyA), "program_id": .text("prog-none"),
                                                                   "status": .text("registered")], deletes: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(nowhere, "lpk-a", .lpk)) == "unknown-reference")

        #expect(try JudgeTests.judge(JudgeTests.change("enrollments", "enr-a", ["status": .text("active")]), "lpk-a", .lpk) == .accept)
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("enrollments", "enr-a", ["status": .text("active")]), "lpk-b", .lpk)) == "not-owner")
        // Moving one's own enrollment into another site's program gives it away: refused.
        #expect(JudgeTests.reason(try JudgeTests.judge(JudgeTests.change("enrollments", "enr-a", ["program_id": .text("prog-b")]), "lpk-a", .lpk)) == "not-owner")
        // Once the office hands the program to lpk-b, the enrollment is lpk-b's.
        var moved = lookup
        moved.put("programs", "prog-a", ["provider": .text("lpk-b"), "title": .text("Las"), "approved_on": .null])
        let update = JudgeTests.change("enrollments", "enr-a", ["status": .text("active")], lookup: moved)
        #expect(try JudgeTests.judge(update, "lpk-b", .lpk, lookup: moved) == .accept)
        #expect(JudgeTests.reason(try JudgeTests.judge(update, "lpk-a", .lpk, lookup: moved)) == "not-owner")
    }

    @Test func theOfficeMayWriteAnythingWellFormed() throws {
        let cases: [RowWrite] = [
            JudgeTests.change("partners", "pt-z", ["kind": .text("company"), "name": .text("PT Z")], deletes: false),
            JudgeTests.change("partners", "lpk-a", ["name": .text("LPK A Jaya")]),
            JudgeTests.change("partners", "lpk-a", [:], deletes: true),
            JudgeTests.change("programs", "prog-a", ["provider": .text("lpk-b")]),
            JudgeTests.change("programs", "prog-a", ["approved_on": .text("2025-03-01")]),
            JudgeTests.change("participants", JudgeTests.keyA, ["verified_on": .text("2025-03-01"), "full_name": .text("Ani S.")]),
            JudgeTests.change("participants", JudgeTests.keyA, ["registered_by": .text("blki")]),
            JudgeTests.change("participants", JudgeTests.keyA, [:], deletes: true),
            JudgeTests.insertParticipant(JudgeTests.keyB, nik: .text(JudgeTests.nikB), by: "lpk-b"),
            JudgeTests.change("enrollments", "enr-new", ["participant_id": .text(JudgeTests.keyA), "program_id": .text("prog-b"), "status": .text("active")], deletes: false),
            JudgeTests.change("certifications", "cert-a", ["verified_on": .text("2025-03-01")]),
            JudgeTests.change("placements", "pl-x", ["verified_on": .text("2025-03-01"), "company": .text("pt-y")]),
            JudgeTests.change("vacancies", "vac-x", [:], deletes: true),
            JudgeTests.change("vacancies", "vac-new", ["company": .text("disnaker"), "title": .text("Magang")], deletes: false),
        ]
        for write in cases {
            #expect(try JudgeTests.judge(write, "disnaker", .office) == .accept, "\(write.table)/\(write.key)")
        }
    }
}
