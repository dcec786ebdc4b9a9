public import BegawiCore

/// What adopting one snapshot part did.
public struct SnapshotAdoption: Sendable, Equatable {
    /// Rows adopted.
    public var rows = 0
    /// Of them, rows this replica already held (merged as a pulled page merges them).
    public var merged = 0
    /// Conflicts recorded while merging those.
    public var conflicts = 0
    /// The next part to fetch; nil once the last is adopted.
    public var next: SnapshotProgress?
    /// The replica's cursor for the exporter once the last part is adopted.
    public var cursor: ExchangeCursor?

    /// Nothing adopted yet.
    public init() {}
}
