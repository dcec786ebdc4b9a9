public import BegawiCore

/// Reads the hub's current rows while a batch is judged, so rules can follow references.
public protocol RuleLookup {
    /// The row of `table` with `key`, live or a tombstone; nil if the hub never had it.
    func row(_ table: String, key: String) throws -> StoredRow?
    /// Rows of `table` whose `column` holds `value`: live ones, and tombstones unless `liveOnly`.
    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)]
}
