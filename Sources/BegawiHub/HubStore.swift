public import BegawiCore
public import BegawiRules
public import BegawiReplica

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
    /// Which of its credentials this is: `hub rotate-credential` moves it (see `HubStore.credentialGeneration`).
    public var credentialGeneration: Int64 = 1
}

/// The hub's storage behind one interface, so that another engine can replace SQLite later.
public protocol HubStore: Sendable {
    /// The current epoch (the hub replica's id).
    var epoch: String { get }
    /// Checks a bearer token; nil for an unknown, wrong or revoked credential.
    func authenticate(token: String) throws -> SiteRecord?
    /// Whether the credential whose secret hashes to `secretHash` is still the site's, and the site
    /// active: false once it is revoked or replaced, even by another process (a dashboard session
    /// asks at each request).
    func credentialIsCurrent(site: String, secretHash: String) throws -> Bool
    /// Starts a round for a site's replica; claims the replica for the site on first contact.
    func session(site: SiteRecord, replica: String, configuration: HubConfiguration) throws -> HubSession
    /// Applies a site's batch in one transaction; returns only after commit.
    func push(site: SiteRecord, replica: String, batch: ChangeBatch) throws -> PushOutcome
    /// Records a site's session: its contact time and what it reported about itself.
    func noteSession(site: String, replica: String, report: SiteReport) throws
    /// Every registered site's health (last contact, last report, totals of its pushes).
    func health() throws -> [SiteHealth]
    /// The number of the latest change in the hub's feed.
    func headSequence() throws -> UInt64
    /// Enrollments by partner × program × status (`begawi hub report`, the dashboard).
    func enrollmentReport(_ filter: ReportFilter) throws -> EnrollmentReport
    /// The conflict ledger, newest first, with what the office did about each entry.
    func conflictReviews(limit: Int) throws -> [ConflictReview]
    /// Writes a conflict's losing value back as the hub's change.
    func reapply(conflict id: Int64, by: String) throws -> ConflictLedgerEntry
    /// Returns once the store could take its write lock (for the service manager's watchdog).
    func probe() throws
    /// The next page of the change feed for a site's replica, encoded for the wire.
    func pull(site: SiteRecord, replica: String, after cursor: ExchangeCursor, maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8])
}
