/// A row named by table and key.
public struct RowKey: Hashable, Sendable {
    /// The table's name.
    public var table: String
    /// The key.
    public var key: String
    /// Makes a row key.
    public init(table: String, key: String) {
        self.table = table
        self.key = key
    }
}
