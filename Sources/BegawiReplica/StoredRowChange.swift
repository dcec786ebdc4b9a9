public import BegawiCore

/// A row whose stored state a batch changed, with its values before and after as stored: what the
/// merge did, given to `ApplyGate.finish`. Unlike the `RowWrite` a gate judges before the merge, its
/// `after` is the row the merge left (a gate may have kept some of the write's columns out).
public struct StoredRowChange: Sendable {
    /// The table.
    public var table: String
    /// The key.
    public var key: String
    /// The row before; nil if this replica did not have it.
    public var before: StoredRow?
    /// The row as stored after the merge.
    public var after: StoredRow
    /// The change number the merge gave the row (`_begawi_rows.seq` once the batch is stored): the
    /// row's place in the feed, known without reading it back.
    public var seq: UInt64
}

extension StoredRowChange {
    /// Makes a row change outside the engine's merge (the PostgreSQL hub store's push, for the same gate).
    package init(table: String, key: String, before: StoredRow?, after: StoredRow) {
        self.init(table: table, key: key, before: before, after: after, seq: 0)
    }
}
