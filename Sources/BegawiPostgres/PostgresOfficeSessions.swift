import BegawiCore
import BegawiOffice
import PostgresNIO

/// The office's dashboard sessions in the hub's PostgreSQL database (`_hub_sessions`), so that any
/// hub process on it serves a signed-in office, and a sign-out or a session's end through one
/// process holds in every other. A row is keyed by the SHA-256 of the cookie's token, never the
/// token: whoever reads the table cannot sign in with what it holds. Lifetime, sign-out, the form
/// token (CSRF) and the one-time message are those of the in-memory sessions (`OfficeSessions`);
/// the revocation check at each request is the routes' (`OfficeRoutes.page`).
struct PostgresOfficeSessions: OfficeSessionStore {
    let pool: PostgresPool

    /// The sessions' table, made at open (`PostgresHubStore.officeTables`).
    static let table: PostgresQuery = """
        CREATE TABLE IF NOT EXISTS _hub_sessions (
            id text PRIMARY KEY, site text NOT NULL, credential text NOT NULL, csrf text NOT NULL, expires bigint NOT NULL, flash text)
        """

    /// The row's key for a cookie's token.
    static func id(_ token: String) -> String { Hashing.sha256Hex(Array(token.utf8)) }

    /// Starts a session (ended ones are removed first, as in memory); returns the cookie's token.
    func start(site: String, credential: String, now: UInt64) throws -> String {
        let token = OfficeSession.randomToken()
        let at = Int64(clamping: now), expires = Int64(clamping: now + OfficeSession.lifetimeMilliseconds)
        try pool.withLink { link in
            try link.query("DELETE FROM _hub_sessions WHERE expires <= \(at)")
            try link.query("""
                INSERT INTO _hub_sessions (id, site, credential, csrf, expires)
                VALUES (\(PostgresOfficeSessions.id(token)), \(site), \(credential), \(OfficeSession.randomToken()), \(expires))
                """)
        }
        return token
    }

    /// The live session of a cookie's token.
    func session(_ token: String?, now: UInt64) throws -> OfficeSession? {
        guard let token else { return nil }
        let at = Int64(clamping: now)
        return try pool.withLink { link in
            guard let row = try link.query("""
                SELECT site, credential, csrf, expires FROM _hub_sessions WHERE id = \(PostgresOfficeSessions.id(token)) AND expires > \(at)
                """).first else { return nil }
            let (site, credential, csrf, expires) = try PostgresHubStore.decode("_hub_sessions") { try row.decode((String, String, String, Int64).self) }
            guard let ends = UInt64(exactly: expires) else { throw PostgresHubStore.damaged("a session's end (_hub_sessions) is negative") }
            return OfficeSession(site: site, credential: credential, csrf: csrf, expires: ends)
        }
    }

    /// Ends the token's session, in every process.
    func end(_ token: String?) throws {
        guard let token else { return }
        try pool.withLink { link in try link.query("DELETE FROM _hub_sessions WHERE id = \(PostgresOfficeSessions.id(token))") }
    }

    /// Keeps a message for the session's next page, whichever process serves it.
    func flash(_ token: String?, _ message: String) throws {
        guard let token else { return }
        try pool.withLink { link in
            try link.query("UPDATE _hub_sessions SET flash = \(message) WHERE id = \(PostgresOfficeSessions.id(token))")
        }
    }

    /// The message kept for the session, once (taken and cleared in one statement).
    func takeFlash(_ token: String?) throws -> String? {
        guard let token else { return nil }
        return try pool.withLink { link in
            let rows = try link.query("""
                UPDATE _hub_sessions s SET flash = NULL
                FROM (SELECT id, flash FROM _hub_sessions WHERE id = \(PostgresOfficeSessions.id(token)) AND flash IS NOT NULL FOR UPDATE) AS old
                WHERE s.id = old.id RETURNING old.flash
                """)
            guard let row = rows.first else { return nil }
            return try PostgresHubStore.decode("_hub_sessions") { try row.decode(String?.self) }
        }
    }
}
