import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// Sites whose clocks are far off (libfaketime shifts a real process's clock): the hub's time
/// decides, so such a site neither wins every conflict nor loses its work.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/faketime"), "needs faketime (make test installs it)"), .blocking)
struct ClockTests {
    let ahead = ["faketime", "-f", "+365d"]

    @Test(arguments: ClusterStore.available) func aSiteAYearAheadDoesNotWinALaterEdit(store: ClusterStore) throws {
        let cluster = try Cluster(label: "clock", store: store)
        try cluster.startHub()
        try cluster.addSite("ahead")
        try cluster.addSite("right")
        try cluster.staff("right", "INSERT INTO programs(id, title, sector) VALUES ('g1', 'Welding', 'none')")
        try cluster.syncAll()
        // The site a year ahead edits first; its staff's program runs on that machine's clock...
        try cluster.shell("ahead", "UPDATE programs SET sector = 'from-ahead' WHERE id = 'g1'", prefix: ahead)
        Thread.sleep(forTimeInterval: 0.05)
        // ...the right site edits later, and its write must win.
        try cluster.staff("right", "UPDATE programs SET sector = 'from-right' WHERE id = 'g1'")
        try cluster.shell("ahead", "INSERT INTO programs(id, title) VALUES ('g2', 'Made ahead')", prefix: ahead)
        try cluster.sync("ahead", prefix: ahead)
        try cluster.sync("right")
        try cluster.sync("ahead", prefix: ahead)
        let hub = try cluster.rows("hub", "programs")
        #expect(hub["g1"]?[1] == "from-right")
        #expect(hub["g2"] != nil, "the work of the site with the wrong clock is kept")
        #expect(try cluster.rows("ahead", "programs") == hub)
        let status = try Cluster.run(["site", "status", "--json", "--config", cluster.siteConfig("ahead")])
        #expect(status.output.contains("clockOffsetMilliseconds"))
    }

    @Test(arguments: ClusterStore.available) func unsentStampsFromAWrongClockAreRestampedAndAccepted(store: ClusterStore) throws {
        let cluster = try Cluster(label: "clock", store: store)
        try cluster.startHub()
        try cluster.addSite("ahead")
        try cluster.addSite("right")
        try cluster.syncAll()
        // Written a year ahead and stamped before the site knew better (an export by hand stamps).
        try cluster.shell("ahead", "INSERT INTO programs(id, title, sector) VALUES ('g1', 'Welding', 'from-ahead')", prefix: ahead)
        try Cluster.run(["replica", "export", "--file", cluster.replicaPath("ahead"), "--out", cluster.path("by-hand.batch")])
        try cluster.sync("ahead")
        try cluster.sync("right")
        Thread.sleep(forTimeInterval: 0.05)
        try cluster.staff("right", "UPDATE programs SET sector = 'from-right' WHERE id = 'g1'")
        try cluster.syncAll()
        let hub = try cluster.rows("hub", "programs")
        #expect(hub["g1"]?[1] == "from-right")
        // The hub's clock never adopted the future.
        let hlc = try cluster.hubClockMilliseconds()
        #expect(hlc < UInt64(Date().timeIntervalSince1970 * 1000) + 60_000)
    }

    @Test(arguments: ClusterStore.available) func theHubRefusesStampsFromTooFarInItsFuture(store: ClusterStore) throws {
        let cluster = try Cluster(label: "clock", hubExtra: "max_clock_skew_seconds = 60", store: store)
        try cluster.startHub()
        try cluster.addSite("ahead")
        try cluster.shell("ahead", "INSERT INTO programs(id, title) VALUES ('g1', 'Welding')", prefix: ["faketime", "-f", "+2d"])
        // Stamped two days ahead before the site knew better: the hub refuses the batch with a
        // reason, the site re-stamps its unsent changes and sends them again.
        try Cluster.run(["replica", "export", "--file", cluster.replicaPath("ahead"), "--out", cluster.path("by-hand.batch")])
        try cluster.sync("ahead")
        #expect(cluster.hubLog().contains("refused a batch stamped in the future"))
        #expect(try cluster.rows("hub", "programs")["g1"] != nil)
        #expect(try cluster.hubClockMilliseconds() < UInt64(Date().timeIntervalSince1970 * 1000) + 60_000)
    }
}
