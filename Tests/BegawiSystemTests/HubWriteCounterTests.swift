import BegawiTestSupport
import Foundation
import Testing

/// The hub's own writes after a restore from an older backup. The hub signs the office's re-apply
/// as site "hub" with a write counter kept in its database, and a restore puts that counter back;
/// the new epoch does not change the signer (stamps and vectors name "hub", not the epoch). Sites
/// that received a hub write made after the backup hold its counter in their vectors: a later hub
/// write with a counter at or below it would look already seen: a pushing site's vector dominates
/// the hub's, so the hub counts the row as held whole by it and never sends the new write back, and
/// a site's write of the same column is not taken as concurrent with it (no conflict entry). The
/// first two tests failed that way on both stores before the hub's counter followed its clock.
@Suite(.blocking) struct HubWriteCounterTests {
    /// A re-apply after the restore reaches every site, those that received the lost hub's own
    /// write included, and wins there as it does at the hub.
    @Test(arguments: ClusterStore.available) func aHubWriteAfterARestoreReachesSitesThatSawTheLostOnes(store: ClusterStore) async throws {
        let (cluster, sector) = try await HubWriteCounterTests.restoredHub("hub-counter", store: store)
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

    /// A site that received the lost hub's write, not the restored hub's, writes the same column
    /// after the restored hub did: the two writes are concurrent, so the hub's losing value goes to
    /// the conflict ledger (the office may write it back again), rather than being overwritten
    /// without a word as a write the site had already seen.
    @Test(arguments: ClusterStore.available) func aSiteWriteConcurrentWithTheRestoredHubsWriteIsAConflict(store: ClusterStore) async throws {
        let (cluster, sector) = try await HubWriteCounterTests.restoredHub("hub-counter-conflict", store: store)
        try await HubWriteCounterTests.reapply(cluster, conflict: sector)
        try await Task.sleep(for: .milliseconds(50))
        try cluster.staff("lpk-b", "UPDATE programs SET sector = 'otomotif' WHERE id = 'las'")
        try cluster.sync("lpk-b")
        let ledger = try cluster.query("hub", "SELECT loser_site, winner_site FROM _begawi_conflicts WHERE key = 'las' AND col = 'sector' ORDER BY id")
        #expect(ledger == [["lpk-a", "lpk-b"], ["hub", "lpk-b"]], "the restored hub's write lost to lpk-b's without a ledger entry: \(ledger)")
        try cluster.syncAll()
        let hub = try cluster.rows("hub", "programs")["las"]
        #expect(hub?.prefix(2) == ["Las SMAW", "otomotif"], "\(hub ?? [])")
        for site in cluster.sites { #expect(try cluster.rows(site, "programs")["las"] == hub, "\(site)") }
    }

    /// A hub (on `store`) restored from a backup taken before a write of its own that every site
    /// received, and started again: lpk-a and lpk-b wrote the row 'las' at once (lpk-b's values
    /// won, two conflicts); after the backup the office wrote lpk-a's title back. Returns the
    /// cluster and the conflict of the sector, not yet written back. On SQLite the backup is
    /// `begawi hub backup`, on PostgreSQL `pg_dump` restored with `pg_restore --clean` and
    /// `begawi hub restored` (as in `EpochTests`).
    static func restoredHub(_ label: String, store: ClusterStore) async throws -> (cluster: Cluster, sector: Int64) {
        let cluster = try Cluster(label: label, store: store)
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
        return (cluster, sector)
    }

    /// The same under the rules between agencies (the Handak Begawi schema): the program's owner
    /// and the office edit it at once, the office's edits win, and the office writes the owner's
    /// values back, one before the backup's restore and one after. Here the hub refuses a site's
    /// re-send of the lost write (`forged-stamp`: a write of "hub" it does not hold) and gives the
    /// row back whole, so that write stays lost, kept in each site's refusal ledger (not silently);
    /// the write made after the restore must still reach every site, and every site must end with
    /// the hub's row. (This one passed before the hub's counter followed its clock too: the refusal
    /// replaces the sites' rows, vectors included, by the hub's.)
    @Test(arguments: ClusterStore.available) func underTheRulesTooAHubWriteAfterARestoreReachesEverySite(store: ClusterStore) async throws {
        let agencies = try Agencies(label: "hub-counter-rules", store: store)
        let cluster = agencies.cluster
        for (site, kind) in [("lpk-a", "lpk"), ("lpk-b", "lpk"), ("office", "office")] { try agencies.addSite(site, kind: kind) }
        try agencies.registerPartners(at: "office")
        try agencies.offerProgram("prog-las", by: "lpk-a", title: "Pengelasan")
        try agencies.syncAll()
        try cluster.staff("lpk-a", "UPDATE programs SET title = 'Las SMAW', competency = 'SMAW 3G' WHERE id = 'prog-las'")
        try await Task.sleep(for: .milliseconds(50))
        try cluster.staff("office", "UPDATE programs SET title = 'Las TIG', competency = 'TIG 2G' WHERE id = 'prog-las'")
        try agencies.sync("lpk-a")
        try agencies.sync("office")
        try agencies.syncAll()
        func conflict(_ column: String) throws -> Int64 {
            let found = try cluster.query("hub", "SELECT id FROM _begawi_conflicts WHERE tbl = 'programs' AND key = 'prog-las' AND col = '\(column)'")
            return try #require(found.first?.first.flatMap { Int64($0) }, "no conflict on \(column) at the hub: \(found)")
        }
        let title = try conflict("title"), competency = try conflict("competency")
        if let postgres = cluster.postgres {
            try postgres.dump(to: cluster.path("backup.dump"))
        } else {
            try agencies.hub("backup", [cluster.path("backup.sqlite")])
        }
        try await HubWriteCounterTests.reapply(cluster, conflict: title)
        try agencies.syncAll()
        for site in agencies.sites { #expect(try agencies.rows(site, "programs")["prog-las"]?.contains("Las SMAW") == true, "\(site)") }

        cluster.stopHub()
        if let postgres = cluster.postgres {
            try postgres.restore(from: cluster.path("backup.dump"))
            try agencies.hub("restored")
        } else {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.path("hub.sqlite") + suffix) }
            try FileManager.default.copyItem(atPath: cluster.path("backup.sqlite"), toPath: cluster.path("hub.sqlite"))
        }
        try cluster.startHub()
        try await HubWriteCounterTests.reapply(cluster, conflict: competency)
        try agencies.syncAll()
        let hub = try agencies.rows("hub", "programs")["prog-las"]
        #expect(hub?.contains("SMAW 3G") == true, "\(hub ?? [])")
        for site in agencies.sites {
            #expect(try agencies.rows(site, "programs")["prog-las"] == hub, "\(site) does not hold the hub's row")
            let refused = try cluster.query(site, "SELECT reason, vals FROM _begawi_refusals WHERE tbl = 'programs' AND key = 'prog-las'")
            #expect(refused.count == 1 && refused.first?[0] == "forged-stamp" && refused.first?[1].contains("Las SMAW") == true,
                    "\(site) should keep the lost write in its refusal ledger: \(refused)")
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
