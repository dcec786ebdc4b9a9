import BegawiCore
import Foundation

/// The office's dashboard sessions in memory (a hub on SQLite: one process): a random token in an
/// HttpOnly, Secure, SameSite=Strict cookie names the office site that signed in, with a token that
/// every form carries back (against cross-site requests). Sessions end after
/// `OfficeSession.lifetimeMilliseconds`, at sign-out, when the credential they were opened with is
/// revoked or replaced (checked at each request), and all of them when the hub restarts.
final class OfficeSessions: OfficeSessionStore, @unchecked Sendable {
    private let lock = NSLock()
    private var sessions: [String: OfficeSession] = [:]
    /// One message per session for the next page it opens (after a form's redirect).
    private var flashes: [String: String] = [:]
    static let cookie = "begawi_office"

    /// Starts a session for an office site signed in with the credential of this hash; returns its
    /// cookie token.
    func start(site: String, credential: String, now: UInt64) -> String {
        let token = OfficeSession.randomToken()
        lock.withLock {
            sessions = sessions.filter { $0.value.expires > now }
            flashes = flashes.filter { sessions[$0.key] != nil }
            sessions[token] = OfficeSession(site: site, credential: credential, csrf: OfficeSession.randomToken(),
                                            expires: now + OfficeSession.lifetimeMilliseconds)
        }
        return token
    }

    /// The live session of a cookie token.
    func session(_ token: String?, now: UInt64) -> OfficeSession? {
        guard let token else { return nil }
        return lock.withLock {
            guard let s = sessions[token], s.expires > now else { sessions[token] = nil; return nil }
            return s
        }
    }

    /// Ends the session of the token.
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
}
