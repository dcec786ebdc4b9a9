import BegawiCore
import Foundation
import Glibc

/// The audit's archive folder (`audit_archive_dir`): gzip files of JSON lines, one file per calendar
/// month (UTC) of each chunk of entries pruned together, named by month, the database's epoch and the
/// chunk's id range (`audit-2026-01.<epoch>.000000000001-000000005000.jsonl.gz`). The epoch keeps a
/// database restored from a backup, whose ids go on from the backup's, from writing over files of
/// ids it has handed out again. A file is written under a temporary name,
/// synced, renamed and its folder synced, so that it either holds all of its entries or does not
/// exist; the entries leave the database only after that.
package struct AuditArchive {
    /// An audit entry as written to an archive: keys and actions, never a value.
    package struct Entry: Codable, Equatable {
        /// Makes an entry; `time` is `at` for people (`AuditArchive.time(of:)`).
        package init(id: Int64, at: Int64, site: String, table: String, key: String, action: String, reason: String?) {
            self.init(id: id, at: at, time: AuditArchive.time(of: at), site: site, table: table, key: key, action: action, reason: reason)
        }

        init(id: Int64, at: Int64, time: String, site: String, table: String, key: String, action: String, reason: String?) {
            self.id = id
            self.at = at
            self.time = time
            self.site = site
            self.table = table
            self.key = key
            self.action = action
            self.reason = reason
        }

        var id: Int64
        /// Milliseconds since the Unix epoch, and the same as an ISO 8601 UTC time for people.
        var at: Int64
        var time: String
        var site: String
        var table: String
        var key: String
        var action: String
        var reason: String?
    }

    let folder: String
    /// The hub database's epoch (its replica id).
    let epoch: String

    /// The archive in `folder` of the hub whose epoch is `epoch`.
    package init(folder: String, epoch: String) {
        self.folder = folder
        self.epoch = epoch
    }

    /// Writes the entries recorded before `cutoff` (ms since the Unix epoch) to the archive, oldest
    /// first in chunks of at most `chunk`, `chunks` at most, and deletes each chunk from `audit` once
    /// its files are durable. The newest entry always stays, so that its id is never handed out again
    /// and no later chunk can take an archived chunk's name. A chunk whose files exist but whose
    /// entries are still there (a crash or an error between the two: `afterWriting` lets a test throw
    /// there) is written again whole, to the same names, before it is deleted: no entry is lost, none
    /// archived twice. Returns how many entries left the audit. Both hub stores archive through it.
    package func archive(before cutoff: Int64, from audit: some AuditEntries, chunk: Int, chunks: Int,
                         afterWriting: () throws -> Void = {}) throws -> Int {
        removeTemporaries()
        var archived = 0
        for _ in 0..<chunks {
            guard let bounds = try audit.bounds() else { break }
            var ids: ClosedRange<Int64>
            var entries: [Entry]
            if let unfinished = try unfinished(startingAt: bounds.first) {
                ids = unfinished
                entries = try audit.entries(in: unfinished)
            } else {
                // In id order up to the first entry not yet old enough: a later pass starts where this one ended.
                let old = try audit.entries(below: bounds.newest, limit: chunk).prefix { $0.at < cutoff }
                guard let low = old.first?.id, let high = old.last?.id else { break }
                ids = low...high
                entries = Array(old)
            }
            _ = try write(entries, ids: ids)
            try afterWriting()
            try audit.delete(ids)
            archived += entries.count
        }
        return archived
    }

    static let suffix = ".jsonl.gz"

    /// The month ("2026-01", UTC) of a time in ms since the Unix epoch.
    package static func month(of at: Int64) -> String {
        String(time(of: at).prefix(7))
    }

    /// ISO 8601 in UTC with milliseconds; by hand, since a date formatter costs more to make than the
    /// rest of an entry's archiving.
    package static func time(of at: Int64) -> String {
        var seconds = time_t(at.quotientAndRemainder(dividingBy: 1000).quotient - (at < 0 && at % 1000 != 0 ? 1 : 0))
        let milliseconds = ((at % 1000) + 1000) % 1000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", Int32(parts.tm_year) + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, milliseconds)
    }

    static func name(month: String, epoch: String, ids: ClosedRange<Int64>) -> String {
        "audit-\(month).\(epoch)." + String(format: "%012lld-%012lld", ids.lowerBound, ids.upperBound) + suffix
    }

    /// The id range of a chunk whose files were (partly) written but whose entries were not yet
    /// deleted, when its first id is `first`: that chunk is written again whole, to the same names.
    func unfinished(startingAt first: Int64) throws -> ClosedRange<Int64>? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let start = ".\(epoch)." + String(format: "%012lld", first) + "-"
        for name in names where name.hasPrefix("audit-") && name.hasSuffix(Self.suffix) {
            guard let dot = name.range(of: start) else { continue }
            let last = name[dot.upperBound...].dropLast(Self.suffix.count)
            if let last = Int64(last), last >= first { return first...last }
        }
        return nil
    }

    /// Removes temporary files a crash left while writing (their chunk is written again, or was, whole).
    func removeTemporaries() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix("audit-") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }

    /// Writes the chunk's entries (ids `ids`), one file per month; returns how many files.
    func write(_ entries: [Entry], ids: ClosedRange<Int64>) throws -> Int {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        } catch {
            throw BegawiError(.storage, "cannot make the audit archive's folder \(folder); check audit_archive_dir and that its parent is writable: nothing is pruned until it can be archived",
                              cause: "\(error)")
        }
        let byMonth = Dictionary(grouping: entries) { Self.month(of: $0.at) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (month, monthly) in byMonth {
            var text: [UInt8] = []
            for entry in monthly.sorted(by: { $0.id < $1.id }) {
                text += try encoder.encode(entry)
                text.append(UInt8(ascii: "\n"))
            }
            let path = folder + "/" + Self.name(month: month, epoch: epoch, ids: ids)
            try Self.writeDurably(try Deflate.compress(text, gzip: true), to: path)
        }
        try Self.sync(folder: folder)
        return byMonth.count
    }

    /// Writes `bytes` to `path` through a temporary file that is synced and then renamed over it.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw failure(path, "open") }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                throw failure(path, "write")
            }
            done += n
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw failure(path, "fsync")
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure(path, "rename") }
    }

    /// Syncs the folder, so that the renames in it survive a power loss.
    static func sync(folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(folder, "open") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure(folder, "fsync") }
    }

    static func failure(_ path: String, _ call: String) -> BegawiError {
        BegawiError(.storage, "cannot write the audit archive \(path) (\(call): \(String(cString: strerror(errno)))); check that audit_archive_dir exists, is writable and has space: nothing is pruned until it can be archived")
    }
}

/// Where `AuditArchive.archive` reads and deletes audit entries: each hub store's audit table.
package protocol AuditEntries {
    /// The least and the greatest id held; nil when the audit is empty.
    func bounds() throws -> (first: Int64, newest: Int64)?
    /// The entries whose ids are in `ids`, by id.
    func entries(in ids: ClosedRange<Int64>) throws -> [AuditArchive.Entry]
    /// At most `limit` entries whose ids are below `newest`, by id.
    func entries(below newest: Int64, limit: Int) throws -> [AuditArchive.Entry]
    /// Deletes the entries whose ids are in `ids`.
    func delete(_ ids: ClosedRange<Int64>) throws
}
