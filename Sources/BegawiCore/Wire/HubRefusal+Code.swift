extension HubRefusal {
    /// A stable code for a refused request; opaque, so that a code from a newer hub still decodes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String

        /// A code as it came on the wire.
        public init(_ raw: String) { self.raw = raw }

        /// The code of an engine error the hub answers with (`bad-batch`, `out-of-order`, …).
        public init(_ code: BegawiError.Code) { raw = code.description }

        public var description: String { raw }

        /// An answer with an error status but no refusal body (a proxy's, say).
        public static func http(_ status: Int) -> Code { Code("http-\(status)") }

        /// A missing, unknown or revoked credential.
        public static let unauthorized = Code("unauthorized")
        /// A request the hub cannot read: a missing or malformed header, query or body.
        public static let badRequest = Code("bad-request")
        /// A body larger than the hub takes.
        public static let tooLarge = Code("too-large")
        /// A content encoding other than gzip or identity.
        public static let badEncoding = Code("bad-encoding")
        /// A batch stamped too far in the hub's future: the site corrects its offset and re-stamps.
        public static let clockAhead = Code("clock-ahead")
        /// A batch that does not follow the hub's cursor for the replica: the site resends from it.
        public static let outOfOrder = Code(BegawiError.Code.outOfOrder)
        /// A pull from an epoch the hub no longer has: the site starts a new session.
        public static let epochChanged = Code("epoch-changed")
        /// A pull from a cursor below the hub's purge horizon (tombstones it needs are gone): the site
        /// re-baselines, pulling a fresh copy from position 0 while it keeps its unsent changes.
        public static let pastHorizon = Code("past-horizon")
        /// `/metrics` asked of a hub that has no metrics token.
        public static let metricsOff = Code("metrics-off")
        /// Too many wrong credentials from one address in a short time.
        public static let tooManyFailures = Code("too-many-failures")
        /// A site daemon or protocol older than the hub serves: the site keeps its changes, waits, and
        /// is served again once its package is upgraded.
        public static let tooOld = Code("too-old")
        /// The hub failed to answer.
        public static let `internal` = Code("internal")
    }
}
