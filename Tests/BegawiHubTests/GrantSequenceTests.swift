import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// A grant written by a push takes the row's change number from the merge when the push merged the
/// row, and reads it from `_begawi_rows` otherwise (the one way before). Both must give what the file
/// holds: after every push, each visibility entry's number is its row's, for new rows, rows seen
/// before, both in one batch, a row named twice, refused rows and rows the site may not write; and
/// the sites' pulls, which follow these numbers, bring each site exactly the rows it may see.
@Suite(.blocking) struct GrantSequenceTests {
    func cluster() throws -> HubHarness {
        try HubHarness.withPartners([("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
    }

    func enroll(_ h: HubHarness, _ site: String, _ id: String, _ person: String, _ program: String) throws {
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')", [id, person, program])
    }

    /// Visibility entries whose change number is not their row's (a wrong or missing number hides the
    /// row from the site's feed, or sends it twice), and how many entries there are.
    func mismatches(_ h: HubHarness) throws -> (wrong: [String], entries: Int) {
        try h.store.hubReplica.ownerRead { db in
            let wrong = try String.fetchAll(db, sql: """
                SELECT v.site || ' ' || v.tbl || ' ' || v.key || ': ' || coalesce(v.seq, 'null') || ' against ' || coalesce(r.seq, 'null')
                FROM _hub_visibility v JOIN _begawi_tables t ON t.name = v.tbl
                LEFT JOIN _begawi_rows r ON r.tbl = t.id AND r.key = v.key WHERE v.seq IS NOT r.seq
                """)
            return (wrong, try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_visibility") ?? 0)
        }
    }

    func expectNumbersFollowRows(_ h: HubHarness, atLeast entries: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let found = try mismatches(h)
        #expect(found.wrong.isEmpty, "\(found.wrong.count) entries, first \(found.wrong.prefix(3))", sourceLocation: sourceLocation)
        #expect(found.entries >= entries, sourceLocation: sourceLocation)
    }

    /// New rows, then rows seen before changed beside new ones in one batch, a row named twice in one
    /// batch, refused rows and a table the site may not write: the numbers follow the rows throughout.
    @Test func grantsCarryTheRowsChangeNumber() throws {
        let h = try cluster()
        // New rows only: 30 people and their enrollments in one push of A.
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        let people = try (1...30).map { try h.register("lpk-a", Person.make($0)) }
        for (i, p) in people.enumerated() { try enroll(h, "lpk-a", "enr-a-\(i)", p, "prog-a") }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        try expectNumbersFollowRows(h, atLeast: 60)

        // Rows seen before and new rows in one batch of A: people changed, enrollments ended, new people.
        for p in people[0..<5] { try h.staff("lpk-a", "UPDATE participants SET kecamatan = 'Bontang Selatan' WHERE id = ?", [p]) }
        try h.staff("lpk-a", "DELETE FROM enrollments WHERE id IN ('enr-a-5', 'enr-a-6')")
        let more = try (31...40).map { try h.register("lpk-a", Person.make($0)) }
        for (i, p) in more.enumerated() { try enroll(h, "lpk-a", "enr-a-\(30 + i)", p, "prog-a") }
        try h.sync("lpk-a")
        try expectNumbersFollowRows(h, atLeast: 80)

        // B enrolls A's people: grants to B of rows this push did not merge (read back from the file),
        // beside B's own new enrollments (taken from the merge).
        for i in 0..<4 { try enroll(h, "lpk-b", "enr-b-\(i)", people[10 + i], "prog-b") }
        try h.sync("lpk-b")
        try expectNumbersFollowRows(h, atLeast: 88)

        // The office enrolls one of A's people in A's program: the grant of a row the push merged goes
        // to a site other than the pusher (A), with a feed event.
        try enroll(h, "disnaker", "enr-office", people[20], "prog-a")
        try h.syncAll()
        try expectNumbersFollowRows(h, atLeast: 89)
        #expect(try h.siteStateKeys("lpk-a", "enrollments").contains("enr-office"))

        // Refused rows beside accepted ones: a person registered in another site's name, an enrollment
        // of it, and a partner row an LPK may not write; the good rows land and are numbered.
        let good = try h.register("lpk-b", Person.make(50))
        let forged = Person.make(51), forgedKey = forged.key(h.policy)
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES (?, ?, ?, 'lpk-a')", [forgedKey, forged.nik, forged.name])
        try enroll(h, "lpk-b", "enr-b-good", good, "prog-b")
        try enroll(h, "lpk-b", "enr-b-forged", forgedKey, "prog-b")
        try h.staff("lpk-b", "INSERT INTO partners(id, kind, name) VALUES ('lpk-z', 'lpk', 'Made up')")
        let exchange = try h.sync("lpk-b")
        #expect(Set(exchange.refused.map(\.key)) == [forgedKey, "enr-b-forged", "lpk-z"])
        #expect(Set(exchange.refused.map(\.reason)).contains(.notWriter))
        try expectNumbersFollowRows(h, atLeast: 91)

        try h.syncAll()
        try expectNumbersFollowRows(h, atLeast: 91)
        // The pulls followed the numbers: each LPK holds exactly the people it may see.
        #expect(try h.siteStateKeys("lpk-a", "participants") == Set(people + more))
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set(people[10..<14] + [good]))
    }

    /// One batch that names a new row twice (two pages pushed as one) and a row seen before twice: the
    /// grant carries the number of the row's last merge, which is the one stored.
    @Test func aRowNamedTwiceInOneBatchGetsItsLastNumber() throws {
        let h = try cluster()
        let x = try h.register("lpk-b", Person.make(61)), y = try h.register("lpk-b", Person.make(62))
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try enroll(h, "lpk-b", "enr-old", x, "prog-b")
        try h.syncAll()
        let b = h.site("lpk-b")
        let session = try h.store.session(site: b.record, replica: b.replica.replicaID, configuration: HubConfiguration())
        try enroll(h, "lpk-b", "enr-new", x, "prog-b")
        try h.staff("lpk-b", "UPDATE participants SET kecamatan = 'Bontang Barat' WHERE id = ?", [y])
        try h.staff("lpk-b", "UPDATE enrollments SET status = 'active' WHERE id = 'enr-old'")
        let first = try b.replica.export(after: session.pushCursor, for: session.hubReplicaID)
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-new'", [y])
        try h.staff("lpk-b", "UPDATE participants SET kecamatan = 'Bontang Utara' WHERE id = ?", [y])
        try h.staff("lpk-b", "UPDATE enrollments SET status = 'completed' WHERE id = 'enr-old'")
        let second = try b.replica.export(after: ExchangeCursor(baseSeq: first.throughSeq, seq: first.throughSeq), for: session.hubReplicaID)
        try #require(first.tables == second.tables && first.rows.count == 3 && second.rows.count == 3)
        let both = ChangeBatch(replicaID: first.replicaID, baseSeq: first.baseSeq, afterSeq: first.afterSeq, throughSeq: second.throughSeq,
                               complete: second.complete, tables: first.tables, rows: first.rows + second.rows, evictions: [])
        let outcome = try h.store.push(site: b.record, replica: b.replica.replicaID, batch: try BatchCodec.decode(try BatchCodec.encode(both)))
        #expect(outcome.refused.isEmpty)
        #expect(try h.hubRows("enrollments")["enr-new"]?.first == .text(y))
        try expectNumbersFollowRows(h, atLeast: 4)
    }
}
