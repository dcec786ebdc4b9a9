import BegawiCore
public import BegawiHub
import BegawiReplica

/// A new replica's first pull as a snapshot, on PostgreSQL: parts of a table's rows with their
/// merge state, each the small SQLite file a SQLite hub sends (`SnapshotPartWriter`), so that a site
/// adopts them without knowing which store the hub runs on.
extension PostgresHubStore {
    /// The next part of `table`'s rows after the key `after` (live rows and tombstones, at most
    /// `maxRows` and never more than a SQLite hub's cap), as the bytes to send (gzip unless not
    /// `compressed`); nil when the site's schema version is not the current one (its pages cut the
    /// columns), as on SQLite.
    ///
    /// Rows committed and not yet published get their positions first; then one REPEATABLE READ
    /// transaction reads the feed's head and the rows (`PostgresSnapshotSource`), and the part is
    /// written after it ended.
    public func snapshotPart(site: SiteRecord, replica id: String, table: String, after: String?, maxRows: Int,
                             schemaVersion: Int?, compressed: Bool) throws -> (rows: Int, bytes: [UInt8])? {
        try SQLiteHubStore.requireReplicaID(id)
        let rows = min(max(1, maxRows), SQLiteHubStore.maxSnapshotRows)
        var attempt = 0
        while true {
            attempt += 1
            let document = try exchangeDocument()
            guard try cachedVersions.schema(forSiteAt: schemaVersion) == nil else { return nil }
            guard let spec = document.schema.table(named: table) else {
                throw BegawiError(.invalidArgument, "this hub does not sync a table named '\(table)'; ask for a table of the current schema")
            }
            let epoch = hubReplicaID
            do {
                let file = try pool.withLink { link in
                    try claim(replica: id, for: site, on: link)
                    try PostgresHubStore.startCopy(site: site.id, .start, on: link)
                    try RowFeed.publishAll(on: link)
                    let source = PostgresSnapshotSource(epoch: epoch, link: link, receiver: id,
                                                        visible: visibleRowsFilter(for: site, table: "r.tbl", key: "r.key"),
                                                        byteOrder: byteOrder)
                    return try SnapshotPartWriter.file(table: spec, after: after, maxRows: rows, from: source)
                }
                // A copy under way holds the horizon back (as SQLite's `admitPull` notes it).
                acknowledge(site: site.id, replica: id, seq: 0)
                // Level 1, as the SQLite hub: a part is sent once, and the hub's time is what a first sync waits for.
                return (file.part.rows, compressed ? try Deflate.compress(file.file, level: 1, gzip: true) : file.file)
            } catch is NewerSchema {
                // A version published through another process: read the versions again, once.
                guard attempt < 2 else { throw PostgresHubStore.schemaMoving }
                try refresh()
            }
        }
    }
}
