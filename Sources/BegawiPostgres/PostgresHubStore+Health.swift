public import BegawiCore
public import BegawiHub
import PostgresNIO

/// The health ledger, in `_hub_site_health`: one upsert per note, so that notes from several hub
/// processes add up.
extension PostgresHubStore {
    /// Records a session: the contact, and what the site reported about itself.
    public func noteSession(site: String, replica: String, report: SiteReport) throws {
        let now = Int64(clamping: clock.nowMilliseconds())
        let pending = report.pending.map(Int64.init)
        let schemaVersion = report.schemaVersion.map(Int64.init)
        try pool.withLink { link in
            try link.query("""
                INSERT INTO _hub_site_health AS h (site, last_contact, replica, pending, agent, clock_offset_ms, sessions, daemon_version, schema_version)
                VALUES (\(site), \(now), \(replica), \(pending), \(report.ledgerAgent), \(report.clockOffset(now: now)), 1,
                        \(report.daemonVersion?.description), \(schemaVersion))
                ON CONFLICT (site) DO UPDATE SET last_contact = EXCLUDED.last_contact, replica = EXCLUDED.replica, pending = EXCLUDED.pending,
                  agent = coalesce(EXCLUDED.agent, h.agent), clock_offset_ms = coalesce(EXCLUDED.clock_offset_ms, h.clock_offset_ms),
                  sessions = h.sessions + 1, daemon_version = coalesce(EXCLUDED.daemon_version, h.daemon_version),
                  schema_version = coalesce(EXCLUDED.schema_version, h.schema_version)
                """)
        }
    }

    /// Records a held pull's contact time, nothing else (a session records what the site reports).
    public func noteContact(site: String) throws {
        let now = Int64(clamping: clock.nowMilliseconds())
        try pool.withLink { link in try link.query("UPDATE _hub_site_health SET last_contact = \(now) WHERE site = \(site)") }
    }

    /// Records a request refused as too old: its contact time and the versions it named, so that
    /// `hub sites` shows who must upgrade. Not a session: nothing else it says is taken.
    public func noteRefused(site: String, daemonVersion: DaemonVersion?, schemaVersion: Int) throws {
        let now = Int64(clamping: clock.nowMilliseconds())
        try pool.withLink { link in
            try link.query("""
                INSERT INTO _hub_site_health AS h (site, last_contact, daemon_version, schema_version)
                VALUES (\(site), \(now), \(daemonVersion?.description), \(Int64(schemaVersion)))
                ON CONFLICT (site) DO UPDATE SET last_contact = EXCLUDED.last_contact,
                  daemon_version = coalesce(EXCLUDED.daemon_version, h.daemon_version), schema_version = EXCLUDED.schema_version
                """)
        }
    }

    /// Every registered site's health, sites that never made contact included.
    public func health() throws -> [SiteHealth] {
        try pool.withLink { link in
            try link.query("""
                SELECT s.id, s.kind, s.revoked_at IS NOT NULL, h.last_contact, h.pending, h.agent, h.clock_offset_ms, h.daemon_version,
                  h.schema_version, coalesce(h.sessions, 0), coalesce(h.pushes, 0), coalesce(h.rows_received, 0),
                  coalesce(h.rows_refused, 0), coalesce(h.conflicts, 0)
                FROM _hub_sites s LEFT JOIN _hub_site_health h ON h.site = s.id ORDER BY s.id
                """).map { row in
                let (site, kind, revoked, lastContact, pending, agent, offset, daemonVersion, schemaVersion, sessions, pushes, received, refused, conflicts)
                    = try PostgresHubStore.decode("_hub_site_health") {
                        try row.decode((String, String, Bool, Int64?, Int?, String?, Int64?, String?, Int?, Int, Int, Int, Int, Int).self)
                    }
                return SiteHealth(site: site, kind: kind, revoked: revoked, lastContact: lastContact, pending: pending, agent: agent,
                                  daemonVersion: daemonVersion, schemaVersion: schemaVersion, clockOffsetMilliseconds: offset,
                                  sessions: sessions, pushes: pushes, rowsReceived: received, rowsRefused: refused, conflicts: conflicts)
            }
        }
    }
}
