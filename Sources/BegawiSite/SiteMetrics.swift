import BegawiMetrics
import Foundation

/// The site daemon's figures for Prometheus: sync rounds and what they moved since the daemon
/// started, and the replica's state as of the last round. Thread-safe: the loop writes, the
/// metrics listener reads.
public final class SiteMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var figures = Figures()
    private let rounds = LatencyHistogram(bounds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])
    let started: Double

    struct Figures {
        var succeeded: UInt64 = 0
        var failed: UInt64 = 0
        var consecutiveFailures = 0
        var rowsSent: UInt64 = 0
        var rowsReceived: UInt64 = 0
        var bytesSent: UInt64 = 0
        var bytesReceived: UInt64 = 0
        var conflictsAtHub: UInt64 = 0
        var conflictsHere: UInt64 = 0
        var refused: UInt64 = 0
        var heldBack: UInt64 = 0
        var evicted: UInt64 = 0
        var lastSuccess: Double?
        var lastFailure: Double?
        var clockOffsetMilliseconds: Int64?
        var pending: Int?
        var refusalsKept: Int?
        var reloads: UInt64 = 0
        var failedReloads: UInt64 = 0
    }

    /// Makes empty figures; `now` is the daemon's start (Unix time).
    public init(now: Double) { started = now }

    /// Records a finished round (nil report: it failed).
    func round(_ report: RoundReport?, seconds: Double, now: Double) {
        rounds.observe(report == nil ? "failed" : "succeeded", seconds: seconds)
        lock.withLock {
            guard let r = report else {
                figures.failed += 1
                figures.consecutiveFailures += 1
                figures.lastFailure = now
                return
            }
            figures.succeeded += 1
            figures.consecutiveFailures = 0
            figures.lastSuccess = now
            figures.rowsSent += UInt64(r.sent)
            figures.rowsReceived += UInt64(r.received)
            figures.bytesSent += UInt64(r.bytesSent)
            figures.bytesReceived += UInt64(r.bytesReceived)
            figures.conflictsAtHub += UInt64(r.conflictsAtHub)
            figures.conflictsHere += UInt64(r.conflictsHere)
            figures.refused += UInt64(r.refused)
            figures.heldBack += UInt64(r.heldBack)
            figures.evicted += UInt64(r.evicted)
            if let offset = r.offset { figures.clockOffsetMilliseconds = offset }
        }
    }

    /// Records the replica's state (pending changes, refusals kept in its ledger).
    func state(pending: Int?, refusals: Int?) {
        lock.withLock {
            figures.pending = pending
            figures.refusalsKept = refusals
        }
    }

    /// Records a reload of the configuration.
    public func reloaded(ok: Bool) {
        lock.withLock { if ok { figures.reloads += 1 } else { figures.failedReloads += 1 } }
    }

    /// The Prometheus page.
    public func page(site: String) -> String {
        let f = lock.withLock { figures }
        let label = [("site", site)]
        var m = MetricsText()
        func gauge(_ name: String, _ help: String, _ value: Double?) {
            m.add(name, .gauge, help: help, value.map { [MetricsText.Sample($0, labels: label)] } ?? [])
        }
        func counter(_ name: String, _ help: String, _ value: UInt64) {
            m.add(name, .counter, help: help, [MetricsText.Sample(Double(value), labels: label)])
        }
        gauge("begawi_site_start_time_seconds", "When this daemon started (Unix time).", started)
        gauge("begawi_site_pending_changes", "Local changes the hub has not acknowledged, as of the last round.", f.pending.map(Double.init))
        gauge("begawi_site_refusals", "Refused or held-back changes kept in the refusal ledger.", f.refusalsKept.map(Double.init))
        gauge("begawi_site_last_success_timestamp_seconds", "When a round last succeeded (Unix time).", f.lastSuccess)
        gauge("begawi_site_last_failure_timestamp_seconds", "When a round last failed (Unix time).", f.lastFailure)
        gauge("begawi_site_consecutive_failures", "Rounds failed in a row (0 once the hub answers again).", Double(f.consecutiveFailures))
        gauge("begawi_site_hub_reachable", "1 when the last round succeeded, 0 when it failed.",
              f.lastSuccess == nil && f.lastFailure == nil ? nil : (f.consecutiveFailures == 0 ? 1 : 0))
        gauge("begawi_site_clock_offset_seconds", "The hub's clock minus this site's, as last estimated.",
              f.clockOffsetMilliseconds.map { Double($0) / 1000 })
        m.add("begawi_site_rounds_total", .counter, help: "Sync rounds by outcome.", [
            .init(Double(f.succeeded), labels: label + [("outcome", "succeeded")]),
            .init(Double(f.failed), labels: label + [("outcome", "failed")]),
        ])
        counter("begawi_site_rows_sent_total", "Rows pushed to the hub.", f.rowsSent)
        counter("begawi_site_rows_received_total", "Rows pulled from the hub.", f.rowsReceived)
        counter("begawi_site_sent_bytes_total", "Batch bytes pushed (before the transport's compression).", f.bytesSent)
        counter("begawi_site_received_bytes_total", "Page bytes pulled.", f.bytesReceived)
        m.add("begawi_site_conflicts_total", .counter, help: "Conflicts recorded while merging, by where.", [
            .init(Double(f.conflictsAtHub), labels: label + [("where", "hub")]),
            .init(Double(f.conflictsHere), labels: label + [("where", "site")]),
        ])
        counter("begawi_site_refused_total", "Rows the hub refused.", f.refused)
        counter("begawi_site_held_back_total", "Rows this site's own checks held back.", f.heldBack)
        counter("begawi_site_evicted_total", "Rows removed because the hub no longer lets this site see them.", f.evicted)
        m.add("begawi_site_reloads_total", .counter, help: "Configuration reloads (SIGHUP) by outcome.", [
            .init(Double(f.reloads), labels: label + [("outcome", "applied")]),
            .init(Double(f.failedReloads), labels: label + [("outcome", "refused")]),
        ])
        m.add("begawi_site_round_duration_seconds", .histogram, help: "Time a sync round took, by outcome.",
              rounds.samples(labelName: "outcome").map { var s = $0; s.labels = label + s.labels; return s })
        return m.text
    }
}
