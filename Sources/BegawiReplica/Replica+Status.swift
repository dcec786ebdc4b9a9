import BegawiCore
internal import GRDB
internal import CSQLite

/// A summary of a replica's state, for `begawi replica status` and the daemon's status line.
public struct ReplicaStatus: Sendable, Equatable, Codable {
    /// The replica's own id.
    public var replicaID: String
    /// The site that owns it.
    public var siteID: String
    /// Local writes captured but not yet stamped.
    public var pendingCaptures: Int
    /// The replica's change sequence: every stamped or merged row change moves it.
    public var seq: UInt64
    /// The hybrid clock's last value.
    public var clock: String
    /// Entries in the conflict ledger.
    public var conflicts: Int
    /// Visible rows per synced table.
    public var rows: [String: Int]
    /// Rows deleted but kept as tombstones, per synced table.
    public var tombstones: [String: Int]

    // `replica status --json` prints these keys; scripts may read them.
    enum CodingKeys: String, CodingKey {
        case replicaID, siteID, pendingCaptures, clock, conflicts, rows, tombstones
        case seq = "changeSequence"
    }
}

extension Replica {
    /// The SQLite library's version, as linked.
    public static var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// The replica's current state, read in one transaction.
    public func status() throws -> ReplicaStatus {
        try pool.read { db in
            let state = try loadState(db)
            var rows: [String: Int] = [:]
            var tombstones: [String: Int] = [:]
            for t in tables {
                rows[t.spec.name] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(ReplicaSQL.quote(t.spec.name))") ?? 0
                tombstones[t.spec.name] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(ReplicaSQL.dead(t.spec))") ?? 0
            }
            return ReplicaStatus(
                replicaID: replicaID, siteID: siteID,
                pendingCaptures: try Int.fetchOne(db, sql: "SELECT count(*) FROM _begawi_outbox") ?? 0,
                seq: state.seq, clock: state.clock.last.description,
                conflicts: try Int.fetchOne(db, sql: "SELECT count(*) FROM _begawi_conflicts") ?? 0,
                rows: rows, tombstones: tombstones)
        }
    }

    /// Local changes a replica that holds this replica's changes up to `afterSeq` still lacks: rows
    /// changed after it (those it sent and still holds excepted) and writes not yet stamped.
    public func pendingChanges(afterSeq: UInt64, for receiverReplicaID: String? = nil) throws -> Int {
        try pool.read { db in
            let receiverNumber = try receiverReplicaID.flatMap { try Int64.fetchOne(db, sql: "SELECT id FROM _begawi_peers WHERE replica = ?", arguments: [$0]) } ?? -1
            let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM _begawi_rows WHERE seq > ? AND origin IS NOT ?",
                                        arguments: [Int64(clamping: afterSeq), receiverNumber]) ?? 0
            return rows + (try Int.fetchOne(db, sql: "SELECT count(*) FROM _begawi_outbox") ?? 0)
        }
    }
}

extension Replica {
    /// The number of the replica's latest change (the head of its change feed).
    public func headSeq() throws -> UInt64 {
        try pool.read { db in try loadState(db).seq }
    }
}
