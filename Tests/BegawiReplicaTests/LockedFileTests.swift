import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// A replica locked by another program while the daemon opens it (a staff application's write, a
/// checkpoint) is not a damaged file: the open waits and tries again, and a lock that outlasts every
/// try is a storage error (try again), never "damaged, restore it from a backup". Seen in the
/// three-hub system test: a daemon started while staff wrote exited calling its replica damaged.
@Suite(.blocking) struct LockedFileTests {
    /// Holds an exclusive lock on the file, as a program with `locking_mode = EXCLUSIVE` does after
    /// a write: in WAL mode, other connections cannot read until it lets go.
    func holdLock(_ path: String) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: path)
        try queue.inDatabase { db in
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "UPDATE _begawi_state SET value = value WHERE name = 'format'")
        }
        return queue
    }

    @Test func aReplicaLockedForAMomentOpensOnceReleased() throws {
        let folder = TemporaryFolder("locked")
        let path = folder.file("site.sqlite")
        try Replica.create(at: path, siteID: "lpk-1", schema: testSchema).close()
        let holder = try holdLock(path)
        let released = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            // Longer than one busy wait: the check must try again, not give up.
            Thread.sleep(forTimeInterval: 2.5)
            try? holder.close()
            released.signal()
        }
        let replica = try Replica.open(at: path, clock: ManualClock())
        released.wait()
        try replica.close()
    }

    @Test func aReplicaLockedThroughoutIsAStorageErrorNotDamage() throws {
        let folder = TemporaryFolder("locked")
        let path = folder.file("site.sqlite")
        try Replica.create(at: path, siteID: "lpk-1", schema: testSchema).close()
        let holder = try holdLock(path)
        defer { try? holder.close() }
        let error = try #require(throws: BegawiError.self) {
            try Replica.open(at: path, clock: ManualClock()).close()
        }
        #expect(error.code == .storage, "\(error)")
        #expect(error.message.contains("locked by another program") && !error.message.contains("damaged"), "\(error.message)")
    }
}
