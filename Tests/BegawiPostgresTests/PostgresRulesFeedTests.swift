import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import Foundation
import Testing

/// What only the PostgreSQL store has of the rules: visibility events positioned by the feed's
/// publisher with the rows, in one order.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped)) struct PostgresRulesFeedTests {
    /// A push's grants and revocations get positions after the rows the same push changed (one
    /// publish, one order), every event gets one, and the head covers them all.
    @Test func eventsFollowTheirPushsRowsInTheFeed() throws {
        let h = try RulesHarness.withPartners(.postgres, [("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
        let people = try (1...20).map { try h.register("lpk-a", Person.make(500 + $0)) }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        for (i, p) in people.enumerated() {
            try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-b', 'registered')", ["enr-\(i)", p])
        }
        try h.sync("lpk-b")
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id IN ('enr-0', 'enr-1')")
        try h.sync("lpk-b")
        let link = try PostgresLink.connect(try #require(h.settings))
        defer { link.close() }
        let unplaced = try link.query("SELECT count(*) FROM _hub_feed WHERE pos IS NULL").first!.decode(Int64.self)
        #expect(unplaced == 0)
        let kinds = try link.query("SELECT kind, count(*) FROM _hub_feed WHERE site = 'lpk-b' GROUP BY kind ORDER BY kind").map { try $0.decode((Int64, Int64).self) }
        #expect(kinds.map(\.0) == [0, 1] && kinds.first { $0.0 == 1 }?.1 == 20 && kinds.first { $0.0 == 0 }?.1 == 2, "\(kinds)")
        // Within each transaction, every row's position is below every event's.
        let misplaced = try link.query("""
            SELECT count(*) FROM _hub_feed f JOIN _begawi_rows r ON r.xid = f.xid AND NOT r.pending WHERE r.pos > f.pos
            """).first!.decode(Int64.self)
        #expect(misplaced == 0)
        let paired = try link.query("SELECT count(*) FROM _hub_feed f JOIN _begawi_rows r ON r.xid = f.xid AND NOT r.pending").first!.decode(Int64.self)
        #expect(paired > 0, "the check compared rows and events of one push")
        let head = try link.query("SELECT pos FROM _begawi_feed_head").first!.decode(Int64.self)
        let top = try link.query("SELECT max(pos) FROM _hub_feed").first!.decode(Int64.self)
        #expect(top <= head)
    }
}
