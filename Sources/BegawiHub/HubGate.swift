package import BegawiCore
package import BegawiReplica
package import BegawiRules

/// The rules between agencies applied to one site's push, inside the apply transaction: each row is
/// judged before it is stored, refused rows leave nothing behind, and who may see what is updated
/// with the same commit. Every decision goes to the audit trail (site, table, key, time; no values).
///
/// `package`: the PostgreSQL store judges its pushes with the same gate (`admit(_:lookup:)` and
/// `decisions(merged:refused:lookup:)`), reading the hub's rows through its own `RuleLookup`.
package final class HubGate: ApplyGate {
    let site: SiteRecord
    /// The pushing site's id: the only site its new stamps may name.
    let siteID: String
    let policy: AccessPolicy
    /// The schema file's declarations, for the columns' limits in force, if read.
    let declared: Schema?
    package let now: Int64
    let cache: HubLookupCache
    /// Rows this push brought whole (the site had seen every write the hub held): the site needs no
    /// grant to receive them.
    package var heldWhole = Set<RowKey>()
    /// The batch's rows that were erased, read for the whole batch at once in `prepare` (most hubs
    /// erased nothing: then no lookup at all).
    package var erased = Set<RowKey>()
    /// Rows merged with part of the change left out: the site does not hold them as the hub does.
    var adjusted = Set<RowKey>()
    /// Rows the batch evicts from the hub (removed after the merge): their change numbers are read
    /// back from the file, not taken from the merge.
    var evicted = Set<RowKey>()

    package init(site: SiteRecord, siteID: String, policy: AccessPolicy, declared: Schema? = nil, now: Int64) {
        self.site = site
        self.siteID = siteID
        self.policy = policy
        self.declared = declared
        self.now = now
        cache = HubLookupCache(policy: policy)
    }

    package func prepare(_ batch: ChangeBatch, context: ReplicaContext) throws {
        for eviction in batch.evictions where eviction.table < batch.tables.count {
            evicted.insert(RowKey(table: batch.tables[eviction.table].name, key: eviction.key))
        }
        guard try !context.query("SELECT 1 FROM _hub_erased LIMIT 1").isEmpty else { return }
        erased = try context.rows(of: batch, in: "_hub_erased")
    }

    package func admit(_ candidate: MergeCandidate, context: ReplicaContext) throws -> GateDecision {
        try admit(candidate, lookup: HubLookup(context: context, cache: cache))
    }

    /// Decides one row (see `ApplyGate.admit`), reading the hub's rows through `lookup`.
    package func admit(_ candidate: MergeCandidate, lookup: any RuleLookup) throws -> GateDecision {
        let table = candidate.table
        cache.forget(table.name, key: candidate.key)
        if erased.contains(RowKey(table: table.name, key: candidate.key)) {
            return .refuse(reason: .erased, message: "this row of '\(table.name)' was erased at the office's request; it cannot be written again")
        }
        if forged(candidate) {
            return .refuse(reason: .forgedStamp, message: "the change carries another site's write that the hub does not hold; a site may send only its own writes and ones it received from the hub")
        }
        if let problem = ValueGate.problem(candidate, declared: declared) {
            return .refuse(reason: .badValue, message: problem)
        }
        if candidate.after.isLive {
            for (i, column) in table.columns.enumerated() where column.notNull && (candidate.after.columns[i]?.value ?? column.absentValue) == .null {
                return .refuse(reason: .badValue, message: "'\(column.name)' of '\(table.name)' may not be empty")
            }
        }
        // A row that references one coming later in this batch (its owner's, or a linked one) is judged after it.
        if !candidate.final, candidate.after.isLive {
            for (column, target) in policy.references(of: table.name) {
                guard let i = table.position(of: column), case .text(let reference)? = candidate.after.columns[i]?.value else { continue }
                if try lookup.row(target, key: reference)?.live != true { return .later }
            }
        }
        // Registers written after the row's insert (the live marker), by later writes sent with it.
        var laterWrites = Set<String>()
        if let birth = candidate.incoming.deleted, birth.value == RowState.liveMarker {
            for (i, r) in candidate.incoming.columns.enumerated() where r.map({ $0.stamp.beats(birth.stamp) }) == true {
                laterWrites.insert(table.columns[i].name)
            }
        }
        let write = RowWrite(
            table: table.name, key: candidate.key,
            before: candidate.beforeRow,
            after: candidate.afterRow,
            written: Dictionary(uniqueKeysWithValues: candidate.incoming.columns.enumerated().compactMap { i, r in r.map { (table.columns[i].name, $0.value) } }),
            deletes: candidate.incoming.deleted.map { $0.value == RowState.deletedMarker },
            knewRow: candidate.before.map { candidate.incoming.vector.dominates($0.vector) } ?? true,
            laterWrites: laterWrites)
        let address = RowKey(table: table.name, key: candidate.key)
        switch try policy.judge(write, site: site.id, kind: site.kind, lookup: lookup) {
        case .accept:
            if write.knewRow, !adjusted.contains(address) { heldWhole.insert(address) }
            // The row as the merge is about to store it: later rows of the batch that name it (an
            // enrollment its person) find it here instead of reading it back. Only a live row: a
            // tombstone the hub never held is not stored with values.
            if candidate.after.isLive { cache.remember(table.name, key: candidate.key, candidate.afterRow) }
            return .merge
        case .acceptPart(let keep, let set, let reason, let message):
            // Kept columns lose the incoming register; set ones get the value under the insert's stamp.
            var state = candidate.incoming
            for (i, column) in table.columns.enumerated() {
                if keep.contains(column.name) { state.columns[i] = nil }
                if let value = set[column.name], let birth = state.deleted?.stamp { state.columns[i] = Register(value: value, stamp: birth) }
            }
            adjusted.insert(address)
            return .mergeAdjusted(state, reason: reason, message: message)
        case .refuse(let reason, let message): return .refuse(reason: reason, message: message)
        case .alreadyRegistered:
            return .refuseKeepingConflicts(
                reason: .alreadyRegistered,
                message: "another site registered this person first; the hub keeps that registration, and the fields where yours differs are in the office's conflict ledger")
        }
    }

    package func finish(merged: [StoredRowChange], refused: [RowRefusal], context: ReplicaContext) throws {
        let (affected, lines, seqs) = try decisions(merged: merged, refused: refused, lookup: HubLookup(context: context, cache: cache))
        // The audit goes in a chunk of rows per statement, in the order of the decisions.
        var audit: [SQLValue] = []
        audit.reserveCapacity(6 * lines.count)
        for line in lines { audit += auditValues(line.table, line.key, action: line.action, reason: line.reason) }
        try context.insert("INSERT INTO _hub_audit(at, site, tbl, key, action, reason) VALUES ", width: 6, audit)
        try HubVisibility(policy: policy, context: context, now: now).update(affected, holding: (site.id, heldWhole), seqs: seqs)
    }

    /// What a push's decisions leave to record: the rows whose receivers may have changed, the
    /// audit's lines in the order of the decisions (merged rows, then refusals), and each merged
    /// row's change number as the merge gave it (its last merge when the batch names it twice;
    /// rows the batch evicts left out), so that its grants need not read it back.
    package func decisions(merged: [StoredRowChange], refused: [RowRefusal], lookup: any RuleLookup) throws
        -> (affected: Set<RowKey>, audit: [(table: String, key: String, action: String, reason: String?)], seqs: [RowKey: UInt64]) {
        var affected = Set<RowKey>()
        var seqs: [RowKey: UInt64] = [:]
        seqs.reserveCapacity(merged.count)
        var audit: [(table: String, key: String, action: String, reason: String?)] = []
        audit.reserveCapacity(merged.count + refused.count)
        for row in merged {
            affected.formUnion(try policy.dependents(of: row.table, key: row.key, before: row.before, after: row.after, lookup: lookup))
            let action = row.before == nil ? "inserted" : (row.after.live ? (row.before!.live ? "updated" : "revived") : (row.before!.live ? "deleted" : "updated"))
            audit.append((row.table, row.key, action, nil))
            let address = RowKey(table: row.table, key: row.key)
            if !evicted.contains(address) { seqs[address] = row.seq }
        }
        for refusal in refused { audit.append((refusal.table, refusal.key, "refused", refusal.reason.code)) }
        return (affected, audit, seqs)
    }

    /// One audit entry's values (site, table, key, time; no values of the row).
    func auditValues(_ table: String, _ key: String, action: String, reason: String?) -> [SQLValue] {
        [.integer(now), .text(site.id), .text(table), .text(key), .text(action), reason.map { .text($0) } ?? .null]
    }

    /// Whether the row carries a write of another site that would change the hub's row: a vector entry
    /// the hub has not seen, or a register with another site's stamp that is not the hub's own or older.
    func forged(_ candidate: MergeCandidate) -> Bool {
        let before = candidate.before
        let known = before?.vector ?? VersionVector()
        for entry in candidate.incoming.vector.entries where entry.site != siteID && entry.counter > known[entry.site] { return true }
        // Another site's register must be exactly the hub's (same stamp, same value) or older than it.
        func bad(_ theirs: Register?, _ ours: Register?) -> Bool {
            guard let theirs, theirs.stamp.site != siteID else { return false }
            guard let ours else { return true }
            if ours.stamp == theirs.stamp { return !ours.value.same(as: theirs.value) }
            return !ours.stamp.beats(theirs.stamp)
        }
        if bad(candidate.incoming.deleted, before?.deleted) { return true }
        for (i, theirs) in candidate.incoming.columns.enumerated() where bad(theirs, before?.columns[i]) { return true }
        return false
    }
}
