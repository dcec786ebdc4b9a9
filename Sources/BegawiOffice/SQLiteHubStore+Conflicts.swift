public import BegawiCore
public import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
internal import GRDB

extension SQLiteHubStore {
    /// The conflict ledger, newest first (at most `limit` entries), with what the office did.
    public func conflictReviews(limit: Int = 500) throws -> [ConflictReview] {
        let records = try hubReplica.conflicts(newest: limit)
        let done = try hubReplica.ownerRead { db in
            var done: [Int64: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT conflict, at FROM _hub_reapplied") {
                let conflict: Int64 = try row.decode(forColumn: "conflict"), at: Int64 = try row.decode(forColumn: "at")
                done[conflict] = at
            }
            return done
        }
        return records.map { ConflictReview(entry: $0, reappliedAt: done[$0.id], blocked: reapplyBlock($0)) }
    }

    /// Why a losing value cannot be written back from the dashboard: columns that decide who owns
    /// or sees a row (or derive its key) change at the owner's site, where the rules judge them.
    func reapplyBlock(_ c: ConflictLedgerEntry) -> String? {
        if c.winnerIsDelete { return "baris ini sudah dihapus" }
        guard let spec = schema.tables.first(where: { $0.name == c.table }) else { return "tabel ini tidak lagi disinkronkan" }
        guard spec.columns.contains(where: { $0.name == c.column }) else { return "kolom ini tidak lagi ada" }
        if let policy, let rule = policy.tables[c.table] {
            var deciding = rule.ownerColumn == c.column || rule.derivedKey?.column == c.column
            if case .via(let column, _) = rule.owner, column == c.column { deciding = true }
            if policy.tables.values.contains(where: { $0.linkedBy.contains { $0.table == c.table && $0.column == c.column } }) { deciding = true }
            if deciding { return "kolom ini menentukan pemilik atau penerima baris; ubah di situs pemiliknya" }
        }
        return nil
    }

    /// Writes a conflict's losing value back as the hub's own change, which reaches every site
    /// that may see the row on its next round. `by` names who asked (the office's site id).
    public func reapply(conflict id: Int64, by: String) throws -> ConflictLedgerEntry {
        guard let c = try hubReplica.conflict(id: id) else {
            throw BegawiError(.invalidArgument, "there is no conflict \(id) in the ledger")
        }
        if let why = reapplyBlock(c) { throw BegawiError(.invalidArgument, "conflict \(id) cannot be re-applied: \(why)") }
        guard let spec = schema.tables.first(where: { $0.name == c.table }) else { throw BegawiError(.invalidArgument, "unknown table") }
        let now = Int64(hubClock.nowMilliseconds())
        try hubReplica.ownerWrite { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM _hub_reapplied WHERE conflict = ?", arguments: [id]) != nil {
                throw BegawiError(.invalidArgument, "conflict \(id) was already re-applied")
            }
            // Names checked when the schema was installed, quoted as the hub's other queries do.
            try db.execute(sql: "UPDATE \"\(c.table)\" SET \"\(c.column)\" = ? WHERE \"\(spec.primaryKey.name)\" = ?", arguments: [SQLiteHubStore.database(c.loserValue), c.key])
            guard db.changesCount == 1 else {
                throw BegawiError(.invalidArgument, "the row of conflict \(id) is no longer at the hub (deleted or erased)")
            }
            try db.execute(sql: "INSERT INTO _hub_reapplied(conflict, at, by) VALUES (?, ?, ?)", arguments: [id, now, by])
            if try Int.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE name = '_hub_audit'") != nil {
                try db.execute(sql: "INSERT INTO _hub_audit(at, site, tbl, key, action, reason) VALUES (?, ?, ?, ?, 'reapplied', ?)",
                               arguments: [now, by, c.table, c.key, "conflict \(id)"])
            }
        }
        // Stamped now as the hub's write: the next pull of every site that may see the row carries it.
        try hubReplica.captureLocalChanges()
        return c
    }

    static func database(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let v): v.databaseValue
        case .blob(let v): Data(v).databaseValue
        }
    }
}
