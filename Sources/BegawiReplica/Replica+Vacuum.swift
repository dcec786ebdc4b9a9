import BegawiCore
internal import GRDB

/// Space given back to the file system without stopping sync (issue 15): files are made with
/// `auto_vacuum = INCREMENTAL`, so that free pages leave the file a few at a time, each step holding
/// the write lock briefly, instead of in one `VACUUM` that holds it for the whole file.
extension Replica {
    /// The pages of the file, how many are free, and their size.
    public struct Space: Sendable, Equatable {
        /// Pages in the file.
        public var pages: Int
        /// Pages on the free list (freed by deletes, not yet given back).
        public var freePages: Int
        /// Bytes per page.
        public var pageSize: Int
        /// Whether free pages can be given back in steps (`auto_vacuum = INCREMENTAL`).
        public var incremental: Bool

        /// Bytes of the pages that hold something.
        public var liveBytes: Int { (pages - freePages) * pageSize }
    }

    /// Sets a new, empty file to incremental vacuum. The pool has already put it in WAL mode, which
    /// writes the header; the setting then only takes with a `VACUUM`, instant on an empty file.
    static func makeIncremental(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute(sql: "VACUUM")
        }
    }

    /// The file's pages now.
    public func space() throws -> Space {
        try pool.read { db in
            Space(pages: try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                  freePages: try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0,
                  pageSize: try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0,
                  incremental: try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2)
        }
    }

    /// Gives back up to `pages` free pages in one short write (nothing when the file was made before
    /// incremental vacuum: `compact()` converts it). Returns how many left the file.
    public func vacuumStep(pages: Int) throws -> Int {
        try storageErrors {
            try pool.writeWithoutTransaction { db in
                let before = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                guard before > 0 else { return 0 }
                try db.execute(sql: "PRAGMA incremental_vacuum(\(max(1, pages)))")
                return before - (try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? before)
            }
        }
    }

    /// Folds the write-ahead log into the file and truncates it, waiting at most `waitMilliseconds` for
    /// readers on an older snapshot (a staff application's long read): the file only shrinks once the
    /// pages a vacuum moved are checkpointed. Returns whether the log was emptied; if not, the next
    /// pass tries again (SQLite's own checkpoints still copy what they can).
    @discardableResult
    public func truncateLog(waitMilliseconds: Int) throws -> Bool {
        try storageErrors {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA busy_timeout = \(max(0, waitMilliseconds))")
                defer { try? db.execute(sql: "PRAGMA busy_timeout = 30000") }
                // Busy is a result row here, not an error: (busy, log frames, frames checkpointed).
                let busy = try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") ?? 1
                return busy == 0
            }
        }
    }

    /// Converts the file to incremental vacuum if it is not yet, and rewrites it without free pages
    /// (`VACUUM`, which holds the write lock for the whole file: writers wait meanwhile). Returns the
    /// file's space before and after.
    public func compact() throws -> (before: Space, after: Space) {
        let before = try space()
        try storageErrors {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        try checkpoint()
        return (before, try space())
    }

    private func storageErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw BegawiError(.storage, "cannot give free space back in \(path); it is tried again at the next housekeeping",
                              cause: "\(error.resultCode): \(error.message ?? "")")
        }
    }
}
