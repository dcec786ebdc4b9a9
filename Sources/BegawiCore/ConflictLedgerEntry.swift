/// One entry of the conflict ledger: a write that lost to a concurrent write or delete.
public struct ConflictLedgerEntry: Sendable, Hashable {
    /// The ledger's row id.
    public var id: Int64
    /// The synced table.
    public var table: String
    /// The row's primary key.
    public var key: String
    /// The column whose write lost.
    public var column: String
    /// The losing value.
    public var loserValue: SQLValue
    /// The winning value; `.null` when the winner is a delete.
    public var winnerValue: SQLValue
    /// Whether the write lost to a delete.
    public var winnerIsDelete: Bool
    /// The losing write's stamp.
    public var loser: Stamp
    /// The winning write's stamp.
    public var winner: Stamp
    /// When this replica detected it, in milliseconds since the Unix epoch.
    public var detectedAt: UInt64

    /// Makes an entry.
    public init(id: Int64, table: String, key: String, column: String, loserValue: SQLValue, winnerValue: SQLValue,
                winnerIsDelete: Bool, loser: Stamp, winner: Stamp, detectedAt: UInt64) {
        self.id = id
        self.table = table
        self.key = key
        self.column = column
        self.loserValue = loserValue
        self.winnerValue = winnerValue
        self.winnerIsDelete = winnerIsDelete
        self.loser = loser
        self.winner = winner
        self.detectedAt = detectedAt
    }
}
