import BegawiCore
import BegawiHub
import BegawiOffice
import BegawiPostgres
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// The office's reads and its one write (`OfficeStore`), one test body against each store: the
/// enrollment report from the synced tables, the conflict ledger with what the office did, and
/// re-apply, which makes a losing value the hub's own change for every site.
@Suite(.blocking) struct HubStoreOfficeTests {
    /// Version 2: the courses of version 1, and the three tables the report reads (no rules).
    static let officeSchema = Data(#"""
        {"version": 2, "tables": [
          {"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}]},
          {"name": "partners", "columns": [{"name": "name"}]},
          {"name": "programs", "columns": [{"name": "provider"}, {"name": "title"}]},
          {"name": "enrollments", "columns": [{"name": "program_id"}, {"name": "status"}, {"name": "registered_on"}]}]}
        """#.utf8)

    /// Each table's columns, as the schema above declares them.
    static let columns = ["courses": ["title", "quota"], "partners": ["name"], "programs": ["provider", "title"],
                          "enrollments": ["program_id", "status", "registered_on"]]

    /// Pushes new rows of one table from `site` (each a key and its values by column name).
    @discardableResult
    static func push(_ hub: StoreHub, _ site: inout TestSite, _ table: String, _ rows: [(String, [String: SQLValue])],
                     insert: Bool = true, store: (any RegistryHubStore)? = nil) throws -> PushOutcome {
        site.columns = columns[table]!
        let changes = rows.map { site.write($0.0, $0.1, insert: insert) }
        let batch = ChangeBatch(replicaID: site.replica, baseSeq: site.seq, afterSeq: site.seq, throughSeq: site.seq + 1, complete: true,
                                tables: [BatchTable(name: table, columns: site.columns)], rows: changes)
        site.seq += 1
        return try (store ?? hub.store).push(site: site.record, replica: site.replica, batch: batch, schemaVersion: nil)
    }

    /// The hub's store as the office sees it.
    static func office(_ hub: StoreHub) throws -> any OfficeStore { try #require(hub.store as? any OfficeStore) }

    @Test(arguments: StoreKind.available)
    func theReportCountsTheSyncedTablesWithTheFilterBound(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            _ = try hub.publish(HubStoreOfficeTests.officeSchema)
            var a = try hub.site("lpk-a", clock: 1_000)
            try HubStoreOfficeTests.push(hub, &a, "partners", [("lpk-a", ["name": .text("LPK Amanah")])])
            try HubStoreOfficeTests.push(hub, &a, "programs", [("prog-las", ["provider": .text("lpk-a"), "title": .text("Las")]),
                                                                ("prog-jahit", ["provider": .text("lpk-a"), "title": .text("Jahit")])])
            try HubStoreOfficeTests.push(hub, &a, "enrollments", [
                ("e1", ["program_id": .text("prog-las"), "status": .text("active"), "registered_on": .text("2025-03-01")]),
                ("e2", ["program_id": .text("prog-las"), "status": .text("active"), "registered_on": .text("2025-04-01")]),
                ("e3", ["program_id": .text("prog-las"), "status": .text("completed"), "registered_on": .text("2025-05-01")]),
                ("e4", ["program_id": .text("prog-jahit"), "status": .text("dropped"), "registered_on": .text("2024-12-01")]),
                ("e5", ["program_id": .text("prog-gone"), "status": .text("on-hold"), "registered_on": .text("2025-06-01")]),
            ])
            // A deleted enrollment is not counted.
            try HubStoreOfficeTests.push(hub, &a, "enrollments", [("e9", ["program_id": .text("prog-las"), "status": .text("active"),
                                                                          "registered_on": .text("2025-03-02")])])
            var gone = a.write("e9", [:])
            gone.state.deleted = Register(value: RowState.deletedMarker, stamp: Stamp(clock: HybridTimestamp(milliseconds: a.clock, counter: 0),
                                                                                       site: "lpk-a", counter: a.counter))
            _ = try hub.store.push(site: a.record, replica: a.replica,
                                   batch: ChangeBatch(replicaID: a.replica, baseSeq: a.seq, afterSeq: a.seq, throughSeq: a.seq + 1, complete: true,
                                                      tables: [BatchTable(name: "enrollments", columns: a.columns)], rows: [gone]),
                                   schemaVersion: nil)
            a.seq += 1
            let office = try HubStoreOfficeTests.office(hub)

            let year = try office.enrollmentReport(ReportFilter(from: "2025-01-01", to: "2025-12-31"))
            #expect(year.total == 4)
            #expect(year.totals == ["active": 2, "completed": 1, "on-hold": 1])
            // The lifecycle's order, then a status found in the rows.
            #expect(year.statuses == ["registered", "active", "completed", "certified", "dropped", "on-hold"])
            #expect(year.lines.map { "\($0.partnerName)/\($0.programTitle)/\($0.total)" } == ["?/prog-gone/1", "LPK Amanah/Las/3"])
            #expect(year.lines.last?.counts == ["active": 2, "completed": 1])

            let all = try office.enrollmentReport(ReportFilter())
            #expect(all.total == 5 && all.lines.count == 3)
            #expect(try office.enrollmentReport(ReportFilter(partner: "lpk-a", status: "dropped")).total == 1)
            #expect(try office.enrollmentReport(ReportFilter(program: "prog-las", status: "active")).total == 2)
            // Values are bound, never written into the statement: a quote is a value like any other.
            #expect(try office.enrollmentReport(ReportFilter(partner: "lpk-a' OR '1'='1", program: "x\"; DROP TABLE enrollments; --")).total == 0)
            #expect(try office.enrollmentReport(ReportFilter()).total == 5)

            #expect(throws: BegawiError.self) { try office.enrollmentReport(ReportFilter(from: "1/1/2025")) }
            #expect(throws: BegawiError.self) { try office.enrollmentReport(ReportFilter(from: "2025-02-01", to: "2025-01-01")) }
        }
    }

    @Test(arguments: StoreKind.available)
    func aReportWithoutTheTablesSaysWhatIsMissing(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let error = #expect(throws: BegawiError.self) { try HubStoreOfficeTests.office(hub).enrollmentReport(ReportFilter()) }
            #expect(error?.message.contains("the report needs the Handak Begawi tables") == true, "\(String(describing: error))")
        }
    }

    /// Two sites write one course's title; the loser's value is re-applied from the office: the hub
    /// holds it under a stamp of its own clock, later than every write of the row, and a site that
    /// pulls gets it; a site's later write with an older clock does not undo it. The refusals are
    /// the SQLite store's words on both.
    @Test(arguments: StoreKind.available)
    func aLosingValueReappliedReachesEverySite(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            _ = try hub.publish(HubStoreOfficeTests.officeSchema)
            var a = try hub.site("lpk-a", clock: 1_000)
            var b = try hub.site("lpk-b", clock: 2_000)
            try HubStoreOfficeTests.push(hub, &a, "courses", [("c1", ["title": .text("Las A"), "quota": .integer(5)]),
                                                              ("c2", ["title": .text("Jahit A")])])
            let outcome = try HubStoreOfficeTests.push(hub, &b, "courses", [("c1", ["title": .text("Las B")]), ("c2", ["title": .text("Jahit B")])])
            #expect(outcome.conflicts == 2)
            let office = try HubStoreOfficeTests.office(hub)
            let reviews = try office.conflictReviews(limit: 500)
            #expect(reviews.count == 2)
            #expect(reviews.map(\.entry.key) == ["c2", "c1"], "newest first")
            #expect(reviews.allSatisfy { $0.reappliedAt == nil && $0.blocked == nil })
            #expect(try office.conflictReviews(limit: 1).count == 1)
            let c1 = try #require(reviews.first { $0.entry.key == "c1" && $0.entry.column == "title" }).entry
            #expect(c1.loserValue == .text("Las A") && c1.winnerValue == .text("Las B"))

            let entry = try office.reapply(conflict: c1.id, by: "office")
            #expect(entry.id == c1.id)
            #expect(try hub.store.rows(of: "courses")["c1"] == [.text("Las A"), .integer(5)])
            let after = try office.conflictReviews(limit: 500)
            #expect(after.first { $0.entry.id == c1.id }?.reappliedAt != nil)
            #expect(after.first { $0.entry.key == "c2" }?.reappliedAt == nil)

            // Both sites get the hub's value on their next pull, the winner's too.
            try hub.pullAll(into: &b)
            #expect(b.liveRows["c1"]?["title"] == .text("Las A"))
            try hub.pullAll(into: &a)
            #expect(a.liveRows["c1"]?["title"] == .text("Las A"))
            // A later write with a clock behind the hub's stamp loses to it, as any older write does.
            var late = try hub.site("lpk-c", clock: 2_500)
            try HubStoreOfficeTests.push(hub, &late, "courses", [("c1", ["title": .text("Las C")])], insert: false)
            #expect(try hub.store.rows(of: "courses")["c1"]?.first == .text("Las A"))

            // The refusals, in the SQLite store's words.
            func refusal(_ id: Int64) -> String {
                (#expect(throws: BegawiError.self) { try office.reapply(conflict: id, by: "office") })?.message ?? ""
            }
            #expect(refusal(c1.id) == "conflict \(c1.id) was already re-applied")
            #expect(refusal(999_999) == "there is no conflict 999999 in the ledger")
            let c2 = try #require(after.first { $0.entry.key == "c2" }).entry
            var deletion = b.write("c2", [:])
            deletion.state.deleted = Register(value: RowState.deletedMarker, stamp: Stamp(clock: HybridTimestamp(milliseconds: b.clock, counter: 0),
                                                                                           site: "lpk-b", counter: b.counter))
            _ = try hub.store.push(site: b.record, replica: b.replica,
                                   batch: ChangeBatch(replicaID: b.replica, baseSeq: b.seq, afterSeq: b.seq, throughSeq: b.seq + 1, complete: true,
                                                      tables: [BatchTable(name: "courses", columns: b.columns)], rows: [deletion]),
                                   schemaVersion: nil)
            b.seq += 1
            #expect(refusal(c2.id) == "the row of conflict \(c2.id) is no longer at the hub (deleted or erased)")
            // Nothing of a refused re-apply stays: it can be tried again once the row lives.
            #expect(try office.conflictReviews(limit: 500).first { $0.entry.id == c2.id }?.reappliedAt == nil)
        }
    }

    /// The dashboard's sessions where each store keeps them (in memory on SQLite, `_hub_sessions` on
    /// PostgreSQL): the same lifetime, form token, one-time message and sign-out; on PostgreSQL a
    /// second process sees them, and ended sessions are removed at the next sign-in.
    @Test(arguments: StoreKind.available)
    func sessionsLastTheirLifetimeAndEndAtSignOut(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let sessions = try HubStoreOfficeTests.office(hub).officeSessions()
            let start: UInt64 = 1_000_000, life = OfficeSession.lifetimeMilliseconds
            let token = try sessions.start(site: "office", credential: "hash-1", now: start)
            let s = try #require(try sessions.session(token, now: start))
            #expect(s.site == "office" && s.credential == "hash-1" && s.expires == start + life)
            #expect(s.csrf.count == 64 && s.csrf != token)
            #expect(try sessions.session(token, now: start + life - 1) == s)
            #expect(try sessions.session(token, now: start + life) == nil, "ended after its lifetime")
            #expect(try sessions.session("not-a-token", now: start) == nil)
            #expect(try sessions.session(nil, now: start) == nil)

            let other = try sessions.start(site: "office-2", credential: "hash-2", now: start + 10)
            #expect(other != token)
            try sessions.flash(other, "Konflik 3 diterapkan ulang")
            #expect(try sessions.takeFlash(other) == "Konflik 3 diterapkan ulang")
            #expect(try sessions.takeFlash(other) == nil, "a message is shown once")
            #expect(try sessions.takeFlash(token) == nil)
            try sessions.end(other)
            #expect(try sessions.session(other, now: start + 10) == nil)

            if kind == .postgres {
                let second = try #require(try hub.another() as? any OfficeStore).officeSessions()
                let shared = try sessions.start(site: "office", credential: "hash-1", now: start + life + 1)
                #expect(try second.session(shared, now: start + life + 2)?.site == "office")
                try second.flash(shared, "from the second process")
                #expect(try sessions.takeFlash(shared) == "from the second process")
                // The first session ended before this sign-in: its row is gone; the token is never stored.
                let settings = try #require(hub.settings)
                let link = try PostgresLink.connect(settings)
                defer { link.close() }
                let ids = try link.query("SELECT id FROM _hub_sessions ORDER BY id").map { try $0.decode(String.self) }
                #expect(ids == [Hashing.sha256Hex(Array(shared.utf8))])
            }
        }
    }

    /// A winner stamped ahead of the hub's wall clock (within the allowed skew): the re-applied
    /// value still gets a later stamp, so the sites take it rather than keep the winner's.
    @Test(arguments: StoreKind.available)
    func aReappliedValueBeatsAWinnerStampedAheadOfTheHub(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            _ = try hub.publish(HubStoreOfficeTests.officeSchema)
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            var a = try hub.site("lpk-a", clock: now)
            var b = try hub.site("lpk-b", clock: now + 120_000)
            try HubStoreOfficeTests.push(hub, &a, "courses", [("c1", ["title": .text("Las A")])])
            try HubStoreOfficeTests.push(hub, &b, "courses", [("c1", ["title": .text("Las B")])])
            let office = try HubStoreOfficeTests.office(hub)
            let id = try #require(try office.conflictReviews(limit: 10).first?.entry.id)
            _ = try office.reapply(conflict: id, by: "office")
            try hub.pullAll(into: &b)
            #expect(b.liveRows["c1"]?["title"] == .text("Las A"))
            try hub.pullAll(into: &a)
            #expect(a.liveRows["c1"]?["title"] == .text("Las A"))
        }
    }

    /// Two hub processes re-apply one conflict at once: one succeeds, the other is refused, and the
    /// row gets one new stamp of the hub's clock, which took in the sites' stamps.
    @Test(.enabled(if: TestPostgres.available, "needs BEGAWI_TEST_POSTGRES"))
    func twoProcessesReapplyingOneConflictDoItOnce() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            _ = try hub.publish(HubStoreOfficeTests.officeSchema)
            let other = try #require(try hub.another() as? PostgresHubStore)
            let first = try #require(hub.store as? PostgresHubStore)
            var a = try hub.site("lpk-a", clock: 1_000)
            var b = try hub.site("lpk-b", clock: 2_000)
            try HubStoreOfficeTests.push(hub, &a, "courses", [("c1", ["title": .text("Las A")])])
            try HubStoreOfficeTests.push(hub, &b, "courses", [("c1", ["title": .text("Las B")])], store: other)
            #expect(try first.hubClock() == HybridTimestamp(milliseconds: 2_001, counter: 0), "the clock took in the latest push's stamps")
            let id = try #require(try first.conflictReviews(limit: 10).first?.entry.id)
            let done = Shared(0), refused = Shared<[String]>([])
            concurrently([first, other].map { store in
                { @Sendable in
                    do {
                        _ = try store.reapply(conflict: id, by: "office")
                        done.with { $0 += 1 }
                    } catch {
                        refused.with { $0.append((error as? BegawiError)?.message ?? "\(error)") }
                    }
                }
            })
            #expect(done.with { $0 } == 1)
            #expect(refused.with { $0 } == ["conflict \(id) was already re-applied"])
            #expect(try first.rows(of: "courses")["c1"]?.first == .text("Las A"))
            #expect(try first.hubClock() > HybridTimestamp(milliseconds: 2_001, counter: 0))
        }
    }
}
