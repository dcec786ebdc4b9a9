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
