import Foundation

/// How long engine transactions held a replica's write lock, for benchmarks and tests: off unless
/// started, and then a few dozen nanoseconds per transaction. Each replica has its own
/// (`Replica.writeLockMeter`).
public final class WriteLockMeter: @unchecked Sendable {
    /// Makes a meter, not recording.
    public init() {}

    private let lock = NSLock()
    private var on = false
    private var holds: [Duration] = []

    /// Starts recording (and forgets what was recorded).
    public func start() {
        lock.withLock {
            on = true
            holds = []
        }
    }

    /// Stops recording and returns each hold, in the order they ended.
    public func stop() -> [Duration] {
        lock.withLock {
            on = false
            defer { holds = [] }
            return holds
        }
    }

    var recording: Bool { lock.withLock { on } }

    func record(_ hold: Duration) {
        lock.withLock { if on { holds.append(hold) } }
    }
}
