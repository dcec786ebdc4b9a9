extension HubRefusal {
    /// A refusal's JSON body: `{"error": code, "message": text}` and, for some codes, numbers as text.
    /// The keys are written as they go on the wire: encode and decode without key strategies.
    public struct Body: Codable, Sendable, Equatable {
        /// The code.
        public var error: String
        /// What was wrong and what to do.
        public var message: String
        /// The hub's cursor for the replica, as decimal text.
        public var cursorBase: String?
        /// The hub's cursor for the replica, as decimal text.
        public var cursorPosition: String?
        /// The hub's replica id (its epoch).
        public var hubReplicaID: String?
        /// The hub's time, as decimal text.
        public var hubTimeMs: String?
        /// Seconds to wait, as decimal text.
        public var retryAfterSeconds: String?

        enum CodingKeys: String, CodingKey {
            case error, message
            case hubReplicaID = "epoch"
            case cursorBase = "cursor_base", cursorPosition = "cursor_position", hubTimeMs = "hub_time_ms"
            case retryAfterSeconds = "retry_after_seconds"
        }
    }
}
