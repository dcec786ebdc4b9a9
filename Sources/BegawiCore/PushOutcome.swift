// The hub's JSON answers, shared by the hub that encodes them and the site that decodes them
// (snake_case keys on the wire; docs/openapi.yaml describes them).

/// What a push did.
public struct PushOutcome: Sendable, Equatable, Codable {
    /// The hub's cursor for the site's replica after the batch.
    public var cursor: ExchangeCursor
    /// Rows whose state changed at the hub.
    public var rowsChanged: Int
    /// Conflicts the merge recorded.
    public var conflicts: Int

    /// Makes a push answer.
    public init(cursor: ExchangeCursor, rowsChanged: Int, conflicts: Int) {
        self.cursor = cursor
        self.rowsChanged = rowsChanged
        self.conflicts = conflicts
    }
}
