import BegawiCore
import BegawiMetrics
import Foundation

/// The hub's figures kept in memory since it started: request latency per route, and per site the
/// bytes exchanged, the rows sent and the feed position of its last pull. What must survive a
/// restart (last contact, totals of pushes) is in the store (`SiteHealth`).
public final class HubMetrics: @unchecked Sendable {
    let latency = LatencyHistogram()
    private let lock = NSLock()
    private var traffic: [String: Traffic] = [:]
    private var responses: [String: UInt64] = [:]
    private var gate: ConnectionGate?
    let started: Double

    struct Traffic {
        var bytesReceived: UInt64 = 0
        var bytesSent: UInt64 = 0
        var rowsSent: UInt64 = 0
        var pulledThroughSeq: UInt64?
    }

    /// Makes empty figures.
    public init(now: Double) { started = now }

    /// Records one answered request.
    func request(route: String, status: Int, seconds: Double) {
        latency.observe(route, seconds: seconds)
        lock.withLock { responses["\(route) \(status)", default: 0] += 1 }
    }

    func received(site: String, bytes: Int) {
        lock.withLock { traffic[site, default: Traffic()].bytesReceived += UInt64(bytes) }
    }

    func sent(site: String, bytes: Int, rows: Int, throughSeq: UInt64?) {
        lock.withLock {
            var t = traffic[site, default: Traffic()]
            t.bytesSent += UInt64(bytes)
            t.rowsSent += UInt64(rows)
            if let throughSeq { t.pulledThroughSeq = throughSeq }
            traffic[site] = t
        }
    }

    /// Reports the connections that `gate` counts (once the hub listens).
    func watch(_ gate: ConnectionGate) { lock.withLock { self.gate = gate } }

    /// The Prometheus page: the store's health ledger joined with the figures in memory.
    func page(health: [SiteHealth], head: UInt64, waiting: Int? = nil, now: Double) -> String {
        let (traffic, responses) = lock.withLock { (self.traffic, self.responses) }
        var m = MetricsText()
        func perSite(_ value: (SiteHealth) -> Double?) -> [MetricsText.Sample] {
            health.compactMap { h in value(h).map { MetricsText.Sample($0, labels: [("site", h.site)]) } }
        }
        func perSiteTraffic(_ value: (Traffic) -> Double?) -> [MetricsText.Sample] {
            health.compactMap { h in value(traffic[h.site] ?? Traffic()).map { MetricsText.Sample($0, labels: [("site", h.site)]) } }
        }
        m.add("begawi_hub_up", .gauge, help: "1 while the hub serves.", value: 1)
        m.add("begawi_hub_start_time_seconds", .gauge, help: "When this hub process started (Unix time).", value: started)
        m.add("begawi_hub_feed_head", .gauge, help: "Number of the latest change in the hub's feed.", value: Double(head))
        if let waiting {
            // PostgreSQL: a change waits between its push's commit and its publish (the push's own, or the 1 s timer's).
            m.add("begawi_hub_feed_waiting_changes", .gauge,
                  help: "Committed changes not yet given a place in the feed, which sites cannot pull yet (PostgreSQL; stays near 0 unless publishing fails).",
                  value: Double(waiting))
        }
        m.add("begawi_hub_site_info", .gauge, help: "One sample per registered site: its kind, whether it is revoked, its daemon's User-Agent and version, and its schema version.",
              health.map { .init(1, labels: [("site", $0.site), ("kind", $0.kind), ("revoked", $0.revoked ? "true" : "false"), ("agent", $0.agent ?? ""),
                                             ("version", $0.daemonVersion ?? ""), ("schema", $0.schemaVersion.map(String.init) ?? "")]) })
        m.add("begawi_hub_site_last_contact_timestamp_seconds", .gauge,
              help: "When the site last opened a session or pushed (Unix time); absent before its first contact.",
              perSite { $0.lastContact.map { Double($0) / 1000 } })
        m.add("begawi_hub_site_contact_age_seconds", .gauge, help: "Seconds since the site's last contact.",
              perSite { $0.lastContact.map { max(0, now - Double($0) / 1000) } })
        m.add("begawi_hub_site_lag_changes", .gauge,
              help: "Changes in the hub's feed after the site's last pull (an upper bound: the site may see fewer); absent until it pulls after this hub started.",
              perSiteTraffic { $0.pulledThroughSeq.map { Double(head >= $0 ? head - $0 : 0) } })
        m.add("begawi_hub_site_pending_changes", .gauge, help: "Local changes the site had not had acknowledged when it last opened a session.",
              perSite { $0.pending.map(Double.init) })
        m.add("begawi_hub_site_clock_offset_seconds", .gauge, help: "The hub's clock minus the site's at its last session.",
              perSite { $0.clockOffsetMilliseconds.map { Double($0) / 1000 } })
        m.add("begawi_hub_site_sessions_total", .counter, help: "Sync sessions the site opened.", perSite { Double($0.sessions) })
        m.add("begawi_hub_site_pushes_total", .counter, help: "Batches the site pushed.", perSite { Double($0.pushes) })
        m.add("begawi_hub_site_rows_received_total", .counter, help: "Rows the site pushed.", perSite { Double($0.rowsReceived) })
        m.add("begawi_hub_site_refusals_total", .counter, help: "Rows from the site refused by the access rules.", perSite { Double($0.rowsRefused) })
        m.add("begawi_hub_site_conflicts_total", .counter, help: "Conflicts recorded while merging the site's rows.", perSite { Double($0.conflicts) })
        m.add("begawi_hub_site_received_bytes_total", .counter, help: "Request bytes received from the site since the hub started.",
              perSiteTraffic { Double($0.bytesReceived) })
        m.add("begawi_hub_site_sent_bytes_total", .counter, help: "Feed bytes sent to the site since the hub started.",
              perSiteTraffic { Double($0.bytesSent) })
        m.add("begawi_hub_site_rows_sent_total", .counter, help: "Rows sent to the site since the hub started.",
              perSiteTraffic { Double($0.rowsSent) })
        m.add("begawi_hub_responses_total", .counter, help: "Answers by route and HTTP status since the hub started.",
              responses.sorted { $0.key < $1.key }.map { key, count in
                  let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
                  return .init(Double(count), labels: [("route", parts[0]), ("status", parts[1])])
              })
        m.add("begawi_hub_request_duration_seconds", .histogram, help: "Time to answer a request, by route.",
              latency.samples(labelName: "route"))
        if let gate = lock.withLock({ self.gate }) {
            let figures = gate.figures
            m.add("begawi_hub_connections_open", .gauge, help: "Connections open now.", value: Double(figures.open))
            m.add("begawi_hub_connections_limit", .gauge, help: "Connections served at once (max_connections, or fewer if the open-file limit is lower).",
                  value: Double(gate.limit))
            m.add("begawi_hub_connections_refused_total", .counter, help: "Connections closed as soon as accepted, by the limit they were past, since the hub started.",
                  [.init(Double(figures.refusedFull), labels: [("limit", "max_connections")]),
                   .init(Double(figures.refusedPerAddress), labels: [("limit", "max_connections_per_address")])])
        }
        return m.text
    }
}
