import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A backlog of writes larger than one stamping chunk (4,096): stamped whole, in write order,
/// the same as a small backlog would be.
@Suite(.blocking) struct BacklogCaptureTests {
    @Test func aBacklogSpanningSeveralChunksIsStampedInOrder() throws {
        let folder = TemporaryFolder("backlog")
        let replica = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock())
        defer { try? replica.close() }
        // 5,000 inserts, then an update of every row, then deletes of some: 10,500 outbox entries.
        try SQLiteShell.run(replica.path, """
            WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 5000)
            INSERT INTO t(id, a, b) SELECT 'k' || v, 'a', 'b' FROM n;
            UPDATE t SET a = 'updated';
            DELETE FROM t WHERE CAST(substr(id, 2) AS INTEGER) % 10 = 0;
            """)
        #expect(try replica.pendingCaptureCount() == 10_500)
        #expect(try replica.captureLocalChanges() == 10_500)
        #expect(try replica.pendingCaptureCount() == 0)
        let states = try replica.rowStates(of: "t")
        #expect(states.count == 5000)
        for (key, state) in states {
            #expect(state.vector["lpk-1"] >= 2)
            let a = try #require(state.columns[0])
            let b = try #require(state.columns[1])
            #expect(a.stamp.clock > b.stamp.clock, "\(key): the update must be stamped after the insert")
            if state.isLive { #expect(state.deleted!.stamp.clock < a.stamp.clock) } else { #expect(state.deleted!.stamp.clock > a.stamp.clock) }
        }
        let rows = try replica.rows(of: "t")
        #expect(rows.count == 4500)
        #expect(rows.values.allSatisfy { $0[0] == .text("updated") })
        // A peer receives the same rows.
        let peer = try Replica.create(at: folder.file("peer.sqlite"), siteID: "office", schema: testSchema, clock: ManualClock())
        defer { try? peer.close() }
        try sync(from: replica, to: peer, limits: BatchLimits(maxRows: 1000))
        #expect(try peer.rows(of: "t") == rows)
    }
}
