import BegawiCore
import Foundation
import PostgresNIO

/// Epochs on PostgreSQL: a database that comes back in another cluster, or on another timeline of
/// its cluster (a point-in-time recovery, a standby's promotion), may lack changes the sites were
/// told it holds, so it serves under a new epoch, as a restored SQLite hub does. Its lineage says
/// how much of the old epoch's feed it shares (through the head it has), so that sites keep their
/// cursors for that part and send again what it lacks (docs/postgresql.md, "Epochs on restore").
extension PostgresHubStore {
    /// At open, in turns with other processes: records the cluster the database runs in the first
    /// time, and gives the hub a new epoch when it runs in another cluster or on another timeline
    /// than when it last ran. Returns why the epoch changed, or nil.
    @discardableResult
    static func followCluster(on link: PostgresLink) throws -> String? {
        try link.transaction { link -> String? in
            try link.query("SELECT pg_advisory_xact_lock(7301946)")
            let now = try PostgresClusterIdentity.read(link)
            let stored = try link.query("SELECT value FROM _begawi_state WHERE name = 'cluster'").first.map { row in
                try decode("_begawi_state") { try row.decode(String.self) }
            }
            guard let stored else {
                try link.query("INSERT INTO _begawi_state (name, value) VALUES ('cluster', \(now.description))")
                return nil
            }
            guard let ran = PostgresClusterIdentity(stored: stored) else {
                throw damaged("the cluster the hub last ran in (_begawi_state 'cluster') is not in the form Begawi writes")
            }
            guard let reason = now.changed(since: ran) else { return nil }
            try newEpoch(on: link)
            try link.query("UPDATE _begawi_state SET value = \(now.description) WHERE name = 'cluster'")
            return reason
        }
    }

    /// Gives the hub a new epoch (a UUIDv7) and links the old one in its lineage through the feed's
    /// head: the new epoch shares the old feed up to there. Inside the caller's transaction, which
    /// holds the install's advisory lock. Returns the new epoch.
    @discardableResult
    static func newEpoch(on link: PostgresLink) throws -> String {
        guard let head = try link.query("SELECT pos FROM _begawi_feed_head").first else {
            throw damaged("the feed's head (_begawi_feed_head) is missing")
        }
        let position = try decode("_begawi_feed_head") { try head.decode(Int64.self) }
        guard let through = UInt64(exactly: position) else { throw damaged("the feed's head (_begawi_feed_head) is negative") }
        var lineage = try readLineage(link)
        lineage.append(LineageLink(replicaID: try readEpoch(link), throughSeq: through))
        let text = String(decoding: try JSONEncoder().encode(lineage), as: UTF8.self)
        var generator = UUIDv7Generator()
        let epoch = generator.next()
        try link.query("UPDATE _begawi_state SET value = \(epoch) WHERE name = 'replica_id'")
        try link.query("""
            INSERT INTO _begawi_state (name, value) VALUES ('lineage', \(text)) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value
            """)
        return epoch
    }

    /// The hub's earlier epochs, oldest first, each with how much of its feed this one shares.
    static func readLineage(_ link: PostgresLink) throws -> [LineageLink] {
        guard let row = try link.query("SELECT value FROM _begawi_state WHERE name = 'lineage'").first else { return [] }
        let text = try decode("_begawi_state") { try row.decode(String.self) }
        guard let lineage = try? JSONDecoder().decode([LineageLink].self, from: Data(text.utf8)) else {
            throw damaged("the hub's lineage (_begawi_state 'lineage') cannot be read")
        }
        return lineage
    }
}
