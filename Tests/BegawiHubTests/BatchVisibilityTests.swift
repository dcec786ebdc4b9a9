import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The hub keeps who may see what a batch at a time (a few statements per table, not per row):
/// after every push, `_hub_visibility` holds exactly the sites the rules name row by row, also
/// when one batch links, moves and unlinks rows, names a row twice, or holds refused rows.
@Suite(.blocking) struct BatchVisibilityTests {
    func cluster() throws -> HubHarness {
        try HubHarness.withPartners([("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
    }

    func enroll(_ h: HubHarness, _ site: String, _ id: String, _ person: String, _ program: String) throws {
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')", [id, person, program])
    }

    func hubRead<T>(_ h: HubHarness, _ body: (Database) throws -> T) throws -> T {
        let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"), configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        return try queue.read(body)
    }

    /// Every row of a table that is not a catalogue: the sites that may see it are those
    /// `AccessPolicy.receivers` names for it (offices aside), and no other row has any.
    func expectVisibilityFollowsTheRules(_ h: HubHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try hubRead(h) { db in
            let lookup = FileLookup(db: db, schema: h.document.schema)
            let offices = Set(try String.fetchAll(db, sql: "SELECT id FROM _hub_sites WHERE kind = 'office'"))
            var checked = 0
            for (name, rule) in h.policy.tables where rule.receivers == .linked {
                let held = "SELECT id FROM \"\(name)\" UNION SELECT id FROM \"_begawi_dead_\(name)\""
                for key in try String.fetchAll(db, sql: held) {
                    let row = try #require(try lookup.row(name, key: key))
                    let wanted = try h.policy.receivers(of: name, key: key, row: row, lookup: lookup).subtracting(offices)
                    let stored = Set(try String.fetchAll(db, sql: "SELECT site FROM _hub_visibility WHERE tbl = ? AND key = ?", arguments: [name, key]))
                    #expect(stored == wanted, "\(name) \(key)", sourceLocation: sourceLocation)
                    checked += 1
                }
                let strays = try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_visibility WHERE tbl = ? AND key NOT IN (\(held))", arguments: [name])
                #expect(strays == 0, sourceLocation: sourceLocation)
            }
            #expect(checked > 0, sourceLocation: sourceLocation)
        }
    }

    /// More rows than one statement of the bulk writes takes (64), linked and moved in one batch each.
    @Test func linksMadeMovedAndEndedInOneBatchEach() throws {
        let h = try cluster()
        let people = try (1...70).map { try h.register("lpk-a", Person.make($0)) }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        for (i, p) in people.enumerated() { try enroll(h, "lpk-a", "enr-a-\(i)", p, "prog-a") }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        for i in 0..<5 { try enroll(h, "lpk-b", "enr-b-\(i)", people[i], "prog-b") }
        try h.sync("lpk-b")
        try h.syncAll()
        #expect(try h.hubRows("participants").count == 70)
        // Every insert audited once, the bulk writes' chunks included: 70 people, 70 enrollments,
        // 3 partners, 2 programs and B's 5 enrollments.
        let inserted = 70 + 70 + 3 + 2 + 5
        #expect(try h.store.auditCount(action: "inserted") == inserted)
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set(people[0..<5]))
        try expectVisibilityFollowsTheRules(h)

        // One batch of B: an enrollment moves to another person, one ends, one is made and moved
        // before the push (the hub sees its last state only).
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b-0'", [people[10]])
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b-1'")
        try enroll(h, "lpk-b", "enr-b-9", people[20], "prog-b")
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b-9'", [people[21]])
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set([people[2], people[3], people[4], people[10], people[21]]))
        try expectVisibilityFollowsTheRules(h)

        // The office hands A's program to B: every enrollment in it changes owner in one batch, and
        // B sees every person enrolled in it; A keeps the people it registered.
        try h.staff("disnaker", "UPDATE programs SET provider = 'lpk-b' WHERE id = 'prog-a'")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set(people))
        #expect(try h.siteStateKeys("lpk-a", "participants") == Set(people))
        try expectVisibilityFollowsTheRules(h)
    }

    /// A batch that names one row twice (two pages pushed as one): the row lands as its last state,
    /// and sight follows that state only.
    @Test func aBatchNamingARowTwice() throws {
        let h = try cluster()
        let x = try h.register("lpk-a", Person.make(31)), y = try h.register("lpk-a", Person.make(32))
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        let b = h.site("lpk-b")
        let session = try h.store.session(site: b.record, replica: b.replica.replicaID, configuration: HubConfiguration())
        try enroll(h, "lpk-b", "enr-b", x, "prog-b")
        let first = try b.replica.export(after: session.pushCursor, for: session.hubReplicaID)
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b'", [y])
        let second = try b.replica.export(after: ExchangeCursor(baseSeq: first.throughSeq, seq: first.throughSeq), for: session.hubReplicaID)
        try #require(first.tables == second.tables && first.rows.count == 1 && second.rows.count == 1)
        let both = ChangeBatch(replicaID: first.replicaID, baseSeq: first.baseSeq, afterSeq: first.afterSeq, throughSeq: second.throughSeq,
                               complete: second.complete, tables: first.tables, rows: first.rows + second.rows, evictions: [])
        let outcome = try h.store.push(site: b.record, replica: b.replica.replicaID, batch: try BatchCodec.decode(try BatchCodec.encode(both)))
        #expect(outcome.refused.isEmpty)
        #expect(try h.hubRows("enrollments")["enr-b"]?.first == .text(y))
        try expectVisibilityFollowsTheRules(h)
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [y])
    }

    /// Refused rows inside a batch leave nothing behind: no row, no sight, no feed entry; only
    /// their refusals in the audit trail, beside the rows of the batch that landed.
    @Test func refusedRowsInABatchLeaveNoSight() throws {
        let h = try cluster()
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        let good = try h.register("lpk-b", Person.make(41))
        let forged = Person.make(42), forgedKey = forged.key(h.policy)
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES (?, ?, ?, 'lpk-a')", [forgedKey, forged.nik, forged.name])
        try enroll(h, "lpk-b", "enr-good", good, "prog-b")
        try enroll(h, "lpk-b", "enr-forged", forgedKey, "prog-b")
        let exchange = try h.sync("lpk-b")
        #expect(Set(exchange.refused.map(\.key)) == [forgedKey, "enr-forged"])
        #expect(Set(try h.hubRows("participants").keys) == [good])
        #expect(Set(try h.hubRows("enrollments").keys) == ["enr-good"])
        let traces = try hubRead(h) { db in
            try Int.fetchOne(db, sql: """
                SELECT (SELECT count(*) FROM _hub_visibility WHERE key IN (?1, 'enr-forged'))
                     + (SELECT count(*) FROM _hub_feed WHERE key IN (?1, 'enr-forged'))
                """, arguments: [forgedKey])
        }
        #expect(traces == 0)
        #expect(try h.store.auditCount(action: "refused") >= 2)
        #expect(try h.store.auditCount(action: "inserted") == 3 + 3)
        try expectVisibilityFollowsTheRules(h)
    }

    /// A pull leaves out the rows the site may not see in its scan, a span of the feed per page:
    /// pages of one row each still reach the head, with the rows one large page holds. A site that
    /// sees few rows (B) is judged against its rows read once, one that sees many (A) row by row.
    @Test func smallPagesPassRowsTheSiteMayNotSee() throws {
        let h = try cluster()
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        let own = try h.register("lpk-b", Person.make(300))
        try h.syncAll()
        let starts = try ["lpk-a", "lpk-b"].map { try h.site($0).replica.cursor(for: h.store.hubReplicaID) }
        // More of A's rows that B may not see than a page of one row spans (64 changes), a catalogue
        // row after them, one of them B may see once it enrolls the person, and the office's changes
        // to a row of each, which reach each owner through the scan only (no grant).
        let people = try (1...150).map { try h.register("lpk-a", Person.make($0)) }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.sync("lpk-a")
        try enroll(h, "lpk-b", "enr-b", people[140], "prog-b")
        try h.sync("lpk-b")
        try h.sync("disnaker")
        for key in [people[3], own] { try h.staff("disnaker", "UPDATE participants SET verified_on = '2026-03-01' WHERE id = ?", [key]) }
        try h.sync("disnaker")

        func keys(_ page: ChangeBatch) -> Set<RowKey> { Set(page.rows.map { RowKey(table: page.tables[$0.table].name, key: $0.key) }) }
        let expected = [
            "lpk-a": Set([RowKey(table: "participants", key: people[3])]),
            "lpk-b": Set([RowKey(table: "participants", key: people[140]), RowKey(table: "participants", key: own), RowKey(table: "programs", key: "prog-a")])
        ]
        for (site, start) in zip(["lpk-a", "lpk-b"], starts) {
            let s = h.site(site)
            let whole = try h.store.pull(site: s.record, replica: s.replica.replicaID, after: start, maxRows: 10_000).batch
            #expect(whole.complete)
            #expect(keys(whole) == expected[site], "\(site)")
            var cursor = start, pages = 0, received = Set<RowKey>()
            while true {
                let page = try h.store.pull(site: s.record, replica: s.replica.replicaID, after: cursor, maxRows: 1).batch
                pages += 1
                #expect(page.rows.count <= 2 && page.throughSeq >= cursor.seq)
                received.formUnion(keys(page))
                cursor = ExchangeCursor(baseSeq: page.complete ? page.throughSeq : cursor.baseSeq, seq: page.throughSeq)
                if page.complete || pages > 100 { break }
            }
            #expect(received == keys(whole), "\(site)")
            #expect(cursor.seq == whole.throughSeq)
            #expect(pages >= 3)
        }
    }
}
