package import BegawiCore
package import BegawiReplica

/// The hub's database for the stores that other targets of this package declare over it (the
/// office's report and conflict reviews): the same file, the same transactions as the hub's own.
extension SQLiteHubStore {
    /// The ledger of conflicts the office re-applied. Created with the hub's own tables, so that a
    /// read of the ledger never meets a database without it.
    static let reappliedSQL = """
        CREATE TABLE IF NOT EXISTS _hub_reapplied(conflict INTEGER PRIMARY KEY, at INTEGER NOT NULL, by TEXT NOT NULL);
        """

    /// The replica under the hub: its conflict ledger, and its capture of the hub's own writes.
    package var hubReplica: Replica { replica }

    /// The clock the hub stamps its own writes with.
    package var hubClock: any WallClock { clock }
}
