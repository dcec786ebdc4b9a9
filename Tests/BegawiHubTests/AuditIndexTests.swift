import BegawiCore
@testable import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The audit is indexed by site, then row (`_hub_audit_by_site`), so that a push's entries land in
/// its site's part of the index instead of on a random page per person: a row's trail and the sites
/// an erasure tells are still read whole, by one search per site, and a hub made with the index by
/// row alone gets the new one at its next open.
@Suite(.blocking) struct AuditIndexTests {
    /// LPK A registers a person and enrolls them; LPK B registers the same person (refused: A was
    /// first) and enrolls nobody, so B never sees the person: only the audit names B.
    func world() throws -> (HubHarness, String) {
        let h = try HubHarness.withPartners([("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        let person = Person.make(31)
        let key = try h.register("lpk-a", person)
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-a', ?, 'prog-a', 'registered')", [key])
        try h.syncAll()
        _ = try h.register("lpk-b", person)
        try h.syncAll()
        try h.staff("lpk-a", "UPDATE participants SET full_name = 'Nama Baru' WHERE id = ?", [key])
        try h.syncAll()
        return (h, key)
    }

    func query(_ h: HubHarness, _ sql: String, _ arguments: [SQLValue] = []) throws -> [[SQLValue]] {
        try h.store.replica.read { context in try context.query(sql, arguments) }
    }

    /// The row's audit as a scan of the whole table gives it, oldest first.
    func scanned(_ h: HubHarness, _ key: String) throws -> [[SQLValue]] {
        try query(h, "SELECT at, site, action, reason FROM _hub_audit NOT INDEXED WHERE tbl = 'participants' AND key = ? ORDER BY id", [.text(key)])
    }

    @Test func aRowsTrailHasEveryEntryOfEverySiteReadByIndex() throws {
        let (h, key) = try world()
        let expected = try scanned(h, key)
        #expect(expected.map { $0[1].text ?? "" } == ["lpk-a", "lpk-b", "lpk-a"], "control: A inserted, B refused, A updated")
        #expect(try query(h, HubRulesSQL.rowAudit, [.text("participants"), .text(key)]) == expected)
        let trail = try h.store.trace(key: key).filter { $0.table == "participants" && ["inserted", "updated", "refused"].contains($0.action) }
        #expect(trail.map(\.site) == ["lpk-a", "lpk-b", "lpk-a"])
        #expect(trail.map(\.action) == ["inserted", "refused", "updated"])
        // One search of the index per site: no scan of the audit.
        let plan = try query(h, "EXPLAIN QUERY PLAN " + HubRulesSQL.rowAudit, [.text("participants"), .text(key)])
            .compactMap { $0.last?.text }
        #expect(plan.contains { $0.contains("SEARCH a USING INDEX _hub_audit_by_site (site=? AND tbl=? AND key=?)") }, "\(plan)")
        #expect(!plan.contains { ["a", "x", "_hub_audit"].contains($0.split(separator: " ").dropFirst().first ?? "") && $0.hasPrefix("SCAN") }, "\(plan)")
    }

    @Test func anErasureTellsTheSiteWhoseRegistrationWasRefused() throws {
        let (h, key) = try world()
        #expect(try query(h, "SELECT count(*) FROM _hub_visibility WHERE site = 'lpk-b'").first?.first == .integer(0),
                "control: B sees no row of the person")
        let report = try h.store.erase(key: key)
        #expect(Set(report.sites) == ["disnaker", "lpk-a", "lpk-b"])
    }

    /// A hub made before: the audit indexed by row alone.
    @Test func aHubWithTheAuditIndexedByRowGetsTheIndexBySiteAtItsNextOpen() throws {
        let (h, key) = try world()
        try h.reopen { path in
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            try queue.write { db in
                try db.execute(sql: "DROP INDEX _hub_audit_by_site; CREATE INDEX _hub_audit_by_row ON _hub_audit(tbl, key)")
            }
        }
        let indexes = try query(h, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_hub_audit' ORDER BY name")
            .compactMap { $0.first?.text }
        #expect(indexes == ["_hub_audit_by_site"])
        let columns = try query(h, "SELECT name FROM pragma_index_info('_hub_audit_by_site') ORDER BY seqno").compactMap { $0.first?.text }
        #expect(columns == ["site", "tbl", "key"])
        #expect(try query(h, HubRulesSQL.rowAudit, [.text("participants"), .text(key)]) == scanned(h, key))
        #expect(try query(h, "PRAGMA integrity_check").first?.first == .text("ok"))
    }
}
