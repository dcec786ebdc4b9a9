import BegawiTestSupport
import Foundation
import Testing

extension ManyHubsTests {
    /// A change pushed through one hub process reaches a site whose pull is held by another, at
    /// once: the publishing process's `NOTIFY` wakes the other's held pulls. Neither the site's poll
    /// (an hour) nor the held pull's end (ten minutes) could explain an arrival within the test's
    /// wait, so without the notification crossing processes the test fails.
    @Test(.enabled(if: ClusterStore.server != nil, "BEGAWI_TEST_POSTGRES is unset"))
    func aChangeThroughOneHubWakesAPullHeldByAnother() throws {
        let cluster = try Cluster(label: "live-hubs", store: .postgres)
        try cluster.startHub()
        let other = try ExtraHub("hub2", cluster: cluster)
        try other.start()
        try cluster.addSite("lpk-a")
        try cluster.writeSiteConfig("lpk-a", url: other.url, extra: "pull_interval_seconds = 3600\nwait_seconds = 600")
        try cluster.addSite("lpk-b")
        try cluster.startDaemon("lpk-a")
        defer { cluster.stopDaemon("lpk-a") }
        func sessions() throws -> Int {
            Int(try cluster.query("hub", "SELECT sessions FROM _hub_site_health WHERE site = ?", ["lpk-a"]).first?.first ?? "0") ?? 0
        }
        #expect(try waitFor(20) { try sessions() == 1 }, "the daemon's first round did not reach hub2")
        for i in 0..<3 {
            try cluster.staff("lpk-b", "INSERT INTO programs(id, title) VALUES ('across\(i)', 'Program \(i)')")
            try cluster.sync("lpk-b")
            #expect(try waitFor(30) { try cluster.rows("lpk-a", "programs")["across\(i)"] != nil },
                    "change \(i), pushed through the first hub, did not reach the site held by hub2: \(other.log.suffix(1500))")
        }
        // Each came through the held pull: no round after the first.
        #expect(try sessions() == 1)
    }
}
