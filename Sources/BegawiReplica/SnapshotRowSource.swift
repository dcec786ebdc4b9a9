public import BegawiCore

/// One row of a snapshot part as a source gives it: its key, its merge state as a replica stores it
/// (the version vector and the column stamps, encoded as `RowRecord` encodes them, with site numbers
/// from the source's own list), whether it is visible, and its values.
public struct SnapshotRow: Sendable, Equatable {
    /// The row's primary key.
    public var key: String
    /// The row's version vector, encoded.
    public var vector: [UInt8]
    /// The stamps of the row's registers, encoded.
    public var stamps: [UInt8]
    /// Whether the row is visible; false for a deleted row, whose values are its last ones.
    public var live: Bool
    /// The table's columns' values, in declared order, without the key.
    public var values: [SQLValue]

    /// Describes a row.
    public init(key: String, vector: [UInt8], stamps: [UInt8], live: Bool, values: [SQLValue]) {
        self.key = key
        self.vector = vector
        self.stamps = stamps
        self.live = live
        self.values = values
    }
}

/// What a source read for one snapshot part, besides the rows it handed over.
public struct SnapshotRowRead: Sendable, Equatable {
    /// The source's change sequence as of the read: everything through it is in the part's range.
    public var position: UInt64
    /// The site numbers the rows' vectors and stamps use.
    public var sites: [Int64: String]
    /// Keys the read went through after the part's first key, including those left out (rows the
    /// receiver sent itself): fewer than the rows asked for means the table has none after them.
    public var scanned: Int
    /// The last key the read went through (nil when none); the next part starts after it.
    public var lastKey: String?

    /// Describes a read.
    public init(position: UInt64, sites: [Int64: String], scanned: Int, lastKey: String?) {
        self.position = position
        self.sites = sites
        self.scanned = scanned
        self.lastKey = lastKey
    }
}

/// Where the rows of a snapshot part come from when they are not in a replica file: a hub store on
/// another engine (PostgreSQL) reads them its own way and `SnapshotPartWriter` writes the part file
/// the sites adopt, the same file a replica writes (`Replica.snapshotPartFile`).
public protocol SnapshotRowSource {
    /// The source's epoch (its replica id), named in the part.
    var epoch: String { get }
    /// Reads, in one consistent read, up to `maxRows` keys of `table` after `afterKey` in key order
    /// (the rules of who may see what are the source's to apply), handing each row to `row` in key
    /// order, and says what it read. The position must be taken before the rows (as of the same snapshot).
    func read(table: TableSpec, after afterKey: String?, maxRows: Int, row: (SnapshotRow) throws -> Void) throws -> SnapshotRowRead
}
