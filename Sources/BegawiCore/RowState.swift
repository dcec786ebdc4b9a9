/// The merge state of one row: its version vector, its hidden deleted register, and one register per column.
///
/// A row is visible when its deleted register exists and says live. Column registers are indexed by
/// the column's position in the declared table; `nil` means no write to that column has been seen.
public struct RowState: Hashable, Sendable {
    /// Per site, the highest counter whose write has been merged into this row.
    public var vector: VersionVector
    /// The hidden register set by inserts (live) and deletes (deleted).
    public var deleted: Register?
    /// Column registers by declared position.
    public var columns: [Register?]

    /// An empty row state for a table with the given number of non-key columns.
    public init(columnCount: Int) {
        vector = VersionVector()
        deleted = nil
        columns = Array(repeating: nil, count: columnCount)
    }

    /// Makes a row state from its parts.
    public init(vector: VersionVector, deleted: Register?, columns: [Register?]) {
        self.vector = vector
        self.deleted = deleted
        self.columns = columns
    }

    /// Whether the row is visible in its table.
    public var isLive: Bool {
        if case .integer(0)? = deleted?.value { return true }
        return false
    }

    /// The marker values of the deleted register.
    public static let liveMarker = SQLValue.integer(0)
    /// The value of the deleted register once a row is deleted.
    public static let deletedMarker = SQLValue.integer(1)
}
