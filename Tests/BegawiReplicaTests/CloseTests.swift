import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// `close()` folds the write-ahead log into the file: a copy of the closed main file alone is the
/// whole replica (rows, merge state, cursors, clock).
@Suite(.blocking) struct CloseTests {
    static let t0: UInt64 = 1_780_000_000_000

    @Test func aCopyOfTheClosedMainFileAloneIsTheWholeReplica() throws {
        let folder = TemporaryFolder("close")
        let path = folder.file("site.sqlite")
        let peer = try Replica.create(at: folder.file("peer.sqlite"), siteID: "bplk", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? peer.close() }
        try SQLiteShell.run(peer.path, "INSERT INTO t(id, a, b, c) SELECT 'p' || value, 'peer', value, NULL FROM generate_series(1, 300)")
        try peer.captureLocalChanges(clock: .wall(Self.t0 + 5_000))

        let replica = try Replica.create(at: path, siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        try SQLiteShell.run(path, "INSERT INTO t(id, a, b, c) SELECT 'k' || value, 'local', value, hex(randomblob(16)) FROM generate_series(1, 300)")
        try replica.captureLocalChanges(clock: .wall(Self.t0))
        try sync(from: peer, to: replica)
        let rows = try replica.rows(of: "t")
        let states = try replica.rowStates(of: "t")
        let cursor = try replica.cursor(for: peer.replicaID)
        try replica.close()

        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int ?? 0
        #expect(wal == 0, "the closed replica left \(wal) bytes in its write-ahead log")
        let elsewhere = TemporaryFolder("close-copy")
        let copy = elsewhere.file("copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)

        let reopened = try Replica.open(at: copy, clock: ManualClock(Self.t0))
        defer { try? reopened.close() }
        #expect(try reopened.rows(of: "t") == rows)
        #expect(try reopened.rowStates(of: "t") == states)
        #expect(try reopened.cursor(for: peer.replicaID) == cursor)
        #expect(try reopened.pendingCaptureCount() == 0)
        // The clock state came along: it had seen the peer's later time.
        try SQLiteShell.run(copy, "UPDATE t SET a = 'after copy' WHERE id = 'k1'")
        try reopened.captureLocalChanges(clock: .wall(Self.t0))
        let stamp = try #require(try reopened.rowStates(of: "t")["k1"]?.columns[0]?.stamp)
        #expect(stamp.clock > HybridTimestamp(milliseconds: Self.t0 + 5_000, counter: 0))
        #expect(stamp.counter == 301)
    }
}
