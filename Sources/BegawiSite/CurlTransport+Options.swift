public import BegawiCore

extension CurlTransport {
    /// Timeouts and identity of the HTTPS client; the defaults suit a slow, lossy link.
    public struct Options: Sendable {
        /// How long connecting, TLS handshake included, may take before giving up.
        public var connectTimeoutMs: Int
        /// Below this many bytes per second for `lowSpeedTimeSeconds`, a transfer counts as stalled.
        public var lowSpeedLimitBytesPerSecond: Int
        /// How long a transfer may stay below `lowSpeedLimitBytesPerSecond` before it is aborted.
        public var lowSpeedTimeSeconds: Int
        /// Seconds a connection may be silent before TCP keep-alive probes it. Each probe costs bytes on
        /// a metered link: above the longest held pull, a healthy connection is never probed.
        public var keepAliveIdleSeconds: Int
        /// The User-Agent header, so the hub's log names the site software and version.
        public var userAgent: String
        /// Called (from the transport's queue) when a transfer moves bytes: a long transfer on a slow
        /// link is progress, not a hang (the service manager's watchdog).
        public var onActivity: (@Sendable () -> Void)?

        /// Makes options; every value has a default for a poor link.
        public init(
            connectTimeoutMs: Int = 10_000,
            lowSpeedLimitBytesPerSecond: Int = 64,
            lowSpeedTimeSeconds: Int = 30,
            keepAliveIdleSeconds: Int = 60,
            userAgent: String = DaemonVersion.current.userAgent,
            onActivity: (@Sendable () -> Void)? = nil
        ) {
            self.connectTimeoutMs = connectTimeoutMs
            self.lowSpeedLimitBytesPerSecond = lowSpeedLimitBytesPerSecond
            self.lowSpeedTimeSeconds = lowSpeedTimeSeconds
            self.keepAliveIdleSeconds = keepAliveIdleSeconds
            self.userAgent = userAgent
            self.onActivity = onActivity
        }
    }
}
