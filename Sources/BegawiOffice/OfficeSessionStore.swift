import BegawiCore

/// A signed-in office's dashboard session: the office site, the credential that opened it, the
/// token its forms carry back (against cross-site requests) and when it ends.
public struct OfficeSession: Sendable, Equatable {
    /// The office site that signed in.
    public let site: String
    /// The hash of the credential that opened the session (the store's `credentialIsCurrent`).
    public let credential: String
    /// The token every form of the session carries back.
    public let csrf: String
    /// When the session ends (milliseconds since 1970).
    public let expires: UInt64

    /// Makes a session's record.
    public init(site: String, credential: String, csrf: String, expires: UInt64) {
        self.site = site
        self.credential = credential
        self.csrf = csrf
        self.expires = expires
    }

    /// How long a session lasts after sign-in, on every store.
    public static let lifetimeMilliseconds: UInt64 = 8 * 3_600_000

    /// A new random token (a cookie's or a form's): 256 bits from the system's generator, in hex.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

/// Where the dashboard's sessions live: in the process (`OfficeSessions`, a hub on SQLite, one
/// process) or in the database (a hub on PostgreSQL, so that any of its processes serves a
/// signed-in office). Calls may block on the database: the routes make them in the hub's lanes.
public protocol OfficeSessionStore: Sendable {
    /// Starts a session for an office site signed in with the credential of this hash; returns the
    /// cookie's token (which the store keeps only hashed, if it keeps it outside the process).
    func start(site: String, credential: String, now: UInt64) throws -> String
    /// The live session of a cookie's token, nil for none or one that has ended.
    func session(_ token: String?, now: UInt64) throws -> OfficeSession?
    /// Ends the session of the token, if any.
    func end(_ token: String?) throws
    /// Keeps a message for the session's next page (after a form's redirect).
    func flash(_ token: String?, _ message: String) throws
    /// The message kept for the session, once.
    func takeFlash(_ token: String?) throws -> String?
}
