package import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation
internal import GRDB

/// The erasure log beside the database: erasures are committed to the database first, then appended
/// to the log and flushed before `erase` returns. At every open with rules, the two are compared:
/// what the log holds and the database lacks is erased again; what the database holds and the log
/// lacks is appended. A crash between the two steps therefore loses nothing.
extension SQLiteHubStore {
    /// The rows erased with a person: their row and every row linked to it, deleted ones included.
    func erasedRows(person: TableAccess, key: String, _ context: ReplicaContext) throws -> [RowKey] {
        var rows = [RowKey(table: person.table, key: key)]
        for link in person.linkedBy {
            for (k, _) in try context.rows(link.table, where: link.column, is: key, liveOnly: false) { rows.append(RowKey(table: link.table, key: k)) }
        }
        return rows
    }

    /// Erases one row at the hub and tells every site that may hold it; returns those sites.
    func eraseRow(_ row: RowKey, person key: String, at erasedAt: Int64, reason: String?, offices: Set<String>,
                  _ visibility: HubVisibility, _ context: ReplicaContext) throws -> Set<String> {
        // Everyone who may hold it: who may see it, the office, and every site that ever sent a
        // change of it (a refused registration keeps its values in that site's refusal ledger).
        let sites = Set(try context.query(HubRulesSQL.auditSites + """
             SELECT site FROM _hub_visibility WHERE tbl = ?1 AND key = ?2
            UNION SELECT a.site FROM audit_sites s JOIN _hub_audit a ON a.site = s.site AND a.tbl = ?1 AND a.key = ?2 WHERE a.site != ?3
            """, [.text(row.table), .text(row.key), .text(SQLiteHubStore.hubSiteID)])
            .compactMap { $0.first?.text }).union(offices)
        for site in sites.sorted() { try visibility.event(.erase, site: site, row) }
        try context.execute("DELETE FROM _hub_visibility WHERE tbl = ? AND key = ?", [.text(row.table), .text(row.key)])
        try context.evict(row.table, key: row.key)
        try context.execute("INSERT OR REPLACE INTO _hub_erased(tbl, key, at, person) VALUES (?, ?, ?, ?)",
                            [.text(row.table), .text(row.key), .integer(erasedAt), .text(key)])
        try context.execute("INSERT INTO _hub_audit(at, site, tbl, key, action, reason) VALUES (?, ?, ?, ?, 'erased', ?)",
                            [.integer(visibility.now), .text(SQLiteHubStore.hubSiteID), .text(row.table), .text(row.key),
                             reason.map(SQLValue.text) ?? .null])
        return sites
    }

    /// The erasures the database holds, one per person, oldest first.
    static func storedErasures(_ db: Database) throws -> [ErasureLog.Entry] {
        guard try db.tableExists("_hub_erased") else { return [] }
        return ErasureLog.Entry.grouped(try Row.fetchAll(db, sql: "SELECT tbl, key, at, coalesce(person, key) AS person FROM _hub_erased ORDER BY at, person, tbl, key").map { row in
            (table: row["tbl"], key: row["key"], at: row["at"], person: row["person"])
        })
    }

    /// Brings the database and the log into agreement (see the extension's summary), in one write
    /// transaction for what is erased again, before the store serves anything.
    func reconcileErasures(_ policy: AccessPolicy) throws -> ErasureReconciliation {
        let contents = try erasureLog.read()
        let stored = try replica.ownerRead { db in try SQLiteHubStore.storedErasures(db) }
        var done = ErasureReconciliation(skippedLines: contents.skippedLines)
        let heldRows = Set(stored.flatMap(\.rowKeys))
        let lacking = SQLiteHubStore.lacking(contents.entries, held: heldRows, schema: replica.schema)
        if !lacking.isEmpty, let (person, _) = try? personTable(policy) {
            let now = Int64(clock.nowMilliseconds())
            try replica.write { context in
                let offices = try HubVisibility.offices(context)
                let visibility = HubVisibility(policy: policy, context: context, now: now)
                var erased = heldRows
                for entry in lacking {
                    // The rows logged, and any linked to the person in this older copy.
                    var rows = entry.rowKeys
                    for row in try erasedRows(person: person, key: entry.person, context) where !rows.contains(row) { rows.append(row) }
                    for row in rows where !erased.contains(row) && replica.schema.table(named: row.table) != nil {
                        _ = try eraseRow(row, person: entry.person, at: entry.at, reason: "re-applied from the erasure log",
                                         offices: offices, visibility, context)
                        erased.insert(row)
                    }
                }
            }
            try replica.checkpoint()
            done.reapplied = lacking.count
        }
        try erasureLog.appendUnlogged(stored, contents: contents, into: &done)
        return done
    }

    /// The erasures a backup file holds, one per person (none for a hub that never erased anyone).
    public static func erasures(inBackup path: String) throws -> [ErasureLog.Entry] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BegawiError(.invalidArgument, "no backup file \(path)")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in try storedErasures(db) }
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "cannot read the backup \(path); is it a hub database written by `begawi hub backup`?", cause: "\(error)")
        }
    }

    /// The erasures of the log that a backup file lacks: those the hub applies again when it starts
    /// on that file.
    public static func erasures(lackedBy backup: String, log: ErasureLog) throws -> [ErasureLog.Entry] {
        let held = Set(try erasures(inBackup: backup).flatMap(\.rowKeys))
        return lacking(try log.read().entries, held: held, schema: nil)
    }

    /// The entries (one per person) with a row of a known table that is not among the `held` erased rows.
    package static func lacking(_ entries: [ErasureLog.Entry], held: Set<RowKey>, schema: Schema?) -> [ErasureLog.Entry] {
        var seen = Set<String>()
        return entries.filter { entry in
            entry.rowKeys.contains { !held.contains($0) && (schema?.table(named: $0.table) != nil || schema == nil) } && seen.insert(entry.person).inserted
        }
    }
}
