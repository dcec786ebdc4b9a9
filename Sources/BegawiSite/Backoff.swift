/// Exponential backoff with jitter, capped: after the n-th failure in a row, wait between half and
/// all of `min(cap, initial × 2ⁿ⁻¹)`, so that many sites coming back at once spread out.
public struct Backoff: Sendable, Equatable {
    /// The first delay, in milliseconds.
    public var initialMilliseconds: UInt64
    /// The longest delay, in milliseconds.
    public var capMilliseconds: UInt64
    /// Failures in a row so far.
    public private(set) var failures: Int = 0

    /// Makes a backoff.
    public init(initialMilliseconds: UInt64 = 1000, capMilliseconds: UInt64 = 120_000) {
        self.initialMilliseconds = max(1, initialMilliseconds)
        self.capMilliseconds = max(self.initialMilliseconds, capMilliseconds)
    }

    /// Notes a failure and returns how long to wait before the next attempt.
    public mutating func fail(random: inout some RandomNumberGenerator) -> UInt64 {
        failures += 1
        let exponent = min(failures - 1, 40)
        let (scaled, overflow) = initialMilliseconds.multipliedReportingOverflow(by: UInt64(1) << UInt64(exponent))
        return Backoff.jittered(overflow ? capMilliseconds : min(capMilliseconds, scaled), random: &random)
    }

    /// Notes a failure that retrying soon cannot mend (the hub serves only a newer daemon): waits
    /// between half and all of the cap at once, and every time after, until a success.
    public mutating func failAtCap(random: inout some RandomNumberGenerator) -> UInt64 {
        failures += 1
        return Backoff.jittered(capMilliseconds, random: &random)
    }

    static func jittered(_ ceiling: UInt64, random: inout some RandomNumberGenerator) -> UInt64 {
        ceiling / 2 + UInt64.random(in: 0...(ceiling - ceiling / 2), using: &random)
    }

    /// Notes a success: the next failure starts again from the first delay.
    public mutating func succeed() { failures = 0 }
}
