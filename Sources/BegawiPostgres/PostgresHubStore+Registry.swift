import BegawiCore
public import BegawiHub
public import BegawiRules
import PostgresNIO

/// The site registry and credentials, in `_hub_sites`: every check reads the database, so a
/// credential revoked or replaced through one hub process is refused by all from their next request.
extension PostgresHubStore {
    private static let siteColumns = "id, kind, name, created_at, revoked_at, credential_generation"

    /// Adds a site and returns its new credential (shown once; only its hash is kept).
    public func addSite(id: String, kind: SiteKind, name: String) throws -> SiteCredential {
        try SiteRegistry.validateNew(id: id, name: name)
        let credential = SiteCredential.generate(for: id)
        let now = Int64(clamping: clock.nowMilliseconds())
        // ON CONFLICT: two processes adding one id at once, one of them is refused, not failed.
        let added = try pool.withLink { link in
            try link.query("""
                INSERT INTO _hub_sites (id, kind, name, secret_sha256, created_at)
                VALUES (\(id), \(kind.rawValue), \(name), \(credential.secretHash), \(now)) ON CONFLICT (id) DO NOTHING RETURNING id
                """)
        }
        guard !added.isEmpty else { throw SiteRegistry.exists(id) }
        return credential
    }

    /// Revokes a site's credential: its requests are refused from now on; its data stays.
    public func revokeSite(id: String) throws {
        let now = Int64(clamping: clock.nowMilliseconds())
        let revoked = try pool.withLink { link in
            try link.query("UPDATE _hub_sites SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING id")
        }
        guard !revoked.isEmpty else { throw SiteRegistry.notActive(id) }
    }

    /// Gives a site a new credential and refuses the old one from the next request on. A revoked
    /// site becomes active again with the new credential; its data and replicas stay.
    public func rotateCredential(id: String) throws -> SiteCredential {
        try SiteRegistry.validate(id: id)
        let credential = SiteCredential.generate(for: id)
        let now = Int64(clamping: clock.nowMilliseconds())
        let rotated = try pool.withLink { link in
            try link.query("""
                UPDATE _hub_sites SET secret_sha256 = \(credential.secretHash), revoked_at = NULL,
                    credential_generation = credential_generation + 1, credential_changed_at = \(now)
                WHERE id = \(id) RETURNING id
                """)
        }
        guard !rotated.isEmpty else { throw SiteRegistry.unknown(id) }
        return credential
    }

    /// The generation of a site's current credential (moved by each rotation); nil when the site is
    /// unknown or revoked.
    public func credentialGeneration(site: String) throws -> Int64? {
        try pool.withLink { link in
            guard let row = try link.query("SELECT credential_generation FROM _hub_sites WHERE id = \(site) AND revoked_at IS NULL").first else {
                return nil
            }
            return try PostgresHubStore.decode("_hub_sites") { try row.decode(Int64.self) }
        }
    }

    /// Every registered site.
    public func sites() throws -> [SiteRecord] {
        try pool.withLink { link in
            try link.query("SELECT \(unescaped: PostgresHubStore.siteColumns) FROM _hub_sites ORDER BY id").map(PostgresHubStore.site)
        }
    }

    /// Checks a bearer token; nil for an unknown, wrong or revoked credential.
    public func authenticate(token: String) throws -> SiteRecord? {
        guard let credential = SiteCredential.parse(token) else { return nil }
        return try pool.withLink { link in
            guard let row = try link.query("""
                SELECT \(unescaped: PostgresHubStore.siteColumns), secret_sha256 FROM _hub_sites WHERE id = \(credential.siteID)
                """).first else { return nil }
            let stored = try PostgresHubStore.decode("_hub_sites") { try row.makeRandomAccess()["secret_sha256"].decode(String.self) }
            guard SiteRegistry.matches(stored: stored, presented: credential.secretHash) else { return nil }
            let site = try PostgresHubStore.site(row)
            return site.revokedAt == nil ? site : nil
        }
    }

    /// Whether the credential whose secret hashes to `secretHash` is still the site's, and the site active.
    public func credentialIsCurrent(site: String, secretHash: String) throws -> Bool {
        try pool.withLink { link in
            guard let row = try link.query("SELECT secret_sha256 FROM _hub_sites WHERE id = \(site) AND revoked_at IS NULL").first else {
                return false
            }
            let stored = try PostgresHubStore.decode("_hub_sites") { try row.decode(String.self) }
            return SiteRegistry.matches(stored: stored, presented: secretHash)
        }
    }

    /// A site's record as stored; a kind Begawi never writes is a damaged database.
    static func site(_ row: PostgresRow) throws -> SiteRecord {
        let (id, kind, name, createdAt, revokedAt, generation) = try decode("_hub_sites") {
            try row.decode((String, String, String, Int64, Int64?, Int64).self)
        }
        return SiteRecord(id: id, kind: try SiteRegistry.kind(kind, site: id), name: name, createdAt: createdAt,
                          revokedAt: revokedAt, credentialGeneration: generation)
    }
}
