public import BegawiCore
public import BegawiHub
import BegawiRules
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
                    try PostgresHubStore.startCopy(site: site.id, cursor, on: link)
                    // Rows committed and not yet published (their push's own publish lost a turn) get their positions now.
                    try RowFeed.publishAll(on: link)
                    return try link.transaction { link in
                        // One snapshot for the head and the rows: every position up to the head is in it.
                        try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        // In that snapshot: the horizon it shows is the one its rows were purged through.
                        try PostgresHubStore.refusePastHorizon(site: site.id, cursor, on: link)
                        return try PostgresHubStore.page(after: cursor, from: after, receiver: fresh ? nil : id, limits: BatchLimits(maxRows: maxRows),
                                                         schema: document.schema, epoch: epoch, view: siteView(for: site), on: link)
                    }
                }
                break
            } catch is NewerSchema {
                // A version published through another process: read the versions again, once.
                guard attempt < 2 else { throw PostgresHubStore.schemaMoving }
                try refresh()
            }
        }
        acknowledge(site: site.id, replica: id, seq: cursor.seq)
        if let projection { batch = batch.projected(onto: projection) }
        return (batch, try BatchCodec.encode(batch))
    }

    /// One page of the feed (the SQLite replica's `exportRows`). With a `view` (the rules), only rows
    /// the site may see are sent, and its feed events in the span the page covers add rows to send
    /// whole (newly visible) and rows to remove (evictions), as `HubSiteView` does on SQLite: a page
    /// covers at most `maxRows` of the site's events and `64 × maxRows` positions.
    static func page(after cursor: ExchangeCursor, from after: Int64, receiver: String?, limits: BatchLimits, schema: Schema,
                     epoch: String, view: PostgresSiteView? = nil, on link: PostgresLink) throws -> ChangeBatch {
        guard let headRow = try link.query("SELECT pos FROM _begawi_feed_head").first else {
            throw damaged("the feed's head (_begawi_feed_head) is missing")
        }
        let head = try decode("_begawi_feed_head") { try headRow.decode(Int64.self) }
        let scanLimit = Int64(limits.maxRows) + 1
        // The last position this page may cover under a view (nil: no bound).
        var bound: Int64?
        if let view {
            let events = try link.query("""
                SELECT pos FROM _hub_feed WHERE site = \(view.site) AND pos > \(after) ORDER BY pos OFFSET \(Int64(limits.maxRows)) LIMIT 1
                """)
            if let row = events.first { bound = try decode("_hub_feed") { try row.decode(Int64.self) } - 1 }
            let (width, wide) = Int64(limits.maxRows).multipliedReportingOverflow(by: 64)
            let (spanEnd, overflow) = after.addingReportingOverflow(width)
            if !wide, !overflow { bound = min(bound ?? spanEnd, spanEnd) }
        }
        let through = bound ?? Int64.max
        let visible = view?.condition(table: "r.tbl", key: "r.key") ?? "true"
        var bindings = PostgresBindings()
        bindings.append(after)
        bindings.append(through)
        if let receiver { bindings.append(receiver) } else { bindings.appendNull() }
        bindings.append(scanLimit)
        let found = try link.query(PostgresQuery(unsafeSQL: """
            SELECT r.tbl, r.key, r.pub_state, r.pub_seq, r.pos FROM _begawi_rows r
            WHERE r.pos > $1 AND r.pos <= $2 AND ($3::text IS NULL OR r.pub_origin IS DISTINCT FROM $3::text) AND \(visible) ORDER BY r.pos LIMIT $4
            """, binds: bindings))
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
        if complete {
            if let bound, bound < head, let bound = UInt64(exactly: bound) {
                complete = false
                throughSeq = max(throughSeq, bound)
            } else if let head = UInt64(exactly: head) {
                throughSeq = max(throughSeq, head)
            }
        }
        var evictions: [RowEviction] = []
        if let view, let last = Int64(exactly: throughSeq), last > after {
            (rows, evictions) = try extras(view, after: after, through: last, rows: rows, receiver: receiver, tables: tables, schema: schema, on: link)
        }
        return ChangeBatch(replicaID: epoch, baseSeq: cursor.baseSeq, afterSeq: cursor.seq, throughSeq: throughSeq, complete: complete,
                           tables: schema.tables.map { BatchTable(name: $0.name, columns: $0.columns.map(\.name)) }, rows: rows,
                           evictions: evictions)
    }

    /// The site's feed events in the span a page covers (`after` < position ≤ `through`), the last
    /// per row deciding: a grant sends the row whole (every register, as last published) when the
    /// site may see it now and does not hold it whole; a revocation removes it when the site may no
    /// longer see it; an erasure removes it. A row the page sends anyway is not evicted.
    static func extras(_ view: PostgresSiteView, after: Int64, through: Int64, rows: [RowChange], receiver: String?,
                       tables: [String: Int], schema: Schema, on link: PostgresLink) throws -> ([RowChange], [RowEviction]) {
        var last: [RowKey: Int64] = [:]
        var order: [RowKey] = []
        for row in try link.query("""
            SELECT tbl, key, kind FROM _hub_feed WHERE site = \(view.site) AND pos > \(after) AND pos <= \(through) ORDER BY pos
            """) {
            let (table, key, kind) = try decode("_hub_feed") { try row.decode((String, String, Int64).self) }
            let address = RowKey(table: table, key: key)
            if last[address] == nil { order.append(address) }
            last[address] = kind
        }
        guard !order.isEmpty else { return (rows, []) }
        let visible = try view.visible(order, on: link)
        var whole: [RowKey] = []
        var evict: [RowKey] = []
        for address in order {
            switch HubRulesSQL.Event(rawValue: last[address]!) {
            case .grant?: if visible.contains(address) { whole.append(address) }
            case .revoke?: if !visible.contains(address) { evict.append(address) }
            case .erase?: evict.append(address)
            case nil: continue
            }
        }
        var rows = rows
        var index: [RowKey: Int] = [:]
        for (i, row) in rows.enumerated() { index[RowKey(table: schema.tables[row.table].name, key: row.key)] = i }
        if !whole.isEmpty {
            var bindings = PostgresBindings()
            bindings.append(whole.map(\.table))
            bindings.append(whole.map(\.key))
            if let receiver { bindings.append(receiver) } else { bindings.appendNull() }
            var states: [RowKey: RowChange] = [:]
            for found in try link.query(PostgresQuery(unsafeSQL: """
                SELECT r.tbl, r.key, r.pub_state FROM unnest($1::text[], $2::text[]) AS u(tbl, key)
                JOIN _begawi_rows r ON r.tbl = u.tbl AND r.key = u.key
                WHERE r.pub_state IS NOT NULL AND ($3::text IS NULL OR r.pub_origin IS DISTINCT FROM $3::text)
                """, binds: bindings)) {
                let (name, key, bytes) = try decode("_begawi_rows") { try found.decode((String, String, ByteBuffer).self) }
                guard let table = tables[name] else { continue }
                let state = try MergeState.decode(Array(bytes.readableBytesView), columnCount: schema.tables[table].columns.count)
                states[RowKey(table: name, key: key)] = RowChange(table: table, key: key, state: state)
            }
            for address in whole {
                guard let change = states[address] else { continue }
                if let i = index[address] { rows[i] = change } else { rows.append(change) }
            }
        }
        var evictions: [RowEviction] = []
        for gone in evict {
            guard let table = tables[gone.table], index[gone] == nil else { continue }
            evictions.append(RowEviction(table: table, key: gone.key))
        }
        return (rows, evictions)
    }

}
