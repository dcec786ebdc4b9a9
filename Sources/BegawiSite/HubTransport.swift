import BegawiCore

/// One HTTP request to the hub, relative to the hub's base URL.
public struct HubRequest: Sendable {
    /// "GET" or "POST".
    public var method: String
    /// The path and query, starting with "/v1/".
    public var path: String
    /// Extra request headers (name, value); the transport adds authorization, encodings and lengths.
    public var headers: [(String, String)]
    /// The request body (empty for GET).
    public var body: [UInt8]
    /// Whether the transport should gzip the body (false for bodies that are already compressed).
    public var gzipBody: Bool
    /// Seconds the hub may hold the request before answering (a long-poll): the transport's stall
    /// limit starts after them, since a held request moves no bytes.
    public var holdSeconds = 0

    /// Makes a request.
    public init(method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [], gzipBody: Bool = false) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.gzipBody = gzipBody
    }
}

/// The hub's answer: status, headers (names in lowercase) and the decoded body.
public struct HubResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Response headers, names in lowercase; a repeated header keeps its last value.
    public var headers: [String: String]
    /// The body after content decoding.
    public var body: [UInt8]
    /// Local wall-clock milliseconds when the request was sent and when the answer arrived.
    public var sentAt: UInt64
    public var receivedAt: UInt64

    /// Makes a response.
    public init(status: Int, headers: [String: String], body: [UInt8], sentAt: UInt64 = 0, receivedAt: UInt64 = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.sentAt = sentAt
        self.receivedAt = receivedAt
    }
}

/// Carries requests to the hub. Injected, so that tests can drive faults.
public protocol HubTransport: Sendable {
    /// Sends one request and waits for the whole answer. Throws `BegawiError` with code `.network`
    /// when no HTTP answer came (refused, reset, timed out, TLS failure); HTTP errors are answers.
    func send(_ request: HubRequest) async throws -> HubResponse
}
