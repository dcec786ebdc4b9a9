public import BegawiRules

/// A site as the hub knows it.
public struct SiteRecord: Sendable, Equatable, Codable {
    /// The site's id.
    public var id: String
    /// What kind of partner it is.
    public var kind: SiteKind
    /// The partner's name.
    public var name: String
    /// When it was added (ms since the Unix epoch).
    public var createdAt: Int64
    /// When its credential was revoked, if it was.
    public var revokedAt: Int64?
    /// Which of its credentials this is: `hub rotate-credential` moves it (see `SQLiteHubStore.credentialGeneration`).
    public var credentialGeneration: Int64 = 1

    /// Makes a site's record (as a store reads it back).
    public init(id: String, kind: SiteKind, name: String, createdAt: Int64, revokedAt: Int64? = nil, credentialGeneration: Int64 = 1) {
        self.id = id
        self.kind = kind
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.credentialGeneration = credentialGeneration
    }
}
