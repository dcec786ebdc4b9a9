import BegawiCore
import BegawiHub
import BegawiRules
import PostgresNIO

/// What one site may receive from the hub's PostgreSQL feed under the rules: every row of a
/// catalogue, the rows of other tables that `_hub_visibility` grants it, and everything for an
/// office (the SQLite hub's `HubSiteView`).
///
/// `condition(table:key:)` is the one place that says it in SQL, for the pull's pages and for any
/// other reader of rows on a site's behalf (snapshot parts, catch-up).
struct PostgresSiteView {
    let site: String
    let isOffice: Bool
    let policy: AccessPolicy

    /// A boolean SQL expression: whether the site may see the row of table `table` with key `key`
    /// (both SQL expressions of type text, such as `r.tbl` and `r.key`). The site's id is written as
    /// a quoted literal (ids are checked when a site is added; quotes are doubled all the same).
    func condition(table: String, key: String) -> String {
        if isOffice { return "true" }
        let catalogues = policy.tables.values.filter { $0.receivers == .all }.map(\.table).sorted()
        let visible = "EXISTS (SELECT 1 FROM _hub_visibility v WHERE v.site = \(PostgresSiteView.literal(site)) AND v.tbl = \(table) AND v.key = \(key))"
        guard !catalogues.isEmpty else { return visible }
        return "(\(table) IN (\(catalogues.map(PostgresSiteView.literal).joined(separator: ", "))) OR \(visible))"
    }

    /// Of these rows, those the site may see now, in one statement.
    func visible(_ rows: [RowKey], on link: PostgresLink) throws -> Set<RowKey> {
        guard !rows.isEmpty else { return [] }
        if isOffice { return Set(rows) }
        var bindings = PostgresBindings()
        bindings.append(rows.map(\.table))
        bindings.append(rows.map(\.key))
        var found = Set<RowKey>()
        for row in try link.query(PostgresQuery(unsafeSQL: """
            SELECT u.tbl, u.key FROM unnest($1::text[], $2::text[]) AS u(tbl, key) WHERE \(condition(table: "u.tbl", key: "u.key"))
            """, binds: bindings)) {
            let (table, key) = try PostgresHubStore.decode("_hub_visibility") { try row.decode((String, String).self) }
            found.insert(RowKey(table: table, key: key))
        }
        return found
    }

    /// A text literal for SQL, quotes doubled.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}

extension PostgresHubStore {
    /// What `site` may see under the rules this process serves with; nil without rules (every row).
    /// Readers of rows on a site's behalf (pages, snapshot parts, catch-up) filter by its `condition`.
    func siteView(for site: SiteRecord) -> PostgresSiteView? {
        policy.map { PostgresSiteView(site: site.id, isOffice: site.kind == .office, policy: $0) }
    }

    /// The SQL filter for the rows `site` may see (`PostgresSiteView.condition`): `table` and `key`
    /// are SQL expressions of type text naming a row (`r.tbl`, `r.key`, or a table's name as a
    /// literal and its key column); "true" without rules. For snapshot parts and catch-up.
    func visibleRowsFilter(for site: SiteRecord, table: String, key: String) -> String {
        siteView(for: site)?.condition(table: table, key: key) ?? "true"
    }
}
