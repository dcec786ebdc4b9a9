import BegawiCore
import BegawiHub
import BegawiRules
import PostgresNIO

/// Keeps `_hub_visibility` on PostgreSQL (which site may see which row of a table that is not a
/// catalogue) and records each change as an event of the site's feed in `_hub_feed`, which the
/// feed's publisher positions with the rows (`RowFeed`), so that a site's next pull sends newly
/// visible rows whole and removes rows it may no longer see. The SQLite hub's `HubVisibility` in
/// PostgreSQL's dialect: who may see a row is what `AccessPolicy.receivers` says of it (the row's
/// owner, live or tombstone, and the owners of the live rows that link to it; offices see every row
/// without a grant), read set-wise: two statements per table of the rows, and the differences written
/// in three statements (grants, revocations, events), whatever the number of rows.
struct PostgresVisibility {
    let policy: AccessPolicy
    let schema: Schema
    let now: Int64

    /// Recomputes who may see each row and records the differences, in the caller's transaction. A
    /// site that holds a row whole already (`holding`: the pushing site and the rows it just sent
    /// whole) gets no event for its grant. Returns how many rows each site was newly granted.
    @discardableResult
    func update(_ rows: Set<RowKey>, holding: (site: String, rows: Set<RowKey>)? = nil, on link: PostgresLink) throws -> [String: Int] {
        var granted: [String: Int] = [:]
        var grants: (sites: [String], tables: [String], keys: [String]) = ([], [], [])
        var revokes: (sites: [String], tables: [String], keys: [String]) = ([], [], [])
        var events: (sites: [String], tables: [String], keys: [String], kinds: [Int64]) = ([], [], [], [])
        try differences(rows, on: link) { address, grant, revoke in
            for site in grant {
                grants.sites.append(site)
                grants.tables.append(address.table)
                grants.keys.append(address.key)
                granted[site, default: 0] += 1
                if let holding, holding.site == site, holding.rows.contains(address) { continue }
                events.sites.append(site)
                events.tables.append(address.table)
                events.keys.append(address.key)
                events.kinds.append(HubRulesSQL.Event.grant.rawValue)
            }
            for site in revoke {
                revokes.sites.append(site)
                revokes.tables.append(address.table)
                revokes.keys.append(address.key)
                events.sites.append(site)
                events.tables.append(address.table)
                events.keys.append(address.key)
                events.kinds.append(HubRulesSQL.Event.revoke.rawValue)
            }
        }
        if !grants.sites.isEmpty {
            var bindings = PostgresBindings()
            bindings.append(grants.sites)
            bindings.append(grants.tables)
            bindings.append(grants.keys)
            bindings.append(now)
            try link.query(PostgresQuery(unsafeSQL: """
                INSERT INTO _hub_visibility (site, tbl, key, since) SELECT site, tbl, key, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(site, tbl, key)
                ON CONFLICT DO NOTHING
                """, binds: bindings))
        }
        if !revokes.sites.isEmpty {
            var bindings = PostgresBindings()
            bindings.append(revokes.sites)
            bindings.append(revokes.tables)
            bindings.append(revokes.keys)
            try link.query(PostgresQuery(unsafeSQL: """
                DELETE FROM _hub_visibility v USING unnest($1::text[], $2::text[], $3::text[]) AS u(site, tbl, key)
                WHERE v.site = u.site AND v.tbl = u.tbl AND v.key = u.key
                """, binds: bindings))
        }
        if !events.sites.isEmpty {
            var bindings = PostgresBindings()
            bindings.append(events.sites)
            bindings.append(events.tables)
            bindings.append(events.keys)
            bindings.append(events.kinds)
            bindings.append(now)
            // In the order of the differences: the identity orders a push's events in the feed.
            try link.query(PostgresQuery(unsafeSQL: """
                INSERT INTO _hub_feed (site, tbl, key, kind, at)
                SELECT site, tbl, key, kind, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u(site, tbl, key, kind, n)
                ORDER BY n
                """, binds: bindings))
        }
        return granted
    }

    /// For each row of a table that is not a catalogue, the sites that newly may see it and those
    /// that may no longer, in the order of the rows' tables and keys (rows without a difference left
    /// out); reads only.
    func differences(_ rows: Set<RowKey>, on link: PostgresLink, _ body: (RowKey, _ grant: [String], _ revoke: [String]) throws -> Void) throws {
        guard !rows.isEmpty else { return }
        let offices = try PostgresVisibility.offices(on: link)
        var found = SightDifferences()
        for (table, addresses) in Dictionary(grouping: rows, by: \.table) {
            guard let rule = policy[table], rule.receivers == .linked, let spec = schema.table(named: table) else { continue }
            let keys = addresses.map(\.key).sorted()
            var bindings = PostgresBindings()
            bindings.append(keys)
            if let wanted = receiversSQL(spec, rule) {
                for row in try link.query(PostgresQuery(unsafeSQL: wanted, binds: bindings)) {
                    let (key, site) = try PostgresHubStore.decode(table) { try row.decode((String, String).self) }
                    guard !offices.contains(site) else { continue }
                    found.wanted(table, key, site: site)
                }
            }
            bindings.append(table)
            for row in try link.query(PostgresQuery(unsafeSQL: "SELECT key, site FROM _hub_visibility WHERE tbl = $2 AND key = ANY($1::text[])", binds: bindings)) {
                let (key, site) = try PostgresHubStore.decode("_hub_visibility") { try row.decode((String, String).self) }
                found.stored(table, key, site: site)
            }
        }
        try found.forEach(body)
    }

    /// The statement that reads who may see some keys (`$1`, a text array) of a table that is not a
    /// catalogue, as `AccessPolicy.receivers` judges one row: the owner of the row (live, or its
    /// tombstone), and, when the row exists, the owners of the live rows that link to it. It gives
    /// (key, site) rows, offices included (left to the caller); nil when no site may see such rows.
    ///
    /// Every part starts from the keys by an index (`= ANY($1)`): "the row exists" read once, as
    /// `e`, rather than as `EXISTS … OR EXISTS …` per link, which PostgreSQL ran as a scan of the
    /// whole table, live and dead, for each link (three per push of participants).
    func receiversSQL(_ spec: TableSpec, _ rule: TableAccess) -> String? {
        let q = SyncedTables.quote, pk = q(spec.primaryKey.name)
        let live = q(spec.name), dead = SyncedTables.dead(spec)
        var parts: [String] = []
        if let owner = ownerSQL(spec, rule, row: "t") {
            for source in [live, dead] {
                parts.append("SELECT t.\(pk)::text AS key, \(owner) AS site FROM \(source) t WHERE t.\(pk) = ANY($1::text[])")
            }
        }
        var linked = false
        for link in rule.linkedBy {
            guard let linkRule = policy[link.table], let linkSpec = schema.table(named: link.table),
                  let owner = ownerSQL(linkSpec, linkRule, row: "l") else { continue }
            linked = true
            parts.append("SELECT e.key AS key, \(owner) AS site FROM e JOIN \(q(link.table)) l ON (l.\(q(link.column)))::text = e.key")
        }
        guard !parts.isEmpty else { return nil }
        let existing = linked
            ? "WITH e(key) AS (SELECT \(pk)::text FROM \(live) WHERE \(pk) = ANY($1::text[]) UNION SELECT \(pk)::text FROM \(dead) WHERE \(pk) = ANY($1::text[])) "
            : ""
        return existing + "SELECT key, site FROM (" + parts.joined(separator: " UNION ALL ") + ") AS r WHERE site IS NOT NULL"
    }

    /// The site that owns the row `row` (an alias in the statement) of `spec` under `rule`, as
    /// `AccessPolicy.owner` follows it: its owner column, or the owner column of the row its reference
    /// names (live, or a tombstone); nil when such rows have no owner. A column that is not text holds
    /// no site (as SQLite's check of the value's type).
    func ownerSQL(_ spec: TableSpec, _ rule: TableAccess, row: String) -> String? {
        let q = SyncedTables.quote
        func isText(_ table: TableSpec, _ column: String) -> Bool {
            table.columns.first { $0.name == column }.map { SyncedTables.type(of: $0) == "text" } ?? false
        }
        switch rule.owner {
        case .none: return nil
        case .column(let c): return isText(spec, c) ? "\(row).\(q(c))" : nil
        case .via(let c, let other):
            guard let target = policy[other], case .column(let oc) = target.owner, let otherSpec = schema.table(named: other),
                  isText(otherSpec, oc) else { return nil }
            let reference = "(\(row).\(q(c)))::text", pk = q(otherSpec.primaryKey.name)
            return """
                coalesce((SELECT p.\(q(oc)) FROM \(q(other)) p WHERE p.\(pk) = \(reference)),
                (SELECT p.\(q(oc)) FROM \(SyncedTables.dead(otherSpec)) p WHERE p.\(pk) = \(reference)))
                """
        }
    }

    /// The sites of kind office: they see every row without a grant.
    static func offices(on link: PostgresLink) throws -> Set<String> {
        Set(try link.query("SELECT id FROM _hub_sites WHERE kind = \(SiteKind.office.rawValue)").map { row in
            try PostgresHubStore.decode("_hub_sites") { try row.decode(String.self) }
        })
    }

    /// Recomputes every row of every table that is not a catalogue (after the rules changed), and
    /// returns how many rows each site was newly granted.
    func rebuild(on link: PostgresLink) throws -> [String: Int] {
        try update(try linkedRows(on: link), on: link)
    }

    /// How many rows each site would newly be granted by a recomputation under these rules, with
    /// nothing written (what `hub schema publish` tells before the restart that recomputes).
    func widening(on link: PostgresLink) throws -> [String: Int] {
        var granted: [String: Int] = [:]
        try differences(try linkedRows(on: link), on: link) { _, grant, _ in
            for site in grant { granted[site, default: 0] += 1 }
        }
        return granted
    }

    /// Every row of the tables that are not catalogues, and every row some site may see now.
    func linkedRows(on link: PostgresLink) throws -> Set<RowKey> {
        var all = Set<RowKey>()
        for (name, rule) in policy.tables where rule.receivers == .linked {
            for row in try link.query("""
                SELECT key FROM _begawi_rows WHERE tbl = \(name) AND state IS NOT NULL UNION SELECT key FROM _hub_visibility WHERE tbl = \(name)
                """) {
                all.insert(RowKey(table: name, key: try PostgresHubStore.decode("_begawi_rows") { try row.decode(String.self) }))
            }
        }
        return all
    }
}
