import BegawiCore

extension HubConfiguration {
    /// The longest wait a pull may ask for (`wait`) and `max_wait_seconds` may allow: an hour.
    public static let longestWaitSeconds = 3600

    /// Throws a configuration error naming the first unusable connection limit or timeout.
    func validateNetwork() throws {
        guard (1...1_000_000).contains(maxConnections) else {
            throw BegawiError(.configuration, "max_connections must be between 1 and 1000000 (and the service's LimitNOFILE= above it)")
        }
        // Above max_connections it simply never binds (so lowering max_connections alone is enough).
        guard (1...1_000_000).contains(maxConnectionsPerAddress) else {
            throw BegawiError(.configuration, "max_connections_per_address must be between 1 and 1000000")
        }
        for (key, value) in [("handshake_timeout_seconds", handshakeTimeoutSeconds), ("header_timeout_seconds", headerTimeoutSeconds),
                             ("idle_timeout_seconds", idleTimeoutSeconds), ("body_timeout_seconds", bodyTimeoutSeconds)]
        where !(1...3600).contains(value) {
            throw BegawiError(.configuration, "\(key) must be between 1 and 3600 seconds")
        }
        // A held pull has no deadline of its own at the hub (the connection is busy); the cap keeps
        // it below what middleboxes and the site's stall limit tolerate.
        guard (0...HubConfiguration.longestWaitSeconds).contains(maxWaitSeconds) else {
            throw BegawiError(.configuration, "max_wait_seconds must be between 0 (pulls never held) and \(HubConfiguration.longestWaitSeconds)")
        }
        guard (1...10_000).contains(authFailuresPerMinute) else {
            throw BegawiError(.configuration, "auth_failures_per_minute must be between 1 and 10000")
        }
        guard (1...86_400).contains(logIntervalSeconds) else {
            throw BegawiError(.configuration, "log_interval_seconds must be between 1 and 86400")
        }
    }
}
