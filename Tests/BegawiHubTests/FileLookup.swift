import BegawiCore
import BegawiRules
import GRDB

/// The rules' view of a hub file read row by row, outside the hub (a read-only connection): what
/// `AccessPolicy.receivers` says of a row, to hold the hub's set-based upkeep of visibility against.
struct FileLookup: RuleLookup {
    let db: Database
    let schema: Schema

    func row(_ table: String, key: String) throws -> StoredRow? {
        try rows(table, where: schema.table(named: table)?.primaryKey.name ?? "id", is: key, liveOnly: false).first?.row
    }

    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)] {
        guard let spec = schema.table(named: table) else { return [] }
        var found: [(key: String, row: StoredRow)] = []
        for live in [true, false] where live || !liveOnly {
            let source = live ? "\"\(table)\"" : "\"_begawi_dead_\(table)\""
            for r in try Row.fetchAll(db, sql: "SELECT * FROM \(source) WHERE \"\(column)\" = ?", arguments: [value]) {
                var values: [String: SQLValue] = [:]
                for c in spec.columns { values[c.name] = FileLookup.value(r[c.name]) }
                let key: String = r[spec.primaryKey.name]
                found.append((key, StoredRow(values: values, live: live)))
            }
        }
        return found
    }

    static func value(_ v: DatabaseValue) -> SQLValue {
        switch v.storage {
        case .null: .null
        case .int64(let i): .integer(i)
        case .double(let d): .real(d)
        case .string(let s): .text(s)
        case .blob(let b): .blob(Array(b))
        }
    }
}
