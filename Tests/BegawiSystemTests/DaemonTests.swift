import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// `begawi site run` as a service: it syncs soon after a local write, backs off while the hub is
/// away, catches up when it returns, and stops cleanly on SIGTERM.
@Suite(.blocking) struct DaemonTests {
    func waitFor(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if try condition() { return Date().timeIntervalSince(start) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    @Test(arguments: ClusterStore.available) func aLocalWriteReachesTheHubWithinAboutASecond(store: ClusterStore) throws {
        let cluster = try Cluster(label: "daemon", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a", extra: "pull_interval_seconds = 60")
        try cluster.startDaemon("lpk-a")
        // Let the first round (nothing to do) finish, then write as staff would.
        Thread.sleep(forTimeInterval: 1.0)
        for i in 0..<3 {
            try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('g\(i)', 'Program \(i)')")
            let elapsed = try waitFor(10) { try cluster.rows("hub", "programs")["g\(i)"] != nil }
            let seconds = try #require(elapsed, "the write did not reach the hub within 10 s")
            // The daemon looks every 100 ms here (500 ms by default); a round over loopback takes well under a second.
            #expect(seconds < 2.5, "write \(i) took \(seconds) s")
        }
        cluster.stopDaemon("lpk-a")
    }

    @Test(arguments: ClusterStore.available) func whileTheHubIsAwayTheDaemonBacksOffThenCatchesUp(store: ClusterStore) throws {
        let cluster = try Cluster(label: "daemon", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        cluster.stopHub()
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('g1', 'Welding')")
        try cluster.startDaemon("lpk-a")
        Thread.sleep(forTimeInterval: 4)
        let log = try String(contentsOfFile: cluster.path("lpk-a.log"), encoding: .utf8)
        let delays = log.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains("sync failed"), let r = line.range(of: "retry.in_ms=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        // backoff_initial_ms = 100, backoff_max_seconds = 2: ~100, ~200, ~400 … never above 2000.
        #expect(delays.count >= 3 && delays.count <= 12, "\(delays)")
        #expect(delays.allSatisfy { $0 <= 2000 })
        #expect(delays.last! > delays.first!)
        #expect(!log.contains("bgw1."), "the credential must never be logged")
        let status = try Cluster.run(["site", "status", "--config", cluster.siteConfig("lpk-a")])
        #expect(status.output.contains("pending changes: 1"))
        #expect(status.output.contains("last error:") && !status.output.contains("last error:      none"))

        try cluster.startHub()
        let arrived = try waitFor(10) { try cluster.rows("hub", "programs")["g1"] != nil }
        #expect(arrived != nil, "the daemon did not catch up after the hub came back")
        // The status file is written when the round ends (after its pull).
        let settled = try waitFor(10) {
            try Cluster.run(["site", "status", "--json", "--config", cluster.siteConfig("lpk-a")]).output.contains("\"pendingChanges\" : 0")
        }
        #expect(settled != nil, "site status still shows pending changes after the round")
        cluster.stopDaemon("lpk-a", signal: SIGTERM)
        #expect(cluster.daemonStatus("lpk-a") == 0, "SIGTERM should stop the daemon cleanly")
    }
}
