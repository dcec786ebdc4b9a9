import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A site that learns its clock offset re-stamps its own unsent writes: they keep their order,
/// stay above every clock received from peers, and the hybrid clock leaves the wrong future.
@Suite(.blocking) struct ClockCorrectionTests {
    static let now: UInt64 = 1_780_000_000_000
    static let year: UInt64 = 365 * 24 * 3600 * 1000

    func stamps(_ replica: Replica, _ key: String) throws -> RowState {
        try #require(try replica.rowStates(of: "t")[key])
    }

    @Test func unsentWritesFromAClockYearsAheadComeBackToTheHubsTime() throws {
        let folder = TemporaryFolder("clock")
        let clock = ManualClock(Self.now + 5 * Self.year)
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: clock)
        defer { try? site.close() }
        try SQLiteShell.run(site.path, "INSERT INTO t(id, a) VALUES ('k1', 'first')")
        try site.captureLocalChanges(clock: .wall(Self.now + 5 * Self.year))
        try SQLiteShell.run(site.path, "UPDATE t SET a = 'second' WHERE id = 'k1'")
        try site.captureLocalChanges(clock: .wall(Self.now + 5 * Self.year + 10))
        let before = try stamps(site, "k1")
        #expect(before.columns[0]!.stamp.clock.milliseconds >= Self.now + 5 * Self.year)

        let offset = -Int64(5 * Self.year)
        let moved = try site.correctClock(offset: offset, unsentAfterSeq: 0)
        #expect(moved == 2)
        let after = try stamps(site, "k1")
        let a = after.columns[0]!.stamp.clock.milliseconds
        #expect(a >= Self.now && a < Self.now + 1000)
        // Order kept: the update's column stamp is still after the insert's delete-register stamp.
        #expect(after.columns[0]!.stamp.clock > after.deleted!.stamp.clock)
        #expect(try site.clockOffset() == offset)
        // The next write is stamped near the hub's time, after the re-stamped ones.
        try SQLiteShell.run(site.path, "UPDATE t SET b = 'third' WHERE id = 'k1'")
        try site.captureLocalChanges()
        let next = try stamps(site, "k1").columns[1]!.stamp.clock
        #expect(next > after.columns[0]!.stamp.clock)
        #expect(next.milliseconds < Self.now + 5 * Self.year / 2)
    }

    @Test func restampedWritesStayAboveWhatTheSiteHadReceived() throws {
        let folder = TemporaryFolder("clock")
        let hub = try Replica.create(at: folder.file("hub.sqlite"), siteID: "hub", schema: testSchema, clock: ManualClock(Self.now))
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.now + Self.year))
        defer { try? hub.close(); try? site.close() }
        try SQLiteShell.run(hub.path, "INSERT INTO t(id, a) VALUES ('k1', 'hub')")
        try hub.captureLocalChanges(clock: .wall(Self.now))
        try sync(from: hub, to: site)
        // The site overwrites the hub's value a year "ahead", then learns it is a year ahead and 2 s off the
        // received clock: its write must still win over the value it overwrote.
        try SQLiteShell.run(site.path, "UPDATE t SET a = 'site' WHERE id = 'k1'")
        try site.captureLocalChanges(clock: .wall(Self.now + Self.year))
        let received = try stamps(hub, "k1").columns[0]!.stamp.clock
        try site.correctClock(offset: -Int64(Self.year) - 60_000, unsentAfterSeq: 0)
        let mine = try stamps(site, "k1").columns[0]!.stamp.clock
        #expect(mine > received)
        _ = try hub.apply(try site.export(after: try hub.cursor(for: site.replicaID)))
        #expect(try hub.rows(of: "t")["k1"]?[0] == .text("site"))
    }

    @Test func sentWritesAndSmallChangesAreLeftAlone() throws {
        let folder = TemporaryFolder("clock")
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.now))
        defer { try? site.close() }
        try SQLiteShell.run(site.path, "INSERT INTO t(id, a) VALUES ('k1', 'x')")
        try site.captureLocalChanges(clock: .wall(Self.now))
        let sentThroughSeq = try site.status().seq
        try SQLiteShell.run(site.path, "INSERT INTO t(id, a) VALUES ('k2', 'y')")
        try site.captureLocalChanges(clock: .wall(Self.now + 1))
        let k1 = try stamps(site, "k1")
        #expect(try site.correctClock(offset: 400, unsentAfterSeq: sentThroughSeq) == 0) // under the threshold
        #expect(try site.correctClock(offset: 60_000, unsentAfterSeq: sentThroughSeq) == 1) // only k2
        #expect(try stamps(site, "k1") == k1)
        #expect(try stamps(site, "k2").columns[0]!.stamp.clock.milliseconds >= Self.now + 59_000)
    }

    @Test func capturedWallTimesAreCorrectedByTheOffset() throws {
        let folder = TemporaryFolder("clock")
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.now))
        defer { try? site.close() }
        try site.correctClock(offset: Int64(Self.year), unsentAfterSeq: 0)
        try SQLiteShell.run(site.path, "INSERT INTO t(id, a) VALUES ('k1', 'x')")
        try site.captureLocalChanges()
        let ms = try stamps(site, "k1").columns[0]!.stamp.clock.milliseconds
        let system = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect(ms > system + Self.year - 60_000 && ms < system + Self.year + 60_000)
    }
}
