import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A backup is a consistent copy with a new epoch whose lineage says how much feed it shares.
@Suite(.blocking) struct BackupTests {
    static let t0: UInt64 = 1_780_000_000_000

    @Test func aBackupHasANewEpochAndItsLineage() throws {
        let folder = TemporaryFolder("backup")
        let hub = try Replica.create(at: folder.file("hub.sqlite"), siteID: "hub", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? hub.close() }
        try SQLiteShell.run(hub.path, "INSERT INTO t(id, a) SELECT 'k' || value, 'x' FROM generate_series(1, 50)")
        try hub.captureLocalChanges(clock: .wall(Self.t0))
        let seq = try hub.status().seq
        try hub.backup(to: folder.file("copy.sqlite"))
        #expect(throws: BegawiError.self) { try hub.backup(to: folder.file("copy.sqlite")) }
        // The original goes on; the copy holds the state at the backup.
        try SQLiteShell.run(hub.path, "UPDATE t SET a = 'later' WHERE id = 'k1'")
        try hub.captureLocalChanges(clock: .wall(Self.t0 + 1))
        let copy = try Replica.open(at: folder.file("copy.sqlite"))
        defer { try? copy.close() }
        #expect(copy.replicaID != hub.replicaID)
        #expect(try copy.lineage() == [LineageLink(replicaID: hub.replicaID, throughSeq: seq)])
        // The Swift names moved (issue 13, item 7); the file's lineage and `replica status --json` keep their keys.
        let stored = try SQLiteShell.run(copy.path, "SELECT value FROM _begawi_state WHERE name = 'lineage'")
        #expect(stored.contains(#""epoch":"\#(hub.replicaID)""#) && stored.contains(#""through":\#(seq)"#), "\(stored)")
        let printed = String(decoding: try JSONEncoder().encode(try copy.status()), as: UTF8.self)
        #expect(printed.contains(#""changeSequence":\#(seq)"#), "\(printed)")
        #expect(try copy.rows(of: "t")["k1"]?[0] == .text("x"))
        #expect(try copy.rows(of: "t").count == 50)
        #expect(!FileManager.default.fileExists(atPath: folder.file("copy.sqlite.partial")))
    }

    @Test func aSiteFollowsTheNewEpochFromTheSharedPartOfTheFeed() throws {
        let folder = TemporaryFolder("backup")
        let hub = try Replica.create(at: folder.file("hub.sqlite"), siteID: "hub", schema: testSchema, clock: ManualClock(Self.t0))
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? hub.close(); try? site.close() }
        try SQLiteShell.run(hub.path, "INSERT INTO t(id, a) SELECT 'k' || value, 'x' FROM generate_series(1, 30)")
        try hub.captureLocalChanges(clock: .wall(Self.t0))
        try hub.backup(to: folder.file("copy.sqlite"))
        try SQLiteShell.run(hub.path, "INSERT INTO t(id, a) SELECT 'm' || value, 'y' FROM generate_series(1, 10)")
        try hub.captureLocalChanges(clock: .wall(Self.t0 + 1))
        try sync(from: hub, to: site)
        let old = try site.cursor(for: hub.replicaID)

        let restored = try Replica.open(at: folder.file("copy.sqlite"))
        defer { try? restored.close() }
        let link = try #require(try restored.lineage().last)
        let cursor = try site.adoptCursor(from: link.replicaID, to: restored.replicaID, sharedThroughSeq: link.throughSeq)
        #expect(cursor.seq == link.throughSeq)
        #expect(cursor.seq < old.seq)
        // Adopting again keeps the cursor already held.
        #expect(try site.adoptCursor(from: link.replicaID, to: restored.replicaID, sharedThroughSeq: 0) == cursor)
        // What the restored hub has after the shared part arrives; nothing before it is fetched again.
        try SQLiteShell.run(restored.path, "INSERT INTO t(id, a) VALUES ('n1', 'z')")
        try restored.captureLocalChanges(clock: .wall(Self.t0 + 2))
        let page = try restored.export(after: cursor)
        #expect(page.rows.map(\.key) == ["n1"])
        _ = try site.apply(page)
        #expect(try site.rows(of: "t").count == 41)
    }
}
