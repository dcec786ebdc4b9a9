import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// Stamps come from the replica's hybrid clock, whose state lives in the file: it never moves
/// backwards, across restarts, wall-clock steps, and bursts of writes in one millisecond.
@Suite(.blocking) struct ClockPersistenceTests {
    static let t0: UInt64 = 1_780_000_000_000
    static let hour: UInt64 = 3_600_000

    /// Every stamp of every row of table t, ordered by the site's write counter.
    func allStamps(_ replica: Replica) throws -> [Stamp] {
        var seen: [UInt64: Stamp] = [:]
        for state in try replica.rowStates(of: "t").values {
            for stamp in stamps(of: state) { seen[stamp.counter] = stamp }
        }
        return seen.keys.sorted().map { seen[$0]! }
    }

    @Test func stampsOfRecordedWritesComeFromTheHybridClockAtTheWritersWallTime() throws {
        let folder = TemporaryFolder("clock")
        let replica = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema)
        defer { try? replica.close() }

        let before = SystemWallClock().nowMilliseconds()
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        let after = SystemWallClock().nowMilliseconds()
        // Stamped later, with the time the trigger noted in the writer's transaction.
        usleep(20_000)
        #expect(try replica.captureLocalChanges() == 1)

        let stamp = try #require(try allStamps(replica).first)
        #expect(stamp.site == "lpk-1")
        #expect(stamp.counter == 1)
        #expect(stamp.clock.milliseconds + 2 >= before && stamp.clock.milliseconds <= after + 2,
                "stamped at \(stamp.clock.milliseconds), written between \(before) and \(after)")
    }

    @Test func stampsUseTheGivenWallTime() throws {
        let folder = TemporaryFolder("clock")
        let replica = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? replica.close() }
        let app = try StaffApp(path: replica.path)

        try app.execute("INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        try replica.captureLocalChanges(clock: .wall(Self.t0))
        try app.execute("UPDATE t SET a = 'a2'")
        try replica.captureLocalChanges(clock: .wall(Self.t0 + 250))

        let stamps = try allStamps(replica)
        #expect(stamps.map(\.clock) == [HybridTimestamp(milliseconds: Self.t0, counter: 0), HybridTimestamp(milliseconds: Self.t0 + 250, counter: 0)])
        #expect(stamps.map(\.counter) == [1, 2])
    }

    @Test func theClockSurvivesReopeningAndAWallClockThatStepsBackAnHour() throws {
        let folder = TemporaryFolder("clock")
        let path = folder.file("site.sqlite")
        var replica = try Replica.create(at: path, siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        var app = try StaffApp(path: path)
        for (i, wall) in [Self.t0, Self.t0 + 10, Self.t0 + 10, Self.t0 + 500].enumerated() {
            try app.execute("INSERT INTO t(id, a, b, c) VALUES (?, 'a', 'b', 'c')", ["k\(i)"])
            try replica.captureLocalChanges(clock: .wall(wall))
        }
        let before = try allStamps(replica)
        try replica.close()
        try app.queue.close()

        // The machine restarts and its clock is now an hour behind.
        replica = try Replica.open(at: path, clock: ManualClock(Self.t0 - Self.hour))
        defer { try? replica.close() }
        app = try StaffApp(path: path)
        try app.execute("INSERT INTO t(id, a, b, c) VALUES ('after-restart', 'a', 'b', 'c')")
        try replica.captureLocalChanges(clock: .wall(Self.t0 + 500 - Self.hour))
        try app.execute("UPDATE t SET a = 'again' WHERE id = 'k0'")
        try replica.captureLocalChanges(clock: .wall(Self.t0 - Self.hour))

        let all = try allStamps(replica)
        #expect(all.count == before.count + 2)
        let newest = try #require(before.map(\.clock).max())
        #expect(all.suffix(2).allSatisfy { $0.clock > newest }, "\(all.suffix(2).map(\.clock)) after \(newest)")
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.clock < $1.clock })
        // The write counter continues too: a restart never reuses a dot.
        #expect(all.map(\.counter) == Array(1...6))
    }

    @Test func aClockLearnedFromAPeerSurvivesReopening() throws {
        let folder = TemporaryFolder("clock")
        // The peer's clock runs an hour ahead.
        let peer = try Replica.create(at: folder.file("peer.sqlite"), siteID: "bplk", schema: testSchema)
        defer { try? peer.close() }
        try StaffApp(path: peer.path).execute("INSERT INTO t(id, a, b, c) VALUES ('p1', 'a', 'b', 'c')")
        try peer.captureLocalChanges(clock: .wall(Self.t0 + Self.hour))

        let path = folder.file("site.sqlite")
        let site = try Replica.create(at: path, siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        try sync(from: peer, to: site)
        try site.close()

        let reopened = try Replica.open(at: path, clock: ManualClock(Self.t0))
        defer { try? reopened.close() }
        try StaffApp(path: path).execute("UPDATE t SET b = 'local' WHERE id = 'p1'")
        try reopened.captureLocalChanges(clock: .wall(Self.t0))
        let state = try #require(try reopened.rowStates(of: "t")["p1"])
        let local = try #require(state.columns[1]?.stamp)
        #expect(local.site == "lpk-1")
        #expect(local.clock > HybridTimestamp(milliseconds: Self.t0 + Self.hour, counter: 0))
        #expect(try reopened.rows(of: "t")["p1"] == [.text("a"), .text("local"), .text("c")])
    }

    @Test func stampsAreStrictlyIncreasingWithinOneMillisecond() throws {
        let folder = TemporaryFolder("clock")
        let replica = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? replica.close() }
        let app = try StaffApp(path: replica.path)

        // Five writes stamped together at one wall time, then three more captured one by one at the same time.
        for i in 0..<5 { try app.execute("INSERT INTO t(id, a, b, c) VALUES (?, 'a', 'b', 'c')", ["k\(i)"]) }
        #expect(try replica.captureLocalChanges(clock: .wall(Self.t0)) == 5)
        for i in 0..<3 {
            try app.execute("UPDATE t SET a = 'again' WHERE id = ?", ["k\(i)"])
            try replica.captureLocalChanges(clock: .wall(Self.t0))
        }
        let stamps = try allStamps(replica)
        #expect(stamps.count == 8)
        #expect(stamps.map(\.clock) == (0..<8).map { HybridTimestamp(milliseconds: Self.t0, counter: UInt16($0)) })
    }

    @Test func oneShellStatementWritingManyRowsGetsDistinctIncreasingStamps() throws {
        let folder = TemporaryFolder("clock")
        let replica = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-1", schema: testSchema)
        defer { try? replica.close() }
        // SQLite's 'now' is fixed for a statement: every trigger notes the same wall time.
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a, b, c) SELECT printf('k%05d', value), 'a', 'b', 'c' FROM generate_series(1, 2000)")
        #expect(try replica.captureLocalChanges() == 2000)

        let stamps = try allStamps(replica)
        #expect(stamps.count == 2000)
        #expect(Set(stamps.map(\.clock.milliseconds)).count == 1)
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0.clock < $1.clock })
    }
}
