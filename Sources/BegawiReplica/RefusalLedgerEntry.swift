public import BegawiCore

/// One entry of the refusal ledger: a change of this replica that was not synced (the hub refused
/// it, or the site's own checks held it), kept so that nothing is lost silently.
public struct RefusalLedgerEntry: Sendable, Hashable {
    /// The ledger's row id.
    public var id: Int64
    /// When it was recorded (ms since the Unix epoch).
    public var at: UInt64
    /// The table.
    public var table: String
    /// The row's key.
    public var key: String
    /// Why (from the hub, or from the site's own checks).
    public var reason: RefusalReason
    /// What was wrong and what to do.
    public var message: String
    /// The row's values here when it was refused, as JSON (this site's own data; never logged).
    public var valuesJSON: String?
}
