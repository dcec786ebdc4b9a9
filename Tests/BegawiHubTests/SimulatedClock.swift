import BegawiCore
import Foundation

/// A wall clock the test moves forward by hand, shared by the hub and its sites: weeks pass in seconds.
final class SimulatedClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    /// A clock starting at `start` (ms since the Unix epoch).
    init(start: UInt64) { now = start }

    func nowMilliseconds() -> UInt64 { lock.withLock { now } }

    /// Moves the clock forward.
    func advance(milliseconds: UInt64) { lock.withLock { now += milliseconds } }
}
