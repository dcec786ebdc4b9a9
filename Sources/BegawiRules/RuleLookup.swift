public import BegawiCore

/// A row as the hub holds it: its values by column and whether it is live or a tombstone.
public struct StoredRow: Hashable, Sendable {
    /// Values by column name (a tombstone keeps its last values until erased).
    public var values: [String: SQLValue]
    /// Whether the row is live.
    public var live: Bool
    /// Makes a stored row.
    public init(values: [String: SQLValue], live: Bool) {
        self.values = values
        self.live = live
    }

    /// The text in a column, if it holds text.
    public func text(_ column: String) -> String? {
        if case .text(let t)? = values[column] { return t }
        return nil
    }
}

/// Reads the hub's current rows while a batch is judged, so rules can follow references.
public protocol RuleLookup {
    /// The row of `table` with `key`, live or a tombstone; nil if the hub never had it.
    func row(_ table: String, key: String) throws -> StoredRow?
    /// Rows of `table` whose `column` holds `value`: live ones, and tombstones unless `liveOnly`.
    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)]
}
