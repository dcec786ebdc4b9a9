import Foundation

/// What a look at the replica's files finds without opening the database: the size and change
/// time of the main file and of its write-ahead log. Any program's commit (WAL mode) changes the
/// log, so an idle daemon asks SQLite about its outbox only when this changed: one `stat` pair
/// per look instead of a read transaction on the replica's lane.
struct ReplicaWriteStamp: Equatable {
    private var files: [Int64] = []

    /// The stamp of the replica at `path` now (a missing file counts as its own state).
    init(path: String) {
        for file in [path, path + "-wal"] {
            var info = stat()
            if stat(file, &info) == 0 {
                files += [Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(bitPattern: UInt64(info.st_ino))]
            } else {
                files += [-1, -1, -1, -1]
            }
        }
    }
}
