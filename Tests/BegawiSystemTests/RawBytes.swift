import Foundation

/// One place where a searched value occurs in a file's raw bytes.
struct ByteHit: CustomStringConvertible, Sendable {
    let file: String
    let label: String
    let offset: Int

    var description: String { "\(label) at byte \(offset) (page \(offset / 4096)) of \(file)" }
}

/// Searches database files as bytes, the way someone holding a copy of the disk would: free pages,
/// unused cell space and write-ahead log frames included, not only what SQL can read.
enum RawBytes {
    /// A database file and the journal files beside it that exist.
    static func files(_ database: String) -> [String] {
        [database, database + "-wal", database + "-journal"].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Every occurrence of each value (as UTF-8) in the files.
    static func find(_ needles: [(label: String, text: String)], in files: [String]) throws -> [ByteHit] {
        var hits: [ByteHit] = []
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            for needle in needles where !needle.text.isEmpty {
                for offset in occurrences(of: Array(needle.text.utf8), in: data) {
                    hits.append(ByteHit(file: file, label: needle.label, offset: offset))
                }
            }
        }
        return hits
    }

    /// The offsets of `needle` in `data`.
    static func occurrences(of needle: [UInt8], in data: Data) -> [Int] {
        guard !needle.isEmpty else { return [] }
        let pattern = Data(needle)
        var found: [Int] = []
        var from = data.startIndex
        while from < data.endIndex, let range = data.range(of: pattern, in: from..<data.endIndex) {
            found.append(range.lowerBound - data.startIndex)
            from = range.lowerBound + 1
        }
        return found
    }
}
