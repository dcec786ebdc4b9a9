import BegawiRules
internal import GRDB

/// Each site's own feed, so that its pull reads only the rows it may see in change order instead of
/// every row the other sites pushed: `_hub_visibility.seq` holds each visible row's change number
/// (kept by a trigger when the row changes), indexed by (site, table, seq); the catalogues' rows,
/// which every site receives, are read through an index of the merged rows by (table, seq).
///
/// That index covers every table: a partial one (the catalogues only) made SQLite plan each
/// statement on `_begawi_rows` with `tbl = ?` against the bound table, so that binding another table
/// re-prepared the statement (half the hub's CPU in an ingest went to preparing statements).
extension HubRulesSQL {
    /// Index on the visibility entries by site, table and change number: a site's rows of a table in order.
    static let visibilityBySeq = "_hub_visibility_by_seq"
    /// Index on the merged rows by table and change number.
    static let rowsByTable = "_hub_rows_by_table"
    /// Trigger that carries a row's new change number to its visibility entries.
    static let visibilityFollowsRows = "_hub_visibility_follows_rows"

    /// Builds the feed's structures for `policy`, or brings those of a hub made by an earlier
    /// version up to date: adds and fills `_hub_visibility.seq` (also entries an earlier version
    /// wrote since, which lack it), makes the indexes, and the trigger for the tables as the rules
    /// class them now. Runs in the write transaction that installs the rules.
    static func installFeed(_ db: Database, policy: AccessPolicy) throws {
        if try Int.fetchOne(db, sql: "SELECT count(*) FROM pragma_table_info('_hub_visibility') WHERE name = 'seq'") == 0 {
            try db.execute(sql: "ALTER TABLE _hub_visibility ADD COLUMN seq INTEGER")
        }
        try db.execute(sql: """
            UPDATE _hub_visibility SET seq = (SELECT r.seq FROM _begawi_tables t JOIN _begawi_rows r ON r.tbl = t.id AND r.key = _hub_visibility.key
            WHERE t.name = _hub_visibility.tbl) WHERE seq IS NULL
            """)
        try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(visibilityBySeq) ON _hub_visibility(site, tbl, seq)")
        let ids = Dictionary(try Row.fetchAll(db, sql: "SELECT name, id FROM _begawi_tables").map { (row: Row) -> (String, Int64) in
            (row["name"], row["id"])
        }, uniquingKeysWith: { first, _ in first })
        let linked = policy.tables.values.filter { $0.receivers == .linked }.compactMap { rule in ids[rule.table].map { (name: rule.table, id: $0) } }
            .sorted { $0.id < $1.id }
        try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(rowsByTable) ON _begawi_rows(tbl, seq)")
        let names = linked.map { "WHEN \($0.id) THEN '\($0.name.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: " ")
        try replace(db, visibilityFollowsRows, linked.isEmpty ? nil : """
            CREATE TRIGGER \(visibilityFollowsRows) AFTER UPDATE OF seq ON _begawi_rows
            WHEN NEW.tbl IN (\(linked.map { String($0.id) }.joined(separator: ", "))) AND NEW.seq IS NOT OLD.seq
            BEGIN UPDATE _hub_visibility SET seq = NEW.seq WHERE tbl = CASE NEW.tbl \(names) END AND key = NEW.key; END
            """)
    }

    /// Makes the trigger `name` as `sql` says (nil: none), leaving it be when it is so already.
    private static func replace(_ db: Database, _ name: String, _ sql: String?) throws {
        let stored = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [name])
        guard stored != sql else { return }
        if stored != nil { try db.execute(sql: "DROP TRIGGER \(name)") }
        if let sql { try db.execute(sql: sql) }
    }
}
