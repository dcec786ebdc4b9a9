public import BegawiCore
public import BegawiHub
public import BegawiRules
import Foundation
public import Logging
import PostgresNIO

/// The hub's store on PostgreSQL: several hub processes on one database, each with a pool of
/// sessions, keeping nothing about a site between requests (docs/postgresql.md).
///
/// Opening a database (its tables made when missing, by several processes at once), the hub's
/// epoch, the site registry and credentials, health, published schemas, the feed's head, the
/// watchdog's probe, session, push and pull under the rules between agencies when it is opened
/// with them (`PostgresHubStore+Rules`). Catch-up refuses with a `BegawiError` saying it is not
/// built yet, and the `begawi` configuration does not select this store until it is.
///
/// `@unchecked Sendable`: the pool is thread-safe, and the caches (epoch, published versions) are
/// read and replaced under `lock`.
public final class PostgresHubStore: @unchecked Sendable {
    let pool: PostgresPool
    let clock: any WallClock
    /// Wakes the pulls held at the head of the feed when a push commits.
    public let feed = FeedNotifier()
    /// What this process's pulls acknowledged since its last housekeeping pass (`PostgresHubStore+Purge`).
    let purgeState = PurgeHorizon()
    private let lock = NSLock()
    private var epoch: String
    private var versions: SchemaVersions
    /// The latest published version's document (its tables and rules), nil before a first publish.
    private var current: SchemaDocument?
    /// Why this open gave the hub a new epoch (the database runs in another cluster or on another
    /// timeline than when it last ran), or nil; for the daemon's journal.
    public private(set) var epochChange: String?
    /// Wakes this process's held pulls when another process publishes (LISTEN/NOTIFY).
    let listener: PostgresFeedListener
    /// The rules between agencies this process serves with; nil when the schema declares none.
    public let policy: AccessPolicy?
    /// When the rules changed since the hub last ran: the rows newly granted per site by the
    /// recomputation at open (sites granted none left out); nil when they did not, or the hub never
    /// ran with rules. Set in `init` only.
    public private(set) var rulesRecomputed: [String: Int]?
    /// The erasure log (`erasure_log` in hub.toml), outside the database; nil when none is named
    /// (`PostgresHubStore+ErasureLog`).
    let erasureLog: ErasureLog?
    /// What makes a comparison or an order of row keys byte order, as SQLite's: nothing on a
    /// database whose collation is C (the primary key's order is byte order, and serves it), else
    /// `COLLATE "C"` (right, but no index serves it: each snapshot part sorts what remains of its
    /// table). Read at open (`keyCollation(on:)`).
    let byteOrder: String

    /// Opens the hub's database with at most `poolSize` sessions, making its tables when missing
    /// (several processes may open one database at once) and the hub's epoch on first open, and a
    /// new epoch when the database runs in another cluster or on another timeline than when it
    /// last ran (`epochChange` says why).
    ///
    /// With a `policy` (rules between agencies), the rules are checked against the published
    /// schema's tables and installed, and who may see what is recomputed when they changed since the
    /// hub last ran (`rulesRecomputed`); the exchange then serves only while the published schema
    /// declares these rules. `erasureLog` is the path of the erasure log, if any.
    public init(settings: PostgresSettings, poolSize: Int = 8, clock: any WallClock = SystemWallClock(), policy: AccessPolicy? = nil,
                erasureLog: String? = nil, logger: Logger = Logger(label: "begawi.postgres", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        let pool = try PostgresPool(settings: settings, size: poolSize, logger: logger)
        do {
            (epoch, versions, current, epochChange, rulesRecomputed) = try pool.withLink { link in
                try PostgresHubStore.install(on: link, clock: clock)
                let change = try PostgresHubStore.followCluster(on: link)
                let (versions, current) = try PostgresHubStore.versions(try PostgresHubStore.published(link))
                let recomputed = try policy.flatMap { try PostgresHubStore.installRules($0, schema: current?.schema, clock: clock, on: link) }
                return (try PostgresHubStore.readEpoch(link), versions, current, change, recomputed)
            }
            byteOrder = try pool.withLink { link in try PostgresHubStore.keyCollation(on: link) }
        } catch {
            pool.close()
            throw error
        }
        do {
            listener = try PostgresFeedListener(settings: settings, feed: feed)
        } catch {
            pool.close()
            throw error
        }
        self.pool = pool
        self.clock = clock
        self.policy = policy
        self.erasureLog = erasureLog.map(ErasureLog.init(path:))
    }

    /// Ends the process's sessions.
    public func close() {
        listener.close()
        pool.close()
    }

    /// The hub replica's id (its current epoch), as last read (at open, and at each `refresh`).
    public var hubReplicaID: String { lock.withLock { epoch } }

    /// Reads again what this process caches: the epoch (a restore changes it) and the published
    /// versions (another process may have published one). A round's session starts with it.
    public func refresh() throws {
        // A listening session the server ended listens again (held pulls meanwhile end at their timeout).
        try? listener.ensure()
        let (epoch, published) = try pool.withLink { link in (try PostgresHubStore.readEpoch(link), try PostgresHubStore.published(link)) }
        let (versions, current) = try PostgresHubStore.versions(published)
        lock.withLock {
            self.epoch = epoch
            self.versions = versions
            self.current = current
        }
    }

    var cachedVersions: SchemaVersions { lock.withLock { versions } }

    /// The latest published document as of the last `refresh`.
    var currentDocument: SchemaDocument? { lock.withLock { current } }

    /// The published versions parsed once, and the latest of them.
    static func versions(_ published: [PublishedSchema]) throws -> (SchemaVersions, SchemaDocument?) {
        let documents = try SchemaVersions.documents(published)
        return (SchemaVersions(published, documents: documents), documents.max { $0.version < $1.version })
    }

    /// Returns once the database answers a statement within the statement timeout (the watchdog's question).
    public func probe() throws {
        try pool.withLink { link in try link.query("SELECT 1") }
    }

    /// Rows and visibility events committed and not yet published: what sites cannot pull yet. Both
    /// counts use the partial indexes that publishing reads.
    public func feedWaiting() throws -> Int? {
        try pool.withLink { link in
            guard let row = try link.query("""
                SELECT (SELECT count(*) FROM _begawi_rows WHERE pending AND state IS NOT NULL) + (SELECT count(*) FROM _hub_feed WHERE pos IS NULL)
                """).first else { return 0 }
            return Int(clamping: try PostgresHubStore.decode("_begawi_rows") { try row.decode(Int64.self) })
        }
    }

    /// The last position given in the hub's feed.
    public func headSeq() throws -> UInt64 {
        try pool.withLink { link in
            guard let row = try link.query("SELECT pos FROM _begawi_feed_head").first else {
                throw PostgresHubStore.damaged("the feed's head (_begawi_feed_head) is missing")
            }
            let pos = try PostgresHubStore.decode("_begawi_feed_head") { try row.decode(Int64.self) }
            guard let head = UInt64(exactly: pos) else { throw PostgresHubStore.damaged("the feed's head (_begawi_feed_head) is negative") }
            return head
        }
    }

    static func readEpoch(_ link: PostgresLink) throws -> String {
        guard let row = try link.query("SELECT value FROM _begawi_state WHERE name = 'replica_id'").first else {
            throw damaged("the hub's replica id (_begawi_state) is missing")
        }
        return try decode("_begawi_state") { try row.decode(String.self) }
    }

    /// A value read back that the store never writes: the database was altered by hand or damaged.
    static func damaged(_ what: String) -> BegawiError {
        BegawiError(.corrupted, "\(what) in the hub's PostgreSQL database; restore the database from a backup (pg_dump)")
    }

    /// Decodes a row of `table`, a decoding failure being a damaged database (no value is quoted).
    static func decode<T>(_ table: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BegawiError {
            throw error
        } catch {
            throw BegawiError(.corrupted, "a row of \(table) in the hub's PostgreSQL database cannot be read; restore the database from a backup (pg_dump)",
                              cause: "\(type(of: error))")
        }
    }
}
