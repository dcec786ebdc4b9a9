import BegawiTestSupport
import Foundation
import Testing

/// The hub's own writes after a restore from an older backup. The hub signs the office's re-apply
/// as site "hub" with a write counter kept in its database, and a restore puts that counter back;
/// the new epoch does not change the signer (stamps and vectors name "hub", not the epoch). Sites
/// that received a hub write made after the backup hold its counter in their vectors: a later hub
/// write with a counter at or below it would look already seen (a pushing site's vector dominates
/// the hub's, so the hub counts the row as held whole by it and never sends the new write back).
@Suite(.blocking) struct HubWriteCounterTests {
    /// A re-apply after the restore reaches every site, those that received the lost hub's own
    /// write included, and wins there as it does at the hub. On SQLite the backup is
    /// `begawi hub backup`, on PostgreSQL `pg_dump` restored with `pg_restore --clean` and
    /// `begawi hub restored` (as in `EpochTests`).
    @Test(arguments: ClusterStore.available) func aHubWriteAfterARestoreReachesSitesThatSawTheLostOnes(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "hub-counter", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.addSite("lpk-b")
        try cluster.addSite("office", kind: "office")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title, sector) VALUES ('las', 'Pengelasan', 'industri')")
        try cluster.syncAll()
        // Two concurrent edits of two columns: lpk-b's are later and win; lpk-a's lose, one conflict per column.
        try cluster.staff("lpk-a", "UPDATE programs SET title = 'Las SMAW', sector = 'manufaktur' WHERE id = 'las'")
        try await Task.sleep(for: .milliseconds(50))
        try cluster.staff("lpk-b", "UPDATE programs SET title = 'Las TIG', sector = 'konstruksi' WHERE id = 'las'")
        try cluster.sync("lpk-a")
        try cluster.sync("lpk-b")
        try cluster.syncAll()
        let title = try HubWriteCounterTests.conflict(cluster, column: "title")
        let sector = try HubWriteCounterTests.conflict(cluster, column: "sector")
        if let postgres = cluster.postgres {
            try postgres.dump(to: cluster.path("backup.dump"))
        } else {
            try Cluster.run(["hub", "backup", "--config", cluster.hubConfig, cluster.path("backup.sqlite")])
        }

        // After the backup: the office writes lpk-a's title back (a hub write), and every site gets it.
        try await HubWriteCounterTests.reapply(cluster, conflict: title)
        try cluster.syncAll()
        for site in cluster.sites {
            #expect(try cluster.rows(site, "programs")["las"]?.prefix(2) == ["Las SMAW", "konstruksi"], "\(site)")
        }

        cluster.stopHub()
        if let postgres = cluster.postgres {
            try postgres.restore(from: cluster.path("backup.dump"))
            try Cluster.run(["hub", "restored", "--config", cluster.hubConfig])
        } else {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.path("hub.sqlite") + suffix) }
            try FileManager.default.copyItem(atPath: cluster.path("backup.sqlite"), toPath: cluster.path("hub.sqlite"))
        }
        try cluster.startHub()
        #expect(try cluster.rows("hub", "programs")["las"]?.prefix(2) == ["Las TIG", "konstruksi"], "the backup predates the re-apply")

        // The restored hub's first write, before any site's round: lpk-a's sector written back. It is
        // later than the lost re-apply, so it must reach every site, which re-send the lost one.
        try await HubWriteCounterTests.reapply(cluster, conflict: sector)
        try cluster.syncAll()
        let hub = try cluster.rows("hub", "programs")["las"]
        #expect(hub?.prefix(2) == ["Las SMAW", "manufaktur"], "\(hub ?? [])")
        for site in cluster.sites {
            #expect(try cluster.rows(site, "programs")["las"] == hub, "\(site) lacks the restored hub's write")
        }
    }

    /// The id of the hub's conflict entry of the row 'las' for `column`.
    static func conflict(_ cluster: Cluster, column: String) throws -> Int64 {
        let found = try cluster.query("hub", "SELECT id FROM _begawi_conflicts WHERE tbl = 'programs' AND key = 'las' AND col = '\(column)'")
        return try #require(found.first?.first.flatMap { Int64($0) }, "no conflict on \(column) at the hub: \(found)")
    }

    /// Re-applies a conflict's losing value through the dashboard, signed in as the office.
    static func reapply(_ cluster: Cluster, conflict: Int64) async throws {
        let office = try OfficeClient(cluster)
        let signedIn = try await office.signIn(try SiteIdentity.credential(cluster, "office"))
        #expect(signedIn.status == 303, "\(signedIn)")
        let ledger = try await office.get("/office/konflik")
        let csrf = try #require(OfficeClient.csrf(ledger), "the ledger page has no form token: \(ledger)")
        let answer = try await office.post("/office/konflik/\(conflict)/terapkan", ["csrf": csrf])
        #expect(answer.status == 303, "\(answer)")
        #expect(try cluster.query("hub", "SELECT count(*) FROM _hub_reapplied WHERE conflict = \(conflict)") == [["1"]], "conflict \(conflict) was not re-applied")
    }
}
