public import BegawiCore
public import BegawiRules
public import BegawiReplica
import Foundation
internal import GRDB

/// The hub's store on one SQLite file: a replica made by the engine (the merged data and the change
/// feed) plus the site registry, in the same file so that one backup holds both.
///
/// `@unchecked Sendable`: every stored property is immutable after `init`, and both connection pools
/// are thread-safe (one writer at a time, concurrent readers in WAL mode).
public final class SQLiteHubStore: HubStore, @unchecked Sendable {
    /// The hub's site id in stamps (the hub itself writes nothing yet).
    public static let hubSiteID = "hub"

    let replica: Replica
    let registry: DatabasePool
    let clock: any WallClock
    /// The rules between agencies; nil when the schema declares none (every site sees everything).
    public let policy: AccessPolicy?
    /// The schema file's tables, for the columns' limits in force; nil to use those installed.
    let declared: Schema?

    /// The current epoch.
    public var epoch: String { replica.replicaID }
    /// The synced tables.
    public var schema: Schema { replica.schema }

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
        try replica.close()
        let pool = try openRegistry(path)
        try pool.write { db in
            try db.execute(sql: registrySQL + healthSQL + reappliedSQL)
            try migrateRegistry(db)
        }
        try pool.close()
    }

    /// Opens the hub database. With a policy, its rules are checked against the database's tables,
    /// and who may see what is recomputed when the rules changed since the last start. With the
    /// schema file's tables (`declared`), values are judged by the limits it declares now.
    public init(path: String, clock: any WallClock = SystemWallClock(), policy: AccessPolicy? = nil, declared: Schema? = nil) throws {
        replica = try Replica.open(at: path, clock: clock)
        registry = try SQLiteHubStore.openRegistry(path)
        try registry.write { db in
            try db.execute(sql: SQLiteHubStore.registrySQL + SQLiteHubStore.healthSQL + SQLiteHubStore.reappliedSQL)
            try SQLiteHubStore.migrateRegistry(db)
        }
        self.clock = clock
        self.policy = policy
        self.declared = declared
        if let policy { try installRules(policy) }
    }

    static func openRegistry(_ path: String) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        do {
            return try DatabasePool(path: path, configuration: config)
        } catch {
            throw BegawiError(.storage, "cannot open the hub database \(path)", cause: "\(error)")
        }
    }

    /// Closes the store.
    public func close() throws {
        try registry.close()
        try replica.close()
    }

    // MARK: registry

    /// Adds a site and returns its new credential (shown once; only its hash is kept).
    public func addSite(id: String, kind: SiteKind, name: String) throws -> SiteCredential {
        try SiteID.validate(id)
        guard id != SQLiteHubStore.hubSiteID else {
            throw BegawiError(.invalidArgument, "'\(id)' is the hub's own id; choose another site id")
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.utf8.count <= 200 else {
            throw BegawiError(.invalidArgument, "a site needs a name of 1–200 characters")
        }
        let credential = SiteCredential.generate(for: id)
        try registry.write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM _hub_sites WHERE id = ?", arguments: [id]) != nil {
                throw BegawiError(.invalidArgument, "site '\(id)' already exists; for a new credential run `begawi hub rotate-credential --id \(id)`, or choose another id")
            }
            try db.execute(sql: "INSERT INTO _hub_sites(id, kind, name, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, kind.rawValue, name, credential.secretHash, Int64(clock.nowMilliseconds())])
        }
        return credential
    }

    /// Revokes a site's credential: its requests are refused from now on; its data stays.
    public func revokeSite(id: String) throws {
        try registry.write { db in
            try db.execute(sql: "UPDATE _hub_sites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Int64(clock.nowMilliseconds()), id])
            if db.changesCount == 0 {
                throw BegawiError(.invalidArgument, "no active site '\(id)'; `begawi hub sites` lists them")
            }
        }
    }

    /// Every registered site.
    public func sites() throws -> [SiteRecord] {
        try registry.read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, name, created_at, revoked_at, credential_generation FROM _hub_sites ORDER BY id").map(SQLiteHubStore.site)
        }
    }

    static func site(_ row: Row) -> SiteRecord {
        SiteRecord(id: row["id"], kind: SiteKind(rawValue: row["kind"]) ?? .lpk, name: row["name"],
                   createdAt: row["created_at"], revokedAt: row["revoked_at"], credentialGeneration: row["credential_generation"])
    }

    public func authenticate(token: String) throws -> SiteRecord? {
        guard let credential = SiteCredential.parse(token) else { return nil }
        return try registry.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, kind, name, created_at, revoked_at, credential_generation, secret_sha256 FROM _hub_sites WHERE id = ?",
                                             arguments: [credential.siteID]) else { return nil }
            let stored: String = row["secret_sha256"]
            guard ConstantTime.equal(Array(stored.utf8), Array(credential.secretHash.utf8)) else { return nil }
            let site = SQLiteHubStore.site(row)
            return site.revokedAt == nil ? site : nil
        }
    }

    public func credentialIsCurrent(site: String, secretHash: String) throws -> Bool {
        try registry.read { db in
            guard let stored = try String.fetchOne(db, sql: "SELECT secret_sha256 FROM _hub_sites WHERE id = ? AND revoked_at IS NULL",
                                                   arguments: [site]) else { return false }
            return ConstantTime.equal(Array(stored.utf8), Array(secretHash.utf8))
        }
    }

    /// Claims a replica id for a site, or refuses one that another site uses.
    func claim(replica id: String, for site: SiteRecord) throws {
        guard UUIDText.parse(id) != nil else {
            throw BegawiError(.invalidArgument, "the \(WireHeader.replica) header must be the site replica's id (a UUID)")
        }
        let owner = try registry.read { db in try String.fetchOne(db, sql: "SELECT site FROM _hub_replicas WHERE replica = ?", arguments: [id]) }
        if let owner {
            guard owner == site.id else {
                throw BegawiError(.unauthorized, "replica \(id) belongs to another site; each site syncs its own replica")
            }
            return
        }
        try registry.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO _hub_replicas(replica, site, first_seen) VALUES (?, ?, ?)",
                           arguments: [id, site.id, Int64(clock.nowMilliseconds())])
        }
    }

    // MARK: exchange

    public func session(site: SiteRecord, replica id: String, configuration: HubConfiguration) throws -> HubSession {
        try claim(replica: id, for: site)
        return HubSession(site: site.id, epoch: replica.replicaID, lineage: try replica.lineage(),
                          pushCursor: try replica.cursor(for: id),
                          maxClockSkewMilliseconds: configuration.maxClockSkewMilliseconds,
                          maxBodyBytes: configuration.maxBodyBytes, pageRows: configuration.pageRows)
    }

    public func push(site: SiteRecord, replica id: String, batch: ChangeBatch) throws -> PushOutcome {
        try claim(replica: id, for: site)
        guard batch.source == id else {
            throw BegawiError(.badBatch, "the batch names source \(batch.source) but the request names replica \(id); send each replica's own batches")
        }
        let (outcome, refusedConflicts) = try merge(site: site, batch: batch)
        // The merge is committed: a failure to count it must not make the site send it again. The
        // office's figures count every ledger entry; the site's answer only those of rows it wrote.
        try? notePush(site: site.id, rows: batch.rows.count, outcome: outcome, refusedConflicts: refusedConflicts)
        return outcome
    }

    /// Merges a site's batch, under the rules if there are any: the answer for the site, and how many
    /// ledger entries its refused rows left (for the office only: see `ApplyResult.refusedConflicts`).
    func merge(site: SiteRecord, batch: ChangeBatch) throws -> (PushOutcome, refusedConflicts: Int) {
        // Without rules, values are still checked against their columns' limits, in a gate only when
        // the batch holds one that may be refused.
        let gate: (any ApplyGate)? = policy.map { HubGate(site: site, source: site.id, policy: $0, declared: declared, now: Int64(clock.nowMilliseconds())) }
            ?? (ValueGate.mayRefuse(batch, schema: declared ?? replica.schema) ? ValueGate(declared: declared) : nil)
        let result = try replica.apply(batch, gate: gate)
        var restore: String?
        if !result.refused.isEmpty {
            var keys: [RowKey] = []
            for r in result.refused where !keys.contains(r.row) { keys.append(r.row) }
            let whole = try replica.wholeRows(keys, view: view(for: site))
            if !whole.rows.isEmpty { restore = Data(try BatchCodec.encode(whole)).base64EncodedString() }
        }
        return (PushOutcome(cursor: result.cursor, rowsChanged: result.rowsChanged, conflicts: result.conflicts,
                            refused: result.refused, restore: restore),
                result.refusedConflicts)
    }

    public func pull(site: SiteRecord, replica id: String, after cursor: ExchangeCursor, maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        try claim(replica: id, for: site)
        return try replica.exportEncoded(after: cursor, for: id, limits: BatchLimits(maxRows: maxRows), view: view(for: site))
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
