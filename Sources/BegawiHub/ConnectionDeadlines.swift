/// When a connection is given up, as a state machine without I/O: each event returns whether to
/// arm the connection's one timer (and for what), to disarm it, or to leave it. The timer firing
/// closes the connection.
///
/// - a new connection has `handshake` seconds for TLS;
/// - then `header` seconds for its first request's line and headers;
/// - between requests a kept-alive connection waits `idle` seconds for the first byte of the next,
///   which then has `header` seconds to complete its head;
/// - a body may go `body` seconds without a byte, counted only while the hub asks for more: a hub
///   that stops reading (its handler is busy) never blames the client for it;
/// - no limit while the hub works on a request and writes its answer.
struct ConnectionDeadlines {
    /// The limits, in seconds.
    struct Limits: Equatable {
        var handshake: Int
        var header: Int
        var idle: Int
        var body: Int

        init(_ c: HubConfiguration) {
            self.init(handshake: c.handshakeTimeoutSeconds, header: c.headerTimeoutSeconds, idle: c.idleTimeoutSeconds, body: c.bodyTimeoutSeconds)
        }

        init(handshake: Int, header: Int, idle: Int, body: Int) {
            self.handshake = handshake
            self.header = header
            self.idle = idle
            self.body = body
        }
    }

    enum Phase: Equatable {
        case handshake
        case awaitingRequest
        case head
        case body
        case busy
    }

    /// What to do with the connection's timer.
    enum Action: Equatable {
        /// (Re)arm the timer: close after `seconds`, for `reason` (a log line's words).
        case arm(seconds: Int, reason: String)
        case disarm
        case none
    }

    let limits: Limits
    private(set) var phase: Phase = .handshake
    /// Whether the timer runs for a body (armed when the hub asks for bytes, disarmed when some come).
    private var bodyTimerArmed = false
    private var requestBeingRead = false
    private var requestsInFlight = 0

    init(limits: Limits) { self.limits = limits }

    /// The connection was accepted.
    mutating func started() -> Action {
        phase = .handshake
        return .arm(seconds: limits.handshake, reason: "no TLS handshake within \(limits.handshake) s")
    }

    mutating func handshakeCompleted() -> Action {
        phase = .awaitingRequest
        return .arm(seconds: limits.header, reason: "no request within \(limits.header) s of the handshake")
    }

    /// Decrypted bytes arrived.
    mutating func bytesArrived() -> Action {
        switch phase {
        case .awaitingRequest:
            phase = .head
            return .arm(seconds: limits.header, reason: "request headers not complete within \(limits.header) s")
        case .body where bodyTimerArmed:
            bodyTimerArmed = false
            return .disarm
        default:
            return .none
        }
    }

    /// The pipeline asked the network for more bytes.
    mutating func readRequested() -> Action {
        guard phase == .body, !bodyTimerArmed else { return .none }
        bodyTimerArmed = true
        return .arm(seconds: limits.body, reason: "no byte of the request body for \(limits.body) s")
    }

    /// A request's head was decoded.
    mutating func headReceived() -> Action {
        requestBeingRead = true
        requestsInFlight += 1
        phase = .body
        bodyTimerArmed = false
        return .disarm
    }

    /// A request's end was decoded: the hub works on it.
    mutating func endReceived() -> Action {
        requestBeingRead = false
        bodyTimerArmed = false
        phase = .busy
        return .disarm
    }

    /// An answer was written whole.
    mutating func responseEnded() -> Action {
        requestsInFlight = max(0, requestsInFlight - 1)
        // An answer sent before its request's body was read (a refusal): the body's rule goes on.
        guard !requestBeingRead, requestsInFlight == 0 else { return .none }
        phase = .awaitingRequest
        return .arm(seconds: limits.idle, reason: "idle for \(limits.idle) s between requests")
    }
}
