import BegawiCore

/// The table-by-table comparison of the current version with the candidate.
extension SchemaEvolution {
    mutating func compareTables(_ old: Schema, _ new: Schema, everUsed: (tables: [String: Int], columns: [String: Int])) {
        for table in old.tables {
            guard let next = new.table(named: table.name) else {
                refuse("table '\(table.name)' is dropped (a renamed table looks like a drop and an add)",
                       "keep '\(table.name)' declared; to retire it, stop writing to it (its rows stay); to rename it, add the new table, copy the rows into it, and keep the old one declared")
                continue
            }
            compareColumns(table, next, everUsed: everUsed.columns)
        }
        for table in new.tables where old.table(named: table.name) == nil {
            if let used = everUsed.tables[table.name.lowercased()] {
                refuse("table name '\(table.name)' was used by version \(used)",
                       "choose a new name: a name once published is never reused, since sites on older versions may still hold its rows")
            } else {
                note("table '\(table.name)' added (\(table.columns.count) column\(table.columns.count == 1 ? "" : "s"))")
            }
        }
    }

    private mutating func compareColumns(_ table: TableSpec, _ next: TableSpec, everUsed: [String: Int]) {
        let t = table.name
        if next.primaryKey.name != table.primaryKey.name || next.primaryKey.type.uppercased() != table.primaryKey.type.uppercased() {
            refuse("table '\(t)': its key changes from '\(table.primaryKey.name)' to '\(next.primaryKey.name)'",
                   "keep the key; to key rows otherwise, add a new table with the new key and copy the rows into it")
        }
        var allKept = true
        for column in table.columns {
            guard let now = next.columns.first(where: { $0.name == column.name }) else {
                allKept = false
                refuse("column '\(t).\(column.name)' is dropped (a renamed column looks like a drop and an add)",
                       "keep '\(t).\(column.name)' declared; add the new column, fill it, then stop using the old one (it stays, nullable or as it is)")
                continue
            }
            compare(column, now, table: t)
        }
        let known = Set(table.columns.map(\.name))
        if allKept, next.columns.prefix(table.columns.count).map(\.name) != table.columns.map(\.name) {
            refuse("table '\(t)': its columns are reordered, or a new column comes before an existing one",
                   "keep the existing columns in their order and add new ones at the end of the table's list (a column's place is its place in every stored row's state)")
        }
        for column in next.columns where !known.contains(column.name) {
            if let used = everUsed[t.lowercased() + "." + column.name.lowercased()] {
                refuse("column name '\(t).\(column.name)' was used by version \(used)",
                       "choose a new name: a name once published is never reused, since sites on older versions may still hold its values")
            } else if column.notNull, column.defaultValue == nil {
                refuse("new column '\(t).\(column.name)' is NOT NULL without a default",
                       "give it a \"default\" (rows already stored, and rows from sites on older versions, hold it), or declare it without \"not_null\" and have the application (or an allowed-values rule) require it for new rows")
            } else {
                let extra = (column.notNull ? " NOT NULL" : "") + (column.defaultValue == nil ? "" : ", with a default")
                note("column '\(t).\(column.name)' added (\(column.type.uppercased())\(extra))")
            }
        }
    }

    private mutating func compare(_ column: ColumnSpec, _ now: ColumnSpec, table t: String) {
        let name = "'\(t).\(column.name)'"
        if now.type.uppercased() != column.type.uppercased() {
            refuse("column \(name) changes type from \(column.type.uppercased()) to \(now.type.uppercased())",
                   "keep its type; add a new column of type \(now.type.uppercased()), fill it from the old one, then stop using the old one")
        }
        if now.notNull != column.notNull {
            refuse(now.notNull ? "column \(name) becomes NOT NULL" : "column \(name) stops being NOT NULL",
                   now.notNull
                       ? "keep it nullable: rows already stored and sites on older versions may hold NULL in it; have the application require it"
                       : "keep it NOT NULL: sites on older versions refuse a batch with a NULL in it; add a new nullable column and move to it")
        }
        if now.defaultValue != column.defaultValue {
            refuse("column \(name): its default is \(column.defaultValue == nil ? "added" : now.defaultValue == nil ? "removed" : "changed")",
                   "keep its default as published: every replica, on every version, gives a row without a value for the column that default, and SQLite keeps an installed column's default; to use another, add a new column with it")
        }
        if now.byteLimit < column.byteLimit {
            refuse("column \(name): max_bytes shrinks from \(column.byteLimit) to \(now.byteLimit)",
                   "keep the limit: stored values and sites on older versions may hold up to \(column.byteLimit) bytes; add a new column with the smaller limit")
        } else if now.byteLimit > column.byteLimit {
            note("column \(name) may hold up to \(now.byteLimit) bytes (was \(column.byteLimit))")
        }
        if column.multiline, !now.multiline {
            refuse("column \(name) is no longer multiline",
                   "keep \"multiline\": true: stored values may hold several lines")
        } else if now.multiline, !column.multiline {
            note("column \(name) may hold several lines")
        }
    }

    mutating func compareRules(_ old: AccessPolicy?, _ new: AccessPolicy?, tables: Schema) {
        switch (old, new) {
        case (nil, nil):
            return
        case (nil, _?):
            note("rules between agencies declared")
            return
        case (_?, nil):
            refuse("the rules between agencies are removed",
                   "keep the \"access\" objects: without them every site would receive every row (to widen what a site receives, change its table's rules)")
            return
        case (let old?, let new?):
            for name in tables.tables.map(\.name) {
                guard let before = old[name], let after = new[name], before != after else { continue }
                compareRule(before, after)
            }
        }
    }

    private mutating func compareRule(_ before: TableAccess, _ after: TableAccess) {
        let t = before.table
        if before.derivedKey != after.derivedKey {
            refuse("table '\(t)': key_from changes", "keep key_from as it is: the rows stored are keyed by it, and a new derivation would make each person a second row")
        }
        for column in Set(before.allowedValues.keys).union(after.allowedValues.keys).sorted() {
            let was = before.allowedValues[column], now = after.allowedValues[column]
            guard was != now else { continue }
            switch (was, now) {
            case (nil, _?): note("values of '\(t).\(column)' restricted to a list")
            case (_?, nil): note("values of '\(t).\(column)' no longer restricted")
            default:
                let added = (now ?? []).subtracting(was ?? []).sorted(), removed = (was ?? []).subtracting(now ?? []).sorted()
                var parts: [String] = []
                if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
                if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
                note("allowed values of '\(t).\(column)': \(parts.joined(separator: "; "))")
            }
        }
        var other: [String] = []
        if before.owner != after.owner { other.append("owner") }
        if before.writers != after.writers { other.append("writers") }
        if before.officeOnly != after.officeOnly { other.append("office_only") }
        if before.receivers != after.receivers { other.append("receivers") }
        if before.linkedBy != after.linkedBy { other.append("linked_by") }
        if before.duplicateColumns != after.duplicateColumns { other.append("duplicates") }
        if !other.isEmpty { note("rules of '\(t)' changed: \(other.joined(separator: ", ")) (who sees what is recomputed at the hub's next start)") }
    }
}
