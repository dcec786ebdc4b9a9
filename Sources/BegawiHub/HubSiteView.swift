import BegawiCore
import BegawiReplica
import BegawiRules

/// What one site may receive from the hub's feed: catalogue rows, rows it may see, rows newly visible
/// (sent whole) and rows it must remove. The office sees every row but still receives erasures.
struct HubSiteView: ExportView {
    let site: String
    let isOffice: Bool
    let policy: AccessPolicy

    func bound(afterSeq: UInt64, maxRows: Int, context: ReplicaContext) throws -> UInt64? {
        let rows = try context.query("SELECT seq FROM _hub_feed WHERE site = ? AND seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
                                     [.text(site), .integer(Int64(clamping: afterSeq)), .integer(Int64(maxRows))])
        guard case .integer(let seq)? = rows.first?.first else { return nil }
        return UInt64(clamping: seq - 1)
    }

    func includes(table: String, key: String, context: ReplicaContext) throws -> Bool {
        if isOffice { return true }
        guard let rule = policy[table] else { return false }
        if rule.receivers == .all { return true }
        return try !context.query("SELECT 1 FROM _hub_visibility WHERE site = ? AND tbl = ? AND key = ?",
                                  [.text(site), .text(table), .text(key)]).isEmpty
    }

    func condition(name: String, key: String, span: UInt64, context: ReplicaContext) throws -> (sql: String, arguments: [SQLValue])? {
        if isOffice { return ("1", []) }
        let catalogues = policy.tables.values.filter { $0.receivers == .all }.map(\.table).sorted()
        let linked = policy.tables.values.filter { $0.receivers == .linked }.map(\.table).sorted()
        var parts: [String] = []
        var arguments: [SQLValue] = []
        if !catalogues.isEmpty {
            parts.append("\(name) IN (\(Array(repeating: "?", count: catalogues.count).joined(separator: ", ")))")
            arguments += catalogues.map { .text($0) }
        }
        if !linked.isEmpty {
            // A site that sees fewer rows than a fourth of those to scan (catching up on other sites'
            // pushes): its rows are read once into a set for the statement, instead of a search of the
            // whole visibility table per scanned row. Counted no further than that fourth.
            let few = Int64(clamping: span / 4)
            let counted = try context.query("SELECT count(*) FROM (SELECT 1 FROM _hub_visibility WHERE site = ? LIMIT ?)",
                                            [.text(site), .integer(few + 1)])
            let visible = if case .integer(let n)? = counted.first?.first { n } else { few + 1 }
            let sight = visible <= few
                ? "(\(name), \(key)) IN (SELECT tbl, key FROM _hub_visibility WHERE site = ?)"
                : "EXISTS (SELECT 1 FROM _hub_visibility v WHERE v.site = ? AND v.tbl = \(name) AND v.key = \(key))"
            parts.append("(\(name) IN (\(Array(repeating: "?", count: linked.count).joined(separator: ", "))) AND \(sight))")
            arguments += linked.map { .text($0) } + [.text(site)]
        }
        return (parts.isEmpty ? "0" : parts.joined(separator: " OR "), arguments)
    }

    func extras(afterSeq: UInt64, throughSeq: UInt64, context: ReplicaContext) throws -> (whole: [RowKey], evict: [RowKey]) {
        var last: [RowKey: Int64] = [:]
        var order: [RowKey] = []
        for row in try context.query("SELECT tbl, key, kind FROM _hub_feed WHERE site = ? AND seq > ? AND seq <= ? ORDER BY seq",
                                     [.text(site), .integer(Int64(clamping: afterSeq)), .integer(Int64(clamping: throughSeq))]) {
            guard case .text(let table) = row[0], case .text(let key) = row[1], case .integer(let kind) = row[2] else { continue }
            let address = RowKey(table: table, key: key)
            if last[address] == nil { order.append(address) }
            last[address] = kind
        }
        var whole: [RowKey] = []
        var evict: [RowKey] = []
        for address in order {
            switch HubRulesSQL.Event(rawValue: last[address]!) {
            case .grant?: if try includes(table: address.table, key: address.key, context: context) { whole.append(address) }
            case .revoke?: if try !includes(table: address.table, key: address.key, context: context) { evict.append(address) }
            case .erase?: evict.append(address)
            case nil: continue
            }
        }
        return (whole, evict)
    }
}
