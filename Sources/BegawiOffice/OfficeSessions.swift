import BegawiCore
import Foundation

/// The office's dashboard sessions, in memory: a random token in an HttpOnly, Secure,
/// SameSite=Strict cookie names the office site that signed in, with a token that every form
/// carries back (against cross-site requests). Sessions end after `lifetime`, at sign-out, when the
/// credential they were opened with is revoked or replaced (checked at each request), and all of
/// them when the hub restarts.
final class OfficeSessions: @unchecked Sendable {
    struct Session {
        let site: String
        /// The hash of the credential that opened the session (the store's `credentialIsCurrent`).
        let credential: String
        let csrf: String
        let expires: UInt64
    }

    private let lock = NSLock()
    private var sessions: [String: Session] = [:]
    /// One message per session for the next page it opens (after a form's redirect).
    private var flashes: [String: String] = [:]
    let lifetimeMilliseconds: UInt64 = 8 * 3_600_000
    static let cookie = "begawi_office"

    /// Starts a session for an office site signed in with the credential of this hash; returns its
    /// cookie token.
    func start(site: String, credential: String, now: UInt64) -> String {
        let token = OfficeSessions.random()
        lock.withLock {
            sessions = sessions.filter { $0.value.expires > now }
            flashes = flashes.filter { sessions[$0.key] != nil }
            sessions[token] = Session(site: site, credential: credential, csrf: OfficeSessions.random(), expires: now + lifetimeMilliseconds)
        }
        return token
    }

    /// The live session of a cookie token.
    func session(_ token: String?, now: UInt64) -> Session? {
        guard let token else { return nil }
        return lock.withLock {
            guard let s = sessions[token], s.expires > now else { sessions[token] = nil; return nil }
            return s
        }
    }

    func end(_ token: String?) {
        guard let token else { return }
        lock.withLock {
            sessions[token] = nil
            flashes[token] = nil
        }
    }

    /// Keeps a message for the session's next page.
    func flash(_ token: String?, _ message: String) {
        guard let token else { return }
        lock.withLock { flashes[token] = message }
    }

    /// The message kept for the session, once.
    func takeFlash(_ token: String?) -> String? {
        guard let token else { return nil }
        return lock.withLock {
            defer { flashes[token] = nil }
            return flashes[token]
        }
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}
