import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The watchdog pings come from the part that would hang, so that a stuck daemon goes silent and
/// systemd restarts it: here the sync loop (or the hub's request path) waits on a SQLite write
/// lock that another program holds, longer than WATCHDOG_USEC.
@Suite(.blocking) struct WatchdogTests {
    static let watchdog: TimeInterval = 2

    /// A connection that may hold a transaction open across calls, as another program would.
    static func blocker(_ path: String) throws -> DatabaseQueue {
        var c = Configuration()
        c.allowsUnsafeTransactions = true
        c.busyMode = .timeout(30) // the daemon may be writing when the test takes the lock
        return try DatabaseQueue(path: path, configuration: c)
    }

    @Test(arguments: ClusterStore.available) func aSiteWhoseSyncLoopIsStuckStopsPinging(store: ClusterStore) throws {
        let cluster = try Cluster(label: "stuck-site", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a", extra: "pull_interval_seconds = 1")
        try cluster.addSite("lpk-b")
        let socket = try NotifySocket(path: cluster.path("stuck-site.sock"))
        try cluster.startDaemon("lpk-a", environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "\(Int(Self.watchdog * 1_000_000))"])
        #expect(socket.wait(for: "READY=1") != nil)

        // Another program holds lpk-a's write lock; lpk-b sends a row that lpk-a's next pull must store.
        let blocker = try WatchdogTests.blocker(cluster.replicaPath("lpk-a"))
        let held = Date()
        try blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        try cluster.staff("lpk-b", "INSERT INTO programs(id, title) VALUES ('prog-1', 'Las')")
        try cluster.sync("lpk-b")
        Thread.sleep(forTimeInterval: 3 * Self.watchdog)
        let released = Date()
        try blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }

        let pings = socket.messages.filter { $0.text == "WATCHDOG=1" }.map(\.at)
        let during = pings.filter { $0 > held && $0 < released }
        let silence = zip([held] + during, during + [released]).map { $1.timeIntervalSince($0) }.max() ?? 0
        #expect(silence > Self.watchdog, "a stuck loop must leave the watchdog unfed for longer than WATCHDOG_USEC; pings: \(during)")

        // Unblocked, the loop stores the row and pings again at its pace.
        let deadline = Date().addingTimeInterval(20)
        while try !cluster.rows("lpk-a", "programs").keys.contains("prog-1"), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try cluster.rows("lpk-a", "programs").keys.contains("prog-1"))
        Thread.sleep(forTimeInterval: Self.watchdog)
        let after = socket.messages.filter { $0.text == "WATCHDOG=1" && $0.at > released.addingTimeInterval(0.5) }.map(\.at)
        #expect(after.count >= 2, "\(after)")
        for (a, b) in zip(after, after.dropFirst()) { #expect(b.timeIntervalSince(a) < Self.watchdog * 0.9) }
        cluster.stopDaemon("lpk-a")
    }

    @Test func aHubWhoseStoreIsStuckStopsPinging() throws {
        let cluster = try Cluster(label: "stuck-hub")
        let socket = try NotifySocket(path: cluster.path("stuck-hub.sock"))
        cluster.hubEnvironment = ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "\(Int(Self.watchdog * 1_000_000))"]
        try cluster.startHub()
        #expect(socket.wait(for: "READY=1") != nil)
        Thread.sleep(forTimeInterval: Self.watchdog)

        let blocker = try WatchdogTests.blocker(cluster.path("hub.sqlite"))
        let held = Date()
        try blocker.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        Thread.sleep(forTimeInterval: 3 * Self.watchdog)
        let released = Date()
        try blocker.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        Thread.sleep(forTimeInterval: Self.watchdog)

        let pings = socket.messages.filter { $0.text == "WATCHDOG=1" }.map(\.at)
        let during = pings.filter { $0 > held && $0 < released }
        let silence = zip([held] + during, during + [released]).map { $1.timeIntervalSince($0) }.max() ?? 0
        #expect(silence > Self.watchdog, "pings while the store was locked: \(during)")
        #expect(pings.filter { $0 > released }.count >= 2, "pings resume: \(pings)")
        cluster.stopHub()
    }
}
