public import BegawiCore
public import BegawiHub
import NIOCore
import PostgresNIO

/// A site's pull on PostgreSQL: the rows whose feed position is past the cursor, each with the
/// registers changed after the cursor's base, as the SQLite replica's export gives them.
extension PostgresHubStore {
    /// The next page of the feed for a site, cut to the tables and columns of its schema version.
    /// The site's own rows (those it holds whole) are left out unless the copy is `fresh`.
    public func pull(site: SiteRecord, replica id: String, after cursor: ExchangeCursor, maxRows: Int,
                     schemaVersion: Int?, fresh: Bool) throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        guard maxRows > 0, cursor.baseSeq <= cursor.seq else {
            throw BegawiError(.invalidArgument, "export needs at least one row per batch and a cursor whose base is not past its position (got \(cursor))")
        }
        guard let after = Int64(exactly: cursor.seq), maxRows <= BatchLimits.maxRows else {
            throw BegawiError(.invalidArgument, "export needs a cursor position of at most \(ExchangeCursor.maxSeq) and at most \(BatchLimits.maxRows) rows per batch (got \(cursor), \(maxRows) rows); start again from the cursor the hub gives in a new session")
        }
        var attempt = 0
        var batch: ChangeBatch
        var projection: Schema?
        while true {
            attempt += 1
            let document = try exchangeDocument()
            projection = try cachedVersions.schema(forSiteAt: schemaVersion)
            try SQLiteHubStore.requireReplicaID(id)
            let epoch = hubReplicaID
            do {
                batch = try pool.withLink { link in
                    try claim(replica: id, for: site, on: link)
                    // Rows committed and not yet published (their push's own publish lost a turn) get their positions now.
                    try RowFeed.publishAll(on: link)
                    return try link.transaction { link in
                        // One snapshot for the head and the rows: every position up to the head is in it.
                        try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        return try PostgresHubStore.page(after: cursor, from: after, receiver: fresh ? nil : id, limits: BatchLimits(maxRows: maxRows),
                                                         schema: document.schema, epoch: epoch, on: link)
                    }
                }
                break
            } catch is NewerSchema {
                // A version published through another process: read the versions again, once.
                guard attempt < 2 else { throw PostgresHubStore.schemaMoving }
                try refresh()
            }
        }
        if let projection { batch = batch.projected(onto: projection) }
        return (batch, try BatchCodec.encode(batch))
    }

    /// One page of the feed (the SQLite replica's `exportRows` without a view).
    static func page(after cursor: ExchangeCursor, from after: Int64, receiver: String?, limits: BatchLimits, schema: Schema,
                     epoch: String, on link: PostgresLink) throws -> ChangeBatch {
        guard let headRow = try link.query("SELECT pos FROM _begawi_feed_head").first else {
            throw damaged("the feed's head (_begawi_feed_head) is missing")
        }
        let head = try decode("_begawi_feed_head") { try headRow.decode(Int64.self) }
        let scanLimit = Int64(limits.maxRows) + 1
        let found = try link.query("""
            SELECT tbl, key, pub_state, pub_seq, pos FROM _begawi_rows
            WHERE pos > \(after) AND (\(receiver)::text IS NULL OR pub_origin IS DISTINCT FROM \(receiver)) ORDER BY pos LIMIT \(scanLimit)
            """)
        let tables = Dictionary(schema.tables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var pending: [(table: Int, key: String, state: RowState, registerSeq: [Int64], pos: UInt64)] = []
        var exhausted = true
        for row in found {
            if pending.count == limits.maxRows {
                exhausted = false
                break
            }
            let (name, key, bytes, registerSeq, pos) = try decode("_begawi_rows") {
                try row.decode((String, String, ByteBuffer, [Int64], Int64).self)
            }
            guard let table = tables[name], let position = UInt64(exactly: pos) else {
                throw damaged("a row of a table the schema does not hold, or at a negative position, (_begawi_rows)")
            }
            let state = try MergeState.decode(Array(bytes.readableBytesView), columnCount: schema.tables[table].columns.count)
            pending.append((table, key, state, registerSeq, position))
        }
        let base = Int64(clamping: cursor.baseSeq)
        func changed(_ i: Int, _ seqs: [Int64]) -> Bool { i < seqs.count && seqs[i] > base }
        var rows: [RowChange] = []
        var throughSeq = cursor.seq
        var complete = exhausted
        var valueBytes = 0
        for item in pending {
            var state = RowState(columnCount: item.state.columns.count)
            state.vector = item.state.vector
            if changed(0, item.registerSeq) { state.deleted = item.state.deleted }
            for i in state.columns.indices where changed(i + 1, item.registerSeq) && item.state.columns[i] != nil {
                state.columns[i] = item.state.columns[i]
                valueBytes += item.state.columns[i]!.value.budgetBytes
            }
            valueBytes += item.key.utf8.count + 16 * state.vector.entries.count
            rows.append(RowChange(table: item.table, key: item.key, state: state))
            throughSeq = item.pos
            if valueBytes >= limits.maxValueBytes, rows.count < pending.count {
                complete = false
                break
            }
        }
        if rows.count == pending.count, let last = pending.last { throughSeq = max(throughSeq, last.pos) }
        if complete, let head = UInt64(exactly: head) { throughSeq = max(throughSeq, head) }
        return ChangeBatch(replicaID: epoch, baseSeq: cursor.baseSeq, afterSeq: cursor.seq, throughSeq: throughSeq, complete: complete,
                           tables: schema.tables.map { BatchTable(name: $0.name, columns: $0.columns.map(\.name)) }, rows: rows)
    }

}
