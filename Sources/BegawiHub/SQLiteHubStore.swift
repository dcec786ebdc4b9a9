public import BegawiCore
public import BegawiRules
import BegawiReplica
import Foundation
internal import GRDB

/// The hub's store on one SQLite file: a replica made by the engine (the merged data and the change
/// feed) plus the site registry, in the same file so that one backup holds both, through the
/// replica's one connection pool: a push's claim, merge, rules and health commit together.
///
/// `@unchecked Sendable`: every stored property is immutable after `init`, and the replica's
/// connection pool is thread-safe (one writer at a time, concurrent readers in WAL mode).
public final class SQLiteHubStore: HubStore, @unchecked Sendable {
    /// The hub's site id in the stamps of its own writes (the office's re-apply), in every epoch;
    /// their counters never fall below the hub's clock (`Replica.keepCounterAtClock`).
    public static let hubSiteID = "hub"

    let replica: Replica
    let clock: any WallClock
    /// The rules between agencies; nil when the schema declares none (every site sees everything).
    public let policy: AccessPolicy?
    /// The schema file's tables, for the columns' limits in force; nil to use those installed.
    let declared: Schema?
    /// When the rules changed since the hub last ran: the rows newly granted per site by the
    /// recomputation at open (sites granted none left out); nil when they did not. Set in `init` only.
    public private(set) var rulesRecomputed: [String: Int]?
    /// The published versions, for sites that hold an older one.
    let versions: SchemaVersions
    /// What the sites acknowledged since the last housekeeping pass, and the horizon purged through.
    let purgeState = PurgeHorizon()
    /// The erasures, also outside the database (see `SQLiteHubStore+ErasureLog`).
    let erasureLog: ErasureLog
    /// What the open with rules did to bring the database and the erasure log into agreement; nil without rules.
    public private(set) var erasuresReconciled: ErasureReconciliation?
    /// Wakes the pulls held at the head of the feed when a push commits.
    public let feed = FeedNotifier()

    /// The hub replica's id (its current epoch).
    public var hubReplicaID: String { replica.replicaID }
    /// The synced tables.
    public var schema: Schema { replica.schema }

    /// Pages the write-ahead log may hold before a commit folds it into the file (32 MB of 4 KB pages).
    static let checkpointPages = 8_192

    static let registrySQL = """
        CREATE TABLE IF NOT EXISTS _hub_sites(
            id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, secret_sha256 TEXT NOT NULL,
            created_at INTEGER NOT NULL, revoked_at INTEGER) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _hub_replicas(
            replica TEXT PRIMARY KEY NOT NULL, site TEXT NOT NULL, first_seen INTEGER NOT NULL) WITHOUT ROWID;
        """

    /// Creates a new hub database with the schema.
    public static func create(at path: String, schema: Schema, clock: any WallClock = SystemWallClock()) throws {
        let replica = try Replica.create(at: path, siteID: hubSiteID, schema: schema, clock: clock)
        try installRegistry(replica)
        try replica.close()
    }

    /// Opens the hub database. With a policy, its rules are checked against the database's tables,
    /// and who may see what is recomputed when the rules changed since the last start. With the
    /// schema file's tables (`declared`), values are judged by the limits it declares now. With a
    /// policy, erasures of the log at `erasureLog` (nil: `<path>.erasures`) that the database lacks
    /// are applied again before the store is used.
    public init(path: String, clock: any WallClock = SystemWallClock(), policy: AccessPolicy? = nil, declared: Schema? = nil,
                erasureLog: String? = nil) throws {
        replica = try Replica.open(at: path, clock: clock)
        try SQLiteHubStore.installRegistry(replica)
        // A push under the rules writes thousands of pages (rows keyed by a hash, their merge state,
        // visibility, audit): folded into the file after every 1,000 (SQLite's default), nearly every
        // push paid a checkpoint and its fsyncs (9 % of the hub's CPU in an ingest). Pages that later
        // pushes write again are folded once per checkpoint.
        try replica.ownerWrite { db in _ = try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint = \(SQLiteHubStore.checkpointPages)") }
        self.clock = clock
        self.policy = policy
        self.declared = declared
        self.erasureLog = ErasureLog(path: erasureLog ?? HubRetention().erasureLog(database: path))
        let published = try SQLiteHubStore.published(replica)
        versions = SchemaVersions(published, documents: try SQLiteHubStore.documents(published))
        if let policy {
            rulesRecomputed = try installRules(policy)
            erasuresReconciled = try reconcileErasures(policy)
        }
    }

    /// Creates the registry's tables, or brings those of an older hub database up to date.
    static func installRegistry(_ replica: Replica) throws {
        do {
            try replica.ownerWrite { db in
                try db.execute(sql: registrySQL + healthSQL + reappliedSQL + purgeSQL + unsettledSQL)
                try migrateRegistry(db)
                try migrateHealth(db)
            }
            // Older hub files too: a restored copy must sign its writes above the lost hub's.
            try replica.keepCounterAtClock()
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "cannot set up the hub's tables in \(replica.path)", cause: "\(error)")
        }
    }

    /// Closes the store.
    public func close() throws {
        try replica.close()
    }

    // MARK: registry

    /// Adds a site and returns its new credential (shown once; only its hash is kept).
    public func addSite(id: String, kind: SiteKind, name: String) throws -> SiteCredential {
        try SiteRegistry.validateNew(id: id, name: name)
        let credential = SiteCredential.generate(for: id)
        try replica.ownerWrite { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM _hub_sites WHERE id = ?", arguments: [id]) != nil {
                throw SiteRegistry.exists(id)
            }
            try db.execute(sql: "INSERT INTO _hub_sites(id, kind, name, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, kind.rawValue, name, credential.secretHash, Int64(clock.nowMilliseconds())])
        }
        return credential
    }

    /// Revokes a site's credential: its requests are refused from now on; its data stays.
    public func revokeSite(id: String) throws {
        try replica.ownerWrite { db in
            try db.execute(sql: "UPDATE _hub_sites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Int64(clock.nowMilliseconds()), id])
            if db.changesCount == 0 {
                throw SiteRegistry.notActive(id)
            }
        }
    }

    /// Every registered site.
    public func sites() throws -> [SiteRecord] {
        try replica.ownerRead { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, name, created_at, revoked_at, credential_generation FROM _hub_sites ORDER BY id").map(SQLiteHubStore.site)
        }
    }

    /// A site's record as stored (a kind no version of Begawi writes is refused: `SiteRegistry.kind`).
    static func site(_ row: Row) throws -> SiteRecord {
        let id: String = try row.decode(forColumn: "id")
        let kind = try SiteRegistry.kind(String.fromDatabaseValue(row["kind"] as DatabaseValue), site: id)
        return SiteRecord(id: id, kind: kind, name: try row.decode(forColumn: "name"),
                          createdAt: try row.decode(forColumn: "created_at"), revokedAt: try row.decode(forColumn: "revoked_at"),
                          credentialGeneration: try row.decode(forColumn: "credential_generation"))
    }

    public func authenticate(token: String) throws -> SiteRecord? {
        guard let credential = SiteCredential.parse(token) else { return nil }
        return try replica.ownerRead { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, kind, name, created_at, revoked_at, credential_generation, secret_sha256 FROM _hub_sites WHERE id = ?",
                                             arguments: [credential.siteID]) else { return nil }
            let stored: String = row["secret_sha256"]
            guard SiteRegistry.matches(stored: stored, presented: credential.secretHash) else { return nil }
            let site = try SQLiteHubStore.site(row)
            return site.revokedAt == nil ? site : nil
        }
    }

    public func credentialIsCurrent(site: String, secretHash: String) throws -> Bool {
        try replica.ownerRead { db in
            guard let stored = try String.fetchOne(db, sql: "SELECT secret_sha256 FROM _hub_sites WHERE id = ? AND revoked_at IS NULL",
                                                   arguments: [site]) else { return false }
            return SiteRegistry.matches(stored: stored, presented: secretHash)
        }
    }

    /// Claims a replica id for a site, or refuses one that another site uses: a read, and a write
    /// only on the replica's first contact.
    func claim(replica id: String, for site: SiteRecord) throws {
        try SQLiteHubStore.requireReplicaID(id)
        if try replica.read({ context in try claimed(replica: id, for: site, context) }) { return }
        try replica.write { context in try claim(replica: id, for: site, context) }
    }

    /// Claims a replica id for a site inside a write transaction (see `claim(replica:for:)`).
    func claim(replica id: String, for site: SiteRecord, _ context: ReplicaContext) throws {
        if try claimed(replica: id, for: site, context) { return }
        try context.execute("INSERT INTO _hub_replicas(replica, site, first_seen) VALUES (?, ?, ?)",
                            [.text(id), .text(site.id), .integer(Int64(clock.nowMilliseconds()))])
    }

    /// Whether the site holds the replica id already; throws when another site does.
    func claimed(replica id: String, for site: SiteRecord, _ context: ReplicaContext) throws -> Bool {
        guard let owner = try context.query("SELECT site FROM _hub_replicas WHERE replica = ?", [.text(id)]).first?.first?.text else {
            return false
        }
        guard owner == site.id else {
            throw BegawiError(.unauthorized, "replica \(id) belongs to another site; each site syncs its own replica")
        }
        return true
    }

    /// Refuses a replica id that is not a UUID (both stores check the request's header so).
    package static func requireReplicaID(_ id: String) throws {
        guard UUIDText.parse(id) != nil else {
            throw BegawiError(.invalidArgument, "the \(WireHeader.replica) header must be the site replica's id (a UUID)")
        }
    }

    // MARK: exchange

    public func session(site: SiteRecord, replica id: String, configuration: HubConfiguration) throws -> HubSession {
        try claim(replica: id, for: site)
        var session = HubSession(site: site.id, hubReplicaID: replica.replicaID, lineage: try replica.lineage(),
                                 pushCursor: try replica.cursor(for: id),
                                 maxClockSkewMilliseconds: configuration.maxClockSkewMilliseconds,
                                 maxBodyBytes: configuration.maxBodyBytes, pageRows: configuration.pageRows,
                                 schemaVersion: versions.current, schemaDigest: versions.current.flatMap { versions.published[$0]?.digest })
        session.purgeBefore = purgeBefore(retention: configuration.retention)
        return session
    }

    /// A published schema version, as published (read when the store opened).
    public func publishedSchema(version: Int) -> PublishedSchema? { versions.published[version] }

    /// The latest published schema version when the store opened; nil for a hub that records none.
    public var currentSchemaVersion: Int? { versions.current }

    /// Claims the replica, merges the batch under the rules and counts the push in the site's health,
    /// all in one transaction of the replica.
    public func push(site: SiteRecord, replica id: String, batch: ChangeBatch, schemaVersion: Int? = nil) throws -> PushOutcome {
        try SQLiteHubStore.requireReplicaID(id)
        let projection = try versions.schema(forSiteAt: schemaVersion)
        let companion = ApplyCompanion(before: { [self] context in
            try claim(replica: id, for: site, context)
            guard batch.replicaID == id else {
                throw BegawiError(.badBatch, "the batch names source \(batch.replicaID) but the request names replica \(id); send each replica's own batches")
            }
        }, after: { [self] context, result in
            // The office's figures count every ledger entry; the site's answer only those of rows it wrote.
            try notePush(site: site.id, rows: batch.rows.count, result: result, context)
            try noteRefusals(replica: id, result: result, context)
        })
        return try merge(site: site, batch: batch, companion: companion, projection: projection)
    }

    /// Merges a site's batch, under the rules if there are any, with the companion's steps in the
    /// same transaction: the answer for the site.
    func merge(site: SiteRecord, batch: ChangeBatch, companion: ApplyCompanion, projection: Schema? = nil) throws -> PushOutcome {
        // Without rules, values are still checked against their columns' limits, in a gate only when
        // the batch holds one that may be refused.
        let gate = try purgedGate(around: policy.map { HubGate(site: site, siteID: site.id, policy: $0, declared: declared, now: Int64(clock.nowMilliseconds())) }
            ?? (ValueGate.mayRefuse(batch, schema: declared ?? replica.schema) ? ValueGate(declared: declared) : nil))
        let result = try replica.apply(batch, gate: gate, companion: companion)
        if result.rowsChanged > 0 { feed.committed() }
        return PushOutcome(cursor: result.cursor, rowsChanged: result.rowsChanged, conflicts: result.conflicts,
                           refused: result.refused, restore: try restoreBatch(result.refused, site: site, projection: projection))
    }

    /// The next page of the feed for a site, cut to the tables and columns of its schema version. A
    /// `fresh` copy (a re-baseline) includes the rows the site sent itself.
    public func pull(site: SiteRecord, replica id: String, after cursor: ExchangeCursor, maxRows: Int,
                     schemaVersion: Int? = nil, fresh: Bool = false) throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        let projection = try versions.schema(forSiteAt: schemaVersion)
        try claim(replica: id, for: site)
        try admitPull(site: site.id, replica: id, after: cursor)
        let limits = BatchLimits(maxRows: maxRows), receiver = fresh ? nil : id
        let page: (batch: ChangeBatch, bytes: [UInt8])
        if let projection {
            // A site that has not migrated gets the columns and tables its version holds, by name.
            let batch = try replica.export(after: cursor, for: receiver, limits: limits, view: view(for: site)).projected(onto: projection)
            page = (batch, try BatchCodec.encode(batch))
        } else {
            page = try replica.exportEncoded(after: cursor, for: receiver, limits: limits, view: view(for: site))
        }
        try refusePastHorizon(site: site.id, cursor)
        return page
    }

    /// What a site may receive; nil without rules.
    func view(for site: SiteRecord) -> HubSiteView? {
        policy.map { HubSiteView(site: site.id, isOffice: site.kind == .office, policy: $0) }
    }

    public func probe() throws { try replica.probeWriter() }

    /// The hub's cursor for a replica.
    public func cursor(forReplica id: String) throws -> ExchangeCursor { try replica.cursor(for: id) }

    /// Writes a consistent backup while the hub runs; the copy gets a new epoch (see `Replica.backup`).
    public func backup(to path: String) throws { try replica.backup(to: path) }

    /// The merged rows of a table, for reports and tests.
    public func rows(of table: String) throws -> [String: [SQLValue]] { try replica.rows(of: table) }

    /// The conflict ledger.
    public func conflicts() throws -> [ConflictLedgerEntry] { try replica.conflicts() }
}
