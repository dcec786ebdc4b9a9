import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Free pages leave the file in short steps while the staff keep writing (issue 15, item 5). Prints
/// the figures: `swift test --skip-build --filter SpaceReclaimTests`.
@Suite struct SpaceReclaimTests {
    /// A staff application inserting one row per transaction on its own thread until stopped.
    final class Writer: @unchecked Sendable {
        private let lock = NSLock()
        private var stop = false
        private var count = 0
        private let done = DispatchSemaphore(value: 0)
        private var failure: (any Error)?

        init(_ staff: StaffApp) {
            Thread.detachNewThread { [self] in
                defer { done.signal() }
                do {
                    while !lock.withLock({ stop }) {
                        let n = lock.withLock { count }
                        try staff.execute("INSERT INTO t(id, a, b) VALUES (?, ?, ?)", ["w\(n)", "written while vacuuming", n])
                        lock.withLock { count += 1 }
                    }
                } catch {
                    lock.withLock { failure = error }
                }
            }
        }

        /// Stops the writer and returns how many rows it wrote.
        func finish() throws -> Int {
            lock.withLock { stop = true }
            done.wait()
            if let failure = lock.withLock({ failure }) { throw failure }
            return lock.withLock { count }
        }
    }

    @Test func newFilesGiveFreePagesBackInSteps() throws {
        let folder = TemporaryFolder()
        let replica = try Replica.create(at: folder.file("r.sqlite"), siteID: "lpk-a", schema: testSchema)
        defer { try? replica.close() }
        #expect(try replica.space().incremental)
    }

    @Test func compactConvertsAFileMadeBeforeIncrementalVacuum() throws {
        let folder = TemporaryFolder()
        let path = folder.file("r.sqlite")
        try Replica.create(at: path, siteID: "lpk-a", schema: testSchema).close()
        // As files made before: no auto-vacuum, and free pages left by a delete.
        let staff = try StaffApp(path: path)
        try staff.queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA auto_vacuum = NONE")
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "CREATE TABLE staff_log(body TEXT)")
            for _ in 0..<2_000 { try db.execute(sql: "INSERT INTO staff_log VALUES (printf('%.1000c', 'x'))") }
            try db.execute(sql: "INSERT INTO t(id, a) VALUES ('kept', 'x')")
            try db.execute(sql: "DELETE FROM staff_log")
        }
        try staff.queue.close()
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        #expect(try !replica.space().incremental)
        #expect(try replica.vacuumStep(pages: 64) == 0)
        let (before, after) = try replica.compact()
        #expect(before.freePages > 400)
        #expect(after.freePages == 0 && after.incremental)
        #expect(try replica.rows(of: "t").keys.sorted() == ["kept"])
    }

    @Test func anEmptiedFileShrinksBelowTwiceItsLiveDataWhileAWriterWrites() throws {
        let folder = TemporaryFolder()
        let path = folder.file("r.sqlite")
        let replica = try Replica.create(at: path, siteID: "lpk-a", schema: testSchema)
        defer { try? replica.close() }
        let staff = try StaffApp(path: path)
        // The file grows (a staff application's own table, 24 MB) and is emptied again.
        try staff.execute("CREATE TABLE staff_log(id INTEGER PRIMARY KEY, body TEXT)")
        try staff.queue.write { db in
            for i in 0..<24_000 { try db.execute(sql: "INSERT INTO staff_log(body) VALUES (printf('%.1000c', ?))", arguments: [i % 26 + 65]) }
            for i in 0..<500 { try db.execute(sql: "INSERT INTO t(id, a, b) VALUES (?, 'kept', ?)", arguments: ["k\(i)", i]) }
        }
        try staff.execute("DELETE FROM staff_log")
        try replica.checkpoint()
        let grown = DiskBytes.database(path)
        #expect(try replica.space().freePages > 5_000)

        let writer = Writer(staff)
        let started = ContinuousClock.now
        var steps: [(pages: Int, time: Duration)] = []
        while true {
            let t0 = ContinuousClock.now
            let freed = try replica.vacuumStep(pages: 64)
            steps.append((freed, ContinuousClock.now - t0))
            if freed < 64 { break }
        }
        // Each try waits up to 1 s for the writer's transaction; on a loaded machine one may not do
        // (a housekeeping pass tries again at the next), so a few are allowed.
        var emptied = false
        for _ in 0..<10 where !emptied { emptied = try replica.truncateLog(waitMilliseconds: 1_000) }
        #expect(emptied, "the write-ahead log was not emptied in 10 tries of 1 s")
        let pass = ContinuousClock.now - started
        // The file, measured while the writer still writes (its log then holds only the writes since).
        let space = try replica.space(), main = (try FileManager.default.attributesOfItem(atPath: path))[.size] as? Int ?? 0
        let written = try writer.finish()
        try replica.checkpoint()
        let bytes = DiskBytes.database(path)

        let slowest = steps.map(\.time).max() ?? .zero
        print("vacuum: \(grown / 1024) KiB grown and emptied → \(main / 1024) KiB (live \(space.liveBytes / 1024) KiB); "
              + "\(steps.reduce(0) { $0 + $1.pages }) pages freed in \(steps.count) steps of 64, pass \(pass), slowest step \(slowest); "
              + "\(written) rows written meanwhile; file and log once the writer stopped \(bytes / 1024) KiB")
        #expect(written > 0)
        #expect(space.freePages < 64)
        #expect(main < 2 * space.liveBytes, "\(main) bytes in the file for \(space.liveBytes) of live pages")
        #expect(bytes < 2 * (try replica.space().liveBytes), "\(bytes) bytes on disk once the writer stopped")
        // Nothing the writer wrote is lost, and each of its writes was captured.
        let rows = try staff.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE a = 'written while vacuuming'") }
        #expect(rows == written)
        _ = try replica.captureLocalChanges()
        #expect(try replica.pendingChanges(afterSeq: 0) == 500 + written)
    }
}
