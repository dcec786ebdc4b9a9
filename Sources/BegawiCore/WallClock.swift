/// A source of wall-clock time in milliseconds since the Unix epoch; injected so tests can step it.
public protocol WallClock: Sendable {
    /// The current wall-clock time in milliseconds since 1970-01-01T00:00:00Z.
    func nowMilliseconds() -> UInt64
}
