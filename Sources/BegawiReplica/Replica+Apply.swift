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
    /// The cursor this replica holds for a source replica's changes.
    public func cursor(for source: String) throws -> ExchangeCursor {
        try pool.read { db in try loadCursor(db, source: source) }
    }

    func loadCursor(_ db: Database, source: String) throws -> ExchangeCursor {
        guard let row = try Row.fetchOne(db, sql: "SELECT base, position FROM _begawi_cursors WHERE source = ?", arguments: [source]) else {
            return .start
        }
        return ExchangeCursor(base: UInt64(clamping: row[0] as Int64), position: UInt64(clamping: row[1] as Int64))
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
        if batch.source == replicaID {
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
                let cursor = try loadCursor(db, source: batch.source)
                guard batch.base <= cursor.base else {
                    throw BegawiError(.outOfOrder, "the batch from \(batch.source) starts from base \(batch.base), past this replica's \(cursor.base); export again from cursor \(cursor)")
                }
                _ = try absorbOutbox(tx)
                let peer = try tx.peerID(for: batch.source)
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
                var merged: [MergedRow] = []
                var deferred: [RowChange] = []
                while next < batch.rows.count {
                    // Checked every few rows: reading the clock costs little, but not nothing.
                    if let deadline, next > first, (next - first) % 64 == 0, clock.now >= deadline { return nil }
                    let row = batch.rows[next]
                    next += 1
                    let (table, columns) = mapping[row.table]
                    var known = !(empty?[table] ?? false)
                    if seen[table].isEmpty { seen[table].reserveCapacity(batch.rows.count) }
                    if !seen[table].insert(row.key).inserted {
                        // The batch names this row again: what was collected for it must be written first.
                        try tx.flush()
                        known = true
                    }
                    let gating = gate.map { Gating(gate: $0, context: context!, final: false) }
                    var later = false
                    let changed = try merge(tx, table: table, key: row.key, incoming: row.state, columns: columns,
                                            mayExist: known || gate != nil, now: now, peer: peer, conflicts: &conflicts,
                                            gating: gating, merged: &merged, refused: &result.refused, refusedConflicts: &refusedConflicts, later: &later)
                    if changed { rowsChanged += 1 }
                    if later { deferred.append(row) }
                }
                // Rows the gate could not judge before the rest of the batch (a reference to a row that
                // comes later in it), judged once the rest has merged.
                for row in deferred {
                    let (table, columns) = mapping[row.table]
                    var later = false
                    let changed = try merge(tx, table: table, key: row.key, incoming: row.state, columns: columns,
                                            mayExist: true, now: now, peer: peer, conflicts: &conflicts,
                                            gating: Gating(gate: gate!, context: context!, final: true), merged: &merged,
                                            refused: &result.refused, refusedConflicts: &refusedConflicts, later: &later)
                    if changed { rowsChanged += 1 }
                }
                for eviction in batch.evictions {
                    if try evict(tx, table: mapping[eviction.table].0, key: eviction.key) { result.evicted += 1 }
                }
                if let gate, let context { try gate.finish(merged: merged, refused: result.refused, context: context) }
                if batch.after <= cursor.position, cursor.position <= batch.through {
                    let moved = ExchangeCursor(base: batch.complete ? batch.through : cursor.base, position: batch.through)
                    if moved != cursor {
                        try db.execute(sql: "INSERT OR REPLACE INTO _begawi_cursors(source, base, position) VALUES (?, ?, ?)",
                                       arguments: [batch.source, Int64(moved.base), Int64(moved.position)])
                    }
                    result.cursor = moved
                    result.advancedCursor = true
                }
                if let companion, let context {
                    // Without a budget the batch is one chunk: the counts are whole.
                    result.rowsChanged = rowsChanged
                    result.conflicts = conflicts
                    result.refusedConflicts = refusedConflicts
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
        try batch.tables.map { bt in
            guard let table = tableByName[bt.name] else {
                throw BegawiError(.badBatch, "the batch names table '\(bt.name)', which this replica does not sync; nothing was applied. Install the same schema on both sides")
            }
            let spec = tables[table].spec
            let columns = try bt.columns.map { name in
                guard let position = spec.position(of: name) else {
                    throw BegawiError(.badBatch, "the batch names column '\(name)' of table '\(bt.name)', which this replica does not have; nothing was applied. Install the same schema on both sides")
                }
                return position
            }
            guard Set(columns).count == columns.count else {
                throw BegawiError(.badBatch, "the batch names a column of table '\(bt.name)' twice; nothing was applied")
            }
            return (table, columns)
        }
    }

    /// A gate and its context for one apply.
    struct Gating {
        let gate: any ApplyGate
        let context: ReplicaContext
        /// Whether the gate must decide now (the rest of the batch has merged).
        let final: Bool
    }

    /// Merges one incoming row into the stored one; writes the table, its twin and the ledger.
    func merge(_ tx: EngineTransaction, table: Int, key: String, incoming batchState: RowState, columns: [Int],
               mayExist: Bool, now: Int64, peer: Int64?, conflicts: inout Int) throws -> Bool {
        var merged: [MergedRow] = []
        var refused: [RowRefusal] = []
        var refusedConflicts = 0
        var later = false
        return try merge(tx, table: table, key: key, incoming: batchState, columns: columns, mayExist: mayExist, now: now, peer: peer,
                         conflicts: &conflicts, gating: nil, merged: &merged, refused: &refused, refusedConflicts: &refusedConflicts,
                         later: &later)
    }

    func merge(_ tx: EngineTransaction, table: Int, key: String, incoming batchState: RowState, columns: [Int],
               mayExist: Bool, now: Int64, peer: Int64?, conflicts: inout Int,
               gating: Gating?, merged: inout [MergedRow], refused: inout [RowRefusal], refusedConflicts: inout Int,
               later: inout Bool) throws -> Bool {
        let spec = tables[table]
        let columnCount = spec.spec.columns.count
        var incoming: RowState
        if columns.count == columnCount, columns.elementsEqual(0..<columnCount) {
            incoming = batchState // the peer declares the same columns in the same order: the common case
        } else {
            incoming = RowState(columnCount: columnCount)
            incoming.vector = batchState.vector
            incoming.deleted = batchState.deleted
            for (i, position) in columns.enumerated() { incoming.columns[position] = batchState.columns[i] }
        }
        func observe() {
            if let d = incoming.deleted { tx.observeRemote(d.stamp.clock) }
            for case let r? in incoming.columns { tx.observeRemote(r.stamp.clock) }
        }
        // A refused row must not move this replica's clock either.
        if gating == nil { observe() }

        var record = (mayExist ? try tx.loadRecord(table: table, key: key, withValues: true) : nil) ?? RowRecord(columnCount: columnCount)
        let wasLive = record.state.isLive
        let existed = record.seq != 0
        let vectorBefore = record.state.vector
        // The record was loaded with its values, so the gate's view of the stored row comes from it.
        let beforeValues = gating != nil && existed ? StoredRow(spec.spec, record.state) : nil
        let stateBefore = record.state
        var outcome = record.state.merge(incoming)
        // A refusal of part of the row: the rest merges, and the sender learns why.
        var partial: RowRefusal?
        judging: while let gating {
            let candidate = MergeCandidate(table: spec.spec, key: key, incoming: incoming, before: existed ? stateBefore : nil,
                                           after: record.state, final: gating.final || partial != nil)
            switch try gating.gate.admit(candidate, context: gating.context) {
            case .merge:
                observe()
                break judging
            case .mergeAdjusted(let adjusted, let reason, let message):
                guard partial == nil, adjusted.columns.count == incoming.columns.count else {
                    throw BegawiError(.invalidArgument, "the apply gate adjusted a row twice, or to another shape; this is a bug, please report it")
                }
                let refusal = RowRefusal(table: spec.spec.name, key: key, reason: reason, message: message)
                incoming = adjusted
                record.state = stateBefore
                outcome = record.state.merge(incoming)
                guard outcome.changed else {
                    refused.append(refusal)
                    return false
                }
                partial = refusal
            case .later:
                if gating.final || partial != nil {
                    throw BegawiError(.invalidArgument, "the apply gate deferred a row a second time; this is a bug, please report it")
                }
                later = true
                return false
            case .refuse(let reason, let message):
                refused.append(RowRefusal(table: spec.spec.name, key: key, reason: reason, message: message))
                return false
            case .refuseKeepingConflicts(let reason, let message):
                refused.append(RowRefusal(table: spec.spec.name, key: key, reason: reason, message: message))
                for (i, theirs) in incoming.columns.enumerated() {
                    guard let theirs, existed else { continue }
                    let ours = stateBefore.columns[i] ?? Register(value: .null, stamp: stateBefore.deleted?.stamp ?? theirs.stamp)
                    guard !ours.value.same(as: theirs.value) else { continue }
                    // The same refused write sent again (an answer lost on the way) is recorded once.
                    try tx.flush()
                    let column = SQLValue.text(spec.spec.columns[i].name)
                    let known = try tx.statement("SELECT 1 FROM _begawi_conflicts WHERE tbl = ? AND key = ? AND col = ? AND loser_site = ? AND loser_counter = ? LIMIT 1")
                    known.reset()
                    for (n, v) in [SQLValue.text(spec.spec.name), .text(key), column, .text(theirs.stamp.site), .integer(Int64(theirs.stamp.counter))].enumerated() {
                        known.bind(Int32(n + 1), v)
                    }
                    let seen = try known.step()
                    known.reset()
                    if seen { continue }
                    try recordConflict(tx, table: spec.spec, key: key, conflict: Conflict(column: i, loser: theirs, winner: ours, winnerIsDelete: false), at: now)
                    refusedConflicts += 1
                }
                return false
            }
        }
        if let partial { refused.append(partial) }
        guard outcome.changed || record.state.vector != vectorBefore else { return false }
        // When the sender had seen every write this replica held for the row, it holds the merged row
        // (not when part of what it sent was left out).
        record.origin = partial == nil && incoming.vector.dominates(vectorBefore) ? peer : nil

        tx.state.seq += 1
        record.seq = tx.state.seq
        if outcome.deletedChanged { record.registerSeq[0] = tx.state.seq }
        if outcome.changedMask != 0 {
            for i in 0..<columnCount where outcome.changedMask & (1 << UInt64(i)) != 0 { record.registerSeq[i + 1] = tx.state.seq }
        }
        try tx.storeRecord(table: table, key: key, record: record, isNew: !existed)

        let isLive = record.state.isLive
        let values = record.state.columns.map { $0?.value ?? .null }
        let statements = try tx.statements(table)
        func run(_ s: FastStatement, withValues: Bool) throws {
            if withValues {
                try s.run(key: key, values: values)
            } else {
                s.reset()
                s.bind(1, key)
                try s.run()
                s.reset()
            }
        }
        switch (wasLive, isLive) {
        case (true, true):
            if outcome.changedMask != 0 {
                var changed: [SQLValue] = [.text(key)]
                for i in 0..<columnCount where outcome.changedMask & (1 << UInt64(i)) != 0 { changed.append(values[i]) }
                try tx.updateLive(table: table, mask: outcome.changedMask).run(bindings: changed)
            }
        case (false, true):
            if existed {
                try run(statements.deleteDead, withValues: false)
                try run(statements.insertLive, withValues: true)
            } else {
                var row: [SQLValue] = [.text(key)]
                row.reserveCapacity(values.count + 1)
                row.append(contentsOf: values)
                try tx.newLiveRowInserter(table).add(row)
            }
        case (true, false):
            try run(statements.deleteLive, withValues: false)
            try run(statements.upsertDead, withValues: true)
        case (false, false):
            if outcome.changedMask != 0 { try run(statements.upsertDead, withValues: true) }
        }
        for conflict in outcome.conflicts {
            try recordConflict(tx, table: spec.spec, key: key, conflict: conflict, at: now)
            conflicts += 1
        }
        if gating != nil {
            merged.append(MergedRow(table: spec.spec.name, key: key, before: beforeValues, after: StoredRow(spec.spec, record.state)))
        }
        return true
    }
}
