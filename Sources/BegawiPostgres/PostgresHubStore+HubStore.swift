public import BegawiCore
public import BegawiHub
import PostgresNIO

/// The exchange a site's round makes: its session here; push, pull, snapshot parts and catch-up in
/// their own files; backup.
extension PostgresHubStore: HubStore {
    /// Starts a round for a site's replica: the caches read again (a version published or an epoch
    /// changed through another process shows at once), the replica claimed for the site on first
    /// contact (another site's is refused), and the hub's cursor for it. The purge horizon is
    /// announced as on SQLite (`purgeBefore`: the hub's time `retention_days` ago).
    public func session(site: SiteRecord, replica id: String, configuration: HubConfiguration) throws -> HubSession {
        try refresh()
        try SQLiteHubStore.requireReplicaID(id)
        let document = try exchangeDocument()
        let (cursor, lineage) = try pool.withLink { link in
            try claim(replica: id, for: site, on: link)
            return (try PostgresHubStore.cursor(for: id, on: link, lock: false), try PostgresHubStore.readLineage(link))
        }
        let versions = cachedVersions
        var session = HubSession(site: site.id, hubReplicaID: hubReplicaID, lineage: lineage, pushCursor: cursor,
                                 maxClockSkewMilliseconds: configuration.maxClockSkewMilliseconds,
                                 maxBodyBytes: configuration.maxBodyBytes, pageRows: configuration.pageRows,
                                 schemaVersion: document.version, schemaDigest: versions.published[document.version]?.digest)
        session.purgeBefore = purgeBefore(retention: configuration.retention)
        return session
    }

    /// Refused: a PostgreSQL hub is copied with the server's own tools, and a restored copy must get a new epoch.
    public func backup(to path: String) throws {
        throw BegawiError(.configuration, "a hub on PostgreSQL is not copied by begawi: copy its database with pg_dump or the server's point-in-time recovery (docs/postgresql.md, \"Epochs on restore\")")
    }

    /// The published document the exchange serves: refused before a first publish, and when it
    /// declares other rules than this process serves with (`requireRules`).
    func exchangeDocument() throws -> SchemaDocumentRef {
        guard let document = currentDocument else {
            throw BegawiError(.configuration, "the hub's PostgreSQL database has no published schema yet: publish the schema file first (begawi hub schema publish FILE)")
        }
        try requireRules(of: document)
        return SchemaDocumentRef(version: document.version, schema: document.schema)
    }

    /// Claims a replica id for a site (a write only on first contact; two processes claiming one id
    /// at once take turns on its key), or refuses one that another site holds.
    func claim(replica id: String, for site: SiteRecord, on link: PostgresLink) throws {
        // A read first: every pull claims, and an insert that finds the key still takes a transaction id.
        var owner = try PostgresHubStore.owner(of: id, on: link)
        if owner == nil {
            let now = Int64(clamping: clock.nowMilliseconds())
            try link.query("INSERT INTO _hub_replicas (replica, site, first_seen) VALUES (\(id), \(site.id), \(now)) ON CONFLICT (replica) DO NOTHING")
            owner = try PostgresHubStore.owner(of: id, on: link)
        }
        guard let owner else { throw PostgresHubStore.damaged("a replica's claim (_hub_replicas) vanished") }
        guard owner == site.id else {
            throw BegawiError(.unauthorized, "replica \(id) belongs to another site; each site syncs its own replica")
        }
    }

    /// The site that holds a replica id, if any does.
    static func owner(of id: String, on link: PostgresLink) throws -> String? {
        guard let row = try link.query("SELECT site FROM _hub_replicas WHERE replica = \(id)").first else { return nil }
        return try decode("_hub_replicas") { try row.decode(String.self) }
    }

    /// The hub's cursor for a replica's changes (`.start` when it has pushed nothing); with `lock`,
    /// its row is made when missing and locked, so that two pushes of one replica take turns.
    static func cursor(for id: String, on link: PostgresLink, lock: Bool) throws -> ExchangeCursor {
        if lock { try link.query("INSERT INTO _begawi_cursors (source, base, position) VALUES (\(id), 0, 0) ON CONFLICT DO NOTHING") }
        let rows = try link.query(lock ? "SELECT base, position FROM _begawi_cursors WHERE source = \(id) FOR UPDATE"
                                       : "SELECT base, position FROM _begawi_cursors WHERE source = \(id)")
        guard let row = rows.first else { return .start }
        let (base, position) = try decode("_begawi_cursors") { try row.decode((Int64, Int64).self) }
        guard let baseSeq = UInt64(exactly: base), let seq = UInt64(exactly: position) else {
            throw damaged("a replica's cursor (_begawi_cursors) is negative")
        }
        return ExchangeCursor(baseSeq: baseSeq, seq: seq)
    }
}

/// The tables of the published version the exchange serves, and its number.
struct SchemaDocumentRef {
    let version: Int
    let schema: Schema
}
