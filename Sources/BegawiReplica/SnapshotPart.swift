/// One part of a snapshot: a table's rows in a key range, with their merge state, in a small SQLite file.
///
/// The file holds `part(name, value)` (its `format`, the exporter's epoch, its head `position` when
/// the part was read, the table, its columns, and the last key), `sites(id, site)` (the stamps' site
/// numbers), `records(n, key, vector, stamps)` (one per row, numbered 1, 2, 3… in key order), and
/// `live` and `dead`, the rows' values: `n` (the record's number), then the table's columns.
public struct SnapshotPart: Sendable, Equatable {
    /// The layout of the file described above (a receiver refuses another one and pulls pages).
    public static let format = 2

    /// The table.
    public var table: String
    /// The exporter's change sequence when the part was read: everything through it is in the part's range.
    public var position: UInt64
    /// Rows in the part.
    public var rows: Int
    /// The last key in the part; the next part starts after it.
    public var lastKey: String?
    /// Whether the table has no rows after this part.
    public var finished: Bool

    /// Describes a part.
    public init(table: String, position: UInt64, rows: Int, lastKey: String?, finished: Bool) {
        self.table = table
        self.position = position
        self.rows = rows
        self.lastKey = lastKey
        self.finished = finished
    }
}
