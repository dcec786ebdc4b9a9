import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// The hub restored from an older backup: sites meet a new epoch, re-send what the hub lacks,
/// and fetch again only what changed after the backup.
@Suite(.blocking) struct EpochTests {
    func received(_ output: String) -> Int {
        guard let range = output.range(of: "received ") else { return -1 }
        return Int(output[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    /// On PostgreSQL the backup is a `pg_dump` restored into the same cluster, followed by
    /// `begawi hub restored` (docs/operations.md): the restored database then serves a new epoch.
    @Test(arguments: ClusterStore.available) func aHubRestoredFromAnOlderBackupLosesNothing(store: ClusterStore) throws {
        let cluster = try Cluster(label: "epoch", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.addSite("lpk-b")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 200) SELECT 'g' || value, 'Program ' || value FROM n")
        try cluster.syncAll()
        if let postgres = cluster.postgres {
            try postgres.dump(to: cluster.path("backup.dump"))
        } else {
            try Cluster.run(["hub", "backup", "--config", cluster.hubConfig, cluster.path("backup.sqlite")])
        }

        // After the backup: more work reaches the hub, which is then lost with it.
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 50) SELECT 'n' || value, 'New ' || value FROM n")
        try cluster.staff("lpk-b", "UPDATE programs SET sector = 'Las' WHERE id IN ('g1', 'g2', 'g3')")
        try cluster.syncAll()
        let expected = try cluster.rows("hub", "programs")
        #expect(expected.count == 250)

        cluster.stopHub()
        if let postgres = cluster.postgres {
            let before = try postgres.query("SELECT value FROM _begawi_state WHERE name = 'replica_id'")
            try postgres.restore(from: cluster.path("backup.dump"))
            let restored = try Cluster.run(["hub", "restored", "--config", cluster.hubConfig])
            #expect(restored.output.contains("epoch is now"), "\(restored.output)")
            let after = try postgres.query("SELECT value FROM _begawi_state WHERE name = 'replica_id'")
            #expect(after != before && !after.isEmpty, "the restored database must serve a new epoch")
        } else {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.path("hub.sqlite") + suffix) }
            try FileManager.default.copyItem(atPath: cluster.path("backup.sqlite"), toPath: cluster.path("hub.sqlite"))
            // Not needed on SQLite: the command says so and changes nothing.
            let restored = try Cluster.run(["hub", "restored", "--config", cluster.hubConfig])
            #expect(restored.output.contains("not needed on SQLite"), "\(restored.output)")
        }
        try cluster.startHub()
        #expect(try cluster.rows("hub", "programs").count == 200)

        // New work at a site before its first round with the restored hub: it gets the restored
        // feed's next positions, below those the other site pulled from the lost one.
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 20) SELECT 'after' || value, 'After ' || value FROM n")
        let a = try cluster.sync("lpk-a")
        let b = try cluster.sync("lpk-b")
        try cluster.syncAll()
        func before(_ rows: [String: [String]]) -> [String: [String]] { rows.filter { !$0.key.hasPrefix("after") } }
        #expect(before(try cluster.rows("hub", "programs")) == expected)
        for s in cluster.sites { #expect(before(try cluster.rows(s, "programs")) == expected) }
        // Neither site fetched the 200 rows both already had again.
        #expect(received(a.output) >= 0 && received(a.output) < 60, "\(a.output)")
        // lpk-b also receives the 20 rows lpk-a wrote after the restore.
        #expect(received(b.output) >= 0 && received(b.output) < 80, "\(b.output)")

        // Work done after the restore reached the other site: the restored feed's new positions were
        // not taken for ones it had pulled before, as they would be under the old epoch.
        #expect(try cluster.rows("lpk-b", "programs").keys.filter { $0.hasPrefix("after") }.count == 20)
    }
}
