public import BegawiCore
public import BegawiHub
import NIOCore
import PostgresNIO

/// The rows a site lacks after it migrated, on PostgreSQL, as the SQLite hub gives them: live rows
/// holding values in columns added since the version the site came from, and the live rows of
/// tables added since, each sent whole once, in feed order.
extension PostgresHubStore {
    /// Rows read per statement while looking for a catch-up page's rows.
    static let catchUpScanRows = 2_000

    /// The next page of rows holding values of what versions after `fromVersion` added, after the
    /// feed position `afterSeq`, projected onto the site's version; with the last position the page
    /// covered, or nil when it is the last page. The batch names no range of the feed: it never
    /// moves a cursor.
    ///
    /// Which rows qualify is judged on the published merge state, not on the synced tables: a value
    /// that does not fit its column is NULL in the readable copy, yet the site must get it.
    public func catchUp(site: SiteRecord, replica id: String, fromVersion: Int, schemaVersion: Int?, afterSeq: UInt64,
                        maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8], next: UInt64?) {
        guard let after = Int64(exactly: afterSeq) else {
            throw BegawiError(.invalidArgument, "a catch-up needs a position of at most \(Int64.max) (got \(afterSeq)); start again from 0 in a new session")
        }
        try SQLiteHubStore.requireReplicaID(id)
        let limit = min(max(maxRows, 1), BatchLimits.maxRows)
        var attempt = 0
        while true {
            attempt += 1
            let document = try exchangeDocument()
            let versions = cachedVersions
            let projection = try versions.schema(forSiteAt: schemaVersion)
            guard let from = versions.schema(migratedFrom: fromVersion) else {
                throw BegawiError(.invalidArgument, "this hub has no published schema version, so no site migrated; start a new session")
            }
            let wanted = PostgresHubStore.catchUpTargets(current: document.schema, site: projection ?? document.schema, from: from)
            let epoch = hubReplicaID
            do {
                let found = try pool.withLink { link in
                    try claim(replica: id, for: site, on: link)
                    try RowFeed.publishAll(on: link)
                    return try link.transaction { link in
                        try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        return try PostgresHubStore.catchUpRows(wanted, schema: document.schema, after: after, limit: limit, on: link)
                    }
                }
                let page = found.prefix(limit)
                var batch = ChangeBatch(replicaID: epoch, baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: false,
                                        tables: document.schema.tables.map { BatchTable(name: $0.name, columns: $0.columns.map(\.name)) },
                                        rows: page.map(\.row))
                if let projection { batch = batch.projected(onto: projection) }
                return (batch, try BatchCodec.encode(batch), found.count > limit ? page.last?.pos : nil)
            } catch is NewerSchema {
                // A version published through another process: read the versions again, once.
                guard attempt < 2 else { throw PostgresHubStore.schemaMoving }
                try refresh()
            }
        }
    }

    /// What a catch-up looks for, by table name: the table's place in the current schema, and the
    /// places of the columns added since `from` (nil: the table is new since, every live row counts).
    /// Tables of the site's version the current one lacks, or without added columns, are left out.
    static func catchUpTargets(current: Schema, site: Schema, from: Schema) -> [String: (table: Int, added: [Int]?)] {
        var wanted: [String: (table: Int, added: [Int]?)] = [:]
        for table in site.tables {
            guard let index = current.tables.firstIndex(where: { $0.name == table.name }) else { continue }
            let installed = current.tables[index]
            guard let old = from.table(named: table.name) else {
                wanted[table.name] = (index, nil)
                continue
            }
            let added = table.columns.filter { old.position(of: $0.name) == nil }.compactMap { installed.position(of: $0.name) }
            if !added.isEmpty { wanted[table.name] = (index, added) }
        }
        return wanted
    }

    /// Up to `limit + 1` qualifying rows after `after`, whole, in feed order, with their positions;
    /// read `catchUpScanRows` at a time until found or the feed ends. Its statement is the one place
    /// catch-up chooses rows: what a site may see becomes one join there when this store has rules.
    static func catchUpRows(_ wanted: [String: (table: Int, added: [Int]?)], schema: Schema, after: Int64, limit: Int,
                            on link: PostgresLink) throws -> [(row: RowChange, pos: UInt64)] {
        guard !wanted.isEmpty else { return [] }
        let names = wanted.keys.sorted()
        var found: [(row: RowChange, pos: UInt64)] = []
        var cursor = after
        while found.count <= limit {
            let rows = try link.query("""
                SELECT tbl, key, pub_state, pos FROM _begawi_rows WHERE tbl = ANY(\(names)) AND pos > \(cursor)
                ORDER BY pos LIMIT \(Int64(catchUpScanRows))
                """)
            for row in rows {
                let (name, key, bytes, pos) = try decode("_begawi_rows") { try row.decode((String, String, ByteBuffer, Int64).self) }
                guard let target = wanted[name], let position = UInt64(exactly: pos) else {
                    throw damaged("a row of a table the catch-up did not ask for, or at a negative position, (_begawi_rows)")
                }
                cursor = pos
                let state = try MergeState.decode(Array(bytes.readableBytesView), columnCount: schema.tables[target.table].columns.count)
                guard state.isLive else { continue }
                if let added = target.added {
                    let holds = added.contains { i in
                        guard let value = state.columns[i]?.value else { return false }
                        if case .null = value { return false }
                        return true
                    }
                    guard holds else { continue }
                }
                found.append((RowChange(table: target.table, key: key, state: state), position))
                if found.count > limit { break }
            }
            if rows.count < catchUpScanRows { break }
        }
        return found
    }
}
