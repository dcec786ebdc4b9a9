import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Building a snapshot part reads the replica on a connection of its own: it must wait out a lock
/// as the replica's own connections do, not fail the site's part at once (an ingest under the rules
/// saw "database is locked" on many first syncs while pushes committed).
@Suite(.blocking) struct SnapshotExportTests {
    @Test func aPartWaitsForALockHeldBrieflyByAnotherConnection() throws {
        let folder = TemporaryFolder("snapshot-export")
        let path = folder.file("hub.sqlite")
        let hub = try Replica.create(at: path, siteID: "hub", schema: testSchema, clock: ManualClock())
        defer { try? hub.close() }
        let staff = try StaffApp(path: path)
        try staff.queue.write { db in
            for i in 0..<50 {
                try db.execute(sql: "INSERT INTO t(id, a, b, c) VALUES (?, 'peserta', 'Las Listrik', ?)", arguments: [String(format: "row-%03d", i), i])
            }
        }
        try staff.queue.close()
        // Another connection takes the file for itself (exclusive locking mode, one write), and
        // lets go after a moment: a reader without a busy timeout is refused at once meanwhile.
        let holder = try DatabaseQueue(path: path)
        try holder.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "UPDATE t SET c = c WHERE id = 'row-000'")
        }
        let released = Thread {
            Thread.sleep(forTimeInterval: 0.5)
            try? holder.close()
        }
        released.start()
        let (part, file) = try hub.snapshotPartFile(table: "t", after: nil, maxRows: 100, receiverReplicaID: nil, scope: .all)
        #expect(part.rows == 50)
        #expect(!file.isEmpty)
    }
}
