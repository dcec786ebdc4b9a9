public import BegawiCore
public import BegawiHub

/// The exchange, not built yet: each method refuses, saying so. The configuration does not select
/// this store until push and pull are built (docs/postgresql.md, "Sessions left"), so no hub
/// serves sites from it; the conformance lets the store-level tests take either store.
extension PostgresHubStore: HubStore {
    /// Refused until built: a site's session (claim, cursor, purge horizon).
    public func session(site: SiteRecord, replica: String, configuration: HubConfiguration) throws -> HubSession {
        throw PostgresHubStore.notBuilt("open a site's session")
    }

    /// Refused until built: a site's batch merged.
    public func push(site: SiteRecord, replica: String, batch: ChangeBatch, schemaVersion: Int?) throws -> PushOutcome {
        throw PostgresHubStore.notBuilt("take a push")
    }

    /// Refused until built: the next page of the feed.
    public func pull(site: SiteRecord, replica: String, after cursor: ExchangeCursor, maxRows: Int, schemaVersion: Int?,
                     fresh: Bool) throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        throw PostgresHubStore.notBuilt("serve a pull")
    }

    /// Refused until built: a part of a new replica's snapshot.
    public func snapshotPart(site: SiteRecord, replica id: String, table: String, after: String?, maxRows: Int,
                             schemaVersion: Int?, compressed: Bool) throws -> (rows: Int, bytes: [UInt8])? {
        throw PostgresHubStore.notBuilt("serve a snapshot")
    }

    /// Refused until built: a page of rows after a site migrated.
    public func catchUp(site: SiteRecord, replica: String, fromVersion: Int, schemaVersion: Int?, afterSeq: UInt64,
                        maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8], next: UInt64?) {
        throw PostgresHubStore.notBuilt("serve a catch-up")
    }

    /// Refused: a PostgreSQL hub is copied with the server's own tools, and a restored copy must get a new epoch.
    public func backup(to path: String) throws {
        throw BegawiError(.configuration, "a hub on PostgreSQL is not copied by begawi: copy its database with pg_dump or the server's point-in-time recovery (docs/postgresql.md, \"Epochs on restore\")")
    }

    /// The refusal of what this store cannot do yet.
    static func notBuilt(_ what: String) -> BegawiError {
        BegawiError(.configuration, "the PostgreSQL hub store cannot \(what) yet: it is under construction (issue 17); run the hub on SQLite (a file path in database)")
    }
}
