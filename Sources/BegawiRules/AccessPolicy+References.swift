import BegawiCore

extension AccessPolicy {
    /// The columns of a table that hold another table's key, with that table: its owner reference and
    /// the links other tables declare through it.
    public func references(of table: String) -> [(column: String, target: String)] {
        (referenceIndex[table] ?? []).map { ($0.column, $0.target) }
    }

    /// One column holding another table's key.
    struct Reference: Hashable, Sendable {
        var column: String
        var target: String
    }

    /// The references of every table of `tables`: its owner reference first, then the links other
    /// tables declare through it, by their tables' names.
    static func referenceIndex(_ tables: [String: TableAccess]) -> [String: [Reference]] {
        var index: [String: [Reference]] = [:]
        for table in Set(tables.keys).union(tables.values.flatMap { $0.linkedBy.map(\.table) }) {
            var found: [Reference] = []
            if case .via(let column, let target)? = tables[table]?.owner { found.append(Reference(column: column, target: target)) }
            for (name, rule) in tables.sorted(by: { $0.key < $1.key }) {
                for link in rule.linkedBy where link.table == table && !found.contains(where: { $0.column == link.column }) {
                    found.append(Reference(column: link.column, target: name))
                }
            }
            if !found.isEmpty { index[table] = found }
        }
        return index
    }

    /// Refuses a live row that this change makes reference a row the hub does not hold live (never
    /// had, or deleted): such a row would point at nothing. A missing owner (a program) is the
    /// writer's own row, so it is `unknown-reference`; a missing linked row (a participant another
    /// site may still send, or register anew) is `awaiting-reference`, and the site sends it again.
    func referenceProblem(_ write: RowWrite, lookup: any RuleLookup) throws -> Verdict? {
        guard write.after.live else { return nil }
        var ownerColumn: String?
        if case .via(let column, _)? = tables[write.table]?.owner { ownerColumn = column }
        for (column, target) in references(of: write.table) {
            guard case .text(let reference)? = write.written[column] else { continue }
            guard try lookup.row(target, key: reference)?.live != true else { continue }
            if column == ownerColumn {
                return .refuse(reason: .unknownReference, message: "'\(column)' of this '\(write.table)' row references a row of '\(target)' the hub does not hold (never sent, or deleted); the site sends it once more after the rest of its changes")
            }
            return .refuse(reason: .awaitingReference, message: "'\(column)' of this '\(write.table)' row references a row of '\(target)' the hub does not hold (not sent yet by its site, or deleted); the site keeps the row and sends it again at each round until it lands")
        }
        return nil
    }

    /// Whether a change registers anew, whole, a row with a derived key that another site registered
    /// and then deleted. A tombstone is no one's registration: the new registrant becomes the owner,
    /// and since every column comes from its write, nothing of the deleted registration reaches it.
    func revivesRegistration(_ write: RowWrite, _ rule: TableAccess) -> Bool {
        guard rule.derivedKey != nil, let before = write.before, !before.live, write.deletes == false, write.after.live else { return false }
        return write.after.values.allSatisfy { column, value in write.written[column].map { $0.same(as: value) } ?? false }
    }
}
