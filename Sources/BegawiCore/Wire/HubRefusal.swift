/// A request the hub refused: an HTTP status, a stable code and a message that says what to do,
/// with what the site needs to recover (the hub's cursor, epoch or time) when the code calls for it.
///
/// The hub throws it and writes `body` as JSON; the site decodes the body and throws it again.
public struct HubRefusal: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// The hub's error code.
    public var code: Code
    /// The hub's explanation.
    public var message: String
    /// The hub's cursor for this replica (with `out-of-order`).
    public var cursor: ExchangeCursor?
    /// The hub's replica id, its epoch (with `epoch-changed`).
    public var hubReplicaID: String?
    /// The hub's time in ms since the Unix epoch (with `clock-ahead`).
    public var hubTime: UInt64?
    /// Seconds to wait before trying again (with `too-many-failures`).
    public var retryAfter: Int?
    /// The clock offset the site estimated from the answer that carried the refusal.
    public var offset: Int64?

    /// Makes a refusal.
    public init(status: Int, code: Code, message: String, cursor: ExchangeCursor? = nil, hubReplicaID: String? = nil,
                hubTime: UInt64? = nil, retryAfter: Int? = nil, offset: Int64? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.cursor = cursor
        self.hubReplicaID = hubReplicaID
        self.hubTime = hubTime
        self.retryAfter = retryAfter
        self.offset = offset
    }

    /// The refusal an answer of `status` carried in `body` (nil when the body was not a refusal's).
    public init(status: Int, body: Body?, offset: Int64?) {
        var cursor: ExchangeCursor?
        if let b = body?.cursorBase.flatMap(UInt64.init), let p = body?.cursorPosition.flatMap(UInt64.init) {
            cursor = ExchangeCursor(baseSeq: b, seq: p)
        }
        self.init(status: status, code: body.map { Code($0.error) } ?? .http(status),
                  message: body?.message ?? "the hub answered HTTP \(status)", cursor: cursor, hubReplicaID: body?.hubReplicaID,
                  hubTime: body?.hubTimeMs.flatMap(UInt64.init), retryAfter: body?.retryAfterSeconds.flatMap { Int($0) },
                  offset: offset)
    }

    /// The refusal as the hub writes it.
    public var body: Body {
        Body(error: code.description, message: message, cursorBase: cursor.map { String($0.baseSeq) },
             cursorPosition: cursor.map { String($0.seq) }, hubReplicaID: hubReplicaID, hubTimeMs: hubTime.map { String($0) },
             retryAfterSeconds: retryAfter.map { String($0) })
    }

    public var description: String { "the hub refused (HTTP \(status), \(code)): \(message)" }

    /// The longest wait a hub's `retry_after_seconds` is taken for: a site asks again within an hour
    /// whatever the hub said.
    public static let longestRetryAfterSeconds = 3_600

    /// `retryAfter` in milliseconds, at most `longestRetryAfterSeconds`; nil without one, or when it is
    /// not above 0 (the number comes from the network).
    public var retryAfterMilliseconds: UInt64? {
        guard let seconds = retryAfter, seconds > 0 else { return nil }
        return UInt64(min(seconds, Self.longestRetryAfterSeconds)) * 1000
    }
}
