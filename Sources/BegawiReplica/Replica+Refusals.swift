public import BegawiCore
import Foundation
internal import GRDB

extension Replica {
    static let refusalsSQL = """
        CREATE TABLE IF NOT EXISTS _begawi_refusals(
            id INTEGER PRIMARY KEY, at INTEGER NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL,
            reason TEXT NOT NULL, message TEXT NOT NULL, vals TEXT, held_insert INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS _begawi_refusals_by_row ON _begawi_refusals(tbl, key);
        """

    /// Settles changes the hub refused: records each in the refusal ledger with this replica's values,
    /// then makes the row what the hub holds — the hub's whole row from `restore` when this site may
    /// see it, otherwise no row at all. Nothing is captured, so nothing is sent again.
    ///
    /// `through` is the hub's cursor after the push that refused them: an answer settled once is not
    /// settled again (a hub repeats the refusals of a replica's last push at its next session, for a
    /// site whose answer was lost). Returns whether it settled them.
    @discardableResult
    public func settleRefusals(_ notices: [RowRefusal], restore: ChangeBatch?, through: UInt64? = nil) throws -> Bool {
        guard !notices.isEmpty else { return false }
        if let restore { try restore.validate() }
        let mapping = try restore.map { try columnMapping(for: $0) } ?? []
        return try engineWrite { tx in
            if let through {
                let settled = try Int64.fetchOne(tx.db, sql: "SELECT value FROM _begawi_state WHERE name = 'refusals_settled_through'")
                if let settled, settled >= Int64(clamping: through) { return false }
                try tx.db.execute(sql: "INSERT OR REPLACE INTO _begawi_state(name, value) VALUES ('refusals_settled_through', ?)",
                                  arguments: [Int64(clamping: through)])
            }
            _ = try absorbOutbox(tx)
            let now = Int64(wallClock.nowMilliseconds())
            for notice in notices {
                guard let table = tableByName[notice.row.table] else { continue }
                let action = notice.reason.action
                if action == .requeue || action == .keep {
                    let known = try Int64.fetchOne(tx.db, sql: "SELECT 1 FROM _begawi_refusals WHERE tbl = ? AND key = ? AND reason = ?",
                                                   arguments: [notice.row.table, notice.row.key, notice.reason.code]) != nil
                    if !known {
                        // What it references may simply come later in this site's changes: send the row whole once more.
                        try recordRefusal(tx, table: table, key: notice.row.key, reason: notice.reason, message: notice.message, at: now)
                        try requeue(tx, table: table, key: notice.row.key)
                        continue
                    }
                    // What it references may come from another site: the row stays here and goes again at
                    // each round until it lands (`requeueAwaitingReferences`).
                    if action == .keep { continue }
                }
                if action == .erase {
                    // An erased person's data must leave no trace here either: no values are kept.
                    _ = try evict(tx, table: table, key: notice.row.key, purgeLedgers: true)
                    try recordRefusal(tx, table: table, key: notice.row.key, reason: notice.reason, message: notice.message, at: now)
                } else {
                    try recordRefusal(tx, table: table, key: notice.row.key, reason: notice.reason, message: notice.message, at: now)
                    _ = try evict(tx, table: table, key: notice.row.key, purgeLedgers: false)
                }
            }
            guard let restore else { return true }
            var merge = BatchMerge(replica: self, tx: tx, now: now, senderNumber: try tx.replicaNumber(for: restore.replicaID))
            for row in restore.rows {
                let (table, columns) = mapping[row.table]
                _ = try merge.merge(table: table, key: row.key, incoming: row.state, columns: columns, mayExist: true)
            }
            return true
        }
    }

    /// Marks a row as changed again (same writes, a new place in the change sequence), so that the
    /// next export sends it whole.
    func requeue(_ tx: EngineTransaction, table: Int, key: String) throws {
        guard var record = try tx.loadRecord(table: table, key: key, withValues: false) else { return }
        tx.state.seq += 1
        record.seq = tx.state.seq
        record.registerSeq = record.registerSeq.map { _ in tx.state.seq }
        record.heldWholeBy = nil
        try tx.storeRecord(table: table, key: key, record: record, isNew: false)
    }

    /// The codes of the reasons whose rows stay here and go again at each round.
    static let keptReasons = RefusalReason.known.filter { $0.action == .keep }.map(\.code)
    /// `reason IN (…)` for `keptReasons`.
    static let keptReasonsSQL = "reason IN (\(keptReasons.map { _ in "?" }.joined(separator: ", ")))"

    /// Marks again, to be sent in this round, every row here that the hub refused for a reason whose
    /// action is to keep it (it references a linked row the hub did not hold, `awaiting-reference`);
    /// returns them. Call `resolveAwaiting` with those the hub then took.
    public func requeueAwaitingReferences() throws -> Set<RowKey> {
        let any = try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT 1 FROM _begawi_refusals WHERE \(Replica.keptReasonsSQL) LIMIT 1",
                               arguments: StatementArguments(Replica.keptReasons))
        }
        guard any != nil else { return [] }
        return try engineWrite { tx in
            let context = ReplicaContext(tx: tx, replica: self)
            var requeued = Set<RowKey>()
            for row in try Row.fetchAll(tx.db, sql: "SELECT DISTINCT tbl, key FROM _begawi_refusals WHERE \(Replica.keptReasonsSQL)",
                                        arguments: StatementArguments(Replica.keptReasons)) {
                let name: String = row[0], key: String = row[1]
                guard let table = tableByName[name], try context.row(name, key: key)?.live == true else { continue }
                try requeue(tx, table: table, key: key)
                requeued.insert(RowKey(table: name, key: key))
            }
            return requeued
        }
    }

    /// Removes the kept refusals (`awaiting-reference`) of rows the hub has now taken.
    public func resolveAwaiting(_ rows: Set<RowKey>) throws {
        guard !rows.isEmpty else { return }
        try engineWrite { tx in
            for row in rows {
                try tx.db.execute(sql: "DELETE FROM _begawi_refusals WHERE tbl = ? AND key = ? AND \(Replica.keptReasonsSQL)",
                                  arguments: StatementArguments([row.table, row.key] + Replica.keptReasons))
            }
        }
    }

    /// How many live rows here are held back for these reasons (a deleted one is no longer held);
    /// `heldHereOnly` as for `heldRows`.
    public func heldBackCount(reasons: Set<RefusalReason>, heldHereOnly: Set<RefusalReason> = []) throws -> Int {
        let rows = try heldRows(reasons: reasons, heldHereOnly: heldHereOnly)
        guard !rows.isEmpty else { return 0 }
        return try pool.read { db in
            var count = 0
            for row in rows {
                guard let table = tableByName[row.table] else { continue }
                let spec = tables[table].spec
                let sql = "SELECT 1 FROM \(ReplicaSQL.quote(spec.name)) WHERE \(ReplicaSQL.quote(spec.primaryKey.name)) = ?"
                if try Int64.fetchOne(db, sql: sql, arguments: [row.key]) != nil { count += 1 }
            }
            return count
        }
    }

    /// Records changes this site's own checks held back (once per row and reason); the rows stay as
    /// they are here. `inserts` names the held rows whose insert was held: the hub never had them.
    public func holdBack(_ notices: [RowRefusal], inserts: Set<RowKey> = []) throws {
        guard !notices.isEmpty else { return }
        try engineWrite { tx in
            for notice in notices {
                guard let table = tableByName[notice.row.table] else { continue }
                let known = try Int64.fetchOne(tx.db, sql: "SELECT 1 FROM _begawi_refusals WHERE tbl = ? AND key = ? AND reason = ?",
                                               arguments: [notice.row.table, notice.row.key, notice.reason.code])
                if known != nil { continue }
                try recordRefusal(tx, table: table, key: notice.row.key, reason: notice.reason, message: notice.message,
                                  at: Int64(wallClock.nowMilliseconds()), held: inserts.contains(notice.row) ? .insert : .change)
            }
        }
    }

    /// Rows whose insert this site's own checks held back and that are still in this replica: the hub
    /// never had them, so not even their deletion is sent.
    public func heldInserts() throws -> Set<RowKey> {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT DISTINCT f.tbl, f.key FROM _begawi_refusals f JOIN _begawi_tables t ON t.name = f.tbl
                JOIN _begawi_rows r ON r.tbl = t.id AND r.key = f.key WHERE f.held_insert = 1
                """)
            return Set(rows.map { RowKey(table: $0[0], key: $0[1]) })
        }
    }

    /// Rows with a refusal for one of these reasons that are still in this replica. For the reasons
    /// in `heldHereOnly`, only refusals this site's own checks recorded (`holdBack`) count: the hub
    /// gives some of the same reasons, and a row it refused and restored is not held.
    public func heldRows(reasons: Set<RefusalReason>, heldHereOnly: Set<RefusalReason> = []) throws -> Set<RowKey> {
        guard !reasons.isEmpty else { return [] }
        return try pool.read { db in
            let marks = Array(repeating: "?", count: reasons.count).joined(separator: ", ")
            // Written only when there are such reasons: `NOT IN (NULL)` is NULL, which would leave out
            // every refusal the hub gave, whatever its reason.
            let only = heldHereOnly.isEmpty ? "" : """
                AND (f.held_insert <> \(HeldAt.hub.rawValue) OR f.reason NOT IN (\(Array(repeating: "?", count: heldHereOnly.count).joined(separator: ", "))))
                """
            let rows = try Row.fetchAll(db, sql: """
                SELECT DISTINCT f.tbl, f.key FROM _begawi_refusals f JOIN _begawi_tables t ON t.name = f.tbl
                JOIN _begawi_rows r ON r.tbl = t.id AND r.key = f.key WHERE f.reason IN (\(marks)) \(only)
                """, arguments: StatementArguments(reasons.map(\.code).sorted() + heldHereOnly.map(\.code).sorted()))
            return Set(rows.map { RowKey(table: $0[0], key: $0[1]) })
        }
    }

    /// Releases rows held back by this site's checks for `reason` that `stillHeld` no longer holds
    /// (given the table, the row's key and its values in column order): their entries for `reason` leave the
    /// ledger, and each row is marked changed again, whole, so that the next export sends all of it
    /// (the hub may never have had any of it). Returns how many were released.
    @discardableResult
    public func releaseHeld(reason: RefusalReason, stillHeld: (TableSpec, String, [SQLValue]) -> Bool) throws -> Int {
        let candidates = try heldRows(reasons: [reason], heldHereOnly: [reason])
        guard !candidates.isEmpty else { return 0 }
        return try engineWrite { tx in
            let context = ReplicaContext(tx: tx, replica: self)
            var released = 0
            for address in candidates.sorted(by: { ($0.table, $0.key) < ($1.table, $1.key) }) {
                guard let table = tableByName[address.table], let row = try context.row(address.table, key: address.key), row.live else { continue }
                let spec = tables[table].spec
                if stillHeld(spec, address.key, spec.columns.map { row.values[$0.name] ?? .null }) { continue }
                try tx.db.execute(sql: "DELETE FROM _begawi_refusals WHERE tbl = ? AND key = ? AND reason = ? AND held_insert <> ?",
                                  arguments: [address.table, address.key, reason.code, HeldAt.hub.rawValue])
                try requeue(tx, table: table, key: address.key)
                released += 1
            }
            return released
        }
    }

    /// Who recorded a refusal, in the ledger's `held_insert` column (named when it was a flag).
    enum HeldAt: Int64 {
        /// The hub refused the change.
        case hub = 0
        /// This site's checks held the row at its insert: the hub never had it.
        case insert = 1
        /// This site's checks held a later change of the row.
        case change = 2
    }

    func recordRefusal(_ tx: EngineTransaction, table: Int, key: String, reason: RefusalReason, message: String, at now: Int64,
                       held: HeldAt = .hub) throws {
        let values = try ReplicaContext(tx: tx, replica: self).row(tables[table].spec.name, key: key)
        try tx.statement("INSERT INTO _begawi_refusals(at, tbl, key, reason, message, vals, held_insert) VALUES (?, ?, ?, ?, ?, ?, ?)").run(bindings: [
            .integer(now), .text(tables[table].spec.name), .text(key), .text(reason.code), .text(message),
            values.map { .text(Replica.json($0.values)) } ?? .null, .integer(held.rawValue),
        ])
    }

    /// The refusal ledger, newest first.
    public func refusals(limit: Int = 1000) throws -> [RefusalLedgerEntry] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, at, tbl, key, reason, message, vals FROM _begawi_refusals ORDER BY id DESC LIMIT ?",
                             arguments: [limit]).map {
                RefusalLedgerEntry(id: $0[0], at: UInt64(clamping: $0[1] as Int64), table: $0[2], key: $0[3], reason: RefusalReason($0[4] as String), message: $0[5], valuesJSON: $0[6])
            }
        }
    }

    /// Removes refusals recorded before `before` (ms since the Unix epoch; all when nil), with the
    /// values they kept, except those for `keeping` reasons whose row is still live here (they are
    /// what holds such a row back). Returns how many were removed.
    @discardableResult
    public func clearRefusals(before: UInt64? = nil, keeping reasons: Set<RefusalReason> = []) throws -> Int {
        try engineWrite { tx in
            var removed = 0, after = Int64.min
            while true {
                let step = try clearRefusals(tx, before: Int64(clamping: before ?? UInt64(Int64.max)), keeping: reasons, after: after, limit: 1000)
                guard let last = step.last else { return removed }
                removed += step.removed
                after = last
            }
        }
    }

    /// How many refusals the ledger holds.
    public func refusalCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _begawi_refusals") ?? 0 }
    }

    /// Values as a JSON object (text, numbers, null; blobs as base64).
    static func json(_ values: [String: SQLValue]) -> String {
        var object: [String: Any] = [:]
        for (k, v) in values {
            switch v {
            case .null: object[k] = NSNull()
            case .integer(let i): object[k] = i
            case .real(let d): object[k] = d
            case .text(let t): object[k] = t
            case .blob(let b): object[k] = Data(b).base64EncodedString()
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
