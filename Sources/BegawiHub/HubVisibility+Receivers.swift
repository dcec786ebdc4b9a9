import BegawiCore
import BegawiRules

extension HubVisibility {
    /// The statement that reads who may see a chunk of keys (`?1`, a JSON array) of a table that is
    /// not a catalogue, as `AccessPolicy.receivers` judges one row: the owner of the row (live, or
    /// its tombstone), and, when the row exists, the owners of the live rows that link to it. It
    /// gives (key, site) rows; sites that are not text are no sites, and offices are left to the caller.
    func receiversSQL(_ spec: TableSpec, _ rule: TableAccess) -> String {
        let q = HubVisibility.quote, pk = q(spec.primaryKey.name)
        let live = q(spec.name), dead = q("_begawi_dead_" + spec.name)
        var parts: [String] = []
        if let owner = ownerSQL(rule, row: "t") {
            for source in [live, dead] {
                parts.append("SELECT b.key AS key, \(owner) AS site FROM b JOIN \(source) t ON t.\(pk) = b.key")
            }
        }
        for link in rule.linkedBy {
            guard let linkRule = policy[link.table], let owner = ownerSQL(linkRule, row: "l") else { continue }
            parts.append("""
                SELECT b.key AS key, \(owner) AS site FROM b JOIN \(q(link.table)) l ON l.\(q(link.column)) = b.key
                WHERE EXISTS (SELECT 1 FROM \(live) WHERE \(pk) = b.key) OR EXISTS (SELECT 1 FROM \(dead) WHERE \(pk) = b.key)
                """)
        }
        guard !parts.isEmpty else { return "SELECT ?1, NULL WHERE 0" }
        return "WITH b(key) AS (SELECT DISTINCT value FROM json_each(?1)) SELECT key, site FROM ("
            + parts.joined(separator: " UNION ALL ") + ") WHERE typeof(site) = 'text'"
    }

    /// The site that owns the row `row` (an alias in the statement) under `rule`, as `AccessPolicy.owner`
    /// follows it: its owner column, or the owner column of the row its reference names (live, or a
    /// tombstone); nil when such rows have no owner.
    func ownerSQL(_ rule: TableAccess, row: String) -> String? {
        let q = HubVisibility.quote
        switch rule.owner {
        case .none: return nil
        case .column(let c): return "\(row).\(q(c))"
        case .via(let c, let other):
            guard let target = policy[other], case .column(let oc) = target.owner, let spec = context.schema.table(named: other) else { return nil }
            let reference = "\(row).\(q(c))", pk = q(spec.primaryKey.name)
            return """
                CASE WHEN typeof(\(reference)) = 'text' THEN coalesce(
                (SELECT p.\(q(oc)) FROM \(q(other)) p WHERE p.\(pk) = \(reference)),
                (SELECT p.\(q(oc)) FROM \(q("_begawi_dead_" + other)) p WHERE p.\(pk) = \(reference))) END
                """
        }
    }

    static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
