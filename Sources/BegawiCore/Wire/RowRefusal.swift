/// A pushed row the hub refused: a stable reason code and a message that says what to do.
public struct RowRefusal: Hashable, Sendable, Codable {
    /// The table.
    public var table: String
    /// The row's key (never personal data: keys are UUIDs or derived).
    public var key: String
    /// Why, with what the site's replica does about it.
    public var reason: RefusalReason
    /// What was wrong and what to do; holds no values of the row.
    public var message: String

    /// Makes a refusal.
    public init(table: String, key: String, reason: RefusalReason, message: String) {
        self.table = table
        self.key = key
        self.reason = reason
        self.message = message
    }

    /// The refused row.
    public var row: RowKey { RowKey(table: table, key: key) }
}
