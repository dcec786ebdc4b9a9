public import BegawiCore
import BegawiReplica
internal import GRDB

/// The health ledger: one row per site, written at each session and each push.
extension SQLiteHubStore {
    static let healthSQL = """
        CREATE TABLE IF NOT EXISTS _hub_site_health(
            site TEXT PRIMARY KEY NOT NULL, last_contact INTEGER, replica TEXT, pending INTEGER, agent TEXT, clock_offset_ms INTEGER,
            sessions INTEGER NOT NULL DEFAULT 0, pushes INTEGER NOT NULL DEFAULT 0, rows_received INTEGER NOT NULL DEFAULT 0,
            rows_refused INTEGER NOT NULL DEFAULT 0, conflicts INTEGER NOT NULL DEFAULT 0,
            daemon_version TEXT, schema_version INTEGER) WITHOUT ROWID;
        """

    /// Adds the columns a hub file made before versions lacks.
    static func migrateHealth(_ db: Database) throws {
        let columns = Set(try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info('_hub_site_health')").map { $0[0] as String })
        if !columns.contains("daemon_version") { try db.execute(sql: "ALTER TABLE _hub_site_health ADD COLUMN daemon_version TEXT") }
        if !columns.contains("schema_version") { try db.execute(sql: "ALTER TABLE _hub_site_health ADD COLUMN schema_version INTEGER") }
    }

    /// Records a session: the contact, and what the site reported about itself.
    public func noteSession(site: String, replica: String, report: SiteReport) throws {
        let now = Int64(clock.nowMilliseconds())
        let agent = report.ledgerAgent
        let offset = report.clockOffset(now: now)
        try self.replica.ownerWrite { db in
            try db.execute(sql: """
                INSERT INTO _hub_site_health(site, last_contact, replica, pending, agent, clock_offset_ms, sessions, daemon_version, schema_version)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8)
                ON CONFLICT(site) DO UPDATE SET last_contact = ?2, replica = ?3, pending = ?4, agent = coalesce(?5, agent),
                  clock_offset_ms = coalesce(?6, clock_offset_ms), sessions = sessions + 1,
                  daemon_version = coalesce(?7, daemon_version), schema_version = coalesce(?8, schema_version)
                """, arguments: [site, now, replica, report.pending, agent, offset, report.daemonVersion?.description, report.schemaVersion])
        }
    }

    /// Records a held pull's contact time, nothing else (a session records what the site reports).
    public func noteContact(site: String) throws {
        try replica.ownerWrite { db in
            try db.execute(sql: "UPDATE _hub_site_health SET last_contact = ? WHERE site = ?", arguments: [Int64(clock.nowMilliseconds()), site])
        }
    }

    /// Records a request refused as too old: its contact time and the versions it named (schema 1 when
    /// it named none), so that `hub sites` shows who must upgrade. Not a session: nothing else it
    /// says is taken.
    public func noteRefused(site: String, daemonVersion: DaemonVersion?, schemaVersion: Int) throws {
        try replica.ownerWrite { db in
            try db.execute(sql: """
                INSERT INTO _hub_site_health(site, last_contact, daemon_version, schema_version) VALUES (?1, ?2, ?3, ?4)
                ON CONFLICT(site) DO UPDATE SET last_contact = ?2, daemon_version = coalesce(?3, daemon_version), schema_version = ?4
                """, arguments: [site, Int64(clock.nowMilliseconds()), daemonVersion?.description, schemaVersion])
        }
    }

    /// Adds a push's figures to the site's totals, in the push's own transaction (conflicts: those of
    /// merged rows and those its refused rows left in the ledger).
    func notePush(site: String, rows: Int, result: ApplyResult, _ context: ReplicaContext) throws {
        try context.execute("""
            INSERT INTO _hub_site_health(site, last_contact, pushes, rows_received, rows_refused, conflicts)
            VALUES (?1, ?2, 1, ?3, ?4, ?5)
            ON CONFLICT(site) DO UPDATE SET last_contact = ?2, pushes = pushes + 1, rows_received = rows_received + ?3,
              rows_refused = rows_refused + ?4, conflicts = conflicts + ?5
            """, [.text(site), .integer(Int64(clock.nowMilliseconds())), .integer(Int64(rows)), .integer(Int64(result.refused.count)),
                  .integer(Int64(result.conflicts) + Int64(result.refusedConflicts))])
    }

    /// Every registered site's health, sites that never made contact included.
    public func health() throws -> [SiteHealth] {
        try replica.ownerRead { db in
            try Row.fetchAll(db, sql: """
                SELECT s.id, s.kind, s.revoked_at IS NOT NULL AS revoked, h.last_contact, h.pending, h.agent, h.clock_offset_ms, h.daemon_version, h.schema_version,
                  coalesce(h.sessions, 0) AS sessions, coalesce(h.pushes, 0) AS pushes, coalesce(h.rows_received, 0) AS rows_received,
                  coalesce(h.rows_refused, 0) AS rows_refused, coalesce(h.conflicts, 0) AS conflicts
                FROM _hub_sites s LEFT JOIN _hub_site_health h ON h.site = s.id ORDER BY s.id
                """).map { row in
                SiteHealth(site: try row.decode(forColumn: "id"), kind: try row.decode(forColumn: "kind"), revoked: try row.decode(forColumn: "revoked"), lastContact: try row.decode(forColumn: "last_contact"),
                           pending: try row.decode(forColumn: "pending"), agent: try row.decode(forColumn: "agent"),
                           daemonVersion: try row.decode(forColumn: "daemon_version"), schemaVersion: try row.decode(forColumn: "schema_version"),
                           clockOffsetMilliseconds: try row.decode(forColumn: "clock_offset_ms"),
                           sessions: try row.decode(forColumn: "sessions"), pushes: try row.decode(forColumn: "pushes"), rowsReceived: try row.decode(forColumn: "rows_received"),
                           rowsRefused: try row.decode(forColumn: "rows_refused"), conflicts: try row.decode(forColumn: "conflicts"))
            }
        }
    }

    /// The head of the hub's change feed.
    public func headSeq() throws -> UInt64 { try replica.headSeq() }
}
