/// Bounds on one exported batch.
public struct BatchLimits: Hashable, Sendable {
    /// At most this many rows.
    public var maxRows: Int
    /// At most about this many bytes of values (before compression); at least one row is always sent.
    public var maxValueBytes: Int

    /// The most rows a batch may ask for (far above any configured page, far below an overflow).
    public static let maxRows = 1 << 24

    /// Makes limits.
    public init(maxRows: Int = 1000, maxValueBytes: Int = 4 << 20) {
        self.maxRows = maxRows
        self.maxValueBytes = maxValueBytes
    }
}
