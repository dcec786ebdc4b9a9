import BegawiCore

/// One batch's merge into a replica inside one engine transaction: it merges the rows one by one
/// and keeps what the batch did so far (conflicts recorded, rows merged and refused for the gate).
struct BatchMerge {
    let replica: Replica
    let tx: EngineTransaction
    /// The apply's wall-clock time (ms), for the ledger.
    let now: Int64
    /// The sending replica's number in this file: a row it holds whole is marked `heldWholeBy` it.
    let senderNumber: Int64?
    /// The gate that judges each row, and its context; nil when nothing is judged.
    let gate: (any ApplyGate)?
    let context: ReplicaContext?
    /// Conflicts recorded for merged rows.
    var conflicts = 0
    /// Conflicts recorded for refused rows whose values lost to the stored ones.
    var refusedConflicts = 0
    /// Rows whose stored state changed (collected only for a gate).
    var merged: [StoredRowChange] = []
    /// Rows the gate refused, whole or in part.
    var refused: [RowRefusal] = []

    /// Starts a merge; `gate` and `context` go together.
    init(replica: Replica, tx: EngineTransaction, now: Int64, senderNumber: Int64?, gate: (any ApplyGate)? = nil, context: ReplicaContext? = nil) {
        self.replica = replica
        self.tx = tx
        self.now = now
        self.senderNumber = senderNumber
        self.gate = gate
        self.context = context
    }

    /// What merging one row did.
    enum RowResult {
        /// Nothing changed (already held, or refused).
        case unchanged
        /// The stored row changed.
        case changed
        /// The gate decides after the rest of the batch has merged.
        case later
    }

    /// Merges one incoming row into the stored one; writes the table, its twin and the ledger.
    /// `final`: the rest of the batch has merged, so the gate must decide now.
    mutating func merge(table: Int, key: String, incoming batchState: RowState, columns: [Int], mayExist: Bool,
                        final: Bool = false) throws -> RowResult {
        let spec = replica.tables[table]
        let columnCount = spec.spec.columns.count
        var incoming: RowState
        if columns.count == columnCount, columns.elementsEqual(0..<columnCount) {
            incoming = batchState // the sender declares the same columns in the same order: the common case
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
        if gate == nil { observe() }

        var record = (mayExist ? try tx.loadRecord(table: table, key: key, withValues: true) : nil) ?? RowRecord(columnCount: columnCount)
        let wasLive = record.state.isLive
        let existed = record.seq != 0
        let vectorBefore = record.state.vector
        // The record was loaded with its values, so the gate's view of the stored row comes from it.
        let beforeValues = gate != nil && existed ? StoredRow(spec.spec, record.state) : nil
        let stateBefore = record.state
        var outcome = record.state.merge(incoming)
        // A refusal of part of the row: the rest merges, and the sender learns why.
        var partial: RowRefusal?
        // The row after the merge as values by name, made once for the gate and the merged list (made
        // again only when the gate adjusts the change).
        var afterValues: StoredRow?
        judging: while let gate, let context {
            let after = StoredRow(spec.spec, record.state)
            afterValues = after
            let candidate = MergeCandidate(table: spec.spec, key: key, incoming: incoming, before: existed ? stateBefore : nil,
                                           after: record.state, final: final || partial != nil, beforeRow: beforeValues, afterRow: after)
            switch try gate.admit(candidate, context: context) {
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
                afterValues = nil
                guard outcome.changed else {
                    refused.append(refusal)
                    return .unchanged
                }
                partial = refusal
            case .later:
                if final || partial != nil {
                    throw BegawiError(.invalidArgument, "the apply gate deferred a row a second time; this is a bug, please report it")
                }
                return .later
            case .refuse(let reason, let message):
                refused.append(RowRefusal(table: spec.spec.name, key: key, reason: reason, message: message))
                return .unchanged
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
                    try replica.recordConflict(tx, table: spec.spec, key: key, conflict: Conflict(column: i, loser: theirs, winner: ours, winnerIsDelete: false), at: now)
                    refusedConflicts += 1
                }
                return .unchanged
            }
        }
        if let partial { refused.append(partial) }
        guard outcome.changed || record.state.vector != vectorBefore else { return .unchanged }
        // A tombstone born here may never have left: an export skips a row born and deleted since the
        // receiver's cursor, and its registers then fall below every later cursor's base.
        let unsentTombstone = !stateBefore.isLive && record.bornAt != nil
        // When the sender had seen every write this replica held for the row, it holds the merged row
        // (not when part of what it sent was left out).
        record.heldWholeBy = partial == nil && incoming.vector.dominates(vectorBefore) ? senderNumber : nil

        tx.state.seq += 1
        record.seq = tx.state.seq
        if unsentTombstone {
            // Another replica holds the key too (the same natural key created there): everything this
            // replica holds of the row goes out again, or its delete would never reach the others.
            if record.state.deleted != nil { record.registerSeq[0] = tx.state.seq }
            for i in 0..<columnCount where record.state.columns[i] != nil { record.registerSeq[i + 1] = tx.state.seq }
        }
        if outcome.deletedChanged { record.registerSeq[0] = tx.state.seq }
        if outcome.changedMask != 0 {
            for i in 0..<columnCount where outcome.changedMask & (1 << UInt64(i)) != 0 { record.registerSeq[i + 1] = tx.state.seq }
        }
        try tx.storeRecord(table: table, key: key, record: record, isNew: !existed)

        let isLive = record.state.isLive
        // A column the row has no write of (added later, or unknown to the sender) holds its default.
        let values = zip(record.state.columns, spec.spec.columns).map { $0?.value ?? $1.absentValue }
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
            try replica.recordConflict(tx, table: spec.spec, key: key, conflict: conflict, at: now)
            conflicts += 1
        }
        if gate != nil {
            merged.append(StoredRowChange(table: spec.spec.name, key: key, before: beforeValues,
                                          after: afterValues ?? StoredRow(spec.spec, record.state), seq: record.seq))
        }
        return .changed
    }
}
