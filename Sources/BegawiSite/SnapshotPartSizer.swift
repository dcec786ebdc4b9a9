import Foundation

/// Sizes a first pull's snapshot parts to the link, as `BatchSizer` sizes pushed batches: a part is all
/// or nothing, so on a link that drops every few seconds it must take less than that, and on a fast
/// link it grows to the largest the hub gives. Shared by the round and the task that prefetches the
/// next part (one fetch at a time), hence the lock.
final class SnapshotPartSizer: @unchecked Sendable {
    private let lock = NSLock()
    private var sizer: BatchSizer

    /// Starts from `sizer`'s bounds, target and first size.
    init(_ sizer: BatchSizer) {
        self.sizer = sizer
    }

    /// The rows to ask the next part for.
    var rows: Int { lock.withLock { sizer.rows } }

    /// Takes a part received: its rows, its bytes, and the seconds from request to the whole body.
    func record(rows: Int, bytes: Int, seconds: Double) {
        lock.withLock { sizer.record(rows: rows, bytes: bytes, seconds: seconds) }
    }

    /// Takes a part lost to the link: the next is asked at half the size (the link's throughput
    /// estimate starts again: a link that breaks says little about its speed).
    func lost() {
        lock.withLock {
            sizer = BatchSizer(maxRows: sizer.maxRows, minRows: sizer.minRows, startRows: sizer.rows / 2, targetSeconds: sizer.targetSeconds)
        }
    }
}
