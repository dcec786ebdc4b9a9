import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// Held pulls (long-polls): a site at the head of the hub's feed waits in one pull for the next
/// change, instead of asking every `pull_interval_seconds`.
@Suite(.blocking) struct LiveChangeTests {
    /// Sessions the hub recorded for a site: one per round.
    func sessions(_ cluster: Cluster, _ site: String) throws -> Int {
        Int(try cluster.query("hub", "SELECT sessions FROM _hub_site_health WHERE site = ?", [site]).first?.first ?? "0") ?? 0
    }

    @Test(arguments: ClusterStore.available) func aChangeAtTheHubReachesAHeldSiteWithoutANewRound(store: ClusterStore) throws {
        let cluster = try Cluster(label: "live", store: store)
        try cluster.startHub()
        // Neither the poll (an hour) nor the held pull's end (ten minutes) can explain an arrival.
        try cluster.addSite("lpk-a", extra: "pull_interval_seconds = 3600\nwait_seconds = 600")
        try cluster.addSite("lpk-b")
        try cluster.startDaemon("lpk-a")
        #expect(try waitFor(20) { try sessions(cluster, "lpk-a") == 1 }, "the daemon's first round did not reach the hub")
        for i in 0..<3 {
            try cluster.staff("lpk-b", "INSERT INTO programs(id, title) VALUES ('live\(i)', 'Program \(i)')")
            try cluster.sync("lpk-b")
            #expect(try waitFor(30) { try cluster.rows("lpk-a", "programs")["live\(i)"] != nil }, "change \(i) did not reach the held site")
        }
        // Each change came through the held pull: no round (session) after the first.
        #expect(try sessions(cluster, "lpk-a") == 1)
        cluster.stopDaemon("lpk-a")
        #expect(cluster.daemonStatus("lpk-a") == 0)
    }

    @Test(arguments: ClusterStore.available) func aLocalWriteEndsTheHeldPullAndReachesTheHub(store: ClusterStore) throws {
        let cluster = try Cluster(label: "live", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a", extra: "pull_interval_seconds = 3600\nwait_seconds = 600")
        try cluster.startDaemon("lpk-a")
        #expect(try waitFor(20) { try sessions(cluster, "lpk-a") == 1 })
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('local', 'Welding')")
        #expect(try waitFor(30) { try cluster.rows("hub", "programs")["local"] != nil }, "the write did not reach the hub while a pull was held")
        // A round more: the one that sent it.
        #expect(try waitFor(10) { try sessions(cluster, "lpk-a") >= 2 })
        cluster.stopDaemon("lpk-a")
        #expect(cluster.daemonStatus("lpk-a") == 0)
    }

    @Test(arguments: ClusterStore.available) func aWaitOutOfRangeIsRefused(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "live", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let probe = try HubProbe(cluster, site: "lpk-a")
        let epoch = try #require(try await probe.session().field("epoch"))
        for wait in ["-1", "3601", "x", "1.5", "99999999999999999999"] {
            let answer = try await probe.pull("?epoch=\(epoch)&base=0&position=0&wait=\(wait)")
            #expect(answer.status == 400 && answer.isJSONRefusal, "wait=\(wait): \(answer)")
            #expect(answer.field("message")?.contains("wait must be") == true, "wait=\(wait): \(answer)")
        }
        // In range, and nothing to wait for: a site behind the head is answered at once with its rows.
        let answer = try await probe.pull("?epoch=\(epoch)&base=0&position=0&wait=0")
        #expect(answer.status == 200, "\(answer)")
    }

    /// A site gives up its held pull for a push by closing the connection: the hub must let the
    /// pull go at once, or each local write would leave a connection held until the wait ends.
    @Test(arguments: ClusterStore.available) func aHeldPullWhoseClientLeftHoldsNoConnection(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "live", hubExtra: "max_connections_per_address = 2\nmax_wait_seconds = 3600", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let epoch = try #require(try await HubProbe(cluster, site: "lpk-a").session().field("epoch"))
        let through = try BatchCodec.decode(try await HubProbe(cluster, site: "lpk-a").pull("?epoch=\(epoch)&base=0&position=0").body).throughSeq
        for _ in 0..<4 {
            let probe = try HubProbe(cluster, site: "lpk-a")
            let held = Task { try await probe.pull("?epoch=\(epoch)&base=\(through)&position=\(through)&wait=3600") }
            try await Task.sleep(for: .milliseconds(500))
            held.cancel()
            _ = try? await held.value
        }
        // Four connections left, two allowed from one address: a fifth is served only if none is held.
        try await Task.sleep(for: .milliseconds(500))
        let answer = try await HubProbe(cluster, site: "lpk-a").session()
        #expect(answer.status == 200, "\(answer)")
    }

    @Test(arguments: ClusterStore.available) func aHeldPullIsReleasedWhenTheHubStops(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "live", hubExtra: "max_wait_seconds = 3600", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let probe = try HubProbe(cluster, site: "lpk-a")
        let epoch = try #require(try await probe.session().field("epoch"))
        let head = try await probe.pull("?epoch=\(epoch)&base=0&position=0")
        let through = try BatchCodec.decode(head.body).throughSeq
        let held = Task { () -> (ProbeAnswer, Date) in
            let answer = try await probe.pull("?epoch=\(epoch)&base=\(through)&position=\(through)&wait=3600")
            return (answer, Date())
        }
        // Over loopback the pull is held well within a second.
        try await Task.sleep(for: .seconds(1))
        let hub = try #require(cluster.hub)
        let stopping = Date()
        kill(hub.processIdentifier, SIGTERM)
        let stopped = waitFor(20) { !hub.isRunning }
        #expect(stopped, "the hub did not stop while a pull was held")
        if stopped { #expect(hub.terminationStatus == 0) }
        // It was held until the hub stopped, then answered: an empty page, at the same cursor.
        let (answer, at) = try await held.value
        #expect(at >= stopping, "the pull was answered before the hub was asked to stop: it was not held")
        #expect(answer.status == 200, "\(answer)")
        let page = try BatchCodec.decode(answer.body)
        #expect(page.rows.isEmpty && page.complete)
    }
}
