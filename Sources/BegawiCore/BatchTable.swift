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
