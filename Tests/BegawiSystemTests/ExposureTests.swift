import BegawiTestSupport
import Foundation
import Testing

/// The hub on the open network: a flood of hostile connections does not stop a site, connections
/// past the limits are closed at once and summed up in the log, and every phase of a connection
/// has a timeout.
@Suite(.blocking) struct ExposureTests {
    static let floodSources = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]

    /// 5,000 hostile connections (idle TCP and half TLS handshakes from five addresses) and 30
    /// slowloris requests, against a hub limited to 1,024 open files as systemd's default: the
    /// site's syncs still go through, and the timeouts end the slow ones.
    @Test(.enabled(if: FileLimit.canHoldFlood, "needs an open-file limit of 12,000 for the test process"))
    func aSiteSyncsThroughAFloodOfHostileConnections() throws {
        let cluster = try Cluster(label: "flood")
        cluster.hubPrefix = ["prlimit", "--nofile=1024:1024", "--"]
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, phone) VALUES ('p1', '6474010101900001', 'Siti Aminah', '0811')")
        try cluster.sync("lpk-a")
        let baseline = Self.openFiles(cluster)

        var hostile: [HostileSocket] = []
        hostile.reserveCapacity(5000)
        for i in 0..<5000 {
            hostile.append(try HostileSocket(port: cluster.hubPort, source: Self.floodSources[i % Self.floodSources.count]))
            // In bursts of 250, as fast as a client's kernel lets one program open them.
            if i % 250 == 249 { Thread.sleep(forTimeInterval: 0.02) }
        }
        var slow: [RawTLSConnection] = []
        for _ in 0..<30 {
            let c = try RawTLSConnection(port: cluster.hubPort, caFile: cluster.path("tls/ca.crt"), source: "127.0.0.7")
            c.write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(c)
        }
        // Half the raw sockets start a TLS handshake they never finish.
        Thread.sleep(forTimeInterval: 1)
        for (i, s) in hostile.enumerated() where i % 2 == 1 { s.send(HostileSocket.partialClientHello) }

        let peak = Self.openFiles(cluster)
        let turnedAway = hostile.filter(\.closedByPeer).count
        // Five addresses, at most 100 connections each (max_connections_per_address), the slowloris 30 from a sixth.
        // (and a few being turned away at the moment of counting).
        #expect(peak <= baseline + 5 * 100 + 30 + 64, "the hub holds \(peak) open files in the flood")
        let started = Date()
        for round in 0..<3 {
            try cluster.staff("lpk-a", "UPDATE participants SET phone = '08\(round)' WHERE id = 'p1'")
            let result = try cluster.sync("lpk-a", expect: -1)
            #expect(result.status == 0, "sync \(round) failed during the flood: \(result.errors.suffix(600)) \(cluster.hubLog().suffix(1500))")
            for c in slow { c.write("X-Slow: 1\r\n") }
            Thread.sleep(forTimeInterval: 2)
        }
        #expect(try cluster.rows("hub", "participants")["p1"]?.contains("082") == true)
        let during = Self.openFiles(cluster)
        #expect(during < 1024 - 64, "the hub holds \(during) open files during the flood (baseline \(baseline))")

        // The header timeout (10 s) ends the slowloris requests, the handshake timeout (10 s) the rest.
        while Date().timeIntervalSince(started) < 14 || (Date().timeIntervalSince(started) < 30 && slow.contains(where: \.isOpen)) {
            for c in slow where c.isOpen { c.write("X-Slow: 1\r\n") }
            Thread.sleep(forTimeInterval: 1)
        }
        let openSlow = slow.filter(\.isOpen).count
        #expect(openSlow == 0, "\(openSlow) of 30 slowloris connections still open after the header timeout")
        // What the hub still holds (a hostile socket whose handshake the hub's kernel dropped when its
        // accept queue was full looks open to the client, but the hub never had it).
        var after = Self.openFiles(cluster)
        while after > baseline + 8, Date().timeIntervalSince(started) < 30 {
            Thread.sleep(forTimeInterval: 1)
            after = Self.openFiles(cluster)
        }
        #expect(after <= baseline + 8, "the hub holds \(after) open files after the timeouts (baseline \(baseline), \(during) during the flood)")
        print("ExposureTests: the hub held \(baseline) open files before the flood, \(peak) in it (\(turnedAway) connections turned away), \(during) after the syncs, \(after) after the timeouts")
        for c in slow { c.close() }
    }

    /// The hub log's lines with `text`, once there are some (or after `seconds`), and a second later
    /// (so that a line too many would show).
    static func waitForLines(_ cluster: Cluster, containing text: String, seconds: Double) -> [Substring] {
        let deadline = Date().addingTimeInterval(seconds)
        while !cluster.hubLog().contains(text), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        Thread.sleep(forTimeInterval: 1)
        return cluster.hubLog().split(separator: "\n").filter { $0.contains(text) }
    }

    /// Waits until the hub has closed `connection` (a loaded machine is slow to start s_client and
    /// shake hands), at most `seconds`; the timeouts under test are a few seconds or never.
    static func waitUntilClosed(_ connection: RawTLSConnection, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while connection.isOpen, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
    }

    /// The hub process's open files.
    static func openFiles(_ cluster: Cluster) -> Int {
        guard let pid = cluster.hub?.processIdentifier else { return -1 }
        return (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    static let shortLimits = """
        max_connections = 20
        max_connections_per_address = 20
        handshake_timeout_seconds = 3
        header_timeout_seconds = 2
        idle_timeout_seconds = 1
        body_timeout_seconds = 2
        log_interval_seconds = 2
        """

    /// Past `max_connections` a connection is closed at once; one summary line covers them all.
    @Test(arguments: ClusterStore.available) func connectionsPastTheLimitAreClosedAtOnceAndSummedUpOnce(store: ClusterStore) throws {
        let cluster = try Cluster(label: "limit", hubExtra: Self.shortLimits + "\nmetrics_token_file = \"metrics.token\"", store: store)
        try "0123456789abcdef0123456789abcdef\n".write(toFile: cluster.path("metrics.token"), atomically: true, encoding: .utf8)
        try cluster.startHub()
        let sockets = try (0..<30).map { _ in try HostileSocket(port: cluster.hubPort, source: "127.0.0.2") }
        Thread.sleep(forTimeInterval: 1)
        let closed = sockets.filter(\.closedByPeer).count
        #expect(closed == 10, "\(closed) of 30 connections closed at once; the limit is 20")
        // The window opened by the first refusal closes 2 s later with one line for all ten.
        let lines = Self.waitForLines(cluster, containing: "connections refused in the last", seconds: 8)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("10 connections refused in the last 2 s") == true, "\(lines)")
        // The handshake timeout (3 s) ends the 20 that were let in.
        let deadline = Date().addingTimeInterval(6)
        while sockets.contains(where: { !$0.closedByPeer }), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        #expect(sockets.filter { !$0.closedByPeer }.isEmpty)

        // Prometheus sees the same: the scrape's own connection open, ten turned away.
        let page = try Prometheus.scrape("\(cluster.hubURL)/metrics", token: "0123456789abcdef0123456789abcdef", caFile: cluster.path("tls/ca.crt"))
        #expect(page.value("begawi_hub_connections_open") == 1)
        #expect(page.value("begawi_hub_connections_limit") == 20)
        #expect(page.value("begawi_hub_connections_refused_total", ["limit": "max_connections"]) == 10)
        #expect(page.value("begawi_hub_connections_refused_total", ["limit": "max_connections_per_address"]) == 0)
    }

    /// Idle, slow headers and a stalled body each end the connection; a sign-in with a huge
    /// declared body is answered at once.
    @Test(arguments: ClusterStore.available) func eachPhaseOfAConnectionHasATimeout(store: ClusterStore) throws {
        let cluster = try Cluster(label: "timeouts", hubExtra: Self.shortLimits, store: store)
        try cluster.startHub()
        let ca = cluster.path("tls/ca.crt")

        let idle = try RawTLSConnection(port: cluster.hubPort, caFile: ca)
        idle.write(RawTLSConnection.head("GET", "/v1/health", []))
        #expect(idle.response(within: 5)?.status == 200)
        // Bounds far above the limits (a loaded full run once needed more than 8 s for 1 s): without
        // the limit the connection would stay open for good, so the test still fails without it.
        Self.waitUntilClosed(idle, seconds: 60)
        #expect(!idle.isOpen, "a kept-alive connection outlived idle_timeout_seconds = 1")

        let headers = try RawTLSConnection(port: cluster.hubPort, caFile: ca)
        headers.write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in 0..<120 where headers.isOpen {
            headers.write("X-Slow: 1\r\n")
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(!headers.isOpen, "slow headers outlived header_timeout_seconds = 2")

        let body = try RawTLSConnection(port: cluster.hubPort, caFile: ca)
        body.write(RawTLSConnection.head("POST", "/office/masuk", [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "100")]) + "kredensial=")
        Self.waitUntilClosed(body, seconds: 60)
        #expect(!body.isOpen, "a stalled body outlived body_timeout_seconds = 2")
        #expect(!cluster.hubLog().contains("Z error "), "a client's stalled body is not the hub's error: \(cluster.hubLog().suffix(800))")

        let started = Date()
        let huge = try RawTLSConnection(port: cluster.hubPort, caFile: ca)
        huge.write(RawTLSConnection.head("POST", "/office/masuk", [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "1073741824")]) + "kredensial=ab")
        let answer = huge.response(within: 5)
        #expect(answer?.status == 413 && answer?.error == "too-large", "\(String(describing: answer))")
        #expect(Date().timeIntervalSince(started) < 3)
        for c in [idle, headers, body, huge] { c.close() }
    }
}
