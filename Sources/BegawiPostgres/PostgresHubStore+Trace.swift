import BegawiCore
public import BegawiHub
import BegawiRules
import PostgresNIO

/// `begawi hub trace-participant` and `duplicates` on PostgreSQL, with the SQLite hub's answers:
/// where a person's data went (the audit and the feed's events of their row and the rows linked to
/// it, erased ones included), and the people likely registered twice under a mistyped identity
/// number. Both read one snapshot (`REPEATABLE READ, READ ONLY`) and hold no personal values in
/// what they return but the registering sites and keys.
extension PostgresHubStore {
    /// Where a person's data went: every accepted and refused write, and every site given or denied
    /// sight of their row or of the rows linked to it, oldest first. Holds no personal values.
    public func trace(key: String) throws -> [TraceEntry] {
        let policy = try PersonTable.requirePolicy(policy)
        let (person, _) = try PersonTable.of(policy)
        try refresh()
        let schema = try exchangeDocument().schema
        return try pool.withLink { link in
            try link.transaction { link -> [TraceEntry] in
                try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                var rows = try PostgresHubStore.erasedRows(person: person, key: key, schema: schema, on: link)
                // Rows erased with the person keep their history under their own keys.
                for found in try link.query("SELECT tbl, key FROM _hub_erased WHERE person = \(key) ORDER BY tbl COLLATE \"C\", key COLLATE \"C\"") {
                    let (table, erased) = try PostgresHubStore.decode("_hub_erased") { try found.decode((String, String).self) }
                    let address = RowKey(table: table, key: erased)
                    if !rows.contains(address) { rows.append(address) }
                }
                var entries: [TraceEntry] = []
                for row in rows {
                    for found in try link.query("SELECT at, site, action, reason FROM _hub_audit WHERE tbl = \(row.table) AND key = \(row.key) ORDER BY id") {
                        let (at, site, action, reason) = try PostgresHubStore.decode("_hub_audit") { try found.decode((Int64, String, String, String?).self) }
                        entries.append(TraceEntry(at: at, site: site, table: row.table, key: row.key, action: action, reason: reason))
                    }
                    for found in try link.query("""
                        SELECT at, site, kind FROM _hub_feed WHERE tbl = \(row.table) AND key = \(row.key) ORDER BY pos NULLS LAST, id
                        """) {
                        let (at, site, kind) = try PostgresHubStore.decode("_hub_feed") { try found.decode((Int64, String, Int64).self) }
                        entries.append(TraceEntry(at: at, site: site, table: row.table, key: row.key, action: TraceEntry.action(ofEvent: kind), reason: nil))
                    }
                }
                return TraceEntry.ordered(entries)
            }
        }
    }

    /// Rows of the person table that are likely one person registered twice under a mistyped
    /// identifier: alike in the columns the schema file declares (`"duplicates"`, ignoring case and
    /// spaces, none empty), with identifiers differing in at most `maxDigits` digits. Compared as the
    /// SQLite hub compares them: ASCII letters lowered, spaces removed, in byte order (`COLLATE "C"`).
    public func duplicates(maxDigits: Int = 2) throws -> [DuplicateCandidate] {
        let policy = try PersonTable.requirePolicy(policy)
        let (person, derived) = try PersonTable.of(policy)
        guard let owner = person.ownerColumn else { return [] }
        try refresh()
        let schema = try exchangeDocument().schema
        guard let spec = schema.table(named: person.table) else {
            throw BegawiError(.configuration, "the hub's published schema has no table '\(person.table)'; publish the schema file with the rules")
        }
        let alike = try DuplicateCandidate.columns(of: person, in: spec)
        let q = SyncedTables.quote
        // Lowered byte by byte for ASCII only, as SQLite's lower(): PostgreSQL's follows the database's locale.
        let normalized = alike.map { "translate(replace(btrim((\(q($0)))::text), ' ', ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')" }
        let rows = try pool.withLink { link in
            try link.query(PostgresQuery(unsafeSQL: """
                SELECT \(q(spec.primaryKey.name)), (\(q(derived.column)))::text, (\(q(owner)))::text, \(normalized.joined(separator: ", "))
                FROM \(q(person.table)) WHERE \(alike.map { "\(q($0)) IS NOT NULL" }.joined(separator: " AND "))
                ORDER BY \(normalized.map { "\($0) COLLATE \"C\"" }.joined(separator: ", ")), \(q(spec.primaryKey.name)) COLLATE "C"
                """)).map { row in
                let cells = try PostgresHubStore.decode(person.table) { try row.map { try $0.decode(String?.self) } }
                return (key: cells[0], identity: cells[1], owner: cells[2], alike: cells.dropFirst(3).compactMap { $0 })
            }
        }
        return DuplicateCandidate.pairs(rows, columns: alike.count, maxDigits: maxDigits)
    }
}
