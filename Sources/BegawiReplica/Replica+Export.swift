public import BegawiCore
internal import GRDB

extension Replica {
    /// Exports, for a replica that holds this replica's changes up to `cursor`, the next batch of what it lacks.
    ///
    /// Rows come in change order, each with every register changed after `cursor.baseSeq` and its whole
    /// version vector. Local writes waiting to be stamped are stamped first, in the same transaction;
    /// when there are none, the export only reads, beside other readers and one writer.
    ///
    /// Rows that the receiver (`receiverReplicaID`) sent and still holds whole (nothing was merged into them since) are skipped:
    /// sending them back would only echo them. The batch's range still covers them.
    ///
    /// With a `view`, only rows it includes are sent (the page still covers the rest), rows it names
    /// are sent whole, and rows it names for eviction are listed in the batch's evictions.
    ///
    /// With `soleRecipient` (a site pushing to its hub: nothing of this replica reaches anyone else but
    /// through the receiver), a row born here and deleted again after the receiver's cursor is not sent: no
    /// replica ever had it. The batch's range still covers it.
    public func export(after cursor: ExchangeCursor, for receiverReplicaID: String? = nil, limits: BatchLimits = BatchLimits(),
                       view: (any ExportView)? = nil, soleRecipient: Bool = false) throws -> ChangeBatch {
        guard limits.maxRows > 0, cursor.baseSeq <= cursor.seq else {
            throw BegawiError(.invalidArgument, "export needs at least one row per batch and a cursor whose base is not past its position (got \(cursor))")
        }
        // Sequence numbers are SQLite integers: a cursor beyond them comes from another replica's mistake or malice.
        guard cursor.seq <= ExchangeCursor.maxSeq, limits.maxRows <= BatchLimits.maxRows else {
            throw BegawiError(.invalidArgument, "export needs a cursor position of at most \(ExchangeCursor.maxSeq) and at most \(BatchLimits.maxRows) rows per batch (got \(cursor), \(limits.maxRows) rows); start again from the cursor the hub gives in a new session")
        }
        let readOnly: ChangeBatch?
        do {
            readOnly = try pool.read { db in
                guard try Int.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM _begawi_outbox)") == 0 else { return nil }
                return try exportRows(try engineTransaction(db), after: cursor, receiverReplicaID: receiverReplicaID, limits: limits, view: view, soleRecipient: soleRecipient)
            }
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "the replica \(path) could not be read for an export", cause: "\(error.resultCode): \(error.message ?? "")")
        }
        if let readOnly { return readOnly }
        return try engineWrite { tx in
            _ = try absorbOutbox(tx)
            return try exportRows(tx, after: cursor, receiverReplicaID: receiverReplicaID, limits: limits, view: view, soleRecipient: soleRecipient)
        }
    }

    /// Exports and encodes for the wire in one step.
    public func exportEncoded(after cursor: ExchangeCursor, for receiverReplicaID: String? = nil, limits: BatchLimits = BatchLimits(),
                              view: (any ExportView)? = nil, soleRecipient: Bool = false) throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        let batch = try export(after: cursor, for: receiverReplicaID, limits: limits, view: view, soleRecipient: soleRecipient)
        return (batch, try BatchCodec.encode(batch))
    }

    func exportRows(_ tx: EngineTransaction, after cursor: ExchangeCursor, receiverReplicaID: String?, limits: BatchLimits,
                    view: (any ExportView)? = nil, soleRecipient: Bool = false) throws -> ChangeBatch {
        let db = tx.db
        let receiverNumber = try receiverReplicaID.flatMap { try Int64.fetchOne(db, sql: "SELECT id FROM _begawi_peers WHERE replica = ?", arguments: [$0]) } ?? -1
        let context = view.map { _ in ReplicaContext(tx: tx, replica: self) }
        var bound = try view.flatMap { try $0.bound(afterSeq: cursor.seq, maxRows: limits.maxRows, context: context!) }
        // A view's feed reads only the rows it keeps, each part from an index in change order, merged
        // by SQLite (a compound ORDER BY over ordered parts sorts nothing); rows the receiver holds
        // whole are left out inside each part, so that they do not count against the page. The page
        // still covers at most a span of the sequence, so that a receiver far behind moves its cursor
        // page by page.
        var feed: [(sql: String, arguments: [SQLValue])]?
        if let view, let context {
            let (width, wide) = UInt64(max(1, limits.maxRows)).multipliedReportingOverflow(by: 64)
            let (spanEnd, overflow) = cursor.seq.addingReportingOverflow(width)
            let limited = wide || overflow ? bound : min(bound ?? spanEnd, spanEnd)
            feed = try view.feed(afterSeq: cursor.seq, throughSeq: min(limited ?? UInt64.max, ExchangeCursor.maxSeq), context: context)
            bound = limited
        }
        let through = Int64(clamping: bound ?? UInt64(Int64.max))
        let scanLimit = limits.maxRows + 1
        let sql: String
        var bindings: [SQLValue]
        if let feed {
            let parts = feed.map {
                "SELECT r.tbl, r.key, s.seq, r.vector, r.stamps, r.origin FROM (\($0.sql)) s "
                    + "CROSS JOIN _begawi_rows r ON r.tbl = s.tbl AND r.key = s.key WHERE r.origin IS NOT ?"
            }
            sql = parts.isEmpty ? "SELECT tbl, key, seq, vector, stamps, origin FROM _begawi_rows WHERE 0 LIMIT ?" : parts.joined(separator: " UNION ALL ") + " ORDER BY 3 LIMIT ?"
            bindings = feed.flatMap { $0.arguments + [.integer(receiverNumber)] }
        } else {
            sql = "SELECT tbl, key, seq, vector, stamps, origin FROM _begawi_rows WHERE seq > ? AND seq <= ? AND origin IS NOT ? ORDER BY seq LIMIT ?"
            bindings = [.integer(Int64(clamping: cursor.seq)), .integer(through), .integer(receiverNumber)]
        }
        bindings.append(.integer(Int64(clamping: scanLimit)))
        let select = try FastStatement(db, sql)
        select.reset()
        for (i, value) in bindings.enumerated() { select.bind(Int32(i + 1), value) }
        var rows: [RowChange] = []
        var throughSeq = cursor.seq
        var complete = true
        var valueBytes = 0
        struct Pending { let table: Int; let key: String; var record: RowRecord }
        var pending: [Pending] = []
        var scanned = 0
        var scannedThroughSeq = cursor.seq
        var exhausted = true
        while try select.step() {
            if pending.count == limits.maxRows {
                exhausted = false
                break
            }
            scanned += 1
            guard let table = tableByID[select.int64(0)] else {
                throw BegawiError(.corrupted, "the replica \(path) holds rows of an unknown table; restore it from a backup")
            }
            let seq = UInt64(clamping: select.int64(2))
            var record = try RowRecord.decode(seq: seq, stamps: select.blob(4), vector: select.blob(3),
                                              columnCount: tables[table].spec.columns.count, sites: tx.sites)
            record.heldWholeBy = select.isNull(5) ? nil : select.int64(5)
            if soleRecipient, !record.state.isLive, let born = record.bornAt, born > cursor.seq {
                // Born and deleted here since the receiver's cursor: no replica had it, so there is nothing to send.
                scannedThroughSeq = seq
                continue
            }
            pending.append(Pending(table: table, key: select.text(1), record: record))
            scannedThroughSeq = seq
        }
        select.reset()
        if scanned == scanLimit { exhausted = false }
        complete = exhausted

        for item in pending {
            let spec = tables[item.table]
            var state = RowState(columnCount: spec.spec.columns.count)
            state.vector = item.record.state.vector
            if item.record.registerSeq[0] > cursor.baseSeq { state.deleted = item.record.state.deleted }
            var wanted = false
            for i in state.columns.indices where item.record.registerSeq[i + 1] > cursor.baseSeq && item.record.state.columns[i] != nil {
                state.columns[i] = item.record.state.columns[i]
                wanted = true
            }
            if wanted {
                let statements = try tx.statements(item.table)
                let values = item.record.state.isLive ? statements.selectLive : statements.selectDead
                values.reset()
                values.bind(1, item.key)
                let found = try values.step()
                for i in state.columns.indices where state.columns[i] != nil {
                    let value = found ? values.value(Int32(i)) : .null
                    state.columns[i]!.value = value
                    valueBytes += value.budgetBytes
                }
                values.reset()
            }
            valueBytes += item.key.utf8.count + 16 * state.vector.entries.count
            rows.append(RowChange(table: item.table, key: item.key, state: state))
            throughSeq = item.record.seq
            if valueBytes >= limits.maxValueBytes, rows.count < pending.count {
                complete = false
                break
            }
        }
        if rows.count == pending.count { throughSeq = max(throughSeq, scannedThroughSeq) }
        if complete {
            if let bound, bound < tx.state.seq {
                complete = false
                throughSeq = max(throughSeq, bound)
            } else {
                throughSeq = max(throughSeq, tx.state.seq)
            }
        }
        var evictions: [RowEviction] = []
        if let view, let context {
            let extras = try view.extras(afterSeq: cursor.seq, throughSeq: throughSeq, context: context)
            var index: [RowKey: Int] = [:]
            for (i, row) in rows.enumerated() { index[RowKey(table: tables[row.table].spec.name, key: row.key)] = i }
            for wanted in extras.whole {
                guard let table = tableByName[wanted.table], let (change, heldWholeBy) = try wholeRow(tx, table: table, key: wanted.key) else { continue }
                if heldWholeBy == receiverNumber { continue }
                if let i = index[wanted] { rows[i] = change } else { rows.append(change) }
            }
            for gone in extras.evict {
                guard let table = tableByName[gone.table], index[gone] == nil else { continue }
                evictions.append(RowEviction(table: table, key: gone.key))
            }
        }
        return ChangeBatch(replicaID: replicaID, baseSeq: cursor.baseSeq, afterSeq: cursor.seq, throughSeq: throughSeq, complete: complete,
                           tables: tables.map { BatchTable(name: $0.spec.name, columns: $0.spec.columns.map(\.name)) }, rows: rows,
                           evictions: evictions)
    }

}

extension Replica {
    /// The whole rows (every register) of these keys that `view` includes, as a batch that names no
    /// range of the sequence: for a receiver to replace its own state of those rows.
    public func wholeRows(_ keys: [RowKey], view: (any ExportView)?) throws -> ChangeBatch {
        try pool.read { db in
            let tx = try engineTransaction(db)
            let context = ReplicaContext(tx: tx, replica: self)
            var rows: [RowChange] = []
            for key in keys {
                guard let table = tableByName[key.table] else { continue }
                if let view, try !view.includes(table: key.table, key: key.key, context: context) { continue }
                if let (change, _) = try wholeRow(tx, table: table, key: key.key) { rows.append(change) }
            }
            return ChangeBatch(replicaID: replicaID, baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: false,
                               tables: tables.map { BatchTable(name: $0.spec.name, columns: $0.spec.columns.map(\.name)) }, rows: rows)
        }
    }
}
