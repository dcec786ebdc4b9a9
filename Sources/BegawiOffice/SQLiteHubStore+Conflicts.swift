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

    /// Why a losing value cannot be written back from the dashboard (`ConflictReview.block`, shared with PostgreSQL).
    func reapplyBlock(_ c: ConflictLedgerEntry) -> String? {
        ConflictReview.block(c, schema: schema, policy: policy)
    }

    /// Writes a conflict's losing value back as the hub's own change, which reaches every site
    /// that may see the row on its next round. `by` names who asked (the office's site id).
    public func reapply(conflict id: Int64, by: String) throws -> ConflictLedgerEntry {
        guard let c = try hubReplica.conflict(id: id) else {
            throw ReapplyRefusal.unknown(id)
        }
        if let why = reapplyBlock(c) { throw ReapplyRefusal.blocked(id, why) }
        guard let spec = schema.tables.first(where: { $0.name == c.table }) else { throw BegawiError(.invalidArgument, "unknown table") }
        let now = Int64(hubClock.nowMilliseconds())
        try hubReplica.ownerWrite { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM _hub_reapplied WHERE conflict = ?", arguments: [id]) != nil {
                throw ReapplyRefusal.done(id)
            }
            // Names checked when the schema was installed, quoted as the hub's other queries do.
            try db.execute(sql: "UPDATE \"\(c.table)\" SET \"\(c.column)\" = ? WHERE \"\(spec.primaryKey.name)\" = ?", arguments: [SQLiteHubStore.database(c.loserValue), c.key])
            guard db.changesCount == 1 else {
                throw ReapplyRefusal.gone(id)
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
