/// A row as stored: its values by column name and whether it is live or a tombstone (which keeps
/// its last values until erased).
public struct StoredRow: Hashable, Sendable {
    /// Values by column name.
    public var values: [String: SQLValue]
    /// Whether the row is live.
    public var live: Bool

    /// Makes a stored row.
    public init(values: [String: SQLValue], live: Bool) {
        self.values = values
        self.live = live
    }

    /// The values a row state holds (a column without a register holds its default, or NULL).
    public init(_ table: TableSpec, _ state: RowState) {
        var values: [String: SQLValue] = [:]
        for (i, c) in table.columns.enumerated() { values[c.name] = state.columns[i]?.value ?? c.absentValue }
        self.init(values: values, live: state.isLive)
    }

    /// The text in a column, if it holds text.
    public func text(_ column: String) -> String? {
        if case .text(let t)? = values[column] { return t }
        return nil
    }
}
