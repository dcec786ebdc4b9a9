import BegawiCore
import BegawiRules

/// The hub's own tables beside the merged rows, in the same file so that one backup holds them.
package enum HubRulesSQL {
    /// Feed event kinds in `_hub_feed`.
    package enum Event: Int64 {
        /// A site newly may see a row: it receives the row whole.
        case grant = 1
        /// A site may no longer see a row: it removes the row from its replica only.
        case revoke = 0
        /// A row was erased everywhere: the site removes it and every trace of it.
        case erase = 2
    }

    /// The hub's tables beside the merged rows, made at every open with rules.
    ///
    /// The audit is indexed by site first (`_hub_audit_by_site`), not by row: a push's entries then
    /// go into its own site's part of the index, a few pages, where an index by row alone put each
    /// entry on a page of its own (the keys of a person table are hashes: random), a page written per
    /// row and commit. A hub made before (`_hub_audit_by_row`) gets the new index and loses the old
    /// one at its next open. The audit of one row is read through `auditSites` (below).
    static let tables = """
        CREATE TABLE IF NOT EXISTS _hub_visibility(
            site TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, since INTEGER NOT NULL, seq INTEGER,
            PRIMARY KEY(site, tbl, key)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS _hub_visibility_by_row ON _hub_visibility(tbl, key);
        CREATE TABLE IF NOT EXISTS _hub_feed(
            seq INTEGER PRIMARY KEY, site TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS _hub_feed_by_site ON _hub_feed(site, seq);
        CREATE INDEX IF NOT EXISTS _hub_feed_by_row ON _hub_feed(tbl, key);
        CREATE TABLE IF NOT EXISTS _hub_audit(
            id INTEGER PRIMARY KEY, at INTEGER NOT NULL, site TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL,
            action TEXT NOT NULL, reason TEXT);
        CREATE INDEX IF NOT EXISTS _hub_audit_by_site ON _hub_audit(site, tbl, key);
        DROP INDEX IF EXISTS _hub_audit_by_row;
        CREATE TABLE IF NOT EXISTS _hub_erased(tbl TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL, person TEXT, PRIMARY KEY(tbl, key)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS _hub_meta(name TEXT PRIMARY KEY NOT NULL, value TEXT) WITHOUT ROWID;
        """

    /// The start of a statement that reads the audit of one row: `audit_sites(site)` lists the
    /// distinct sites of the audit, one seek of `_hub_audit_by_site` each, so that a join
    /// `audit_sites s JOIN _hub_audit a ON a.site = s.site AND a.tbl = ? AND a.key = ?` finds the row's
    /// entries by one search per site, without reading the rest of the audit.
    static let auditSites = """
        WITH RECURSIVE audit_sites(site) AS (SELECT min(site) FROM _hub_audit
        UNION ALL SELECT (SELECT min(x.site) FROM _hub_audit x WHERE x.site > audit_sites.site) FROM audit_sites WHERE audit_sites.site IS NOT NULL)
        """

    /// The audit of one row (table `?1`, key `?2`), oldest first: time, site, action, reason.
    static let rowAudit = auditSites + """
         SELECT a.at, a.site, a.action, a.reason FROM audit_sites s JOIN _hub_audit a ON a.site = s.site AND a.tbl = ?1 AND a.key = ?2 ORDER BY a.id
        """

    /// Indexes on the columns the rules follow (owner references and links), on live rows and tombstones.
    static func indexes(for policy: AccessPolicy) -> [String] {
        var wanted = Set<RowKey>()
        for (name, rule) in policy.tables {
            if case .via(let column, _) = rule.owner { wanted.insert(RowKey(table: name, key: column)) }
            for link in rule.linkedBy { wanted.insert(RowKey(table: link.table, key: link.column)) }
        }
        return wanted.sorted { ($0.table, $0.key) < ($1.table, $1.key) }.flatMap { w in
            ["CREATE INDEX IF NOT EXISTS \"_hub_idx_\(w.table)_\(w.key)\" ON \"\(w.table)\"(\"\(w.key)\")",
             "CREATE INDEX IF NOT EXISTS \"_hub_idx_dead_\(w.table)_\(w.key)\" ON \"_begawi_dead_\(w.table)\"(\"\(w.key)\")"]
        }
    }
}
