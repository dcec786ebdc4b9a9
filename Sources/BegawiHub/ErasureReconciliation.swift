/// What the store did at open to bring its database and its erasure log into agreement.
public struct ErasureReconciliation: Sendable, Equatable {
    /// Erasures in the log that the database lacked (a restored backup), applied again.
    public var reapplied = 0
    /// Erasures in the database that the log lacked (a crash between the commit and the append), appended.
    public var appended = 0
    /// Whether the log was missing while the database holds erasures, and was written anew from it.
    public var recreated = false
    /// Line numbers of the log skipped as torn or damaged.
    public var skippedLines: [Int] = []

    /// Makes a reconciliation's counts.
    public init(reapplied: Int = 0, appended: Int = 0, recreated: Bool = false, skippedLines: [Int] = []) {
        self.reapplied = reapplied
        self.appended = appended
        self.recreated = recreated
        self.skippedLines = skippedLines
    }
}
