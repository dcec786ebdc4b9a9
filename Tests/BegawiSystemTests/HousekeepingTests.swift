import BegawiTestSupport
import Foundation
import Testing

/// The running hub's housekeeping archives the audit past its retention and gives the space back,
/// with one log line of counts (issue 15, items 3 and 5): `begawi hub run` as deployed.
@Suite(.blocking) struct HousekeepingTests {
    @Test func theRunningHubArchivesOldAuditEntriesThatZcatAndJqRead() throws {
        let cluster = try Cluster(label: "housekeeping", hubExtra: "audit_retention_days = 30\nhousekeeping_interval_seconds = 10",
                                  schema: "config/handak-begawi.json")
        cluster.hubEnvironment = ["BEGAWI_LOG_LEVEL": "info"]
        try cluster.startHub()
        // 500 entries of a year ago, as the hub wrote them then (the hub writes its own beside them).
        let yearAgo = Int64(Date().timeIntervalSince1970 * 1000) - 365 * 86_400_000
        let added = try ChildProcess.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", cluster.path("hub.sqlite"), """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
            INSERT INTO _hub_audit(at, site, tbl, key, action) SELECT \(yearAgo) + i * 1000, 'lpk-a', 'participants', printf('p%032d', i), 'inserted' FROM n;
            INSERT INTO _hub_audit(at, site, tbl, key, action) VALUES (\(yearAgo + 365 * 86_400_000), 'lpk-a', 'participants', 'today', 'inserted');
            """])
        #expect(added.status == 0, "\(added.errors)")
        let deadline = Date().addingTimeInterval(40)
        while !cluster.hubLog().contains("housekeeping done"), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        let line = try #require(cluster.hubLog().split(separator: "\n").first { $0.contains("housekeeping done") }, "\(cluster.hubLog())")
        #expect(line.contains("audit.archived=500"), "\(line)")
        #expect(line.contains("pages.free=0"), "\(line)")

        let folder = cluster.path("hub.sqlite.audit")
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
}
