import BegawiCore
import BegawiReplica
import BegawiRules

/// The hub's conflict ledger in plain words. Values are shown only for coded columns (those with a
/// list of allowed values, such as an enrollment's status) outside the table of people: everything
/// else may be personal, and stays in the ledger for the office to read.
enum DemoLedger {
    static func lines(_ conflicts: [ConflictLedgerEntry], policy: AccessPolicy?, show: (SQLValue) -> String) -> [String] {
        guard !conflicts.isEmpty else { return ["  (none)"] }
        // One line per row and pair of sites: a second registration differs in several fields at once.
        var groups: [(record: ConflictLedgerEntry, columns: [String])] = []
        for c in conflicts {
            if let i = groups.firstIndex(where: { $0.record.table == c.table && $0.record.key == c.key
                                                   && $0.record.loser.site == c.loser.site && $0.record.winner.site == c.winner.site }) {
                groups[i].columns.append(c.column)
            } else {
                groups.append((c, [c.column]))
            }
        }
        return groups.map { group in
            let c = group.record
            let rule = policy?[c.table]
            if rule?.derivedKey != nil {
                return "  \(c.table) \(c.key): \(c.loser.site)'s registration of this person differs from \(c.winner.site)'s, "
                    + "which the hub keeps, in \(group.columns.joined(separator: ", ")) (already-registered; "
                    + "the values stay in the ledger for the office, not shown here)"
            }
            let shown = group.columns.count == 1 && rule?.allowedValues[c.column] != nil
            let values = shown ? " \(show(c.loserValue)) by \(c.loser.site) lost to \(show(c.winnerValue)) by \(c.winner.site)"
                               : " \(c.loser.site)'s value lost to \(c.winner.site)'s (values kept in the ledger, not shown)"
            let why = c.winnerIsDelete ? ", which deleted the row" : (c.winner.clock > c.loser.clock ? ", written later" : ", on an equal clock, by site id")
            return "  \(c.table) \(c.key) \(group.columns.joined(separator: ", ")):" + values + why
                + " (both written offline, neither site had seen the other's)"
        }
    }
}
