public import BegawiCore

extension AccessPolicy {
    /// Judges one row change by a site of a kind. The office may write anything that is well formed.
    public func judge(_ write: RowWrite, site: String, kind: SiteKind, lookup: any RuleLookup) throws -> Verdict {
        guard let rule = tables[write.table] else {
            return .refuse(reason: .notWriter, message: "table '\(write.table)' has no rules at the hub; nobody may write it")
        }
        if let problem = valueProblem(write, rule) { return problem }
        if kind == .office { return try referenceProblem(write, lookup: lookup) ?? .accept }

        guard rule.writers.contains(kind) else {
            let who = rule.writers.isEmpty ? "only the office" : "only sites of kind \(rule.writers.map(\.rawValue).sorted().joined(separator: ", ")) and the office"
            return .refuse(reason: .notWriter, message: "a site of kind \(kind.rawValue) may not write table '\(write.table)': \(who) may")
        }
        // The hub's row as far as this change is concerned: nil for a new row and for a deleted
        // registration registered anew by another site (see `revivesRegistration`).
        var prior = write.before
        if let before = write.before {
            let ownerBefore = try owner(of: before, rule, lookup: lookup)
            if ownerBefore != site {
                if revivesRegistration(write, rule) {
                    prior = nil
                } else {
                    if rule.derivedKey != nil, !write.knewRow, write.deletes == false { return .alreadyRegistered }
                    return .refuse(reason: .notOwner, message: "this row of '\(write.table)' belongs to another site; a site may change only its own rows (ask the owner or the office)")
                }
            }
        } else if write.deletes != false {
            return .refuse(reason: .unknownRow, message: "the hub never had this row of '\(write.table)', so there is nothing to delete or change; it was removed from the site's replica")
        }
        // Columns refused while the rest of the change lands, and the first reason.
        var keep = Set<String>()
        var set: [String: SQLValue] = [:]
        var why: (reason: RefusalReason, message: String)?
        let ownerAfter = try owner(of: write.after, rule, lookup: lookup)
        if ownerAfter != site {
            switch rule.owner {
            case .column(let c) where prior != nil:
                keep.insert(c)
                why = (.ownerChange, "only the office may change '\(c)' of '\(write.table)', the column that names the owning site")
            case .column(let c) where write.laterWrites.contains(c):
                // Changed after the insert, before the push: the insert had to name the writer.
                set[c] = .text(site)
                why = (.ownerChange, "only the office may change '\(c)' of '\(write.table)', the column that names the owning site")
            case .via(let c, let other):
                if let reference = write.after.text(c), try lookup.row(other, key: reference)?.live != true {
                    return .refuse(reason: .unknownReference, message: "'\(c)' of this '\(write.table)' row references a row of '\(other)' the hub does not hold; the site sends it once more after the rest of its changes")
                }
                return .refuse(reason: .notOwner, message: "'\(c)' of this '\(write.table)' row must reference a row of '\(other)' that the site owns")
            default:
                return .refuse(reason: .notOwner, message: "the row of '\(write.table)' must name the writing site as its owner")
            }
        }
        for column in rule.officeOnly.sorted() {
            guard let value = write.written[column] else { continue }
            let current = prior?.values[column] ?? .null
            if !value.same(as: current) {
                let message = "only the office may set '\(column)' of '\(write.table)'"
                // An insert that sets it is refused whole; a later write loses only the column.
                if prior == nil, !write.laterWrites.contains(column) { return .refuse(reason: .officeOnly, message: message) }
                if prior == nil { set[column] = .null } else { keep.insert(column) }
                if why == nil { why = (.officeOnly, message) }
            }
        }
        if let problem = try referenceProblem(write, lookup: lookup) { return problem }
        guard let why else { return .accept }
        // A change of nothing but refused columns is refused whole, as before.
        if prior != nil, write.deletes == nil, Set(write.written.keys).isSubset(of: keep) {
            return .refuse(reason: why.reason, message: why.message)
        }
        let names = keep.union(set.keys).sorted().map { "'\($0)'" }.joined(separator: ", ")
        return .acceptPart(keep: keep, set: set, reason: why.reason,
                           message: "\(why.message); the rest of the change was accepted without \(names)")
    }

    /// The site that owns a row, following an owner reference; nil if there is none.
    public func owner(of row: StoredRow, _ rule: TableAccess, lookup: any RuleLookup) throws -> String? {
        switch rule.owner {
        case .none: return nil
        case .column(let c): return row.text(c)
        case .via(let c, let other):
            guard let ref = row.text(c), let target = try lookup.row(other, key: ref), let targetRule = tables[other] else { return nil }
            if case .column(let oc) = targetRule.owner { return target.text(oc) }
            return nil
        }
    }

    /// Why a derived key's identifier fails its check or does not give the row's key, as (reason,
    /// message); nil when it is fine or the table derives no key from this column.
    public func derivedKeyProblem(table: String, key: String, column: String, value: SQLValue) -> (reason: RefusalReason, message: String)? {
        guard let derived = tables[table]?.derivedKey, derived.column == column else { return nil }
        guard case .text(let nik) = value else { return (.invalidNIK, "'\(column)' of '\(table)' must be text") }
        if let problem = derived.problem(nik) { return (.invalidNIK, problem) }
        if NIK.key(for: nik, salt: derived.salt) != key {
            return (.keyMismatch, "the row's key is not the one derived from its '\(column)'; compute it with `begawi site participant-key` (a changed NIK is a new row: delete and insert)")
        }
        return nil
    }

    /// Refuses values outside a column's allowed list, and identifiers that fail their check or do not
    /// match the derived key.
    func valueProblem(_ write: RowWrite, _ rule: TableAccess) -> Verdict? {
        for (column, allowed) in rule.allowedValues.sorted(by: { $0.key < $1.key }) {
            guard let value = write.written[column] else { continue }
            switch value {
            case .null: continue
            case .text(let t) where allowed.contains(t): continue
            default:
                return .refuse(reason: .badValue, message: "'\(column)' of '\(write.table)' must be one of \(allowed.sorted().joined(separator: ", ")) or empty")
            }
        }
        if let derived = rule.derivedKey, write.before == nil, write.deletes == false, write.written[derived.column] == nil {
            return .refuse(reason: .invalidNIK, message: "a new row of '\(write.table)' needs its '\(derived.column)', from which its key is derived")
        }
        if let derived = rule.derivedKey, let value = write.written[derived.column],
           let (reason, message) = derivedKeyProblem(table: write.table, key: write.key, column: derived.column, value: value) {
            return .refuse(reason: reason, message: message)
        }
        return nil
    }
}
