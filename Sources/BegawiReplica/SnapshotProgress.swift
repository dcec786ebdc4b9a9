/// Where a snapshot transfer stands at a replica: the part to fetch next, and the position the
/// replica's cursor takes once every part is adopted (the exporter's head when the first part was read).
public struct SnapshotProgress: Sendable, Equatable {
    /// The exporter's position when the first part was read.
    public var position: UInt64
    /// The table of the next part.
    public var table: String
    /// The last key adopted of that table (nil: from its first row).
    public var after: String?

    /// Describes a transfer's progress.
    public init(position: UInt64, table: String, after: String?) {
        self.position = position
        self.table = table
        self.after = after
    }
}
