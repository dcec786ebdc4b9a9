import BegawiCore
public import BegawiHub
import BegawiRules
import Logging
import PostgresNIO

/// The erasure log of a hub on PostgreSQL (docs/postgresql.md, "Erasures"): the same file as the
/// SQLite hub's (`ErasureLog`), on the hub's machine, named by `erasure_log` in hub.toml (there is no
/// database file to put it beside). The database is backed up by `pg_dump` or point-in-time
/// recovery, which can bring back a person erased since; the log is what erases them again. Each
/// erasure is committed to the database first, then appended and flushed; when a hub process starts
/// (`prepareToServe`), before it serves, the log and the database are compared: what the log holds
/// and the database lacks is erased again, in one transaction taking the pushes' turn (several
/// processes starting at once erase each row once), and what the database holds and the log lacks
/// is appended.
extension PostgresHubStore {
    /// The erasures the database holds, one per person, oldest first.
    static func storedErasures(on link: PostgresLink) throws -> [ErasureLog.Entry] {
        let rows = try link.query("SELECT tbl, key, at, coalesce(person, key) FROM _hub_erased ORDER BY at, coalesce(person, key) COLLATE \"C\", tbl COLLATE \"C\", key COLLATE \"C\"")
            .map { row in
                let (table, key, at, person) = try decode("_hub_erased") { try row.decode((String, String, Int64, String).self) }
                return (table: table, key: key, at: at, person: person)
            }
        return ErasureLog.Entry.grouped(rows)
    }

    /// The erasures of the log that the database lacks: those the next start erases again (what
    /// `begawi hub restored` reports). Empty without a log.
    public func erasuresLacking() throws -> [ErasureLog.Entry] {
        guard let erasureLog else { return [] }
        let held = Set(try pool.withLink { link in try PostgresHubStore.storedErasures(on: link) }.flatMap(\.rowKeys))
        return SQLiteHubStore.lacking(try erasureLog.read().entries, held: held, schema: currentDocument?.schema)
    }

    /// Brings the database and the log into agreement (see the extension's comment); nil when the
    /// store has no rules or no log.
    public func reconcileErasures() throws -> ErasureReconciliation? {
        guard let policy, let erasureLog else { return nil }
        let contents = try erasureLog.read()
        let stored = try pool.withLink { link in try PostgresHubStore.storedErasures(on: link) }
        var done = ErasureReconciliation(skippedLines: contents.skippedLines)
        let schema = try exchangeDocument().schema
        let lacking = SQLiteHubStore.lacking(contents.entries, held: Set(stored.flatMap(\.rowKeys)), schema: schema)
        if !lacking.isEmpty, let (person, _) = try? PersonTable.of(policy) {
            let now = Int64(clamping: clock.nowMilliseconds())
            done.reapplied = try pool.withLink { link in
                try link.transaction { link -> Int in
                    try link.query("SELECT pg_advisory_xact_lock(\(PostgresHubStore.rulesLock))")
                    // Read again in the turn: another process starting at once may have erased them.
                    var erased = Set(try PostgresHubStore.storedErasures(on: link).flatMap(\.rowKeys))
                    let offices = try PostgresVisibility.offices(on: link)
                    var reapplied = 0
                    for entry in lacking {
                        // The rows logged, and any linked to the person in this older copy.
                        var rows = entry.rowKeys
                        for row in try PostgresHubStore.erasedRows(person: person, key: entry.person, schema: schema, on: link) where !rows.contains(row) {
                            rows.append(row)
                        }
                        var any = false
                        for row in rows where !erased.contains(row) && schema.table(named: row.table) != nil {
                            _ = try PostgresHubStore.eraseRow(row, person: entry.person, at: entry.at, reason: "re-applied from the erasure log",
                                                              offices: offices, now: now, schema: schema, on: link)
                            erased.insert(row)
                            any = true
                        }
                        if any { reapplied += 1 }
                    }
                    return reapplied
                }
            }
            if done.reapplied > 0 { publishErasures() }
        }
        try erasureLog.appendUnlogged(stored, contents: contents, into: &done)
        return done
    }

    /// The start's part for erasures (`prepareToServe`): with rules, refuses a hub whose database
    /// holds erasures while hub.toml names no erasure log (a restore would bring those people back
    /// for good), and brings database and log into agreement, logging what it did.
    func prepareErasures(logger: Logger) throws {
        guard policy != nil else { return }
        guard erasureLog != nil else {
            let held = try pool.withLink { link in try link.query("SELECT count(DISTINCT coalesce(person, key)) FROM _hub_erased").first }
            let count = try held.map { row in try PostgresHubStore.decode("_hub_erased") { try row.decode(Int64.self) } } ?? 0
            guard count == 0 else {
                throw BegawiError(.configuration, "this hub's database holds \(count) erasures but hub.toml names no erasure log; add erasure_log = \"PATH\" (a file on the hub's machine, outside the database): the hub writes the database's erasures into it at start, and erases them again should the database ever be restored from a copy made before them")
            }
            return
        }
        if let done = try reconcileErasures() { HubDaemon.logErasures(done, logger: logger) }
    }
}
