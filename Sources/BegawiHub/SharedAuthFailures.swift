/// Wrong credentials per client address counted where every hub process on one database sees them
/// (the PostgreSQL store's `_hub_auth_failures`), so that N processes behind a load balancer give a
/// guesser the tries of one, not N times as many. The counts are token buckets as `FailureBuckets`
/// keeps them in a process: `perMinute` tries at once, one more every 60/`perMinute` seconds, on
/// the database's clock.
///
/// Calls may block on the database: `AuthFailureMiddleware` makes them in the hub's sync lane, and
/// only for an address that failed recently in this process or when counting a failure, so that a
/// request with a good credential from a clean address never waits for them.
public protocol SharedAuthFailures: Sendable {
    /// The tries `address` has left now (0 up to `perMinute`; `perMinute` for an address with no
    /// recent failure), counted by every process that shares these counts.
    func triesLeft(_ address: String, perMinute: Int) throws -> Double
    /// Counts a wrong credential from `address`; returns the tries it has left after this one.
    func failed(_ address: String, perMinute: Int) throws -> Double
    /// Whether another process said within the last minute that `address` has used up its tries,
    /// from what this process heard (no database trip): the middleware then asks `triesLeft`
    /// before checking the address's credential, as for an address that failed here.
    func othersRefused(_ address: String) -> Bool
}

extension SharedAuthFailures {
    /// Nothing heard: only the addresses that failed in this process are asked about.
    public func othersRefused(_ address: String) -> Bool { false }
}
