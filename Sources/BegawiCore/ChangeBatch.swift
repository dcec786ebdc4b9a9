/// A table as a batch names it: the columns the batch's rows carry registers for, in order.
public struct BatchTable: Hashable, Sendable {
    /// The synced table's name.
    public var name: String
    /// Column names; a row's `state.columns` follows this order.
    public var columns: [String]

    /// Makes a batch table.
    public init(name: String, columns: [String]) {
        self.name = name
        self.columns = columns
    }
}

/// The changes of one row: its version vector and the registers the receiver may lack.
public struct RowChange: Hashable, Sendable {
    /// Index into the batch's `tables`.
    public var table: Int
    /// The row's primary key.
    public var key: String
    /// The vector and the registers sent; absent registers are ones the receiver already has.
    public var state: RowState

    /// Makes a row change.
    public init(table: Int, key: String, state: RowState) {
        self.table = table
        self.key = key
        self.state = state
    }
}

/// A row the receiver must remove from its replica only.
public struct RowEviction: Hashable, Sendable {
    /// Index into the batch's `tables`.
    public var table: Int
    /// The row's primary key.
    public var key: String

    /// Makes an eviction.
    public init(table: Int, key: String) {
        self.table = table
        self.key = key
    }
}

/// A bounded set of row changes exported by one replica for a peer.
///
/// A batch covers the exporter's change sequence from `after` to `through`. Each row is sent with every
/// register changed since `base`, so a receiver that holds everything up to `base` ends with the row
/// complete, and its version vector never claims a write it does not hold.
public struct ChangeBatch: Hashable, Sendable {
    /// The exporting replica's id.
    public var source: String
    /// Registers changed after this sequence number are included.
    public var base: UInt64
    /// Rows whose last change is after this sequence number...
    public var after: UInt64
    /// ...and at most this one are included.
    public var through: UInt64
    /// Whether the batch reaches the exporter's newest change.
    public var complete: Bool
    /// The tables the rows refer to.
    public var tables: [BatchTable]
    /// The rows, in the exporter's change order.
    public var rows: [RowChange]
    /// Rows the receiver must remove from its replica without deleting them anywhere else: the
    /// exporter no longer lets it see them. Applied after `rows`.
    public var evictions: [RowEviction]

    /// Makes a batch.
    public init(source: String, base: UInt64, after: UInt64, through: UInt64, complete: Bool, tables: [BatchTable], rows: [RowChange],
                evictions: [RowEviction] = []) {
        self.source = source
        self.base = base
        self.after = after
        self.through = through
        self.complete = complete
        self.tables = tables
        self.rows = rows
        self.evictions = evictions
    }

    /// Throws `badBatch` unless every row is well formed: its table is named, it carries one
    /// register slot per named column, and its vector covers every register's write.
    ///
    /// The wire decoder guarantees this; a batch built in memory is checked before it is applied.
    public func validate() throws {
        guard !source.isEmpty, after <= through, base <= through, through <= UInt64(Int64.max) else {
            throw BegawiError(.badBatch, "the batch's header is inconsistent (source, or base \(base) / after \(after) / through \(through))")
        }
        for table in tables where table.columns.count > TableSpec.maximumColumns {
            throw BegawiError(.badBatch, "the batch's table '\(table.name)' names more than \(TableSpec.maximumColumns) columns")
        }
        for eviction in evictions {
            guard eviction.table >= 0, eviction.table < tables.count, !eviction.key.isEmpty else {
                throw BegawiError(.badBatch, "an eviction refers to table number \(eviction.table), which the batch does not name, or has an empty key; nothing was applied")
            }
        }
        for row in rows {
            guard row.table >= 0, row.table < tables.count else {
                throw BegawiError(.badBatch, "a row refers to table number \(row.table), which the batch does not name; nothing was applied")
            }
            guard row.state.columns.count == tables[row.table].columns.count else {
                throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' carries \(row.state.columns.count) column slots where the batch names \(tables[row.table].columns.count); nothing was applied")
            }
            guard !row.key.isEmpty else { throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has an empty key; nothing was applied") }
            for entry in row.state.vector.entries where entry.site.isEmpty || entry.counter == 0 || entry.counter >= 1 << 62 {
                throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has a malformed version vector; nothing was applied")
            }
            var registers = row.state.columns.compactMap { $0 }
            if let d = row.state.deleted {
                guard d.value == RowState.liveMarker || d.value == RowState.deletedMarker else {
                    throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has a malformed deleted flag; nothing was applied")
                }
                registers.append(d)
            }
            for r in registers {
                guard !r.stamp.site.isEmpty, r.stamp.counter > 0, row.state.vector.covers(r.stamp) else {
                    throw BegawiError(.badBatch, "a row of table '\(tables[row.table].name)' has a stamp its version vector does not cover (site '\(r.stamp.site)', counter \(r.stamp.counter)); nothing was applied")
                }
            }
        }
    }

    /// The cursor a receiver holds after applying this batch in order.
    public var cursorAfter: ExchangeCursor {
        ExchangeCursor(base: complete ? through : base, position: through)
    }
}

/// How far a receiver has taken in one exporter's changes.
///
/// `position`: every row whose last change is at or before it has been received. `base`: every
/// register changed at or before it has been received (it catches up to `position` when a batch
/// reaches the exporter's newest change).
public struct ExchangeCursor: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Registers changed at or before this are held.
    public var base: UInt64
    /// Rows last changed at or before this are held.
    public var position: UInt64

    /// Makes a cursor.
    public init(base: UInt64, position: UInt64) {
        self.base = base
        self.position = position
    }

    /// The cursor of a receiver that holds nothing.
    public static let start = ExchangeCursor(base: 0, position: 0)

    /// The largest position a cursor can name: sequence numbers are SQLite's signed 64-bit integers.
    public static let maxPosition = UInt64(Int64.max)

    public var description: String { "\(base)/\(position)" }
}

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
