public import BegawiCore

extension AccessPolicy {
    /// Whether every site receives the table's rows.
    public func isCatalogue(_ table: String) -> Bool { tables[table]?.receivers == .all }

    /// The sites, besides the office, that may see a row of a table that is not a catalogue: its owner
    /// and the owners of the live rows that link to it.
    public func receivers(of table: String, key: String, row: StoredRow, lookup: any RuleLookup) throws -> Set<String> {
        guard let rule = tables[table], rule.receivers == .linked else { return [] }
        var sites = Set<String>()
        if let owner = try owner(of: row, rule, lookup: lookup) { sites.insert(owner) }
        for link in rule.linkedBy {
            guard let linkRule = tables[link.table] else { continue }
            for (_, linking) in try lookup.rows(link.table, where: link.column, is: key, liveOnly: true) {
                if let owner = try owner(of: linking, linkRule, lookup: lookup) { sites.insert(owner) }
            }
        }
        return sites
    }

    /// The rows whose receivers may change when a row of `table` changes from `before` to `after`:
    /// the row itself, the rows it links to, and, when its owner changes, the rows that take their
    /// owner from it (and what those link to).
    public func dependents(of table: String, key: String, before: StoredRow?, after: StoredRow?, lookup: any RuleLookup) throws -> Set<RowKey> {
        var found = Set<RowKey>()
        try collect(table, key, before, after, lookup, &found, depth: 0)
        return found
    }

    private func collect(_ table: String, _ key: String, _ before: StoredRow?, _ after: StoredRow?, _ lookup: any RuleLookup,
                         _ found: inout Set<RowKey>, depth: Int) throws {
        guard let rule = tables[table], depth < 4 else { return }
        let ownerBefore = try before.flatMap { try owner(of: $0, rule, lookup: lookup) }
        let ownerAfter = try after.flatMap { try owner(of: $0, rule, lookup: lookup) }
        // Receivers depend on a row's owner and on which live rows link to it: an edit that changes
        // neither (most edits) changes nobody's sight.
        let cascade = depth > 0
        let appeared = before == nil || after == nil || before?.live != after?.live || ownerBefore != ownerAfter || cascade
        if rule.receivers == .linked, appeared { found.insert(RowKey(table: table, key: key)) }
        for (name, other) in tables {
            for link in other.linkedBy where link.table == table {
                guard appeared || before?.values[link.column] != after?.values[link.column] else { continue }
                for row in [before, after] {
                    if let ref = row?.text(link.column) { found.insert(RowKey(table: name, key: ref)) }
                }
            }
        }
        guard ownerBefore != ownerAfter, before != nil else { return }
        for (name, other) in tables {
            guard case .via(let column, let target) = other.owner, target == table else { continue }
            for (k, row) in try lookup.rows(name, where: column, is: key, liveOnly: false) {
                try collect(name, k, row, row, lookup, &found, depth: depth + 1)
            }
        }
    }
}
