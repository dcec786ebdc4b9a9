/// A version vector: per site, the highest write counter whose write has been merged into a row.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// Entries sorted by site id, counters above zero.
    public private(set) var entries: [(site: String, counter: UInt64)]

    /// The empty vector.
    public init() { entries = [] }

    /// Makes a vector from pairs in any order; repeated sites keep their maximum.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, UInt64) {
        entries = []
        for (site, counter) in pairs { raise(site, to: counter) }
    }

    /// The counter for a site, zero when absent.
    public subscript(site: String) -> UInt64 {
        for entry in entries where entry.site == site { return entry.counter }
        return 0
    }

    /// Whether the write with this stamp's dot is covered.
    public func covers(_ stamp: Stamp) -> Bool { self[stamp.site] >= stamp.counter }

    /// Raises a site's counter to at least the given value.
    public mutating func raise(_ site: String, to counter: UInt64) {
        guard counter > 0 else { return }
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].site < site { low = mid + 1 } else { high = mid }
        }
        if low < entries.count, entries[low].site == site {
            if entries[low].counter < counter { entries[low].counter = counter }
        } else {
            entries.insert((site, counter), at: low)
        }
    }

    /// Pointwise maximum.
    public mutating func merge(_ other: VersionVector) {
        for entry in other.entries { raise(entry.site, to: entry.counter) }
    }

    /// Whether every entry of `other` is covered by this vector.
    public func dominates(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { self[$0.site] >= $0.counter }
    }

    public static func == (a: VersionVector, b: VersionVector) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.site == $1.site && $0.counter == $1.counter }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.site)
            hasher.combine(entry.counter)
        }
    }

    public var description: String {
        "{" + entries.map { "\($0.site):\($0.counter)" }.joined(separator: ",") + "}"
    }
}
