import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// Export for a peer skips rows the peer sent and still holds whole, and only those.
@Suite(.blocking) struct EchoTests {
    static let t0: UInt64 = 1_780_000_000_000

    func replica(_ folder: TemporaryFolder, _ site: String) throws -> Replica {
        try Replica.create(at: folder.file("\(site).sqlite"), siteID: site, schema: testSchema, clock: ManualClock(Self.t0))
    }

    func write(_ replica: Replica, at wall: UInt64, _ sql: String) throws {
        try SQLiteShell.run(replica.path, sql)
        try replica.captureLocalChanges(clock: .wall(wall))
    }

    @Test func rowsReceivedFromAPeerAreNotSentBackToIt() throws {
        let folder = TemporaryFolder("echo")
        let site = try replica(folder, "lpk-1")
        let hub = try replica(folder, "hub")
        defer { try? site.close(); try? hub.close() }
        try write(site, at: Self.t0, "INSERT INTO t(id, a, b, c) SELECT 'k' || value, 'a', 'b', value FROM generate_series(1, 20)")
        // site → hub: the hub holds what the site sent.
        let push = try site.export(after: .start)
        _ = try hub.apply(push)
        // hub → site: nothing to echo back to the site, though the range still covers the head.
        let back = try hub.export(after: .start, for: site.replicaID)
        #expect(back.rows.isEmpty)
        #expect(back.complete)
        #expect(back.throughSeq == (try hub.status().seq))
        // Another peer still receives every row.
        #expect(try hub.export(after: .start, for: "someone-else").rows.count == 20)
        #expect(try hub.export(after: .start).rows.count == 20)
    }

    @Test func aRowChangedSinceThePeerSentItIsSentAgain() throws {
        let folder = TemporaryFolder("echo")
        let site = try replica(folder, "lpk-1")
        let other = try replica(folder, "lpk-2")
        let hub = try replica(folder, "hub")
        defer { try? site.close(); try? other.close(); try? hub.close() }
        try write(site, at: Self.t0, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c'), ('k2', 'a', 'b', 'c')")
        _ = try hub.apply(try site.export(after: .start))
        try sync(from: hub, to: other)
        // lpk-2 edits k1 and the hub merges it: the site lacks that edit now.
        try write(other, at: Self.t0 + 10, "UPDATE t SET a = 'edited' WHERE id = 'k1'")
        _ = try hub.apply(try other.export(after: .start))
        let back = try hub.export(after: .start, for: site.replicaID)
        #expect(back.rows.map(\.key) == ["k1"])
        // And lpk-2, which sent that edit whole, does not get k1 back.
        let toOther = try hub.export(after: .start, for: other.replicaID)
        #expect(!toOther.rows.map(\.key).contains("k1"))
    }

    @Test func aConcurrentMergeIsNotSkipped() throws {
        let folder = TemporaryFolder("echo")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "lpk-2")
        defer { try? a.close(); try? b.close() }
        try write(a, at: Self.t0, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        try sync(from: a, to: b)
        // Concurrent edits: b's merged row holds something a lacks, so b must send it to a.
        try write(a, at: Self.t0 + 10, "UPDATE t SET a = 'from-a' WHERE id = 'k1'")
        try write(b, at: Self.t0 + 20, "UPDATE t SET b = 'from-b' WHERE id = 'k1'")
        _ = try b.apply(try a.export(after: try b.cursor(for: a.replicaID)))
        let back = try b.export(after: .start, for: a.replicaID)
        #expect(back.rows.map(\.key) == ["k1"])
        _ = try a.apply(back)
        #expect(try a.rows(of: "t") == b.rows(of: "t"))
    }

    @Test func pendingChangesCountOnlyWhatThePeerLacks() throws {
        let folder = TemporaryFolder("echo")
        let site = try replica(folder, "lpk-1")
        let hub = try replica(folder, "hub")
        defer { try? site.close(); try? hub.close() }
        try write(hub, at: Self.t0, "INSERT INTO t(id, a, b, c) SELECT 'h' || value, 'a', 'b', value FROM generate_series(1, 5)")
        try sync(from: hub, to: site)
        #expect(try site.pendingChanges(afterSeq: 0, for: hub.replicaID) == 0)
        try SQLiteShell.run(site.path, "INSERT INTO t(id, a) VALUES ('s1', 'x')")
        #expect(try site.pendingChanges(afterSeq: 0, for: hub.replicaID) == 1) // waiting in the outbox
        try site.captureLocalChanges(clock: .wall(Self.t0 + 1))
        #expect(try site.pendingChanges(afterSeq: 0, for: hub.replicaID) == 1)
        #expect(try site.pendingChanges(afterSeq: 0) == 6)
    }
}
