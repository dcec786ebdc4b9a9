public import BegawiCore

/// One incoming row change as the hub would merge it, judged before the merge: the row it would
/// leave and what the write carried. What the merge then stored is a `StoredRowChange` (BegawiReplica).
public struct RowWrite: Sendable {
    /// The table.
    public var table: String
    /// The row's key.
    public var key: String
    /// The hub's row before the change; nil if it never had it.
    public var before: StoredRow?
    /// The row after the merge.
    public var after: StoredRow
    /// The columns the change carries registers for, with their values.
    public var written: [String: SQLValue]
    /// What the change does to the row's existence: true deletes, false inserts or revives, nil neither.
    public var deletes: Bool?
    /// Whether the writer had seen every write the hub holds for the row.
    public var knewRow: Bool
    /// Columns of an inserted row written after its insert, by later writes sent with it (the site
    /// changed the row again before it pushed): each is judged as the update it was.
    public var laterWrites: Set<String>

    /// Makes a row write.
    public init(table: String, key: String, before: StoredRow?, after: StoredRow, written: [String: SQLValue], deletes: Bool?, knewRow: Bool,
                laterWrites: Set<String> = []) {
        self.table = table
        self.key = key
        self.before = before
        self.after = after
        self.written = written
        self.deletes = deletes
        self.knewRow = knewRow
        self.laterWrites = laterWrites
    }
}
