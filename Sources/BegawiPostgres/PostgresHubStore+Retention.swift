public import BegawiHub

/// Retention on PostgreSQL: not built yet (housekeeping's session replaces this file).
extension PostgresHubStore {
    /// None: the PostgreSQL store does not apply retention yet, so no site expires.
    public func expiredSites(now: UInt64, retention: HubRetention) throws -> [String] { [] }
}
