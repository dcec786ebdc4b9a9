/// One register of a row: a column's value, or the hidden "deleted" flag, with the stamp of the write that set it.
public struct Register: Hashable, Sendable {
    /// The value; for the deleted register `.integer(1)` means deleted and `.integer(0)` live.
    public var value: SQLValue
    /// The write that set it.
    public var stamp: Stamp

    /// Makes a register.
    public init(value: SQLValue, stamp: Stamp) {
        self.value = value
        self.stamp = stamp
    }
}
