/// Which rows of one table a snapshot part may hold, chosen by the exporter (the hub's rules).
public enum SnapshotScope: Sendable, Equatable {
    /// Every row of the table (no rules, a catalogue table, or the office).
    case all
    /// No row (a table the receiver may not see).
    case none
    /// The rows whose keys a query gives, in key order: SQL over the exporter's file, attached as
    /// `source`, with `?1` the first key wanted (exclusive), `?2` the most rows, `?3` the table's number and `?4` the receiver's, and `arguments` as `?5`, `?6`…; it must use them all.
    case keys(sql: String, arguments: [String])
}
