import Foundation

/// Bytes a SQLite database takes on disk, for tests of the space it gives back.
public enum DiskBytes {
    /// The database file and its write-ahead log, in bytes (0 for a file that does not exist).
    public static func database(_ path: String) -> Int {
        [path, path + "-wal"].reduce(0) { $0 + (((try? FileManager.default.attributesOfItem(atPath: $1))?[.size] as? Int) ?? 0) }
    }
}
