import BegawiCore
import BegawiReplica
import BegawiRules

/// Keeps `_hub_visibility` (which site may see which row of a table that is not a catalogue) and
/// records each change in `_hub_feed`, numbered in the replica's change sequence, so that a site's
/// next pull sends newly visible rows whole and removes rows it may no longer see.
struct HubVisibility {
    let policy: AccessPolicy
    let context: ReplicaContext
    let now: Int64
    var cache: HubLookupCache?

    /// Recomputes who may see each row and records the differences. A site that holds a row whole
    /// already (`holding`: the pushing site and the rows it just sent whole) gets no grant for it.
    /// Returns how many rows each site was newly granted.
    @discardableResult
    func update(_ rows: Set<RowKey>, holding: (site: String, rows: Set<RowKey>)? = nil) throws -> [String: Int] {
        var granted: [String: Int] = [:]
        try differences(rows) { address, grant, revoke in
            for site in grant {
                try context.execute("INSERT INTO _hub_visibility(site, tbl, key, since) VALUES (?, ?, ?, ?)",
                                    [.text(site), .text(address.table), .text(address.key), .integer(now)])
                granted[site, default: 0] += 1
                if let holding, holding.site == site, holding.rows.contains(address) { continue }
                try event(.grant, site: site, address)
            }
            for site in revoke {
                try context.execute("DELETE FROM _hub_visibility WHERE site = ? AND tbl = ? AND key = ?",
                                    [.text(site), .text(address.table), .text(address.key)])
                try event(.revoke, site: site, address)
            }
        }
        return granted
    }

    /// For each row of a table that is not a catalogue, the sites that newly may see it and those
    /// that may no longer, as the policy judges it against `_hub_visibility`; reads only.
    func differences(_ rows: Set<RowKey>, _ body: (RowKey, _ grant: [String], _ revoke: [String]) throws -> Void) throws {
        let lookup = HubLookup(context: context, cache: cache)
        let offices = try HubVisibility.offices(context)
        for address in rows.sorted(by: { ($0.table, $0.key) < ($1.table, $1.key) }) {
            guard let rule = policy[address.table], rule.receivers == .linked else { continue }
            let stored = Set(try context.query("SELECT site FROM _hub_visibility WHERE tbl = ? AND key = ?",
                                               [.text(address.table), .text(address.key)]).compactMap(\.first).compactMap(\.text))
            var wanted = Set<String>()
            if let row = try lookup.row(address.table, key: address.key) {
                wanted = try policy.receivers(of: address.table, key: address.key, row: row, lookup: lookup).subtracting(offices)
            }
            try body(address, wanted.subtracting(stored).sorted(), stored.subtracting(wanted).sorted())
        }
    }

    /// The sites of kind office: they see every row without a grant.
    static func offices(_ context: ReplicaContext) throws -> Set<String> {
        Set(try context.query("SELECT id FROM _hub_sites WHERE kind = ?", [.text(SiteKind.office.rawValue)]).compactMap(\.first).compactMap(\.text))
    }

    /// Records a feed event for one site.
    func event(_ kind: HubRulesSQL.Event, site: String, _ address: RowKey) throws {
        try context.execute("INSERT INTO _hub_feed(seq, site, tbl, key, kind, at) VALUES (?, ?, ?, ?, ?, ?)",
                            [.integer(Int64(context.nextSequence())), .text(site), .text(address.table), .text(address.key),
                             .integer(kind.rawValue), .integer(now)])
    }

    /// Recomputes every row of every table that is not a catalogue (after the rules changed), and
    /// returns how many rows each site was newly granted.
    @discardableResult
    func rebuild() throws -> [String: Int] {
        try update(try linkedRows())
    }

    /// How many rows each site would be newly granted by a rebuild under this policy, written nowhere
    /// (what `hub schema publish` reports before the hub recomputes at its next start).
    func widening() throws -> [String: Int] {
        var granted: [String: Int] = [:]
        try differences(try linkedRows()) { _, grant, _ in
            for site in grant { granted[site, default: 0] += 1 }
        }
        return granted
    }

    /// Every row of the tables that are not catalogues, and every row some site may see now.
    func linkedRows() throws -> Set<RowKey> {
        var all = Set<RowKey>()
        for (name, rule) in policy.tables where rule.receivers == .linked {
            for row in try context.query("SELECT key FROM _begawi_rows WHERE tbl = (SELECT id FROM _begawi_tables WHERE name = ?)", [.text(name)]) {
                if case .text(let key)? = row.first { all.insert(RowKey(table: name, key: key)) }
            }
            for row in try context.query("SELECT DISTINCT key FROM _hub_visibility WHERE tbl = ?", [.text(name)]) {
                if case .text(let key)? = row.first { all.insert(RowKey(table: name, key: key)) }
            }
        }
        return all
    }
}

extension SQLValue {
    /// The text, if this is text.
    var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }
}
