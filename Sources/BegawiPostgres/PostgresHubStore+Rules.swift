public import BegawiCore
import BegawiHub
public import BegawiRules
import PostgresNIO

/// The rules between agencies on PostgreSQL: their tables, the digest of the rules the hub last ran
/// with, the recomputation of who may see what when they changed, and the check that the published
/// schema declares the rules this process serves with.
///
/// Pushes under the rules judge rows against others (a program's owner, the enrollments linking a
/// participant) and recompute who may see them, so each must see every earlier commit of the rows it
/// judges and no later one, as the SQLite hub's one writer does. They take `rulesLock` shared and
/// lock the rows they judge (`RulesTurn`); the office's pushes, a push that needed a row it had not
/// locked, the rules' recomputation, erasures and purge batches take it whole (exclusive). Merging
/// without rules keeps its row-level locking only.
extension PostgresHubStore {
    /// The advisory lock pushes under the rules take turns on (the install's is 7301946).
    static let rulesLock: Int64 = 7_301_947

    /// The rules' tables: who may see which row of a table that is not a catalogue, each site's feed
    /// events (grants, revocations, erasures; positioned by the feed's publisher as rows are, `xid`
    /// then `id` ordering a publish), the audit trail, erased rows and the hub's own notes (the
    /// rules' digest). Made at every open, rules or not: the feed's publisher reads `_hub_feed`.
    static let rulesTables: [PostgresQuery] = [
        """
        CREATE TABLE IF NOT EXISTS _hub_visibility (
            site text NOT NULL, tbl text NOT NULL, key text NOT NULL, since bigint NOT NULL, PRIMARY KEY (site, tbl, key))
        """,
        "CREATE INDEX IF NOT EXISTS _hub_visibility_by_row ON _hub_visibility (tbl, key)",
        """
        CREATE TABLE IF NOT EXISTS _hub_feed (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, site text NOT NULL, tbl text NOT NULL, key text NOT NULL,
            kind bigint NOT NULL, at bigint NOT NULL, xid xid8 NOT NULL DEFAULT pg_current_xact_id(), pos bigint UNIQUE)
        """,
        "CREATE INDEX IF NOT EXISTS _hub_feed_by_site ON _hub_feed (site, pos)",
        "CREATE INDEX IF NOT EXISTS _hub_feed_by_row ON _hub_feed (tbl, key)",
        "CREATE INDEX IF NOT EXISTS _hub_feed_waiting ON _hub_feed (xid, id) WHERE pos IS NULL",
        """
        CREATE TABLE IF NOT EXISTS _hub_audit (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at bigint NOT NULL, site text NOT NULL, tbl text NOT NULL,
            key text NOT NULL, action text NOT NULL, reason text)
        """,
        "CREATE INDEX IF NOT EXISTS _hub_audit_by_row ON _hub_audit (tbl, key)",
        "CREATE TABLE IF NOT EXISTS _hub_erased (tbl text NOT NULL, key text NOT NULL, at bigint NOT NULL, person text, PRIMARY KEY (tbl, key))",
        "CREATE TABLE IF NOT EXISTS _hub_meta (name text PRIMARY KEY, value text)",
    ]

    /// Installs `policy` at open: checked against the published tables (when a version is
    /// published), indexes on the columns the rules follow, and, when the rules differ from those the
    /// hub last ran with, who may see what recomputed and the new digest recorded, in one
    /// transaction taking the pushes' turn. Returns the rows newly granted per site then; nil when the
    /// rules did not change or the hub never ran with rules.
    static func installRules(_ policy: AccessPolicy, schema: Schema?, clock: any WallClock, on link: PostgresLink) throws -> [String: Int]? {
        guard let schema else {
            // Nothing published yet: the rules are checked when a version is, and recorded at the next open.
            return nil
        }
        try policy.validate(against: schema)
        return try link.transaction { link in
            try link.query("SELECT pg_advisory_xact_lock(\(rulesLock))")
            for statement in indexes(for: policy, schema: schema) { try link.query(PostgresQuery(unsafeSQL: statement)) }
            let stored = try link.query("SELECT value FROM _hub_meta WHERE name = 'rules'").first.map { row in
                try decode("_hub_meta") { try row.decode(String?.self) }
            } ?? nil
            guard stored != policy.digest else { return nil }
            let visibility = PostgresVisibility(policy: policy, schema: schema, now: Int64(clamping: clock.nowMilliseconds()))
            let granted = try visibility.rebuild(on: link)
            try link.query("""
                INSERT INTO _hub_meta (name, value) VALUES ('rules', \(policy.digest)) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value
                """)
            return stored == nil ? nil : granted
        }
    }

    /// Indexes on the columns the rules follow (owner references and links), on live rows and
    /// tombstones, as the SQLite hub makes them (`HubRulesSQL.indexes`).
    static func indexes(for policy: AccessPolicy, schema: Schema) -> [String] {
        var wanted = Set<RowKey>()
        for (name, rule) in policy.tables {
            if case .via(let column, _) = rule.owner { wanted.insert(RowKey(table: name, key: column)) }
            for link in rule.linkedBy { wanted.insert(RowKey(table: link.table, key: link.column)) }
        }
        return wanted.sorted { ($0.table, $0.key) < ($1.table, $1.key) }.flatMap { w -> [String] in
            guard let spec = schema.table(named: w.table) else { return [] }
            let q = SyncedTables.quote
            return ["CREATE INDEX IF NOT EXISTS \(q("_hub_idx_\(w.table)_\(w.key)")) ON \(q(w.table)) (\(q(w.key)))",
                    "CREATE INDEX IF NOT EXISTS \(q("_hub_idx_dead_\(w.table)_\(w.key)")) ON \(SyncedTables.dead(spec)) (\(q(w.key)))"]
        }
    }

    /// When `policy` differs from the rules this hub last ran with: how many rows each site will
    /// newly receive once a hub process restarts with it and recomputes who may see what (sites
    /// granted nothing left out); nil when the rules are those or the hub never ran with rules (as
    /// `SQLiteHubStore.widening`). Read in one read-only transaction; nothing is written.
    public func widening(policy: AccessPolicy) throws -> [String: Int]? {
        try refresh()
        guard let schema = currentDocument?.schema else { return nil }
        return try pool.withLink { link in
            try link.transaction { link -> [String: Int]? in
                try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                let stored = try link.query("SELECT value FROM _hub_meta WHERE name = 'rules'").first.map { row in
                    try PostgresHubStore.decode("_hub_meta") { try row.decode(String?.self) }
                } ?? nil
                guard let stored, stored != policy.digest else { return nil }
                try policy.validate(against: schema)
                return try PostgresVisibility(policy: policy, schema: schema, now: 0).widening(on: link)
            }
        }
    }

    /// The digest of the access rules this hub last ran with, or nil if it never ran with any.
    public func installedRulesDigest() throws -> String? {
        try pool.withLink { link in
            guard let row = try link.query("SELECT value FROM _hub_meta WHERE name = 'rules'").first else { return nil }
            return try PostgresHubStore.decode("_hub_meta") { try row.decode(String?.self) }
        }
    }

    /// Refuses to serve with declared tables and rules other than the published current version's
    /// (the daemon's check at start, as `SQLiteHubStore.requireServing`). Nothing is checked without
    /// declared tables, or on a hub that records no version.
    public func requireServing(declared: Schema?, policy: AccessPolicy?, file: String) throws {
        try refresh()
        guard let declared, let current = currentDocument else { return }
        guard current.schema != declared || current.policy != policy else { return }
        throw SQLiteHubStore.unpublished(file: file, version: nil, current: current.version)
    }

    /// Refuses the exchange when the published current version declares other rules than this
    /// process serves with (a version published through another process, or a process started
    /// without the schema's rules): serving a site under rules it was not opened with would give it
    /// rows nobody recomputed for it.
    func requireRules(of document: SchemaDocument) throws {
        guard document.policy != policy else { return }
        if policy == nil {
            throw BegawiError(.configuration, "the hub's published schema version \(document.version) declares rules between agencies, but this hub process was started without them; restart it with the published schema file")
        }
        throw BegawiError(.configuration, "the hub's published schema version \(document.version) declares other rules between agencies than this hub process serves with; restart it with the published schema file, so that it recomputes who may see what")
    }

    /// How many entries the audit trail holds: of one action ("refused", "inserted", …) if given, else
    /// all of them (for reports and tests).
    public func auditCount(action: String? = nil) throws -> Int {
        try pool.withLink { link in
            let rows = try link.query("SELECT count(*) FROM _hub_audit WHERE \(action)::text IS NULL OR action = \(action)")
            guard let row = rows.first else { return 0 }
            return Int(clamping: try PostgresHubStore.decode("_hub_audit") { try row.decode(Int64.self) })
        }
    }

    /// The audit trail of one row, oldest first: (site, action, reason); no values of the row.
    public func audit(table: String, key: String) throws -> [(site: String, action: String, reason: String?)] {
        try pool.withLink { link in
            try link.query("SELECT site, action, reason FROM _hub_audit WHERE tbl = \(table) AND key = \(key) ORDER BY id").map { row in
                let (site, action, reason) = try PostgresHubStore.decode("_hub_audit") { try row.decode((String, String, String?).self) }
                return (site, action, reason)
            }
        }
    }
}
