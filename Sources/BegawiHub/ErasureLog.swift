public import BegawiCore
import Foundation

/// The append-only file of the hub's erasures, outside its database (`erasure_log` in hub.toml), so
/// that a database restored from a backup made before an erasure is erased again at start. It holds
/// keys and times only: the person's key (a keyed hash of the NIK, never the NIK) and the keys of the
/// rows erased with them.
///
/// One JSON object per line, `{"sha256":"…","erasure":{…}}`, the digest taken over the exact bytes of
/// the `erasure` object: a line torn by a crash mid-append, or damaged, fails it and is skipped with a
/// warning, never a refusal to start (the database still holds that erasure; the hub writes it again).
public struct ErasureLog: Sendable {
    /// One erasure: whose, when, and which rows.
    public struct Entry: Sendable, Hashable, Codable {
        /// When the person was erased (ms since the Unix epoch).
        public var at: Int64
        /// The person's key in the person table.
        public var person: String
        /// The rows erased with them, as `[table, key]` pairs.
        public var rows: [[String]]

        /// Makes an entry.
        public init(at: Int64, person: String, rows: [RowKey]) {
            self.at = at
            self.person = person
            self.rows = rows.map { [$0.table, $0.key] }
        }

        /// The rows as row keys (pairs of another length are skipped).
        public var rowKeys: [RowKey] { rows.compactMap { $0.count == 2 ? RowKey(table: $0[0], key: $0[1]) : nil } }
    }

    /// What reading the file found.
    public struct Contents: Sendable {
        /// The intact entries, in the file's order.
        public var entries: [Entry]
        /// The line numbers (from 1) skipped as torn or damaged.
        public var skippedLines: [Int]
        /// Whether the file exists.
        public var exists: Bool
    }

    /// The file's path.
    public let path: String

    /// The log at `path` (created at the first erasure).
    public init(path: String) { self.path = path }

    static let prefix = Array(#"{"sha256":""#.utf8)
    static let middle = Array(#"","erasure":"#.utf8)

    /// One line of the file for `entry`, newline included.
    static func line(_ entry: Entry) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Array(try encoder.encode(entry))
        return prefix + Array(Hashing.sha256Hex(body).utf8) + middle + body + Array("}\n".utf8)
    }

    /// The entry a line holds, or nil when it is torn or damaged.
    static func entry(_ line: ArraySlice<UInt8>) -> Entry? {
        let hexStart = line.startIndex + prefix.count, bodyStart = hexStart + 64 + middle.count
        guard line.count > prefix.count + 64 + middle.count + 1, line.starts(with: prefix), line.last == UInt8(ascii: "}"),
              line[(hexStart + 64)..<bodyStart].elementsEqual(middle) else { return nil }
        let body = line[bodyStart..<(line.endIndex - 1)]
        guard Hashing.sha256Hex(body) == String(decoding: line[hexStart..<(hexStart + 64)], as: UTF8.self) else { return nil }
        return try? JSONDecoder().decode(Entry.self, from: Data(body))
    }

    /// Reads every intact entry; a missing file has none.
    public func read() throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { return Contents(entries: [], skippedLines: [], exists: false) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BegawiError(.storage, "cannot read the erasure log \(path); check that the hub's user owns it (mode 0600)")
        }
        var contents = Contents(entries: [], skippedLines: [], exists: true)
        for (i, line) in Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            if let entry = ErasureLog.entry(line) { contents.entries.append(entry) } else { contents.skippedLines.append(i + 1) }
        }
        return contents
    }

    /// The last step of bringing the log and a database into agreement, on either store: appends
    /// the erasures the database holds (`stored`) that the log read at the start (`contents`)
    /// lacks, a crash having come between a commit and its line, and notes them in `done`.
    package func appendUnlogged(_ stored: [Entry], contents: Contents, into done: inout ErasureReconciliation) throws {
        let logged = Set(contents.entries.map(\.person))
        let unlogged = stored.filter { !logged.contains($0.person) }
        try append(unlogged)
        done.appended = unlogged.count
        done.recreated = !contents.exists && !unlogged.isEmpty
    }

    /// Appends entries and waits until they are on disk (fsync). A torn last line is ended first, so
    /// that it cannot swallow the new one. The file is created 0600.
    public func append(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        var bytes = try entries.flatMap(ErasureLog.line)
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot open", errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot inspect", errno) }
        if info.st_size > 0 {
            var last: UInt8 = 0
            guard pread(fd, &last, 1, info.st_size - 1) == 1 else { throw failure("cannot read", errno) }
            if last != UInt8(ascii: "\n") { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw failure("cannot write", errno) }
            written += n
        }
        guard fsync(fd) == 0 else { throw failure("cannot flush", errno) }
        if info.st_size == 0 { syncFolder() }
    }

    /// Makes the new file's name durable too.
    private func syncFolder() {
        let folder = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return }
        _ = fsync(folder)
        close(folder)
    }

    private func failure(_ what: String, _ code: Int32) -> BegawiError {
        BegawiError(.storage, "\(what) the erasure log \(path): \(String(cString: strerror(code))); it must be writable by the hub's user (in its state directory, or in ReadWritePaths= of the unit); an erasure already committed to the database is logged at the hub's next start")
    }
}
