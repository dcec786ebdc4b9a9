import BegawiCore
import Foundation
internal import GRDB

/// Checks a file before anything opens it for writing, so that a wrong or damaged file is left untouched.
enum ReplicaFileCheck {
    static let sqliteHeader = Array("SQLite format 3\0".utf8)

    static func verify(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BegawiError(.notAReplica, "no replica at \(path): the file does not exist or cannot be read; check the path, or create the replica first")
        }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        try? handle.close()
        guard header.count >= 100, Array(header.prefix(16)) == sqliteHeader else {
            throw BegawiError(.notAReplica, "\(path) is not a Begawi replica: it is not an SQLite database. Check the path in the configuration")
        }
        var config = Configuration()
        config.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw BegawiError(.corrupted, "\(path) cannot be opened as an SQLite database; it may be damaged. Restore it from a backup", cause: "\(error)")
        }
        defer { try? queue.close() }
        let format: Int64?
        do {
            format = try queue.read { db -> Int64? in
                guard try db.tableExists("_begawi_state") else { return nil }
                return try Int64.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'format'") ?? -1
            }
        } catch {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite cannot read its schema. Restore it from a backup", cause: "\(error)")
        }
        guard let format else {
            throw BegawiError(.notAReplica, "\(path) is an SQLite database but not a Begawi replica (it has no _begawi_state table). Check the path in the configuration")
        }
        guard format >= 1 else {
            throw BegawiError(.corrupted, "\(path) has no valid replica format marker; restore it from a backup")
        }
        guard format <= ReplicaSQL.format else {
            throw BegawiError(.newerFormat, "\(path) was made by a newer Begawi (replica format \(format); this one reads up to \(ReplicaSQL.format)). Upgrade Begawi; the file was not changed")
        }
        let check: [String]
        do {
            check = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        } catch {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite's check failed. Restore it from a backup", cause: "\(error)")
        }
        guard check == ["ok"] else {
            throw BegawiError(.corrupted, "\(path) is damaged: SQLite's quick_check found \(check.count) problem(s). Restore it from a backup", cause: check.prefix(3).joined(separator: "; "))
        }
    }
}
