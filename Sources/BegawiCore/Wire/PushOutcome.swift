// The hub's JSON answers, shared by the hub that encodes them and the site that decodes them
// (snake_case keys on the wire; docs/openapi.yaml describes them).

/// What a push did.
public struct PushOutcome: Sendable, Equatable, Codable {
    /// The hub's cursor for the site's replica after the batch.
    public var cursor: ExchangeCursor
    /// Rows whose state changed at the hub.
    public var rowsChanged: Int
    /// Conflicts the merge recorded for the rows it accepted. A refused row adds none: what it left
    /// in the office's ledger depends on data the site may not see.
    public var conflicts: Int
    /// Rows the hub refused; the rest of the batch landed.
    public var refused: [RowRefusal]
    /// The hub's whole rows for refused rows the site may see, as a base64 batch; the site makes its
    /// rows these (and removes refused rows it may not see).
    public var restore: String?

    /// Makes a push answer.
    public init(cursor: ExchangeCursor, rowsChanged: Int, conflicts: Int, refused: [RowRefusal] = [], restore: String? = nil) {
        self.cursor = cursor
        self.rowsChanged = rowsChanged
        self.conflicts = conflicts
        self.refused = refused
        self.restore = restore
    }

    enum CodingKeys: String, CodingKey { case cursor, rowsChanged, conflicts, refused, restore }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cursor = try c.decode(ExchangeCursor.self, forKey: .cursor)
        rowsChanged = try c.decode(Int.self, forKey: .rowsChanged)
        conflicts = try c.decode(Int.self, forKey: .conflicts)
        refused = try c.decodeIfPresent([RowRefusal].self, forKey: .refused) ?? []
        restore = try c.decodeIfPresent(String.self, forKey: .restore)
    }
}
