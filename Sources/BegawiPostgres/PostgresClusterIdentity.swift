import BegawiCore
import PostgresNIO

/// Which PostgreSQL cluster, and which line of its history, a hub's database lives in: the
/// cluster's system identifier (new at every `initdb`, kept by physical copies and standbys) and
/// the timeline of its write-ahead log (raised by a point-in-time recovery and by a standby's
/// promotion).
///
/// A hub keeps the identity it last ran in beside its epoch. A database that comes back in
/// another cluster (a `pg_dump` restored elsewhere) or on another timeline (a recovery to an
/// earlier point, a failover that may have lost the last commits) may lack changes the sites were
/// told it holds: it must serve under a new epoch, as a restored SQLite hub does
/// (docs/postgresql.md, "Epochs on restore").
public struct PostgresClusterIdentity: Sendable, Equatable, CustomStringConvertible {
    /// `pg_control_system().system_identifier`, as text (a 64-bit number the server shows signed).
    public var systemIdentifier: String
    /// The timeline the server writes its log on now.
    public var timeline: Int64

    /// Makes an identity.
    public init(systemIdentifier: String, timeline: Int64) {
        self.systemIdentifier = systemIdentifier
        self.timeline = timeline
    }

    /// As it is kept in the hub's `_begawi_state`, and read back with `init(stored:)`.
    public var description: String { "\(systemIdentifier)/\(timeline)" }

    /// An identity as kept; nil for text the store never writes.
    public init?(stored text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let system = Int64(parts[0]), let timeline = Int64(parts[1]), timeline > 0 else { return nil }
        self.init(systemIdentifier: String(system), timeline: timeline)
    }

    /// The identity of the cluster the session is connected to. A standby (in recovery) is refused:
    /// a hub writes, and its identity changes when it is promoted.
    public static func read(_ link: PostgresLink) throws -> PostgresClusterIdentity {
        guard let recovery = try link.query("SELECT pg_is_in_recovery()").first,
              try !decode({ try recovery.decode(Bool.self) }) else {
            throw BegawiError(.configuration, "the PostgreSQL server in database is a standby (in recovery, read-only): point the hub at the primary")
        }
        // The log's file name starts with the timeline it is written on, in 8 hex digits.
        guard let row = try link.query("""
            SELECT system_identifier, pg_walfile_name(pg_current_wal_lsn()) FROM pg_control_system()
            """).first else {
            throw BegawiError(.storage, "the PostgreSQL server did not say which cluster it is (pg_control_system)")
        }
        let (system, walFile) = try decode { try row.decode((Int64, String).self) }
        guard walFile.utf8.count == 24, let timeline = Int64(walFile.prefix(8), radix: 16), timeline > 0 else {
            throw BegawiError(.storage, "the PostgreSQL server named its write-ahead log in a form Begawi does not know (pg_walfile_name)")
        }
        return PostgresClusterIdentity(systemIdentifier: String(system), timeline: timeline)
    }

    private static func decode<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw BegawiError(.storage, "the PostgreSQL server's control data could not be read", cause: "\(type(of: error))")
        }
    }

    /// Whether a database last run in `stored` may go on under the same epoch here: only in the same
    /// cluster on the same timeline. The reason when it may not.
    public func changed(since stored: PostgresClusterIdentity) -> String? {
        if stored.systemIdentifier != systemIdentifier { return "the database is in another PostgreSQL cluster than when the hub last ran (restored from a dump?)" }
        if stored.timeline != timeline { return "the PostgreSQL cluster is on timeline \(timeline), not \(stored.timeline) as when the hub last ran (a point-in-time recovery or a failover)" }
        return nil
    }
}
