public import BegawiCore
import BegawiReplica
internal import GRDB

/// The rows a site lacks after it migrated: those with values in columns added since the version it
/// came from, and the rows of tables added since, sent whole once, so that a migration does not mean
/// downloading everything again (issue 14, item 3).
extension SQLiteHubStore {
    /// The next page of rows holding values of what versions after `fromVersion` added, visible to the
    /// site, in change order after `afterSeq`; with the last change number the page covered, or nil
    /// when it is the last page. The batch names no range of the feed: it never moves a cursor.
    public func catchUp(site: SiteRecord, replica id: String, fromVersion: Int, schemaVersion: Int?, afterSeq: UInt64,
                        maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8], next: UInt64?) {
        let projection = try versions.schema(forSiteAt: schemaVersion)
        guard let from = versions.schema(migratedFrom: fromVersion) else {
            throw BegawiError(.invalidArgument, "this hub has no published schema version, so no site migrated; start a new session")
        }
        try claim(replica: id, for: site)
        let target = projection ?? replica.schema
        let limit = min(max(maxRows, 1), BatchLimits.maxRows)
        var found: [(seq: Int64, key: RowKey)] = []
        try replica.ownerRead { db in
            for table in target.tables {
                guard let installed = replica.schema.table(named: table.name) else { continue }
                let condition: String
                if let old = from.table(named: table.name) {
                    let added = table.columns.filter { old.position(of: $0.name) == nil }
                    guard !added.isEmpty else { continue }
                    condition = added.map { "l.\(Self.quote($0.name)) IS NOT NULL" }.joined(separator: " OR ")
                } else {
                    condition = "1"
                }
                let sql = """
                    SELECT r.seq, r.key FROM _begawi_rows r JOIN \(Self.quote(table.name)) l ON l.\(Self.quote(installed.primaryKey.name)) = r.key
                    WHERE r.tbl = (SELECT id FROM _begawi_tables WHERE name = ?) AND r.seq > ? AND (\(condition)) ORDER BY r.seq LIMIT ?
                    """
                for row in try Row.fetchAll(db, sql: sql, arguments: [table.name, Int64(clamping: afterSeq), limit + 1]) {
                    found.append((try row.decode(forColumn: "seq"), RowKey(table: table.name, key: try row.decode(forColumn: "key"))))
                }
            }
        }
        found.sort { $0.seq < $1.seq }
        let page = found.prefix(limit)
        var batch = try replica.wholeRows(page.map(\.key), view: view(for: site))
        if let projection { batch = batch.projected(onto: projection) }
        let next = found.count > limit ? page.last.map { UInt64(clamping: $0.seq) } : nil
        return (batch, try BatchCodec.encode(batch), next)
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
