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

    /// The site's own feed: one part per table it may receive, each a range of an index in change
    /// order (`HubRulesSQL+Feed`): a catalogue's rows by table, other rows by the site's visibility
    /// entries. The office reads the whole sequence.
    func feed(afterSeq: UInt64, throughSeq: UInt64, context: ReplicaContext) throws -> [(sql: String, arguments: [SQLValue])] {
        let range: [SQLValue] = [.integer(Int64(clamping: afterSeq)), .integer(Int64(clamping: throughSeq))]
        if isOffice { return [("SELECT seq, tbl, key FROM _begawi_rows WHERE seq > ? AND seq <= ?", range)] }
        var parts: [(sql: String, arguments: [SQLValue])] = []
        for row in try context.query("SELECT id, name FROM _begawi_tables ORDER BY id") {
            guard case .integer(let id) = row[0], let name = row[1].text, let rule = policy[name] else { continue }
            switch rule.receivers {
            case .all:
                parts.append(("SELECT seq, tbl, key FROM _begawi_rows WHERE tbl = ? AND seq > ? AND seq <= ?", [.integer(id)] + range))
            case .linked:
                parts.append(("SELECT seq, \(id) AS tbl, key FROM _hub_visibility WHERE site = ? AND tbl = ? AND seq > ? AND seq <= ?",
                              [.text(site), .text(name)] + range))
            }
        }
        return parts
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
