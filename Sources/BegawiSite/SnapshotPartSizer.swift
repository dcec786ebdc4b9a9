import Foundation

/// Sizes a first pull's snapshot parts to the link, as `BatchSizer` sizes pushed batches: a part is all
/// or nothing, so on a link that drops every few seconds it must take less than that, and on a fast
/// link it grows to the largest the hub gives. It also chooses whether the hub compresses the next
/// part: on a fast link the hub's deflate, not the link, is what a part waits for. Shared by the round
/// and the task that prefetches the next part (one fetch at a time), hence the lock.
final class SnapshotPartSizer: @unchecked Sendable {
    /// The uncompressed bytes a second a compressed part must arrive at before one is tried without
    /// compression: far above a slow link's (64 kbit/s brings about 25 KB/s), so a slow link never pays a
    /// part three times larger.
    static let uncompressedTrialRate = 8_000_000.0

    private let lock = NSLock()
    private var sizer: BatchSizer
    private var compress = true
    /// The uncompressed bytes a second of the last part fetched each way (true: compressed).
    private var rates: [Bool: Double] = [:]

    /// Starts from `sizer`'s bounds, target and first size.
    init(_ sizer: BatchSizer) {
        self.sizer = sizer
    }

    /// The rows to ask the next part for.
    var rows: Int { lock.withLock { sizer.rows } }

    /// Whether to ask the hub to compress the next part.
    var compressed: Bool { lock.withLock { compress } }

    /// Takes a part received: its rows, its (uncompressed) bytes, the seconds from request to the whole
    /// body, and whether it came compressed. Once a part came each way, the faster way is asked for.
    func record(rows: Int, bytes: Int, seconds: Double, compressed: Bool = true) {
        lock.withLock {
            sizer.record(rows: rows, bytes: bytes, seconds: seconds)
            guard rows > 0, bytes > 0, seconds.isFinite, seconds > 0 else { return }
            rates[compressed] = Double(bytes) / seconds
            if let packed = rates[true], let plain = rates[false] {
                compress = packed >= plain
            } else if compressed, rates[true]! >= Self.uncompressedTrialRate {
                compress = false
            }
        }
    }

    /// Takes a part lost to the link: the next is asked at half the size, compressed (the link's
    /// throughput estimate starts again: a link that breaks says little about its speed).
    func lost() {
        lock.withLock {
            sizer = BatchSizer(maxRows: sizer.maxRows, minRows: sizer.minRows, startRows: sizer.rows / 2, targetSeconds: sizer.targetSeconds)
            compress = true
            rates = [:]
        }
    }
}
