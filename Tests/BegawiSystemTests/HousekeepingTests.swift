import BegawiTestSupport
import Foundation
import Testing

/// The running hub's housekeeping archives the audit past its retention and gives the space back,
/// with one log line of counts (issue 15, items 3 and 5), on both stores (issue 17): `begawi hub
/// run` as deployed. And `hub sites` names a site silent past the retention as expired.
@Suite(.blocking) struct HousekeepingTests {
    @Test(arguments: ClusterStore.available)
    func theRunningHubArchivesOldAuditEntriesThatZcatAndJqRead(store: ClusterStore) throws {
        // On PostgreSQL the archive's folder must be named: there is no database file to put it beside.
        let archive = store == .postgres ? "\naudit_archive_dir = \"audit\"" : ""
        let cluster = try Cluster(label: "housekeeping", hubExtra: "audit_retention_days = 30\nhousekeeping_interval_seconds = 10" + archive,
                                  schema: "config/handak-begawi.json", store: store)
        cluster.hubEnvironment = ["BEGAWI_LOG_LEVEL": "info"]
        try cluster.startHub()
        // 500 entries of a year ago, as the hub wrote them then (the hub writes its own beside them).
        let yearAgo = Int64(Date().timeIntervalSince1970 * 1000) - 365 * 86_400_000
        if let postgres = cluster.postgres {
            _ = try postgres.query("""
                INSERT INTO _hub_audit (at, site, tbl, key, action) SELECT \(yearAgo) + i * 1000, 'lpk-a', 'participants', 'p' || lpad(i::text, 32, '0'), 'inserted'
                FROM generate_series(1, 500) AS i;
                INSERT INTO _hub_audit (at, site, tbl, key, action) VALUES (\(yearAgo + 365 * 86_400_000), 'lpk-a', 'participants', 'today', 'inserted');
                """)
        } else {
            let added = try ChildProcess.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", cluster.path("hub.sqlite"), """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                INSERT INTO _hub_audit(at, site, tbl, key, action) SELECT \(yearAgo) + i * 1000, 'lpk-a', 'participants', printf('p%032d', i), 'inserted' FROM n;
                INSERT INTO _hub_audit(at, site, tbl, key, action) VALUES (\(yearAgo + 365 * 86_400_000), 'lpk-a', 'participants', 'today', 'inserted');
                """])
            #expect(added.status == 0, "\(added.errors)")
        }
        let deadline = Date().addingTimeInterval(40)
        while !cluster.hubLog().contains("housekeeping done"), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        let line = try #require(cluster.hubLog().split(separator: "\n").first { $0.contains("housekeeping done") }, "\(cluster.hubLog())")
        #expect(line.contains("audit.archived=500"), "\(line)")
        // SQLite gives the freed pages back; on PostgreSQL that is autovacuum's work (no space step).
        #expect(line.contains("pages.free=0") == (store == .sqlite), "\(line)")

        let folder = cluster.path(store == .postgres ? "audit" : "hub.sqlite.audit")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(files.count == 1 && files.allSatisfy { $0.hasPrefix("audit-") && $0.hasSuffix(".jsonl.gz") }, "\(files)")
        // As docs/operations.md says to read them.
        let read = try ChildProcess.run("/bin/sh", ["-c", "zcat \(folder)/audit-*.jsonl.gz | jq -c 'select(.key == \"p00000000000000000000000000000007\") | .id'"],
                                        environment: nil)
        #expect(read.status == 0 && read.output.split(separator: "\n").count == 1, "\(read.output) \(read.errors)")
        // The housekeeping service ends with the hub: a stop is a clean exit (a service that threw
        // its sleep's cancellation made every `systemctl stop` a failure).
        cluster.stopHub()
        #expect(cluster.hub?.terminationStatus == 0, "\(cluster.hubLog())")
    }

    /// The running hub purges the deletes every active site holds; a site silent past the retention
    /// comes back, its edit of a purged row is refused, and it re-baselines to the hub's rows, all in
    /// one `begawi site sync`.
    @Test(arguments: ClusterStore.available)
    func theRunningHubPurgesWhatEverySiteHoldsAndASiteAwayReBaselines(store: ClusterStore) throws {
        let cluster = try Cluster(label: "housekeeping-purge", hubExtra: "retention_days = 1\nhousekeeping_interval_seconds = 10", store: store)
        cluster.hubEnvironment = ["BEGAWI_LOG_LEVEL": "info"]
        try cluster.startHub()
        for id in ["lpk-a", "lpk-b", "lpk-c"] { try cluster.addSite(id) }
        for i in 0..<20 {
            try cluster.staff("lpk-a", "INSERT INTO programs(id, title, provider) VALUES (?, ?, 'lpk-a')", ["prog-\(i)", "Program \(i)"])
        }
        try cluster.syncAll(rounds: 2)
        // lpk-c goes away after editing a program lpk-a then deletes with nine others.
        try cluster.staff("lpk-c", "UPDATE programs SET title = 'edited while away' WHERE id = 'prog-0'")
        try cluster.staff("lpk-a", "DELETE FROM programs WHERE id IN (\((0..<10).map { "'prog-\($0)'" }.joined(separator: ", ")))")
        for _ in 0..<2 {
            try cluster.sync("lpk-a")
            try cluster.sync("lpk-b")
        }
        // Its last call two days ago, as the health ledger would hold it after two silent days.
        let twoDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
        if let postgres = cluster.postgres {
            _ = try postgres.query("UPDATE _hub_site_health SET last_contact = \(twoDaysAgo) WHERE site = 'lpk-c'")
        } else {
            try cluster.hubWrite("UPDATE _hub_site_health SET last_contact = ? WHERE site = 'lpk-c'", ["\(twoDaysAgo)"])
        }
        func purged() -> Int {
            cluster.hubLog().split(separator: "\n").filter { $0.contains("housekeeping done") }.compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("tombstones.purged=") }.flatMap { Int($0.dropFirst("tombstones.purged=".count)) }
            }.reduce(0, +)
        }
        let deadline = Date().addingTimeInterval(60)
        while purged() < 10, Date() < deadline { Thread.sleep(forTimeInterval: 0.5) }
        #expect(purged() == 10, "\(cluster.hubLog())")
        #expect(try cluster.query("hub", "SELECT count(*) FROM _begawi_dead_programs").first?.first == "0")
        #expect(try cluster.query("hub", "SELECT count(*) FROM _hub_purged").first?.first == "10")

        // Back: one round pushes the edit (refused: purged), is refused past the horizon, pulls a fresh copy.
        let back = try cluster.sync("lpk-c")
        #expect(back.status == 0, "\(back.errors)")
        let hub = Set(try cluster.rows("hub", "programs").keys)
        #expect(hub == Set((10..<20).map { "prog-\($0)" }))
        #expect(Set(try cluster.rows("lpk-c", "programs").keys) == hub)
        #expect(try cluster.query("hub", "SELECT count(*) FROM _hub_purged").first?.first == "10")
    }

    @Test(arguments: ClusterStore.available)
    func hubSitesShowsASiteSilentPastTheRetentionAsExpired(store: ClusterStore) throws {
        let cluster = try Cluster(label: "housekeeping-expiry", hubExtra: "retention_days = 1", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.addSite("lpk-b")
        try cluster.sync("lpk-a")
        try cluster.sync("lpk-b")
        // lpk-a last called two days ago, as the health ledger would hold it after two silent days.
        let twoDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
        if let postgres = cluster.postgres {
            _ = try postgres.query("UPDATE _hub_site_health SET last_contact = \(twoDaysAgo) WHERE site = 'lpk-a'")
        } else {
            try cluster.hubWrite("UPDATE _hub_site_health SET last_contact = ? WHERE site = 'lpk-a'", ["\(twoDaysAgo)"])
        }
        let sites = try Cluster.run(["hub", "sites", "--config", cluster.hubConfig]).output
        let lines = sites.split(separator: "\n")
        #expect(lines.first { $0.contains("lpk-a") }?.contains("expired") == true, "\(sites)")
        #expect(lines.first { $0.contains("lpk-b") }?.contains("expired") == false, "\(sites)")
    }
}
