import BegawiCore
public import BegawiHub
import BegawiRules
import PostgresNIO

/// Erasures on PostgreSQL (`begawi hub erase-participant`), as the SQLite hub does them: a person's
/// row and every row linked to it leave the hub in one transaction with every trace the store keeps
/// of their values (the synced tables and their dead twins, the merge state with its published
/// copy, the conflict ledger), `_hub_erased` records them so that writes to them are refused from
/// then on (`HubGate`, told by the push), and every site that may hold them gets an erase event in
/// its feed: those that may see them, those that ever sent a change of them (a refused
/// registration keeps its values in that site's refusal ledger) and the offices.
///
/// The erasure takes the pushes' turn (`rulesLock`): a push under the rules either committed before
/// it (its rows are erased with the rest) or starts after it and finds the rows in `_hub_erased`.
/// Several hub processes therefore erase and push safely on one database.
///
/// What PostgreSQL keeps after the commit: the deleted rows' old versions stay in the tables' files
/// as dead tuples until VACUUM reclaims their space and later rows overwrite it, and in the
/// write-ahead log and its archives until they are recycled (docs/postgresql.md, "Erasures").
extension PostgresHubStore {
    /// The key of the person with this identity number, once it passes the check the schema's
    /// `key_from` names (as `SQLiteHubStore.derivedKey`).
    public func derivedKey(for identity: String) throws -> String {
        try PersonTable.of(try PersonTable.requirePolicy(policy)).1.key(for: identity)
    }

    /// Removes a person everywhere (see the extension's comment), then appends the erasure to the
    /// erasure log and waits until it is on disk. Refused, with nothing done, when the hub has no
    /// erasure log (`erasure_log` in hub.toml) or does not hold the person.
    public func erase(key: String) throws -> ErasureReport {
        let policy = try PersonTable.requirePolicy(policy)
        let (person, _) = try PersonTable.of(policy)
        guard let log = erasureLog else { throw PostgresHubStore.noErasureLog }
        try refresh()
        let schema = try exchangeDocument().schema
        let now = Int64(clamping: clock.nowMilliseconds())
        let report = try pool.withLink { link in
            try link.transaction { link -> ErasureReport in
                try link.query("SELECT pg_advisory_xact_lock(\(PostgresHubStore.rulesLock))")
                guard try PostgresHubStore.holds(person.table, key: key, on: link) else { throw PersonTable.notHeld(person.table) }
                let rows = try PostgresHubStore.erasedRows(person: person, key: key, schema: schema, on: link)
                let offices = try PostgresVisibility.offices(on: link)
                var told = Set<String>()
                for row in rows {
                    told.formUnion(try PostgresHubStore.eraseRow(row, person: key, at: now, reason: nil, offices: offices, now: now,
                                                                 schema: schema, on: link))
                }
                return ErasureReport(rows: rows, sites: told.sorted())
            }
        }
        publishErasures()
        // After the commit, before success: a crash between the two is mended at the hub's next start.
        try log.append([ErasureLog.Entry(at: now, person: key, rows: report.rows)])
        return report
    }

    /// The refusal of an erasure on a hub without an erasure log.
    static let noErasureLog = BegawiError(.configuration, "this hub on PostgreSQL has no erasure log: add erasure_log = \"PATH\" to hub.toml (a file on the hub's machine, outside the database, e.g. /var/lib/begawi/hub.erasures), so that a person erased now is erased again if the database is ever restored from a pg_dump or a point-in-time recovery made before; then erase again")

    /// Gives the erase events their places in the feed and wakes held pulls (a pull publishes first anyway).
    func publishErasures() {
        _ = try? pool.withLink { link in try RowFeed.publishAll(on: link) }
        feed.committed()
    }

    /// Whether the hub holds a row (live or a tombstone) of `table` with `key`.
    static func holds(_ table: String, key: String, on link: PostgresLink) throws -> Bool {
        try link.query("SELECT 1 FROM _begawi_rows WHERE tbl = \(table) AND key = \(key) AND state IS NOT NULL").first != nil
    }

    /// The rows erased with a person: their row and every row linked to it, live ones first then
    /// tombstones, each link's in key order.
    static func erasedRows(person: TableAccess, key: String, schema: Schema, on link: PostgresLink) throws -> [RowKey] {
        var rows = [RowKey(table: person.table, key: key)]
        for linked in person.linkedBy {
            guard let spec = schema.table(named: linked.table), spec.position(of: linked.column) != nil else { continue }
            let q = SyncedTables.quote, pk = q(spec.primaryKey.name)
            for source in [q(spec.name), SyncedTables.dead(spec)] {
                var bindings = PostgresBindings()
                bindings.append(key)
                for row in try link.query(PostgresQuery(unsafeSQL: """
                    SELECT \(pk) FROM \(source) WHERE (\(q(linked.column)))::text = $1 ORDER BY \(pk) COLLATE "C"
                    """, binds: bindings)) {
                    let address = RowKey(table: spec.name, key: try decode(spec.name) { try row.decode(String.self) })
                    if !rows.contains(address) { rows.append(address) }
                }
            }
        }
        return rows
    }

    /// Erases one row at the hub and tells every site that may hold it (see the extension's
    /// comment); returns those sites. In the caller's transaction, which holds the pushes' turn.
    static func eraseRow(_ row: RowKey, person: String, at erasedAt: Int64, reason: String?, offices: Set<String>, now: Int64,
                         schema: Schema, on link: PostgresLink) throws -> Set<String> {
        var sites = offices
        for found in try link.query("""
            SELECT site FROM _hub_visibility WHERE tbl = \(row.table) AND key = \(row.key)
            UNION SELECT site FROM _hub_audit WHERE tbl = \(row.table) AND key = \(row.key) AND site <> \(SQLiteHubStore.hubSiteID)
            """) {
            sites.insert(try decode("_hub_audit") { try found.decode(String.self) })
        }
        if !sites.isEmpty {
            var bindings = PostgresBindings()
            bindings.append(sites.sorted())
            bindings.append(row.table)
            bindings.append(row.key)
            bindings.append(HubRulesSQL.Event.erase.rawValue)
            bindings.append(now)
            try link.query(PostgresQuery(unsafeSQL: """
                INSERT INTO _hub_feed (site, tbl, key, kind, at)
                SELECT site, $2, $3, $4, $5 FROM unnest($1::text[]) WITH ORDINALITY AS u(site, n) ORDER BY n
                """, binds: bindings))
        }
        try link.query("DELETE FROM _hub_visibility WHERE tbl = \(row.table) AND key = \(row.key)")
        if let spec = schema.table(named: row.table) {
            let pk = SyncedTables.quote(spec.primaryKey.name)
            for source in [SyncedTables.quote(spec.name), SyncedTables.dead(spec)] {
                var bindings = PostgresBindings()
                bindings.append(row.key)
                try link.query(PostgresQuery(unsafeSQL: "DELETE FROM \(source) WHERE \(pk) = $1", binds: bindings))
            }
        }
        try link.query("DELETE FROM _begawi_rows WHERE tbl = \(row.table) AND key = \(row.key)")
        try link.query("DELETE FROM _begawi_conflicts WHERE tbl = \(row.table) AND key = \(row.key)")
        try link.query("""
            INSERT INTO _hub_erased (tbl, key, at, person) VALUES (\(row.table), \(row.key), \(erasedAt), \(person))
            ON CONFLICT (tbl, key) DO UPDATE SET at = EXCLUDED.at, person = EXCLUDED.person
            """)
        try link.query("""
            INSERT INTO _hub_audit (at, site, tbl, key, action, reason)
            VALUES (\(now), \(SQLiteHubStore.hubSiteID), \(row.table), \(row.key), 'erased', \(reason))
            """)
        return sites
    }

    /// The rows of a batch that were erased (one statement; none read when the hub erased nobody),
    /// for the gate of a push under the rules, read after the push took its turn.
    static func erased(in batch: ChangeBatch, on link: PostgresLink) throws -> Set<RowKey> {
        guard !batch.rows.isEmpty else { return [] }
        var bindings = PostgresBindings()
        bindings.append(batch.rows.map { $0.table < batch.tables.count ? batch.tables[$0.table].name : "" })
        bindings.append(batch.rows.map(\.key))
        var found = Set<RowKey>()
        for row in try link.query(PostgresQuery(unsafeSQL: """
            SELECT e.tbl, e.key FROM _hub_erased e JOIN unnest($1::text[], $2::text[]) AS u(tbl, key) ON e.tbl = u.tbl AND e.key = u.key
            WHERE EXISTS (SELECT 1 FROM _hub_erased)
            """, binds: bindings)) {
            let (table, key) = try decode("_hub_erased") { try row.decode((String, String).self) }
            found.insert(RowKey(table: table, key: key))
        }
        return found
    }
}
