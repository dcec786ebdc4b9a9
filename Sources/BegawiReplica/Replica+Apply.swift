public import BegawiCore
internal import GRDB

/// What applying one batch did.
public struct ApplyResult: Sendable, Equatable {
    /// Rows whose merge state changed.
    public var rowsChanged: Int
    /// Conflicts recorded in the ledger.
    public var conflicts: Int
    /// The receiver's cursor for the batch's source after applying it.
    public var cursor: ExchangeCursor
    /// Whether the batch followed the cursor and moved it.
    public var advancedCursor: Bool
    /// Rows a gate refused: nothing of them was stored, or, for a row refused in part, only what the
    /// gate let through.
    public var refused: [RowRefusal] = []
    /// Ledger entries kept for refused rows (`refuseKeepingConflicts`). Not in `conflicts`: a count
    /// that depends on the held row's values would tell the refused writer how many of its fields
    /// differ from data it may not see.
    public var refusedConflicts: Int = 0
    /// Rows the batch's evictions removed.
    public var evicted: Int = 0
}

extension Replica {
    /// The cursor this replica holds for another replica's changes.
    public func cursor(for exporterReplicaID: String) throws -> ExchangeCursor {
        try pool.read { db in try loadCursor(db, replicaID: exporterReplicaID) }
    }

    func loadCursor(_ db: Database, replicaID: String) throws -> ExchangeCursor {
        guard let row = try Row.fetchOne(db, sql: "SELECT base, position FROM _begawi_cursors WHERE source = ?", arguments: [replicaID]) else {
            return .start
        }
        return ExchangeCursor(baseSeq: UInt64(clamping: row[0] as Int64), seq: UInt64(clamping: row[1] as Int64))
    }

    /// Decodes and applies a batch from the wire.
    public func apply(encoded bytes: [UInt8], limits: BatchCodec.Limits = BatchCodec.Limits()) throws -> ApplyResult {
        try apply(try BatchCodec.decode(bytes, limits: limits))
    }

    /// Applies a batch atomically (all of it or nothing) and idempotently (again, it changes nothing).
    ///
    /// A batch naming an unknown table or column is refused whole. A batch whose base is past this
    /// replica's cursor for its source is refused: its rows could be incomplete here. A batch that does
    /// not continue the cursor is still merged, but moves the cursor only when it continues it.
    ///
    /// With a `gate`, each row is shown to it before it is stored; refused rows leave nothing behind,
    /// and the rest of the batch lands. The batch's evictions remove rows from this replica only.
    public func apply(_ batch: ChangeBatch, gate: (any ApplyGate)? = nil) throws -> ApplyResult {
        try apply(batch, gate: gate, budget: nil, companion: nil)
    }

    /// Applies a batch as `apply(_:gate:)` does, with the owner's steps in the same transaction.
    public func apply(_ batch: ChangeBatch, gate: (any ApplyGate)?, companion: ApplyCompanion) throws -> ApplyResult {
        try apply(batch, gate: gate, budget: nil, companion: companion)
    }

    /// The longest a site's engine transaction applying a pulled page should hold the write lock:
    /// staff applications with a busy timeout of 1 s never fail while the site syncs (BENCHMARKS.md).
    public static let pageWriteBudget = Duration.milliseconds(20)

    /// Applies a page in as many engine transactions as keep each one's hold of the write lock near
    /// `budget`, so that staff applications writing the same file wait little (a busy timeout of 1 s
    /// is plenty). The rows merge chunk by chunk; the cursor moves and the evictions happen only with
    /// the last chunk, so a page cut short by a crash is applied again whole (merging is idempotent).
    public func apply(_ batch: ChangeBatch, budget: Duration) throws -> ApplyResult {
        try apply(batch, gate: nil, budget: budget, companion: nil)
    }

    private func apply(_ batch: ChangeBatch, gate: (any ApplyGate)?, budget: Duration?, companion: ApplyCompanion?) throws -> ApplyResult {
        try batch.validate()
        let mapping = try columnMapping(for: batch)
        if batch.replicaID == replicaID {
            let nothing = ApplyResult(rowsChanged: 0, conflicts: 0, cursor: .start, advancedCursor: false)
            if let companion {
                try write { context in
                    try companion.before(context)
                    try companion.after(context, nothing)
                }
            }
            return nothing
        }
        // A gate judges a batch in one transaction: its refusals and the hub's acknowledgement go
        // together; so do the owner's records.
        let budget = gate == nil && companion == nil ? budget : nil
        let clock = ContinuousClock()
        var next = 0
        var rowsChanged = 0
        var conflicts = 0
        var refusedConflicts = 0
        // Tables that held no rows when the page began (a first sync): no row can exist, so no lookups
        // are needed, unless the page names a key twice. Kept across chunks.
        var empty: [Bool]?
        var seen = [Set<String>](repeating: [], count: tables.count)
        while true {
            let finished: ApplyResult? = try engineWrite { tx in
                let db = tx.db
                let context = gate != nil || companion != nil ? ReplicaContext(tx: tx, replica: self) : nil
                if let companion, let context { try companion.before(context) }
                let cursor = try loadCursor(db, replicaID: batch.replicaID)
                guard batch.baseSeq <= cursor.baseSeq else {
                    throw BegawiError(.outOfOrder, "the batch from \(batch.replicaID) starts from base \(batch.baseSeq), past this replica's \(cursor.baseSeq); export again from cursor \(cursor)")
                }
                _ = try absorbOutbox(tx)
                let senderNumber = try tx.replicaNumber(for: batch.replicaID)
                var result = ApplyResult(rowsChanged: 0, conflicts: 0, cursor: cursor, advancedCursor: false)
                let now = Int64(wallClock.nowMilliseconds())
                if empty == nil {
                    var found: [Bool] = []
                    for t in tables {
                        found.append(try Int64.fetchOne(db, sql: "SELECT 1 FROM _begawi_rows WHERE tbl = ? LIMIT 1", arguments: [t.id]) == nil)
                    }
                    empty = found
                }
                let deadline = budget.map { clock.now.advanced(by: $0) }
                let first = next
                var merge = BatchMerge(replica: self, tx: tx, now: now, senderNumber: senderNumber, gate: gate, context: gate == nil ? nil : context)
                // What this chunk recorded counts whether or not the batch ends with it.
                defer {
                    conflicts += merge.conflicts
                    refusedConflicts += merge.refusedConflicts
                }
                if let gate, let context { try gate.prepare(batch, context: context) }
                // Under a gate every row was looked up, also in a table that held rows before: the
                // rows the file holds are read set-wise once instead, and a row it does not hold
                // (nearly every row of an ingest) merges as new without a lookup of its own.
                let held = gate != nil && !lookUpEveryRow ? try tx.heldKeys(batch, mapping: mapping, tableIDs: tables.map(\.id)) : nil
                var deferred: [RowChange] = []
                while next < batch.rows.count {
                    // Checked every few rows: reading the clock costs little, but not nothing.
                    if let deadline, next > first, (next - first) % 64 == 0, clock.now >= deadline { return nil }
                    let row = batch.rows[next]
                    next += 1
                    let (table, columns) = mapping[row.table]
                    var known = held.map { $0[table].contains(row.key) } ?? !(empty?[table] ?? false)
                    if seen[table].isEmpty { seen[table].reserveCapacity(batch.rows.count) }
                    if !seen[table].insert(row.key).inserted {
                        // The batch names this row again: what was collected for it must be written first.
                        try tx.flush()
                        known = true
                    }
                    switch try merge.merge(table: table, key: row.key, incoming: row.state, columns: columns, mayExist: known || (gate != nil && held == nil)) {
                    case .changed: rowsChanged += 1
                    case .later: deferred.append(row)
                    case .unchanged: break
                    }
                }
                // Rows the gate could not judge before the rest of the batch (a reference to a row that
                // comes later in it), judged once the rest has merged.
                for row in deferred {
                    let (table, columns) = mapping[row.table]
                    if try merge.merge(table: table, key: row.key, incoming: row.state, columns: columns, mayExist: true, final: true) == .changed {
                        rowsChanged += 1
                    }
                }
                for eviction in batch.evictions {
                    if try evict(tx, table: mapping[eviction.table].0, key: eviction.key) { result.evicted += 1 }
                }
                result.refused = merge.refused
                if let gate, let context { try gate.finish(merged: merge.merged, refused: result.refused, context: context) }
                if batch.afterSeq <= cursor.seq, cursor.seq <= batch.throughSeq {
                    let moved = ExchangeCursor(baseSeq: batch.complete ? batch.throughSeq : cursor.baseSeq, seq: batch.throughSeq)
                    if moved != cursor {
                        try db.execute(sql: "INSERT OR REPLACE INTO _begawi_cursors(source, base, position) VALUES (?, ?, ?)",
                                       arguments: [batch.replicaID, Int64(moved.baseSeq), Int64(moved.seq)])
                    }
                    result.cursor = moved
                    result.advancedCursor = true
                }
                if let companion, let context {
                    // Without a budget the batch is one chunk: the counts are whole (this chunk's are
                    // added to the totals only as it ends).
                    result.rowsChanged = rowsChanged
                    result.conflicts = conflicts + merge.conflicts
                    result.refusedConflicts = refusedConflicts + merge.refusedConflicts
                    try companion.after(context, result)
                }
                return result
            }
            if var finished {
                finished.rowsChanged = rowsChanged
                finished.conflicts = conflicts
                finished.refusedConflicts = refusedConflicts
                return finished
            }
        }
    }

    /// Maps each batch table to a local table and each batch column to a local position.
    func columnMapping(for batch: ChangeBatch) throws -> [(Int, [Int])] {
        try batch.columnMapping(onto: tables.map(\.spec))
    }
}
