import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The SQLite hub keeps its write counter at its clock (`Replica.keepCounterAtClock`) in new files
/// and in files made before the rule, from their first open on; sites' replicas do not.
@Suite struct HubCounterRuleTests {
    static let schema = Schema(tables: [TableSpec(name: "t", columns: [ColumnSpec(name: "a")])])

    @Test func newAndOlderHubFilesFollowTheRuleAndSitesDoNot() throws {
        let folder = TemporaryFolder("hub-counter-rule")
        try SQLiteHubStore.create(at: folder.file("new.sqlite"), schema: Self.schema)
        // A hub file as versions before the rule made it: the hub's replica without the rule.
        try Replica.create(at: folder.file("old.sqlite"), siteID: SQLiteHubStore.hubSiteID, schema: Self.schema).close()
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-a", schema: Self.schema)
        defer { try? site.close() }
        #expect(try !site.countsAtClock())
        let old = try Replica.open(at: folder.file("old.sqlite"))
        #expect(try !old.countsAtClock())
        try old.close()

        for name in ["new.sqlite", "old.sqlite"] {
            let store = try SQLiteHubStore(path: folder.file(name))
            defer { try? store.close() }
            #expect(try store.hubReplica.countsAtClock(), "\(name)")
            // A write of the hub's own: its counter is its clock's raw value.
            try store.hubReplica.ownerWrite { db in try db.execute(sql: "INSERT INTO t(id, a) VALUES ('k', 'x')") }
            try store.hubReplica.captureLocalChanges()
            let row = try #require(try store.hubReplica.export(after: .start).rows.first)
            let stamp = try #require(row.state.columns[0]?.stamp)
            #expect(stamp.site == SQLiteHubStore.hubSiteID && stamp.counter == stamp.clock.rawValue, "\(name): \(stamp)")
        }
    }
}
