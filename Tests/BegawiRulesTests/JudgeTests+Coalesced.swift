import BegawiCore
import BegawiRules
import Testing

/// Rows that carry an insert and later writes together (the site changed the row again before it
/// pushed), deleted registrations registered anew, and references to rows the hub does not hold.
extension JudgeTests {
    /// A new participant's insert, with `later` columns written after it.
    static func coalescedParticipant(by site: String, _ extra: [String: SQLValue], later: Set<String>) -> RowWrite {
        var write = JudgeTests.insertParticipant(JudgeTests.keyB, nik: .text(JudgeTests.nikB), by: site, extra)
        write.laterWrites = later
        return write
    }

    @Test func anOfficeOnlyColumnSetAfterTheInsertIsRefusedAloneAndTheRowKept() throws {
        let write = JudgeTests.coalescedParticipant(by: "lpk-a", ["verified_on": .text("2025-03-01")], later: ["verified_on"])
        guard case .acceptPart(let keep, let set, let reason, let message) = try JudgeTests.judge(write, "lpk-a", .lpk) else {
            Issue.record("not accepted in part")
            return
        }
        #expect(keep.isEmpty)
        #expect(set == ["verified_on": .null])
        #expect(reason == "office-only")
        #expect(message.contains("'verified_on'") && message.contains("rest of the change was accepted"), "\(message)")
        // Set by the insert itself, the row is refused whole, as a forged insert would be.
        let inserted = JudgeTests.coalescedParticipant(by: "lpk-a", ["verified_on": .text("2025-03-01")], later: [])
        #expect(JudgeTests.reason(try JudgeTests.judge(inserted, "lpk-a", .lpk)) == "office-only")
        // A later write of an ordinary column changes nothing.
        #expect(try JudgeTests.judge(JudgeTests.coalescedParticipant(by: "lpk-a", ["phone": .text("0811")], later: ["phone"]), "lpk-a", .lpk) == .accept)
    }

    @Test func anOwnerChangedBeforeTheFirstPushIsSetBackToTheWriter() throws {
        var program = JudgeTests.change("programs", "prog-new", ["provider": .text("lpk-b"), "title": .text("K3")], deletes: false)
        program.laterWrites = ["provider"]
        guard case .acceptPart(let keep, let set, let reason, _) = try JudgeTests.judge(program, "lpk-a", .lpk) else {
            Issue.record("not accepted in part")
            return
        }
        #expect(keep.isEmpty && set == ["provider": .text("lpk-a")] && reason == "owner-change")
        // Named at the insert, another owner is refused whole.
        program.laterWrites = []
        #expect(JudgeTests.reason(try JudgeTests.judge(program, "lpk-a", .lpk)) == "not-owner")
    }

    @Test func aChangeOfARowTheHubHasLosesOnlyItsRefusedColumns() throws {
        let both = JudgeTests.change("programs", "prog-a", ["title": .text("Las 2"), "approved_on": .text("2025-03-01"), "provider": .text("lpk-b")])
        guard case .acceptPart(let keep, let set, let reason, _) = try JudgeTests.judge(both, "lpk-a", .lpk) else {
            Issue.record("not accepted in part")
            return
        }
        #expect(keep == ["approved_on", "provider"] && set.isEmpty && reason == "owner-change")
        // Nothing else written: refused whole.
        let only = JudgeTests.change("programs", "prog-a", ["approved_on": .text("2025-03-01"), "provider": .text("lpk-b")])
        #expect(JudgeTests.reason(try JudgeTests.judge(only, "lpk-a", .lpk)) == "owner-change")
    }

    @Test func aDeletedRegistrationMayBeRegisteredAnewWhole() throws {
        var lookup = JudgeTests.lookup
        let old: [String: SQLValue] = ["nik": .text(JudgeTests.nikB), "full_name": .text("Budi Wijaya"), "sex": .text("L"),
                                       "registered_by": .text("lpk-a"), "verified_on": .text("2025-01-05")]
        lookup.put("participants", JudgeTests.keyB, old, live: false)
        let before = lookup.tables["participants"]![JudgeTests.keyB]!
        // lpk-b's registration carries every column, so nothing of lpk-a's remains.
        var fresh = old
        fresh["registered_by"] = .text("lpk-b")
        fresh["full_name"] = .text("Budi W.")
        fresh["verified_on"] = .null
        let whole = RowWrite(table: "participants", key: JudgeTests.keyB, before: before, after: StoredRow(values: fresh, live: true),
                             written: fresh, deletes: false, knewRow: false)
        #expect(try JudgeTests.judge(whole, "lpk-b", .lpk, lookup: lookup) == .accept)
        // Naming another owner is still not allowed.
        var forOther = fresh
        forOther["registered_by"] = .text("lpk-c")
        let other = RowWrite(table: "participants", key: JudgeTests.keyB, before: before, after: StoredRow(values: forOther, live: true),
                             written: forOther, deletes: false, knewRow: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(other, "lpk-b", .lpk, lookup: lookup)) == "not-owner")
        // A write that leaves some of lpk-a's values in place does not revive it.
        var partial = fresh
        partial["full_name"] = nil
        var after = fresh
        after["full_name"] = old["full_name"]
        let part = RowWrite(table: "participants", key: JudgeTests.keyB, before: before, after: StoredRow(values: after, live: true),
                            written: partial, deletes: false, knewRow: false)
        #expect(try JudgeTests.judge(part, "lpk-b", .lpk, lookup: lookup) == .alreadyRegistered)
        // A live registration stays another site's.
        var again = fresh
        again["nik"] = .text(JudgeTests.nikA)
        let live = RowWrite(table: "participants", key: JudgeTests.keyA, before: JudgeTests.lookup.tables["participants"]![JudgeTests.keyA],
                            after: StoredRow(values: again, live: true), written: again, deletes: false, knewRow: false)
        #expect(try JudgeTests.judge(live, "lpk-b", .lpk) == .alreadyRegistered)
        // A program (a key made by its owner) is not a registration: another site never revives it.
        lookup.put("programs", "prog-gone", ["provider": .text("lpk-a"), "title": .text("Las"), "approved_on": .null], live: false)
        let values: [String: SQLValue] = ["provider": .text("lpk-b"), "title": .text("Las"), "approved_on": .null]
        let program = RowWrite(table: "programs", key: "prog-gone", before: lookup.tables["programs"]!["prog-gone"],
                               after: StoredRow(values: values, live: true), written: values, deletes: false, knewRow: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(program, "lpk-b", .lpk, lookup: lookup)) == "not-owner")
    }

    @Test func referencesToRowsTheHubDoesNotHoldLiveAreRefused() throws {
        var lookup = JudgeTests.lookup
        lookup.put("participants", JudgeTests.keyB, ["nik": .text(JudgeTests.nikB), "registered_by": .text("lpk-a")], live: false)
        func enroll(_ participant: String, in program: String = "prog-a") -> RowWrite {
            RowWrite(table: "enrollments", key: "enr-new", before: nil,
                     after: StoredRow(values: ["participant_id": .text(participant), "program_id": .text(program), "status": .text("registered")], live: true),
                     written: ["participant_id": .text(participant), "program_id": .text(program), "status": .text("registered")],
                     deletes: false, knewRow: true)
        }
        #expect(try JudgeTests.judge(enroll(JudgeTests.keyA), "lpk-a", .lpk, lookup: lookup) == .accept)
        for (participant, site, kind) in [(JudgeTests.keyB, "lpk-a", SiteKind.lpk), ("p-never", "lpk-a", .lpk), (JudgeTests.keyB, "disnaker", .office)] {
            #expect(JudgeTests.reason(try JudgeTests.judge(enroll(participant), site, kind, lookup: lookup)) == "awaiting-reference", "\(participant) by \(site)")
        }
        // A deleted program is no owner to enroll under.
        lookup.put("programs", "prog-old", ["provider": .text("lpk-a"), "title": .text("Las"), "approved_on": .null], live: false)
        #expect(JudgeTests.reason(try JudgeTests.judge(enroll(JudgeTests.keyA, in: "prog-old"), "lpk-a", .lpk, lookup: lookup)) == "unknown-reference")
        // A certification and a placement reference the participant too.
        let certification = RowWrite(table: "certifications", key: "cert-new", before: nil,
                                     after: StoredRow(values: ["participant_id": .text(JudgeTests.keyB), "recorded_by": .text("lpk-a")], live: true),
                                     written: ["participant_id": .text(JudgeTests.keyB), "recorded_by": .text("lpk-a")], deletes: false, knewRow: true)
        #expect(JudgeTests.reason(try JudgeTests.judge(certification, "lpk-a", .lpk, lookup: lookup)) == "awaiting-reference")
        // A change that does not write the reference is not judged by it.
        let status = JudgeTests.change("enrollments", "enr-a", ["status": .text("active")], lookup: lookup)
        #expect(try JudgeTests.judge(status, "lpk-a", .lpk, lookup: lookup) == .accept)
    }
}
