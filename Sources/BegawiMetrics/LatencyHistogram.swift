import Foundation

/// Durations observed per label value (for example per route), in cumulative buckets, as a
/// Prometheus histogram. Thread-safe.
public final class LatencyHistogram: @unchecked Sendable {
    /// The buckets' upper bounds in seconds (`+Inf` is implied).
    public let bounds: [Double]
    private let lock = NSLock()
    private var series: [String: Series] = [:]

    struct Series {
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0

        mutating func add(_ seconds: Double, bounds: [Double]) {
            for (i, bound) in bounds.enumerated() where seconds <= bound { counts[i] += 1 }
            sum += seconds
            count += 1
        }
    }

    /// Makes a histogram; the default buckets span 1 ms to 60 s.
    public init(bounds: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]) {
        self.bounds = bounds.sorted()
    }

    /// Records one duration for a label value.
    public func observe(_ label: String, seconds: Double) {
        lock.withLock {
            // Changed in place: a copy taken out of the dictionary would copy its counts on every call.
            series[label, default: Series(counts: Array(repeating: 0, count: bounds.count))].add(seconds, bounds: bounds)
        }
    }

    /// The samples (`_bucket`, `_sum`, `_count`) with the label named `labelName`, sorted by label value.
    public func samples(labelName: String) -> [MetricsText.Sample] {
        let copy = lock.withLock { series }
        var out: [MetricsText.Sample] = []
        for (label, s) in copy.sorted(by: { $0.key < $1.key }) {
            for (i, bound) in bounds.enumerated() {
                out.append(.init(Double(s.counts[i]), labels: [(labelName, label), ("le", MetricsText.format(bound))], suffix: "_bucket"))
            }
            out.append(.init(Double(s.count), labels: [(labelName, label), ("le", "+Inf")], suffix: "_bucket"))
            out.append(.init(s.sum, labels: [(labelName, label)], suffix: "_sum"))
            out.append(.init(Double(s.count), labels: [(labelName, label)], suffix: "_count"))
        }
        return out
    }
}
