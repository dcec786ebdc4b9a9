import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// Prometheus' `/metrics`: at the hub (per site: last contact, lag, pending, conflicts, refusals,
/// bytes; request latency), readable only with the metrics token (no site's credential: those can
/// pull personal data); and
/// at a site daemon on a loopback port when its configuration asks for one.
@Suite(.blocking) struct MetricsTests {
    @Test(arguments: ClusterStore.available) func theHubReportsEachSitesHealthAndItsOwnLatency(store: ClusterStore) throws {
        let cluster = try Cluster(label: "metrics-hub", hubExtra: "metrics_token_file = \"metrics.token\"", store: store)
        try "0123456789abcdef0123456789abcdef\n".write(toFile: cluster.path("metrics.token"), atomically: true, encoding: .utf8)
        let started = Date().timeIntervalSince1970
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.addSite("lpk-b")
        try cluster.addSite("office", kind: "office")
        let url = "\(cluster.hubURL)/metrics"
        let ca = cluster.path("tls/ca.crt")

        // Three rows pending at lpk-a when its round opens; then both sites edit one title.
        for i in 1...3 { try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-\(i)', 'Las \(i)')") }
        try cluster.sync("lpk-a")
        try cluster.sync("lpk-b")
        try cluster.staff("lpk-a", "UPDATE programs SET title = 'Las listrik' WHERE id = 'prog-1'")
        try cluster.staff("lpk-b", "UPDATE programs SET title = 'Las karbit' WHERE id = 'prog-1'")
        try cluster.sync("lpk-a")
        try cluster.sync("lpk-b") // its write is older or newer: either way one conflict is recorded at the hub
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-4', 'Jahit')")
        try cluster.sync("lpk-a") // lpk-b has not pulled prog-4: it lags by one change at least

        // Who may read: the token, and no one else.
        #expect(try Prometheus.scrape(url, caFile: ca).status == 401)
        #expect(try Prometheus.scrape(url, token: credential(cluster, "lpk-a"), caFile: ca).status == 401)
        #expect(try Prometheus.scrape(url, token: credential(cluster, "office"), caFile: ca).status == 401)
        #expect(try Prometheus.scrape(url, token: "0123456789abcdef0123456789abcdeX", caFile: ca).status == 401)
        let page = try Prometheus.scrape(url, token: "0123456789abcdef0123456789abcdef", caFile: ca)
        #expect(page.status == 200)

        let now = Date().timeIntervalSince1970
        for site in ["lpk-a", "lpk-b"] {
            let contact = try #require(page.value("begawi_hub_site_last_contact_timestamp_seconds", ["site": site]))
            #expect(contact >= started - 1 && contact <= now + 1, "\(site): \(contact)")
        }
        #expect(page.value("begawi_hub_site_last_contact_timestamp_seconds", ["site": "office"]) == nil, "the office never synced")
        #expect(page.value("begawi_hub_site_info", ["site": "office", "kind": "office", "revoked": "false"]) == 1)
        #expect(page.value("begawi_hub_site_info", ["site": "lpk-a"]).map { _ in true } ?? false)
        #expect(page.samples?.first { $0.name == "begawi_hub_site_info" && $0.labels["site"] == "lpk-a" }?.labels["agent"]?.hasPrefix("begawi/") == true)
        #expect(page.value("begawi_hub_site_info", ["site": "lpk-a", "version": DaemonVersion.current.description, "schema": "1"]) == 1)
        #expect(page.value("begawi_hub_site_info", ["site": "office", "version": "", "schema": ""]) == 1, "the office never synced")

        // The figures agree with the hub's database.
        let conflicts = Int(try cluster.query("hub", "SELECT count(*) FROM _begawi_conflicts").first?.first ?? "") ?? -1
        #expect(conflicts == 1)
        let conflictsMetric = (page.value("begawi_hub_site_conflicts_total", ["site": "lpk-a"]) ?? -1)
            + (page.value("begawi_hub_site_conflicts_total", ["site": "lpk-b"]) ?? -1)
        #expect(conflictsMetric == Double(conflicts))
        #expect(page.value("begawi_hub_site_rows_received_total", ["site": "lpk-a"]) == 5)
        #expect(page.value("begawi_hub_site_rows_received_total", ["site": "lpk-b"]) == 1)
        #expect(page.value("begawi_hub_site_pushes_total", ["site": "lpk-a"]) == 3)
        #expect(page.value("begawi_hub_site_refusals_total", ["site": "lpk-a"]) == 0, "no rules, no refusals")
        #expect(page.value("begawi_hub_site_pending_changes", ["site": "lpk-a"]) == 1, "prog-4 was pending when the last round opened")
        // The feed's head: the replica's sequence in SQLite, the feed's head row on PostgreSQL.
        let headSQL = cluster.postgres == nil ? "SELECT value FROM _begawi_state WHERE name = 'seq'" : "SELECT pos FROM _begawi_feed_head"
        let head = Int(try cluster.query("hub", headSQL).first?.first ?? "") ?? -1
        #expect(page.value("begawi_hub_feed_head") == Double(head))
        // PostgreSQL only: committed changes waiting for their place in the feed (none once quiet).
        #expect(page.value("begawi_hub_feed_waiting_changes") == (cluster.postgres == nil ? nil : 0))
        #expect(page.value("begawi_hub_site_lag_changes", ["site": "lpk-a"]) == 0)
        #expect((page.value("begawi_hub_site_lag_changes", ["site": "lpk-b"]) ?? 0) >= 1)
        #expect((page.value("begawi_hub_site_received_bytes_total", ["site": "lpk-a"]) ?? 0) > 0)
        #expect((page.value("begawi_hub_site_sent_bytes_total", ["site": "lpk-b"]) ?? 0) > 0)
        #expect(abs(page.value("begawi_hub_site_clock_offset_seconds", ["site": "lpk-a"]) ?? 99) < 2)
        #expect(page.value("begawi_hub_request_duration_seconds_count", ["route": "/v1/push"]) == 4)
        #expect(page.value("begawi_hub_request_duration_seconds_bucket", ["route": "/v1/push", "le": "+Inf"]) == 4)
        #expect(page.value("begawi_hub_responses_total", ["route": "/metrics", "status": "401"]) == 4)
        #expect(page.types?["begawi_hub_request_duration_seconds"] == "histogram")
    }

    /// Without a token the page is off; a site's report about itself cannot upset the hub: a value out
    /// of range (a clock at the edge of 64 bits, a negative count) is refused with a reason, never
    /// subtracted or stored (issue 12: every number from a request is range-checked).
    @Test(arguments: ClusterStore.available) func withoutATokenMetricsAreOffAndOddReportsAreRefused(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "metrics-off", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let probe = try HubProbe(cluster, site: "lpk-a")
        for time in ["-9223372036854775808", "9223372036854775807", "soon"] {
            let answer = try await probe.send("GET", "/v1/session", headers: [("Begawi-Site-Time", time), ("Begawi-Pending", "-5")])
            #expect(answer.status == 400 && answer.error == "bad-request", "\(answer)")
        }
        #expect(try await probe.send("GET", "/v1/session", headers: [("Begawi-Pending", "0")]).status == 200)
        let off = try await probe.send("GET", "/metrics")
        #expect(off.status == 404 && off.error == "metrics-off", "\(off)")
        #expect(cluster.hub?.isRunning == true)
        let row = try cluster.query("hub", "SELECT clock_offset_ms, pending, sessions FROM _hub_site_health WHERE site = 'lpk-a'")
        #expect(row == [["NULL", "0", "1"]])
    }

    @Test(arguments: ClusterStore.available) func aSiteServesItsFiguresOnLoopbackWhenAsked(store: ClusterStore) throws {
        let cluster = try Cluster(label: "metrics-site", store: store)
        try cluster.startHub()
        let port = Prometheus.freePort()
        try cluster.addSite("lpk-a", extra: "metrics_listen = \"127.0.0.1:\(port)\"")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-1', 'Las')")
        try cluster.startDaemon("lpk-a")
        let url = "http://127.0.0.1:\(port)/metrics"
        // The row counts as sent when the push is answered, and pending is set when the round ends:
        // wait for both, as a scrape between them (a loaded machine) sees one without the other.
        let synced = try eventually {
            let p = try? Prometheus.scrape(url)
            return p?.value("begawi_site_rows_sent_total") == 1 && p?.value("begawi_site_pending_changes", ["site": "lpk-a"]) == 0 ? p : nil
        }
        #expect(synced.value("begawi_site_hub_reachable") == 1)
        #expect((synced.value("begawi_site_rounds_total", ["outcome": "succeeded"]) ?? 0) >= 1)
        #expect((synced.value("begawi_site_sent_bytes_total") ?? 0) > 0)
        #expect(synced.value("begawi_site_refusals") == 0)

        cluster.stopHub()
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-2', 'Jahit')")
        let failing = try eventually { let p = try? Prometheus.scrape(url); return (p?.value("begawi_site_consecutive_failures") ?? 0) >= 1 ? p : nil }
        #expect(failing.value("begawi_site_hub_reachable") == 0)
        #expect(failing.value("begawi_site_pending_changes") == 1)
        cluster.stopDaemon("lpk-a")

        // Metrics are plain HTTP: only a loopback address is accepted.
        for address in ["0.0.0.0", "127.example.org", "192.168.1.10", "::"] {
            try cluster.writeSiteConfig("lpk-a", extra: "metrics_listen = \"[\(address)]:\(port)\"")
            let refused = try Cluster.run(["site", "status", "--config", cluster.siteConfig("lpk-a")], expect: -1)
            #expect(refused.status != 0, "\(address)")
            #expect(refused.errors.contains("metrics_listen must be a loopback address"), "\(address): \(refused.errors)")
        }

        // A taken metrics port is logged; the daemon syncs on without metrics.
        let taken = try Prometheus.listen()
        defer { close(taken.fd) }
        try cluster.startHub()
        try cluster.writeSiteConfig("lpk-a", extra: "metrics_listen = \"127.0.0.1:\(taken.port)\"")
        try cluster.startDaemon("lpk-a")
        let deadline = Date().addingTimeInterval(20)
        while try !cluster.rows("hub", "programs").keys.contains("prog-2"), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(try cluster.rows("hub", "programs").keys.contains("prog-2"))
        #expect(cluster.log("lpk-a").contains("metrics not served; the daemon syncs on without them"), "\(cluster.log("lpk-a"))")
        #expect(cluster.daemonProcess("lpk-a")?.isRunning == true)
        cluster.stopDaemon("lpk-a")
    }

    /// A site's User-Agent becomes a label value: a quote under a combining mark must not end it,
    /// or the reference parser refuses the page and Prometheus fails the scrape.
    @Test(arguments: ClusterStore.available) func aUserAgentCannotBreakThePage(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "metrics-agent", hubExtra: "metrics_token_file = \"metrics.token\"", store: store)
        try "0123456789abcdef0123456789abcdef\n".write(toFile: cluster.path("metrics.token"), atomically: true, encoding: .utf8)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let agent = "x\"\u{301},site=\"disnaker"
        let answer = try await HubProbe(cluster, site: "lpk-a").send("GET", "/v1/session", headers: [("User-Agent", agent)])
        #expect(answer.status == 200, "\(answer)")
        let page = try Prometheus.scrape("\(cluster.hubURL)/metrics", token: "0123456789abcdef0123456789abcdef", caFile: cluster.path("tls/ca.crt"))
        #expect(page.status == 200)
        let info = page.samples?.filter { $0.name == "begawi_hub_site_info" } ?? []
        #expect(info.map { $0.labels["site"] } == ["lpk-a"], "\(info.map(\.labels))")
        #expect(info.first?.labels["agent"] == agent)
    }

    func credential(_ cluster: Cluster, _ site: String) throws -> String {
        try String(contentsOfFile: cluster.path("\(site).credential"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls `probe` for up to 20 s.
    func eventually<T>(_ probe: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let value = try probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw ClusterError("the condition did not hold within 20 s")
    }
}
