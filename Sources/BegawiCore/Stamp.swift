/// The stamp of one write: its hybrid clock and its dot (the writing site and that site's write counter).
public struct Stamp: Hashable, Sendable, CustomStringConvertible {
    /// When the write happened, on the hybrid clock.
    public var clock: HybridTimestamp
    /// The site that made the write.
    public var site: String
    /// The site's write counter: one more for each write the site makes.
    public var counter: UInt64

    /// Makes a stamp.
    public init(clock: HybridTimestamp, site: String, counter: UInt64) {
        self.clock = clock
        self.site = site
        self.counter = counter
    }

    /// Last-writer-wins order: the greater clock wins; on equal clocks the greater site id (as a string).
    public func beats(_ other: Stamp) -> Bool {
        if clock != other.clock { return clock > other.clock }
        return site > other.site
    }

    /// Whether two stamps name the same write.
    public func sameWrite(_ other: Stamp) -> Bool { site == other.site && counter == other.counter }

    public var description: String { "\(clock)@\(site)#\(counter)" }
}
