import BegawiCore
import BegawiReplica
public import BegawiRules
import Foundation
internal import GRDB

extension SQLiteHubStore {
    /// Installs the rules' tables and, when the rules changed since the last start, recomputes who may
    /// see what: returns the rows newly granted per site then (sites granted none left out); nil when
    /// the rules did not change, or the hub never ran with rules (a new hub: nothing to compare).
    func installRules(_ policy: AccessPolicy) throws -> [String: Int]? {
        try policy.validate(against: replica.schema)
        try replica.ownerWrite { db in
            try db.execute(sql: HubRulesSQL.tables)
            for sql in HubRulesSQL.indexes(for: policy) { try db.execute(sql: sql) }
            try HubRulesSQL.installFeed(db, policy: policy)
        }
        let stored = try replica.ownerRead { db in try String.fetchOne(db, sql: "SELECT value FROM _hub_meta WHERE name = 'rules'") }
        guard stored != policy.digest else { return nil }
        let now = Int64(clock.nowMilliseconds())
        return try replica.write { context in
            let granted = try HubVisibility(policy: policy, context: context, now: now).rebuild()
            try context.execute("INSERT OR REPLACE INTO _hub_meta(name, value) VALUES ('rules', ?)", [.text(policy.digest)])
            return stored == nil ? nil : granted
        }
    }

    /// How many rows each site would newly receive if the hub at `path` ran with `policy`: what a
    /// change of the rules widens, counted without writing (the hub recomputes at its next start).
    /// Nil when the rules are those the hub last ran with, or it never ran with rules (then it sent
    /// every row to every site, and rules can only narrow that).
    public static func widening(at path: String, policy: AccessPolicy) throws -> [String: Int]? {
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        let stored = try replica.ownerRead { db -> String? in
            guard try db.tableExists("_hub_meta") else { return nil }
            return try String.fetchOne(db, sql: "SELECT value FROM _hub_meta WHERE name = 'rules'")
        }
        guard let stored, stored != policy.digest else { return nil }
        try policy.validate(against: replica.schema)
        return try replica.read { context in try HubVisibility(policy: policy, context: context, now: 0).widening() }
    }

    /// The digest of the access rules this hub last ran with, or nil if it never ran with any.
    public func installedRulesDigest() throws -> String? {
        try replica.ownerRead { db in
            guard try db.tableExists("_hub_meta") else { return nil }
            return try String.fetchOne(db, sql: "SELECT value FROM _hub_meta WHERE name = 'rules'")
        }
    }

    func requirePolicy() throws -> AccessPolicy { try PersonTable.requirePolicy(policy) }

    /// The table whose key derives from an identity number (`key_from`): one row per person.
    func personTable(_ policy: AccessPolicy) throws -> (TableAccess, TableAccess.DerivedKey) { try PersonTable.of(policy) }

    /// The key of the person with this identity number, once it passes the check the schema's
    /// `key_from` names.
    public func derivedKey(for identity: String) throws -> String {
        try personTable(try requirePolicy()).1.key(for: identity)
    }

    /// Removes a person everywhere: their row and the rows linked to it are deleted at the hub with
    /// every trace (tombstones, ledgers; freed pages are zeroed), writes to them are refused from now
    /// on, and every site that may hold them removes them on its next pull.
    public func erase(key: String) throws -> ErasureReport {
        let policy = try requirePolicy()
        let (person, _) = try personTable(policy)
        let now = Int64(clock.nowMilliseconds())
        let report = try replica.write { context -> ErasureReport in
            guard try context.row(person.table, key: key) != nil else {
                throw PersonTable.notHeld(person.table)
            }
            let rows = try erasedRows(person: person, key: key, context)
            let offices = try HubVisibility.offices(context)
            let visibility = HubVisibility(policy: policy, context: context, now: now)
            var told = Set<String>()
            for row in rows {
                told.formUnion(try eraseRow(row, person: key, at: now, reason: nil, offices: offices, visibility, context))
            }
            return ErasureReport(rows: rows, sites: told.sorted())
        }
        try replica.checkpoint()
        // After the commit, before success: a crash between the two is mended at the next open.
        try erasureLog.append([ErasureLog.Entry(at: now, person: key, rows: report.rows)])
        return report
    }

    /// Where a person's data went: every accepted and refused write, and every site given or denied
    /// sight of their row or of the rows linked to it, oldest first. Holds no personal values.
    public func trace(key: String) throws -> [TraceEntry] {
        let policy = try requirePolicy()
        let (person, _) = try personTable(policy)
        return try replica.read { context in
            var rows = [RowKey(table: person.table, key: key)]
            for link in person.linkedBy {
                for (k, _) in try context.rows(link.table, where: link.column, is: key, liveOnly: false) { rows.append(RowKey(table: link.table, key: k)) }
            }
            // Rows erased with the person keep their history under their own keys.
            for r in try context.query("SELECT tbl, key FROM _hub_erased WHERE person = ? ORDER BY tbl, key", [.text(key)]) {
                if let t = r[0].text, let k = r[1].text, !rows.contains(RowKey(table: t, key: k)) { rows.append(RowKey(table: t, key: k)) }
            }
            var entries: [TraceEntry] = []
            for row in rows {
                for r in try context.query(HubRulesSQL.rowAudit, [.text(row.table), .text(row.key)]) {
                    if case .integer(let at) = r[0], let site = r[1].text, let action = r[2].text {
                        entries.append(TraceEntry(at: at, site: site, table: row.table, key: row.key, action: action, reason: r[3].text))
                    }
                }
                for r in try context.query("SELECT at, site, kind FROM _hub_feed WHERE tbl = ? AND key = ? ORDER BY seq", [.text(row.table), .text(row.key)]) {
                    guard case .integer(let at) = r[0], let site = r[1].text, case .integer(let kind) = r[2] else { continue }
                    let action = TraceEntry.action(ofEvent: kind)
                    entries.append(TraceEntry(at: at, site: site, table: row.table, key: row.key, action: action, reason: nil))
                }
            }
            return TraceEntry.ordered(entries)
        }
    }

    /// Rows of the person table that are likely one person registered twice under a mistyped
    /// identifier: alike in the columns the schema file declares (`"duplicates"`, ignoring case and
    /// spaces, none empty), with identifiers differing in at most `maxDigits` digits.
    public func duplicates(maxDigits: Int = 2) throws -> [DuplicateCandidate] {
        let policy = try requirePolicy()
        let (person, derived) = try personTable(policy)
        guard let owner = person.ownerColumn else { return [] }
        let spec = replica.schema.table(named: person.table)!
        let alike = try DuplicateCandidate.columns(of: person, in: spec)
        let q = { (name: String) in "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let normalized = alike.map { "lower(replace(trim(\(q($0))), ' ', ''))" }
        let rows = try replica.read { context in
            try context.query("""
                SELECT \(q(spec.primaryKey.name)), \(q(derived.column)), \(q(owner)), \(normalized.joined(separator: ", "))
                FROM \(q(person.table)) WHERE \(alike.map { "\(q($0)) IS NOT NULL" }.joined(separator: " AND "))
                ORDER BY \((4..<(4 + alike.count)).map(String.init).joined(separator: ", ")), 1
                """)
        }
        return DuplicateCandidate.pairs(rows.map { r in
            (key: r[0].text, identity: r[1].text, owner: r[2].text, alike: r.dropFirst(3).compactMap(\.text))
        }, columns: alike.count, maxDigits: maxDigits)
    }

    /// How many entries the audit trail holds: of one action ("refused", "inserted", …) if given, else
    /// all of them (for reports and tests).
    public func auditCount(action: String? = nil) throws -> Int {
        try replica.ownerRead { db in
            if let action { return try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_audit WHERE action = ?", arguments: [action]) ?? 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_audit") ?? 0
        }
    }
}
