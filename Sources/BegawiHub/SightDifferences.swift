package import BegawiCore

/// Who may see each row against who is recorded as seeing it, gathered row by row, and the
/// difference as grants and revocations in the order of the rows' tables and keys. One copy for
/// both hub stores' visibility upkeep (`HubVisibility`, the PostgreSQL store's).
package struct SightDifferences {
    /// By table, then key: the sites the rules let see the row, and those `_hub_visibility` records.
    private var found: [String: [String: (wanted: Set<String>, stored: Set<String>)]] = [:]

    package init() {}

    /// The rules let `site` see the row.
    package mutating func wanted(_ table: String, _ key: String, site: String) {
        found[table, default: [:]][key, default: ([], [])].wanted.insert(site)
    }

    /// `_hub_visibility` records that `site` sees the row.
    package mutating func stored(_ table: String, _ key: String, site: String) {
        found[table, default: [:]][key, default: ([], [])].stored.insert(site)
    }

    /// Each row with a difference, in the order of tables then keys, with the sites to grant and
    /// to revoke (each sorted); rows without a difference are left out.
    package func forEach(_ body: (RowKey, _ grant: [String], _ revoke: [String]) throws -> Void) rethrows {
        for (table, keys) in found.sorted(by: { $0.key < $1.key }) {
            for (key, sites) in keys.sorted(by: { $0.key < $1.key }) {
                let grant = sites.wanted.subtracting(sites.stored), revoke = sites.stored.subtracting(sites.wanted)
                guard !grant.isEmpty || !revoke.isEmpty else { continue }
                try body(RowKey(table: table, key: key), grant.sorted(), revoke.sorted())
            }
        }
    }
}
