public import BegawiCore
public import BegawiHub
public import BegawiRules
public import Logging
import PostgresNIO

/// What the hub daemon needs of the store beyond a site's exchange: its start checks, the
/// housekeeping (its own file), the 1 s publish of rows left waiting, and `begawi hub restored`.
extension PostgresHubStore: ServedHubStore {
    /// The SQLite hub's start checks on this store: the schema file must be the published current
    /// version, and a hub that ran with access rules is never served without them. Logs the sites the
    /// changed rules widened, and a new epoch given at open (another cluster or timeline).
    public func prepareToServe(declared: Schema?, policy: AccessPolicy?, schemaFile: String, logger: Logger) throws {
        try SchemaVersions.requireServing(declared: declared, policy: policy, current: currentDocument, file: schemaFile)
        if policy == nil, try installedRulesDigest() != nil {
            // Without rules every site would receive every row: never by accident.
            throw BegawiError(.configuration, "this hub ran with access rules, but the schema file \(schemaFile) declares none; point `schema` in hub.toml at the file with the rules (config/handak-begawi.json)")
        }
        if let granted = rulesRecomputed { HubDaemon.logWidening(granted, logger: logger) }
        try prepareErasures(logger: logger)
        if let epochChange {
            logger.warning("the hub serves a new epoch: \(epochChange); sites keep what the old epoch's feed shares and send again what this database lacks",
                           metadata: ["hub.epoch": "\(hubReplicaID)"])
        }
    }

    /// Every second: a push whose publish lost its turn to another process leaves its rows waiting.
    public var publishInterval: Duration? { .seconds(1) }

    /// Gives the rows that wait their places in the feed, and wakes this process's held pulls (the
    /// publish's NOTIFY wakes the other processes'). One read when none wait.
    public func publishWaiting() throws {
        let placed = try pool.withLink { link in try RowFeed.publishAll(on: link) }
        if placed > 0 { feed.committed() }
    }

    /// After a `pg_dump` restored into the same cluster (where nothing tells the store it was
    /// restored), run once before the database serves: gives the hub a new epoch whose lineage links
    /// the old one through the feed's head, exactly as the store does by itself at open in a new
    /// cluster or on a new timeline. Sites then keep their cursors for the feed the restored
    /// database shares and send again what it lacks. Returns the old and the new epoch.
    public func restored() throws -> (old: String, new: String) {
        let epochs = try pool.withLink { link in
            try link.transaction { link in
                // The install's lock: never at once with an open's own change of epoch.
                try link.query("SELECT pg_advisory_xact_lock(7301946)")
                let old = try PostgresHubStore.readEpoch(link)
                return (old: old, new: try PostgresHubStore.newEpoch(on: link))
            }
        }
        try refresh()
        return epochs
    }
}
