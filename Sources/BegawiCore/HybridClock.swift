/// A hybrid logical clock as a value-type state machine: it never goes backwards, whatever the wall clock does.
///
/// Its state (`last`) is persisted by the replica, so it never goes backwards across restarts either.
/// When 65,536 events fall into one millisecond the counter does not wrap: it carries into the
/// millisecond part, so the clock runs a millisecond ahead of the wall clock rather than backwards.
public struct HybridClock: Sendable, Equatable {
    /// The greatest timestamp issued or received so far.
    public private(set) var last: HybridTimestamp

    /// Starts from a persisted state.
    public init(last: HybridTimestamp = HybridTimestamp(rawValue: 0)) { self.last = last }

    /// The timestamp for a new local event at the given wall time.
    public mutating func tick(wallMilliseconds: UInt64) throws -> HybridTimestamp {
        let wall = HybridTimestamp(milliseconds: wallMilliseconds, counter: 0)
        let next = wall > last ? wall : try Self.successor(of: last)
        last = next
        return next
    }

    /// Takes in a timestamp seen from elsewhere, so later local events order after it.
    public mutating func observe(_ remote: HybridTimestamp) {
        if remote > last { last = remote }
    }

    /// Forces the next timestamp (tests, and the conformance cases, dictate clocks).
    public mutating func tick(forced: HybridTimestamp) -> HybridTimestamp {
        if forced > last { last = forced }
        return forced
    }

    static func successor(of t: HybridTimestamp) throws -> HybridTimestamp {
        guard t.rawValue < UInt64.max else {
            throw BegawiError(.clock, "the hybrid clock reached its largest value; the replica's clock state is damaged")
        }
        // Adding one carries a full counter into the millisecond part: never a silent wrap.
        return HybridTimestamp(rawValue: t.rawValue + 1)
    }
}
