import BegawiCore
@testable import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Each site's pull reads its own feed (`HubRulesSQL+Feed`): beside each visibility entry the row's
/// change number, which follows the row through every later change, so that a site receives
/// exactly the rows it may see and every change of them, through grants and revokes in one batch,
/// erasures, a late registration, a restart, and the upgrade of a hub made before the feed.
@Suite(.blocking) struct SiteFeedTests {
    func cluster() throws -> HubHarness {
        try HubHarness.withPartners([("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
    }

    func query(_ h: HubHarness, _ sql: String, _ arguments: [SQLValue] = []) throws -> [[SQLValue]] {
        try h.store.replica.read { context in try context.query(sql, arguments) }
    }

    /// Five people at LPK A, each enrolled in A's program; LPK B has a program of its own.
    func world() throws -> (HubHarness, [String]) {
        let h = try cluster()
        let people = try (1...5).map { try h.register("lpk-a", Person.make(40 + $0)) }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        for (i, p) in people.enumerated() { try enroll(h, "lpk-a", "enr-a-\(i)", p, "prog-a") }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        return (h, people)
    }

    func enroll(_ h: HubHarness, _ site: String, _ id: String, _ person: String, _ program: String) throws {
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')", [id, person, program])
    }

    /// LPK A renames a person and every site syncs: returns the name.
    @discardableResult
    func rename(_ h: HubHarness, _ person: String, _ name: String) throws -> String {
        try h.staff("lpk-a", "UPDATE participants SET full_name = ? WHERE id = ?", [name, person])
        try h.syncAll()
        return name
    }

    /// A person's name as a site holds it.
    func name(_ h: HubHarness, _ site: String, _ person: String) throws -> SQLValue? {
        let column = try #require(h.document.schema.table(named: "participants")?.position(of: "full_name"))
        return try h.siteRows(site, "participants")[person]?[column]
    }

    /// Every visibility entry holds its row's change number; each site holds every catalogue row and,
    /// of the other tables, exactly the live rows the hub lets it see, each as the hub holds it.
    func expectFeedsFollowRows(_ h: HubHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let stale = try query(h, """
            SELECT count(*) FROM _hub_visibility v JOIN _begawi_tables t ON t.name = v.tbl
            JOIN _begawi_rows r ON r.tbl = t.id AND r.key = v.key WHERE v.seq IS NOT r.seq
            """)
        #expect(stale.first?.first == .integer(0), "visibility entries behind their rows", sourceLocation: sourceLocation)
        var seen = 0
        for id in h.sites.keys.sorted() where h.site(id).record.kind != .office {
            for (table, rule) in h.policy.tables {
                let hub = try h.hubRows(table), held = try h.siteRows(id, table)
                if rule.receivers == .all {
                    #expect(held == hub, "\(id) \(table)", sourceLocation: sourceLocation)
                    continue
                }
                let visible = Set(try query(h, "SELECT key FROM _hub_visibility WHERE site = ? AND tbl = ?", [.text(id), .text(table)]).compactMap { $0.first?.text })
                // Live rows: a tombstone of a row born and deleted between two pushes stays at its site alone.
                #expect(Set(held.keys) == visible.intersection(hub.keys), "\(id) \(table)", sourceLocation: sourceLocation)
                for (key, row) in held {
                    #expect(hub[key] == row, "\(id) \(table)", sourceLocation: sourceLocation)
                    seen += 1
                }
            }
        }
        #expect(seen > 0, sourceLocation: sourceLocation)
    }

    @Test func aRowChangedAfterItsGrantReachesTheSitesThatSeeIt() throws {
        let (h, people) = try world()
        try enroll(h, "lpk-b", "enr-b-0", people[0], "prog-b")
        try enroll(h, "lpk-b", "enr-b-1", people[1], "prog-b")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [people[0], people[1]])
        // Changed at A after B was granted it: only the row's new number in B's feed brings it to B.
        let renamed = try rename(h, people[0], "Nama Baru")
        #expect(try name(h, "lpk-b", people[0]) == .text(renamed))
        try expectFeedsFollowRows(h)

        // One batch of B: a link moves from one person to another (a revoke and a grant), and a
        // link made and ended before the push grants nothing.
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b-1'", [people[2]])
        try enroll(h, "lpk-b", "enr-b-3", people[3], "prog-b")
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b-3'")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [people[0], people[2]])
        try expectFeedsFollowRows(h)
        // The person B lost sight of changes: B hears nothing of it; the one it gained, it hears.
        try rename(h, people[1], "Nama Lain")
        try rename(h, people[2], "Nama Kedua")
        #expect(try h.siteStateKeys("lpk-b", "participants") == [people[0], people[2]])
        #expect(try name(h, "lpk-b", people[2]) == .text("Nama Kedua"))
        try expectFeedsFollowRows(h)
    }

    @Test func anErasedRowLeavesEveryFeed() throws {
        let (h, people) = try world()
        try enroll(h, "lpk-b", "enr-b-0", people[0], "prog-b")
        try h.syncAll()
        _ = try h.store.erase(key: people[0])
        #expect(try query(h, "SELECT count(*) FROM _hub_visibility WHERE key = ?", [.text(people[0])]).first?.first == .integer(0))
        try h.syncAll()
        #expect(try !h.siteStateKeys("lpk-a", "participants").contains(people[0]))
        #expect(try h.siteStateKeys("lpk-b", "participants").isEmpty)
        try rename(h, people[1], "Nama Baru")
        try expectFeedsFollowRows(h)
    }

    @Test func aSiteRegisteredLateReceivesTheCataloguesAndThenWhatItIsGranted() throws {
        let (h, people) = try world()
        try h.addSite("lpk-c", kind: .lpk)
        try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES ('lpk-c', 'lpk', 'Partner lpk-c')")
        try h.syncAll()
        #expect(try Set(h.siteRows("lpk-c", "programs").keys) == ["prog-a", "prog-b"])
        #expect(try h.siteStateKeys("lpk-c", "participants").isEmpty)
        try h.staff("lpk-c", "INSERT INTO programs(id, provider, title) VALUES ('prog-c', 'lpk-c', 'Listrik')")
        try enroll(h, "lpk-c", "enr-c-4", people[4], "prog-c")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-c", "participants") == [people[4]])
        try rename(h, people[4], "Nama Baru")
        #expect(try name(h, "lpk-c", people[4]) == .text("Nama Baru"))
        try expectFeedsFollowRows(h)
    }

    @Test func theFeedFollowsRowsAcrossARestart() throws {
        let (h, people) = try world()
        try enroll(h, "lpk-b", "enr-b-0", people[0], "prog-b")
        try h.syncAll()
        try h.reopen()
        try rename(h, people[0], "Nama Baru")
        #expect(try name(h, "lpk-b", people[0]) == .text("Nama Baru"))
        try expectFeedsFollowRows(h)
    }

    /// A hub made before the feed: `_hub_visibility` without change numbers, no index, no trigger.
    @Test func aHubMadeBeforeTheFeedGetsItAtItsNextStart() throws {
        let (h, people) = try world()
        try enroll(h, "lpk-b", "enr-b-0", people[0], "prog-b")
        try h.syncAll()
        try h.reopen { path in
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            try queue.write { db in
                try db.execute(sql: """
                    DROP TRIGGER \(HubRulesSQL.visibilityFollowsRows); DROP INDEX \(HubRulesSQL.rowsByTable);
                    DROP INDEX \(HubRulesSQL.visibilityBySeq);
                    CREATE TABLE old(site TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, since INTEGER NOT NULL,
                        PRIMARY KEY(site, tbl, key)) WITHOUT ROWID;
                    INSERT INTO old SELECT site, tbl, key, since FROM _hub_visibility;
                    DROP TABLE _hub_visibility; ALTER TABLE old RENAME TO _hub_visibility;
                    CREATE INDEX _hub_visibility_by_row ON _hub_visibility(tbl, key);
                    """)
            }
        }
        let made = Set(try query(h, "SELECT name FROM sqlite_master").compactMap { $0.first?.text })
        #expect(made.isSuperset(of: [HubRulesSQL.visibilityFollowsRows, HubRulesSQL.rowsByTable, HubRulesSQL.visibilityBySeq]))
        #expect(try query(h, "SELECT count(*) FROM _hub_visibility WHERE seq IS NULL").first?.first == .integer(0))
        try rename(h, people[0], "Nama Baru")
        #expect(try name(h, "lpk-b", people[0]) == .text("Nama Baru"))
        try expectFeedsFollowRows(h)
    }

    /// Each part of a site's feed reads a range of an index: no scan of the sequence, no sort.
    @Test func eachPartOfASiteFeedIsAnIndexRange() throws {
        let (h, _) = try world()
        let view = HubSiteView(site: "lpk-b", isOffice: false, policy: h.policy)
        let plans = try h.store.replica.read { context in
            try view.feed(afterSeq: 0, throughSeq: 1_000, context: context).map { part in
                try context.query("EXPLAIN QUERY PLAN " + part.sql, part.arguments).compactMap { $0.last?.text }.joined(separator: "; ")
            }
        }
        #expect(plans.count == h.policy.tables.count)
        for plan in plans {
            #expect(plan.hasPrefix("SEARCH") && plan.contains("USING COVERING INDEX") && !plan.contains("SCAN") && !plan.contains("TEMP B-TREE"), "\(plan)")
        }
    }
}
