import BegawiMetrics
import Foundation
import Prometheus

/// `begawi-bench-metrics`: the hand-written Prometheus writer (BegawiMetrics) beside swift-prometheus,
/// on the hub's metric set: the cost of one latency observation, and of rendering /metrics. Its own
/// command, so that it builds in a minute without SQLite, GRDB or BoringSSL.
@main
enum MetricsBench {
    static func main() {
        run(observations: 1_000_000, sites: [10, 100, 1_000])
    }

    static let routes = ["/v1/session", "/v1/push", "/v1/pull", "/v1/backup", "/metrics", "/office"]
    static let bounds = LatencyHistogram().bounds

    /// The hub's per-site families (name, help); each scrape writes one sample per site of each.
    static let perSite: [(String, String)] = (0..<16).map { ("begawi_hub_site_family\($0)", "A per-site figure number \($0).") }

    static func run(observations: Int, sites: [Int]) {
        print("\nmetrics: \(observations) observations over \(routes.count) routes; /metrics of the hub's set (16 per-site families, responses, latency histogram)")
        let seconds = (0..<1024).map { Double($0 % 97) / 1000 }

        let hand = LatencyHistogram()
        let handTime = time { for i in 0..<observations { hand.observe(routes[i % routes.count], seconds: seconds[i & 1023]) } }

        let registry = PrometheusCollectorRegistry()
        let descriptor = MetricNameDescriptor(metricName: "begawi_hub_request_duration_seconds", unitName: "", helpText: "Time to answer a request, by route.")
        let cached = routes.map { registry.makeValueHistogram(descriptor: descriptor, labels: [("route", $0)], buckets: bounds) }
        let cachedTime = time { for i in 0..<observations { cached[i % routes.count].record(seconds[i & 1023]) } }
        let lookupTime = time {
            for i in 0..<observations {
                registry.makeValueHistogram(descriptor: descriptor, labels: [("route", routes[i % routes.count])], buckets: bounds).record(seconds[i & 1023])
            }
        }
        let perObservation = { (t: Double) in String(format: "%.0f ns", t / Double(observations) * 1e9) }
        print("  observe: BegawiMetrics \(perObservation(handTime)); swift-prometheus \(perObservation(cachedTime)) with the histogram kept, \(perObservation(lookupTime)) looked up by route each time")

        for count in sites {
            let names = (0..<count).map { "site-\($0)" }
            let handPage = median((0..<21).map { _ in time { _ = handWritten(names, latency: hand) } })
            let prometheus = PrometheusCollectorRegistry()
            let latency = routes.map { prometheus.makeValueHistogram(descriptor: descriptor, labels: [("route", $0)], buckets: bounds) }
            for i in 0..<10_000 { latency[i % routes.count].record(seconds[i & 1023]) }
            var bytes = 0
            let promPage = median((0..<21).map { _ in time { bytes = swiftPrometheus(names, registry: prometheus).utf8.count } })
            let handBytes = handWritten(names, latency: hand).utf8.count
            print(String(format: "  /metrics for %4d sites: BegawiMetrics %.3f ms (%d bytes); swift-prometheus %.3f ms (%d bytes; gauges set from the snapshot, then emitted)",
                         count, handPage * 1000, handBytes, promPage * 1000, bytes))
        }
    }

    /// The page as the hub writes it: the store's snapshot turned into samples at each scrape.
    static func handWritten(_ sites: [String], latency: LatencyHistogram) -> String {
        var m = MetricsText()
        m.add("begawi_hub_up", .gauge, help: "1 while the hub serves.", value: 1)
        for (name, help) in perSite {
            m.add(name, .gauge, help: help, sites.enumerated().map { MetricsText.Sample(Double($0.offset), labels: [("site", $0.element)]) })
        }
        m.add("begawi_hub_responses_total", .counter, help: "Answers by route and HTTP status since the hub started.",
              routes.map { .init(42, labels: [("route", $0), ("status", "200")]) })
        m.add("begawi_hub_request_duration_seconds", .histogram, help: "Time to answer a request, by route.", latency.samples(labelName: "route"))
        return m.text
    }

    /// The same page through a swift-prometheus registry: the snapshot's values set on gauges (found
    /// by name and labels in the registry), then the registry emitted.
    static func swiftPrometheus(_ sites: [String], registry: PrometheusCollectorRegistry) -> String {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "begawi_hub_up", unitName: "", helpText: "1 while the hub serves.")).set(to: 1)
        for (name, help) in perSite {
            let descriptor = MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
            for (i, site) in sites.enumerated() { registry.makeGauge(descriptor: descriptor, labels: [("site", site)]).set(to: Double(i)) }
        }
        let responses = MetricNameDescriptor(metricName: "begawi_hub_responses_total", unitName: "", helpText: "Answers by route and HTTP status since the hub started.")
        for route in routes { registry.makeCounter(descriptor: responses, labels: [("route", route), ("status", "200")]).increment() }
        return registry.emitToString()
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
