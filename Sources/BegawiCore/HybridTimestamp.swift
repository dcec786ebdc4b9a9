/// A hybrid logical clock value: 48 bits of milliseconds since the Unix epoch, then 16 bits of counter.
public struct HybridTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The whole 64-bit value; comparable as an integer.
    public var rawValue: UInt64

    /// Wraps a raw 64-bit value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Makes a timestamp from milliseconds and a counter.
    public init(milliseconds: UInt64, counter: UInt16) {
        rawValue = (milliseconds & HybridTimestamp.millisecondMask) << 16 | UInt64(counter)
    }

    /// The largest millisecond value 48 bits hold (the year 10889).
    public static let millisecondMask: UInt64 = (1 << 48) - 1

    /// The millisecond part.
    public var milliseconds: UInt64 { rawValue >> 16 }
    /// The counter part.
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public static func < (a: HybridTimestamp, b: HybridTimestamp) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(milliseconds).\(counter)" }
}
