import BegawiTestSupport
import Foundation
import Testing

/// The daemons speak systemd's notify protocol to a stand-in socket: READY once serving (the hub
/// only after it listens), watchdog pings at half of WATCHDOG_USEC, a STATUS line of sync state,
/// and STOPPING on SIGTERM before a clean exit.
@Suite(.blocking) struct NotifyTests {
    @Test(arguments: ClusterStore.available) func theSiteDaemonNotifiesReadyPingsTheWatchdogAndStops(store: ClusterStore) throws {
        let cluster = try Cluster(label: "notify-site", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let socket = try NotifySocket(path: cluster.path("notify-site.sock"))
        try cluster.startDaemon("lpk-a", environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "2000000"])
        #expect(socket.wait(for: "READY=1") != nil, "\(socket.messages)")
        #expect(socket.wait(for: "STATUS=0 pending") != nil, "\(socket.messages)")
        Thread.sleep(forTimeInterval: 3.5)
        let pings = socket.messages.filter { $0.text == "WATCHDOG=1" }.map(\.at)
        #expect(pings.count >= 3, "pings every ~1 s for WATCHDOG_USEC = 2 s: \(pings)")
        for (a, b) in zip(pings, pings.dropFirst()) { #expect(b.timeIntervalSince(a) < 1.9, "a gap of \(b.timeIntervalSince(a)) s") }
        cluster.stopDaemon("lpk-a", signal: SIGTERM)
        #expect(socket.wait(for: "STOPPING=1", timeout: 5) != nil, "\(socket.messages)")
        #expect(cluster.daemonStatus("lpk-a") == 0)
    }

    @Test(arguments: ClusterStore.available) func theHubIsReadyOnlyOnceItListens(store: ClusterStore) throws {
        let cluster = try Cluster(label: "notify-hub", store: store)
        let socket = try NotifySocket(path: cluster.path("notify-hub.sock"))
        cluster.hubEnvironment = ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "2000000"]
        try cluster.startHub()
        let ready = try #require(socket.wait(for: "READY=1"))
        let bound = try FileManager.default.attributesOfItem(atPath: cluster.path("hub.port"))[.modificationDate] as? Date
        #expect(bound.map { $0 <= ready.addingTimeInterval(0.05) } ?? false, "READY came before the listener was bound")
        #expect(socket.messages.contains { $0.text.contains("STATUS=serving sites on port \(cluster.hubPort)") })
        Thread.sleep(forTimeInterval: 2.5)
        #expect(socket.messages.filter { $0.text == "WATCHDOG=1" }.count >= 2, "\(socket.messages)")
        cluster.stopHub()
        #expect(socket.wait(for: "STOPPING=1", timeout: 5) != nil, "\(socket.messages)")
    }

    /// Under journald (`$JOURNAL_STREAM` names stderr) every line carries its syslog priority; a
    /// line is one event.
    @Test(arguments: ClusterStore.available) func logLinesCarrySyslogPrioritiesUnderTheJournal(store: ClusterStore) throws {
        let cluster = try Cluster(label: "journal", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        cluster.stopHub() // the daemon's rounds fail: a warning each
        let stderr = Pipe()
        var info = stat()
        #expect(fstat(stderr.fileHandleForWriting.fileDescriptor, &info) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Cluster.binary)
        process.arguments = ["site", "run", "--config", cluster.siteConfig("lpk-a")]
        var env = ProcessInfo.processInfo.environment
        env["JOURNAL_STREAM"] = "\(info.st_dev):\(info.st_ino)"
        env["BEGAWI_LOG_LEVEL"] = "info"
        process.environment = env
        process.standardError = stderr
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try stderr.fileHandleForWriting.close()
        let lines = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("<6>begawi.site: site daemon started") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<4>begawi.site: sync failed") }, "\(lines)")
        #expect(lines.allSatisfy { $0.hasPrefix("<") }, "\(lines)")
    }
}
