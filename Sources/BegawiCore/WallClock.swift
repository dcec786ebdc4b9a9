#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of wall-clock time in milliseconds since the Unix epoch; injected so tests can step it.
public protocol WallClock: Sendable {
    /// The current wall-clock time in milliseconds since 1970-01-01T00:00:00Z.
    func nowMilliseconds() -> UInt64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// Makes the system clock.
    public init() {}
    public func nowMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(max(0, ts.tv_sec)) * 1000 + UInt64(max(0, ts.tv_nsec)) / 1_000_000
    }
}
