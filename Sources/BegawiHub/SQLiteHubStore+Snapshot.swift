import BegawiCore
import BegawiReplica
import BegawiRules
import Foundation

/// A new replica's first pull as a snapshot: parts of what the site may see, each a small SQLite file
/// written from one read transaction and sent gzip-compressed (see `Replica.writeSnapshotPart`).
extension SQLiteHubStore {
    /// The most rows one snapshot part holds.
    public static let maxSnapshotRows = 50_000

    /// The next part of `table`'s rows that the site may see, after `after`, as the bytes to send
    /// (gzip); nil when the site's schema version is not the current one (its pages cut the columns).
    public func snapshotPart(site: SiteRecord, replica id: String, table: String, after: String?, maxRows: Int,
                             schemaVersion: Int?) throws -> (rows: Int, bytes: [UInt8])? {
        guard try versions.schema(forSiteAt: schemaVersion) == nil else { return nil }
        try claim(replica: id, for: site)
        try admitPull(site: site.id, replica: id, after: .start)
        let path = replica.path + ".snapshot-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        let part = try replica.writeSnapshotPart(to: path, table: table, after: after, maxRows: min(maxRows, Self.maxSnapshotRows),
                                                 receiverReplicaID: id, scope: snapshotScope(site: site, table: table))
        guard let file = SQLiteHubStore.readPart(at: path) else {
            throw BegawiError(.storage, "a snapshot part written at \(path) could not be read back; check the hub's disk")
        }
        // Level 1: a part is sent once, and the hub's time is what a first sync waits for.
        return (part.rows, try Deflate.compress(file, level: 1, gzip: true))
    }

    /// A part's file read straight into an array (through `Data` it was copied once more: 14 MB a part).
    static func readPart(at path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        guard fseeko(file, 0, SEEK_END) == 0 else { return nil }
        let size = Int(ftello(file))
        guard size >= 0, fseeko(file, 0, SEEK_SET) == 0 else { return nil }
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = size == 0 ? 0 : fread(buffer.baseAddress, 1, size, file)
            complete = count == size
        }
        return complete ? bytes : nil
    }

    /// Which of a table's rows a site may see, as the pages choose them (`HubSiteView.includes`).
    func snapshotScope(site: SiteRecord, table: String) -> SnapshotScope {
        guard let policy, site.kind != .office else { return .all }
        guard let rule = policy[table] else { return .none }
        if rule.receivers == .all { return .all }
        return .keys(sql: "SELECT key FROM source._hub_visibility WHERE site = ?5 AND tbl = ?6 AND key > ?1 ORDER BY key LIMIT ?2",
                     arguments: [site.id, table])
    }
}
