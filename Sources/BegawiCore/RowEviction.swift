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
