/// A write that lost to a concurrent write (or to a concurrent delete) during a merge.
public struct Conflict: Hashable, Sendable {
    /// The column position in the declared table.
    public var column: Int
    /// The value and stamp that lost.
    public var loser: Register
    /// The value and stamp that won; for a delete, the deleted register.
    public var winner: Register
    /// Whether the winner is a delete.
    public var winnerIsDelete: Bool

    /// Makes a conflict record.
    public init(column: Int, loser: Register, winner: Register, winnerIsDelete: Bool) {
        self.column = column
        self.loser = loser
        self.winner = winner
        self.winnerIsDelete = winnerIsDelete
    }
}
