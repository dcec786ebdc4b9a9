public import BegawiCore

/// What sync needs of the hub's storage (credentials, sessions, push, pull, health, backup), behind
/// one narrow interface that names no storage engine, so that another (PostgreSQL) can replace
/// SQLite. The office's reads are not here: they have their own protocol in its target.
public protocol HubStore: Sendable {
    /// The hub replica's id (its current epoch).
    var hubReplicaID: String { get }
    /// Checks a bearer token; nil for an unknown, wrong or revoked credential.
    func authenticate(token: String) throws -> SiteRecord?
    /// Whether the credential whose secret hashes to `secretHash` is still the site's, and the site
    /// active: false once it is revoked or replaced, even by another process (a dashboard session
    /// asks at each request).
    func credentialIsCurrent(site: String, secretHash: String) throws -> Bool
    /// Starts a round for a site's replica; claims the replica for the site on first contact.
    func session(site: SiteRecord, replica: String, configuration: HubConfiguration) throws -> HubSession
    /// Applies a site's batch in one transaction; returns only after commit. Rows given back whole
    /// (refused ones) hold only the tables and columns of the site's `schemaVersion` (nil: the oldest published).
    func push(site: SiteRecord, replica: String, batch: ChangeBatch, schemaVersion: Int?) throws -> PushOutcome
    /// What the replica's last push refused, as its answer said it (the rows to restore as the hub
    /// holds them now, cut to the site's `schemaVersion`), so that a site whose answer was lost hears
    /// it at its next session; nil when that push refused nothing.
    func unsettledRefusals(site: SiteRecord, replica: String, schemaVersion: Int?) throws -> PushOutcome?
    /// The latest published schema version; nil for a hub that records none.
    var currentSchemaVersion: Int? { get }
    /// A published schema version, as published; nil for one never published.
    func publishedSchema(version: Int) -> PublishedSchema?
    /// Records a site's session: its contact time and what it reported about itself.
    func noteSession(site: String, replica: String, report: SiteReport) throws
    /// Records a held pull's contact time: an idle site that only holds pulls is still in touch.
    func noteContact(site: String) throws
    /// Wakes the pulls held at the head of the feed when something is committed.
    var feed: FeedNotifier { get }
    /// Records a request refused as too old: its contact time and the versions it named.
    func noteRefused(site: String, daemonVersion: DaemonVersion?, schemaVersion: Int) throws
    /// Every registered site's health (last contact, last report, totals of its pushes).
    func health() throws -> [SiteHealth]
    /// The number of the latest change in the hub's feed.
    func headSeq() throws -> UInt64
    /// How many committed changes wait for a place in the feed (sites cannot pull them yet), for the
    /// metrics; nil for a store whose commit places them (SQLite).
    func feedWaiting() throws -> Int?
    /// Returns once the store could take its write lock (for the service manager's watchdog).
    func probe() throws
    /// The next page of the change feed for a site's replica, encoded for the wire, with only the
    /// tables and columns of the site's `schemaVersion` (nil: the oldest published); a version never published is refused,
    /// and a cursor below the purge horizon too (`past-horizon`). A `fresh` copy includes the rows the site sent itself.
    func pull(site: SiteRecord, replica: String, after cursor: ExchangeCursor, maxRows: Int, schemaVersion: Int?, fresh: Bool) throws -> (batch: ChangeBatch, bytes: [UInt8])
    /// A new replica's first pull as a snapshot: the next part of a table's rows the site may see,
    /// gzip-compressed unless not `compressed`; nil when the site's schema version is not the current one (it pulls pages).
    func snapshotPart(site: SiteRecord, replica id: String, table: String, after: String?, maxRows: Int,
                      schemaVersion: Int?, compressed: Bool) throws -> (rows: Int, bytes: [UInt8])?
    /// After a site migrated from `fromVersion`: the next page of rows holding values of what later
    /// versions added, whole, after `afterSeq`, and where the next page starts (nil after the last).
    func catchUp(site: SiteRecord, replica: String, fromVersion: Int, schemaVersion: Int?, afterSeq: UInt64,
                 maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8], next: UInt64?)
    /// Writes a consistent copy of the store while the hub runs; the copy gets a new epoch.
    func backup(to path: String) throws
    /// Where wrong credentials are counted beside the process's own buckets: nil when the process
    /// alone serves the store (SQLite), the database's counts when several processes may share it.
    func sharedAuthFailures() -> (any SharedAuthFailures)?
}

extension HubStore {
    /// Nil: a push's commit gives its changes their places in the feed.
    public func feedWaiting() throws -> Int? { nil }
    /// Nil: one process serves the store, and its own buckets count every failure.
    public func sharedAuthFailures() -> (any SharedAuthFailures)? { nil }
}
