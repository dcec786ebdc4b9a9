import BegawiCore
import PostgresNIO

/// The store's tables, named and shaped as in the SQLite hub where the meaning is the same.
extension PostgresHubStore {
    static let tables: [PostgresQuery] = [
        "CREATE TABLE IF NOT EXISTS _begawi_state (name text PRIMARY KEY, value text NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS _hub_sites (
            id text PRIMARY KEY, kind text NOT NULL, name text NOT NULL, secret_sha256 text NOT NULL,
            created_at bigint NOT NULL, revoked_at bigint,
            credential_generation bigint NOT NULL DEFAULT 1, credential_changed_at bigint)
        """,
        "CREATE TABLE IF NOT EXISTS _hub_replicas (replica text PRIMARY KEY, site text NOT NULL, first_seen bigint NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS _hub_site_health (
            site text PRIMARY KEY, last_contact bigint, replica text, pending bigint, agent text, clock_offset_ms bigint,
            sessions bigint NOT NULL DEFAULT 0, pushes bigint NOT NULL DEFAULT 0, rows_received bigint NOT NULL DEFAULT 0,
            rows_refused bigint NOT NULL DEFAULT 0, conflicts bigint NOT NULL DEFAULT 0,
            daemon_version text, schema_version bigint)
        """,
        """
        CREATE TABLE IF NOT EXISTS _hub_schemas (
            version bigint PRIMARY KEY, document text NOT NULL, digest text NOT NULL, published_at bigint NOT NULL)
        """,
        // Each row's merge state (`MergeState`), each register's feed position (0: changed, not yet
        // published) and the replica holding the row whole (`origin`, a replica id), as pushes leave
        // them; and the same three as last published (`pub_*`), which readers take at the row's
        // place in the feed (`pos`) until the next publish moves it (`RowFeed`). `pending`: changed
        // since published; `xid` orders the publishing.
        """
        CREATE TABLE IF NOT EXISTS _begawi_rows (
            tbl text NOT NULL, key text NOT NULL, state bytea, register_seq bigint[] NOT NULL DEFAULT '{}', origin text,
            pending boolean NOT NULL DEFAULT false, xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            pos bigint UNIQUE, pub_state bytea, pub_seq bigint[], pub_origin text, PRIMARY KEY (tbl, key))
        """,
        "CREATE INDEX IF NOT EXISTS _begawi_rows_pending ON _begawi_rows (xid, tbl, key) WHERE pending",
        // The last position the feed gave (`RowFeed`): publishers take turns on this one row.
        "CREATE TABLE IF NOT EXISTS _begawi_feed_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), pos bigint NOT NULL)",
        "INSERT INTO _begawi_feed_head (one, pos) VALUES (true, 0) ON CONFLICT DO NOTHING",
        // The fenced feed of the first sessions, never written by the store (docs/postgresql.md).
        "DROP TABLE IF EXISTS _begawi_changes",
        "CREATE TABLE IF NOT EXISTS _begawi_cursors (source text PRIMARY KEY, base bigint NOT NULL, position bigint NOT NULL)",
        // What each replica's last push refused, until its next push (`unsettledRefusals`).
        "CREATE TABLE IF NOT EXISTS _hub_unsettled (replica text PRIMARY KEY, base bigint NOT NULL, position bigint NOT NULL, refused text NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS _begawi_conflicts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tbl text NOT NULL, key text NOT NULL, col text NOT NULL, loser_value bytea NOT NULL, winner_value bytea NOT NULL,
            winner_deleted boolean NOT NULL, loser_clock bigint NOT NULL, loser_site text NOT NULL, loser_counter bigint NOT NULL,
            winner_clock bigint NOT NULL, winner_site text NOT NULL, winner_counter bigint NOT NULL, detected_at bigint NOT NULL)
        """,
    ]

    /// Makes the tables when missing and the hub's epoch on first open, in one transaction.
    /// `CREATE … IF NOT EXISTS` is not safe against itself in another session (two processes
    /// opening at once can both try to create a table): they take turns on an advisory lock.
    static func install(on link: PostgresLink, clock: any WallClock) throws {
        try link.transaction { link in
            try link.query("SELECT pg_advisory_xact_lock(7301946)")
            for statement in tables + rulesTables + purgeTables { try link.query(statement) }
            for statement in officeTables + PostgresAuthFailures.tables { try link.query(statement) }
            var generator = UUIDv7Generator(clock: clock)
            let epoch = generator.next()
            try link.query("""
                INSERT INTO _begawi_state (name, value) VALUES ('format', '1'), ('replica_id', \(epoch)) ON CONFLICT DO NOTHING
                """)
        }
    }
}
