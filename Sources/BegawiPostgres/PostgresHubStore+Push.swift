public import BegawiCore
public import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import NIOCore
import PostgresNIO

/// A site's push on PostgreSQL: one transaction that locks the batch's rows in key order, judges
/// each under the rules (if any) by the SQLite hub's `HubGate`, merges each by BegawiCore's
/// `RowState.merge` (the one merge of every store), and writes the rows, their merge state, the
/// conflict ledger, the audit, who may see what, the cursor and the site's health; after the
/// commit, the feed gives the changed rows and the visibility events their positions.
extension PostgresHubStore {
    /// How often a push ended by a deadlock or a serialization failure is tried again.
    static let pushAttempts = 5

    /// Merges a site's batch (see the extension's comment); refused rows are given back whole, cut
    /// to the site's `schemaVersion`, as the SQLite store does.
    public func push(site: SiteRecord, replica id: String, batch: ChangeBatch, schemaVersion: Int?) throws -> PushOutcome {
        try SQLiteHubStore.requireReplicaID(id)
        try batch.validate()
        var attempt = 0
        // Under the rules: the whole turn, after a push in the shared turn needed a row it had not locked.
        var whole = false
        var merged: PushMerge
        var projection: Schema?
        while true {
            attempt += 1
            do {
                // Read again on each attempt: a version published through another process since shows here.
                let document = try exchangeDocument()
                projection = try cachedVersions.schema(forSiteAt: schemaVersion)
                let mapping = try batch.columnMapping(onto: document.schema.tables)
                let epoch = hubReplicaID
                merged = try pool.withLink { link in
                    try link.transaction { link in
                        try merge(batch, site: site, replica: id, schema: document.schema, mapping: mapping, epoch: epoch, whole: whole, on: link)
                    }
                }
                break
            } catch is NewerSchema where attempt < PostgresHubStore.pushAttempts {
                try refresh()
            } catch is RulesTurn.Missing where !whole {
                whole = true
            } catch let error as BegawiError where PostgresHubStore.mayRetry(error) && attempt < PostgresHubStore.pushAttempts {
                // Another push held rows this one needed: wait a moment, a little longer each time. Under the
                // rules, a deadlock of row locks taken in two orders (`RulesTurn`) is not met again in the whole turn.
                whole = true
                Thread.sleep(forTimeInterval: Double.random(in: 0.005...0.02) * Double(attempt))
            } catch is NewerSchema {
                throw PostgresHubStore.schemaMoving
            }
        }
        if merged.rowsChanged > 0 {
            // Published by the process that committed (a pull publishes too, before it reads).
            _ = try? pool.withLink { link in try RowFeed.publishAll(on: link) }
            feed.committed()
        }
        // The hub's clock takes in the batch's stamps (`PostgresHubClock`), after the commit: pushes do not take turns on it.
        if let latest = batch.latestClock { try? pool.withLink { link in try PostgresHubClock.observe(latest, on: link) } }
        var restore: String?
        if !merged.whole.rows.isEmpty {
            let whole = projection.map { merged.whole.projected(onto: $0) } ?? merged.whole
            if !whole.rows.isEmpty { restore = Data(try BatchCodec.encode(whole)).base64EncodedString() }
        }
        return PushOutcome(cursor: merged.cursor, rowsChanged: merged.rowsChanged, conflicts: merged.conflicts,
                           refused: merged.refused, restore: restore)
    }

    /// The refusal of a request while schema versions are being published faster than it can follow.
    static let schemaMoving = BegawiError(.storage, "the hub's schema version changed while the request ran, several times: try again")

    /// Whether PostgreSQL ended the transaction to break a deadlock or a serialization conflict.
    static func mayRetry(_ error: BegawiError) -> Bool {
        guard let cause = error.cause else { return false }
        return cause.hasPrefix("SQLSTATE 40001") || cause.hasPrefix("SQLSTATE 40P01")
    }

    /// The push's transaction: claim; under the rules, the pushes' turn; cursor; rows locked, judged
    /// by the SQLite hub's `HubGate` when there are rules, and merged; everything written (the audit
    /// and who may see what included).
    func merge(_ batch: ChangeBatch, site: SiteRecord, replica id: String, schema: Schema, mapping: [(Int, [Int])],
               epoch: String, whole: Bool = false, on link: PostgresLink) throws -> PushMerge {
        try claim(replica: id, for: site, on: link)
        guard batch.replicaID == id else {
            throw BegawiError(.badBatch, "the batch names source \(batch.replicaID) but the request names replica \(id); send each replica's own batches")
        }
        let empty = ChangeBatch(replicaID: epoch, baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: false, tables: [], rows: [])
        if batch.replicaID == epoch {
            // The hub's own changes come back: nothing to merge (as a replica ignores its own batch).
            try notePush(site: site.id, rows: batch.rows.count, refused: 0, conflicts: 0, on: link)
            return PushMerge(cursor: .start, rowsChanged: 0, conflicts: 0, refused: [], whole: empty)
        }
        // Under the rules, pushes take turns on the rows they judge (`RulesTurn`): taken before anything is read.
        let gate = policy.map { HubGate(site: site, siteID: site.id, policy: $0, now: Int64(clamping: clock.nowMilliseconds())) }
        var turn = try policy.map { try RulesTurn.take(for: batch, site: site, policy: $0, whole: whole, on: link) }
        if let gate {
            // Read in the turn: an erasure (which takes the whole turn) committed before it refuses
            // writes to its rows (`+Erasure`).
            gate.erased = try PostgresHubStore.erased(in: batch, on: link)
        }
        let cursor = try PostgresHubStore.cursor(for: batch.replicaID, on: link, lock: true)
        guard batch.baseSeq <= cursor.baseSeq else {
            throw BegawiError(.outOfOrder, "the batch from \(batch.replicaID) starts from base \(batch.baseSeq), past this replica's \(cursor.baseSeq); export again from cursor \(cursor)")
        }
        // Without rules, values are judged against their columns' limits only when one may be refused
        // (the gate judges them beside its rules).
        let judged = gate == nil && ValueCheck.mayRefuse(batch, schema: schema)
        var rows = try MergeRows.lock(batch, schema: schema, on: link)
        if let policy { try turn?.lockStoredReferences(rows, schema: schema, policy: policy, on: link) }
        // Rows deleted and purged at the hub are not written again (read once the rows are locked).
        let purged = try PostgresHubStore.purgedRows(rows, on: link)
        let lookup = turn.map { PostgresRuleLookup(link: link, schema: schema, batch: rows.entries.mapValues(\.state), turn: $0) }
        if let lookup, let policy { try lookup.prefetch(batch, policy: policy) }
        var rowsChanged = 0
        var refused: [RowRefusal] = []
        var refusedConflicts = 0
        var conflicts: [(table: TableSpec, key: String, conflict: Conflict)] = []
        // What the gate is told at the end: each merged row as it was and as it is.
        var merged: [StoredRowChange] = []
        let now = Int64(clamping: clock.nowMilliseconds())
        /// Merges one row of the batch, judged by the gate when there are rules (as the SQLite
        /// engine's `BatchMerge` shows it to `HubGate`); false when the gate decides it after the
        /// rest of the batch.
        func consider(_ row: RowChange, final: Bool) throws -> Bool {
            let (table, columns) = mapping[row.table]
            let spec = schema.tables[table]
            var incoming: RowState
            if columns.count == spec.columns.count, columns.elementsEqual(0..<spec.columns.count) {
                incoming = row.state
            } else {
                incoming = RowState(columnCount: spec.columns.count)
                incoming.vector = row.state.vector
                incoming.deleted = row.state.deleted
                for (i, position) in columns.enumerated() { incoming.columns[position] = row.state.columns[i] }
            }
            let key = RowKey(table: spec.name, key: row.key)
            var stored = rows.entries[key] ?? MergeRows.Entry(state: nil, registerSeq: [], origin: nil, changed: false)
            if stored.state == nil, purged.contains(key) {
                refused.append(RowRefusal(table: spec.name, key: row.key, reason: .purged, message: SQLiteHubStore.purgedMessage(table: spec.name)))
                return true
            }
            if judged, let problem = ValueCheck.problem(table: spec, key: row.key, incoming: incoming, before: stored.state, declared: nil) {
                refused.append(RowRefusal(table: spec.name, key: row.key, reason: .badValue, message: problem))
                return true
            }
            let before = stored.state
            var state = before ?? RowState(columnCount: spec.columns.count)
            let vectorBefore = state.vector
            var outcome = state.merge(incoming)
            // A refusal of part of the row: the rest merges, and the sender learns why.
            var partial: RowRefusal?
            judging: while let gate, let lookup {
                let candidate = MergeCandidate(table: spec, key: row.key, incoming: incoming, before: before, after: state, final: final || partial != nil)
                switch try gate.admit(candidate, lookup: lookup) {
                case .merge:
                    break judging
                case .mergeAdjusted(let adjusted, let reason, let message):
                    guard partial == nil, adjusted.columns.count == incoming.columns.count else {
                        throw BegawiError(.invalidArgument, "the apply gate adjusted a row twice, or to another shape; this is a bug, please report it")
                    }
                    let refusal = RowRefusal(table: spec.name, key: row.key, reason: reason, message: message)
                    incoming = adjusted
                    state = before ?? RowState(columnCount: spec.columns.count)
                    outcome = state.merge(incoming)
                    guard outcome.changed else {
                        refused.append(refusal)
                        return true
                    }
                    partial = refusal
                case .later:
                    if final || partial != nil {
                        throw BegawiError(.invalidArgument, "the apply gate deferred a row a second time; this is a bug, please report it")
                    }
                    return false
                case .refuse(let reason, let message):
                    refused.append(RowRefusal(table: spec.name, key: row.key, reason: reason, message: message))
                    return true
                case .refuseKeepingConflicts(let reason, let message):
                    refused.append(RowRefusal(table: spec.name, key: row.key, reason: reason, message: message))
                    refusedConflicts += try PostgresHubStore.recordRefused(incoming, before: before, table: spec, key: row.key, at: now, on: link)
                    return true
                }
            }
            if let partial { refused.append(partial) }
            guard outcome.changed || state.vector != vectorBefore else { return true }
            // When the sender had seen every write the hub held for the row, it holds the merged row
            // (not when part of what it sent was left out).
            stored.origin = partial == nil && incoming.vector.dominates(vectorBefore) ? batch.replicaID : nil
            var seqs = stored.registerSeq
            if seqs.count < spec.columns.count + 1 { seqs += Array(repeating: 0, count: spec.columns.count + 1 - seqs.count) }
            // 0: changed, not yet published; the feed gives these registers the row's position.
            if outcome.deletedChanged { seqs[0] = 0 }
            for i in 0..<spec.columns.count where outcome.changedMask & (1 << UInt64(i)) != 0 { seqs[i + 1] = 0 }
            stored.registerSeq = seqs
            stored.state = state
            stored.changed = true
            rows.entries[key] = stored
            lookup?.batch.updateValue(state, forKey: key)
            rowsChanged += 1
            for conflict in outcome.conflicts { conflicts.append((spec, row.key, conflict)) }
            if gate != nil {
                merged.append(StoredRowChange(table: spec.name, key: row.key, before: before.map { StoredRow(spec, $0) }, after: StoredRow(spec, state)))
            }
            return true
        }
        // Rows the gate could not judge before the rest of the batch (a reference to a row that comes
        // later in it), judged once the rest has merged.
        var deferred: [RowChange] = []
        for row in batch.rows {
            if try !consider(row, final: false) { deferred.append(row) }
        }
        for row in deferred { _ = try consider(row, final: true) }
        try rows.write(schema: schema, on: link)
        try turn?.removePlaceholders(except: Set(rows.keys), on: link)
        if let gate, let lookup, let policy {
            // The audit and who may see what, set-wise, in this transaction (`HubGate.finish` on SQLite).
            let (affected, audit, _) = try gate.decisions(merged: merged, refused: refused, lookup: lookup)
            try PostgresHubStore.writeAudit(audit, site: site.id, at: gate.now, on: link)
            try PostgresVisibility(policy: policy, schema: schema, now: gate.now).update(affected, holding: (site.id, gate.heldWhole), on: link)
        }
        for (table, key, conflict) in conflicts {
            try PostgresHubStore.record(conflict, table: table, key: key, at: now, on: link)
        }
        var moved = cursor
        if batch.afterSeq <= cursor.seq, cursor.seq <= batch.throughSeq {
            moved = ExchangeCursor(baseSeq: batch.complete ? batch.throughSeq : cursor.baseSeq, seq: batch.throughSeq)
            if moved != cursor {
                guard let base = Int64(exactly: moved.baseSeq), let seq = Int64(exactly: moved.seq) else {
                    throw BegawiError(.badBatch, "the batch's range ends past \(ExchangeCursor.maxSeq); export again from the cursor the hub gives in a new session")
                }
                try link.query("UPDATE _begawi_cursors SET base = \(base), position = \(seq) WHERE source = \(batch.replicaID)")
            }
        }
        // The office's figures count every ledger entry; the site's answer only those of rows it wrote.
        try notePush(site: site.id, rows: batch.rows.count, refused: refused.count, conflicts: conflicts.count + refusedConflicts, on: link)
        try noteRefusals(replica: id, cursor: moved, refused: refused, on: link)
        // The refused rows the hub holds, whole, for the site to put back: those it may see.
        let visible = try siteView(for: site).map { try $0.visible(refused.map(\.row), on: link) }
        var whole: [RowChange] = []
        var given = Set<RowKey>()
        for refusal in refused where given.insert(refusal.row).inserted && visible.map({ $0.contains(refusal.row) }) != false {
            guard let state = rows.entries[refusal.row]?.state, let table = schema.tables.firstIndex(where: { $0.name == refusal.table }) else { continue }
            whole.append(RowChange(table: table, key: refusal.key, state: state))
        }
        let wholeBatch = ChangeBatch(replicaID: epoch, baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: false,
                                     tables: schema.tables.map { BatchTable(name: $0.name, columns: $0.columns.map(\.name)) }, rows: whole)
        return PushMerge(cursor: moved, rowsChanged: rowsChanged, conflicts: conflicts.count, refused: refused, whole: wholeBatch)
    }

    /// One entry of the conflict ledger, as the SQLite replica records it (values in `BatchCodec`'s
    /// encoding and clocks and counters as bit patterns, so that each comes back as it was).
    static func record(_ conflict: Conflict, table: TableSpec, key: String, at now: Int64, on link: PostgresLink) throws {
        func bytes(_ value: SQLValue) -> ByteBuffer {
            var w = ByteWriter()
            BatchCodec.encode(value, into: &w)
            return ByteBuffer(bytes: w.bytes)
        }
        let loser = conflict.loser.stamp, winner = conflict.winner.stamp
        let winnerValue = conflict.winnerIsDelete ? SQLValue.null : conflict.winner.value
        try link.query("""
            INSERT INTO _begawi_conflicts (tbl, key, col, loser_value, winner_value, winner_deleted, loser_clock, loser_site, loser_counter,
                winner_clock, winner_site, winner_counter, detected_at)
            VALUES (\(table.name), \(key), \(table.columns[conflict.column].name), \(bytes(conflict.loser.value)), \(bytes(winnerValue)),
                \(conflict.winnerIsDelete), \(Int64(bitPattern: loser.clock.rawValue)), \(loser.site), \(Int64(bitPattern: loser.counter)),
                \(Int64(bitPattern: winner.clock.rawValue)), \(winner.site), \(Int64(bitPattern: winner.counter)), \(now))
            """)
    }

    /// Records, for a row refused whole while its values stay on record (a person registered first by
    /// another site), each incoming value that differs from the hub's as a loser in the conflict
    /// ledger, once (the same refused write sent again after a lost answer is not recorded twice), as
    /// the SQLite engine does. Returns how many entries were recorded.
    static func recordRefused(_ incoming: RowState, before: RowState?, table: TableSpec, key: String, at now: Int64, on link: PostgresLink) throws -> Int {
        guard let before else { return 0 }
        var recorded = 0
        for (i, theirs) in incoming.columns.enumerated() {
            guard let theirs else { continue }
            let ours = before.columns[i] ?? Register(value: .null, stamp: before.deleted?.stamp ?? theirs.stamp)
            guard !ours.value.same(as: theirs.value) else { continue }
            let column = table.columns[i].name
            let known = try link.query("""
                SELECT 1 FROM _begawi_conflicts WHERE tbl = \(table.name) AND key = \(key) AND col = \(column)
                AND loser_site = \(theirs.stamp.site) AND loser_counter = \(Int64(bitPattern: theirs.stamp.counter)) LIMIT 1
                """)
            if known.first != nil { continue }
            try record(Conflict(column: i, loser: theirs, winner: ours, winnerIsDelete: false), table: table, key: key, at: now, on: link)
            recorded += 1
        }
        return recorded
    }

    /// Writes a push's audit lines (site, table, key, action, reason; no values), in one statement.
    static func writeAudit(_ lines: [(table: String, key: String, action: String, reason: String?)], site: String, at now: Int64,
                           on link: PostgresLink) throws {
        guard !lines.isEmpty else { return }
        var bindings = PostgresBindings()
        bindings.append(lines.map(\.table))
        bindings.append(lines.map(\.key))
        bindings.append(lines.map(\.action))
        // No reason travels as '' (arrays with NULLs do not bind).
        bindings.append(lines.map { $0.reason ?? "" })
        bindings.append(site)
        bindings.append(now)
        try link.query(PostgresQuery(unsafeSQL: """
            INSERT INTO _hub_audit (at, site, tbl, key, action, reason)
            SELECT $6, $5, tbl, key, action, nullif(reason, '') FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(tbl, key, action, reason, n)
            ORDER BY n
            """, binds: bindings))
    }

    /// Counts a push in the site's health, in the push's transaction (one upsert: several processes add up).
    func notePush(site: String, rows: Int, refused: Int, conflicts: Int, on link: PostgresLink) throws {
        let now = Int64(clamping: clock.nowMilliseconds())
        try link.query("""
            INSERT INTO _hub_site_health AS h (site, last_contact, pushes, rows_received, rows_refused, conflicts)
            VALUES (\(site), \(now), 1, \(Int64(rows)), \(Int64(refused)), \(Int64(conflicts)))
            ON CONFLICT (site) DO UPDATE SET last_contact = EXCLUDED.last_contact, pushes = h.pushes + 1,
              rows_received = h.rows_received + EXCLUDED.rows_received, rows_refused = h.rows_refused + EXCLUDED.rows_refused,
              conflicts = h.conflicts + EXCLUDED.conflicts
            """)
    }
}

/// What a push's transaction did: the answer's parts, and the refused rows the hub holds, whole.
struct PushMerge {
    var cursor: ExchangeCursor
    var rowsChanged: Int
    var conflicts: Int
    var refused: [RowRefusal]
    var whole: ChangeBatch
}
