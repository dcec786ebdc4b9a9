import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation

/// A new replica's first pull as a snapshot: parts of what the site may see, each a small SQLite file
/// built in memory from one read transaction and sent gzip-compressed (see `Replica.snapshotPartFile`).
extension SQLiteHubStore {
    /// The most rows one snapshot part holds.
    public static let maxSnapshotRows = 50_000

    /// The next part of `table`'s rows that the site may see, after `after`, as the bytes to send
    /// (gzip unless not `compressed`); nil when the site's schema version is not the current one (its pages cut the columns).
    public func snapshotPart(site: SiteRecord, replica id: String, table: String, after: String?, maxRows: Int,
                             schemaVersion: Int?, compressed: Bool) throws -> (rows: Int, bytes: [UInt8])? {
        guard try versions.schema(forSiteAt: schemaVersion) == nil else { return nil }
        try claim(replica: id, for: site)
        try admitPull(site: site.id, replica: id, after: .start)
        // Built in memory: the part is sent once, so a file written and read back was only kernel time.
        let (part, file) = try replica.snapshotPartFile(table: table, after: after, maxRows: min(maxRows, Self.maxSnapshotRows),
                                                        receiverReplicaID: id, scope: snapshotScope(site: site, table: table))
        // Level 1: a part is sent once, and the hub's time is what a first sync waits for.
        return (part.rows, compressed ? try Deflate.compress(file, level: 1, gzip: true) : file)
    }

    /// Which of a table's rows a site may see, as the pages choose them (`HubSiteView.includes`).
    func snapshotScope(site: SiteRecord, table: String) -> SnapshotScope {
        guard let policy, site.kind != .office else { return .all }
        guard let rule = policy[table] else { return .none }
        if rule.receivers == .all { return .all }
        return .keys(sql: "SELECT key FROM source._hub_visibility WHERE site = ?5 AND tbl = ?6 AND key > ?1 ORDER BY key LIMIT ?2",
                     arguments: [site.id, table])
    }
}
