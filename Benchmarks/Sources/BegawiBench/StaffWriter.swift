import BegawiCore
import CSQLite
import Foundation

/// A staff application typing into a synced table the way the `sqlite3` shell does: its own
/// connection, one autocommit INSERT every ~2 ms, a busy timeout or none. Runs on its own thread.
final class StaffWriter: @unchecked Sendable {
    /// What the writer did between two snapshots.
    struct Tally {
        var tried = 0
        var failed = 0
        /// The longest one insert took, failed or not (a wait for the lock included), in ms.
        var longest = 0.0

        static func - (a: Tally, b: Tally) -> Tally { Tally(tried: a.tried - b.tried, failed: a.failed - b.failed, longest: a.longest) }
    }

    private let handle: OpaquePointer
    private let statement: OpaquePointer
    private let lock = NSLock()
    private var tally = Tally()
    private var stopping = false
    private var stopped = false

    init(path: String, busyMilliseconds: Int32) throws {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
            throw BegawiError(.storage, "the staff writer cannot open \(path)")
        }
        sqlite3_busy_timeout(db, busyMilliseconds)
        var s: OpaquePointer?
        let sql = "INSERT INTO enrollments(id, participant_id, status, registered_on, updated_by) VALUES (?, 'p-staff', 'registered', '2026-12-04', 'staff')"
        guard sqlite3_prepare_v2(db, sql, -1, &s, nil) == SQLITE_OK, let s else {
            sqlite3_close_v2(db)
            throw BegawiError(.storage, "the staff writer cannot prepare its insert")
        }
        handle = db
        statement = s
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close_v2(handle)
    }

    /// Starts inserting on a thread of its own.
    func start() {
        Thread { [self] in run() }.start()
    }

    /// Stops inserting and waits for the thread to finish.
    func stop() {
        lock.withLock { stopping = true }
        while !lock.withLock({ stopped }) { usleep(1_000) }
    }

    /// What the writer did so far; `resetLongest` starts a new maximum.
    func snapshot(resetLongest: Bool = false) -> Tally {
        lock.withLock {
            defer { if resetLongest { tally.longest = 0 } }
            return tally
        }
    }

    private func run() {
        var n = 0
        while !lock.withLock({ stopping }) {
            n += 1
            let start = DispatchTime.now().uptimeNanoseconds
            sqlite3_reset(statement)
            sqlite3_bind_text(statement, 1, "staff-\(n)", -1, begawi_sqlite_transient())
            let ok = sqlite3_step(statement) == SQLITE_DONE
            sqlite3_reset(statement)
            let took = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            lock.withLock {
                tally.tried += 1
                if !ok { tally.failed += 1 }
                tally.longest = max(tally.longest, took)
            }
            usleep(2_000)
        }
        lock.withLock { stopped = true }
    }
}
