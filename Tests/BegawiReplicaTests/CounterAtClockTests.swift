import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// The hub's rule for its own write counter (`Replica.keepCounterAtClock`): never below the clock,
/// so that a copy put back from an older backup signs its next write above those the lost original
/// made after the backup. Without the rule (a site's replica) the copy's next write takes the lost
/// one's counter again: the failure the rule is there for.
@Suite(.blocking) struct CounterAtClockTests {
    static let t0: UInt64 = 1_780_000_000_000

    @Test(arguments: [true, false]) func aCopyFromAnOlderBackupCountsAboveTheLostWrites(rule: Bool) throws {
        let folder = TemporaryFolder("counter-at-clock")
        let hub = try Replica.create(at: folder.file("hub.sqlite"), siteID: "hub", schema: testSchema, clock: ManualClock(Self.t0))
        if rule { try hub.keepCounterAtClock() }
        try SQLiteShell.run(hub.path, "INSERT INTO t(id, a) VALUES ('k1', 'x')")
        try hub.captureLocalChanges(clock: .wall(Self.t0))
        try hub.backup(to: folder.file("copy.sqlite"))
        // After the backup: a write that sites receive, then lost with the original.
        try SQLiteShell.run(hub.path, "UPDATE t SET a = 'lost' WHERE id = 'k1'")
        try hub.captureLocalChanges(clock: .wall(Self.t0 + 1_000))
        let lost = try #require(try CounterAtClockTests.counter(hub, column: 0))
        try hub.close()

        let copy = try Replica.open(at: folder.file("copy.sqlite"), clock: ManualClock(Self.t0))
        defer { try? copy.close() }
        try SQLiteShell.run(copy.path, "UPDATE t SET b = 'new' WHERE id = 'k1'")
        try copy.captureLocalChanges(clock: .wall(Self.t0 + 2_000))
        let next = try #require(try CounterAtClockTests.counter(copy, column: 1))
        if rule {
            // The backup kept the rule: the counter is the write's clock, above the lost write's.
            #expect(next == HybridTimestamp(milliseconds: Self.t0 + 2_000, counter: 0).rawValue)
            #expect(next > lost)
        } else {
            #expect(next == lost, "without the rule the copy reuses the lost write's counter")
        }
    }

    @Test func theCounterStillRisesByOneWithinOneMillisecond() throws {
        let folder = TemporaryFolder("counter-at-clock")
        let hub = try Replica.create(at: folder.file("hub.sqlite"), siteID: "hub", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? hub.close() }
        try hub.keepCounterAtClock()
        // Three writes stamped in one millisecond: the clock's logical part and the counter move together.
        try SQLiteShell.run(hub.path, "INSERT INTO t(id, a) VALUES ('k1', 'x'); UPDATE t SET b = 'y' WHERE id = 'k1'; UPDATE t SET c = 'z' WHERE id = 'k1'")
        try hub.captureLocalChanges(clock: .wall(Self.t0))
        let row = try #require(try hub.export(after: .start).rows.first)
        let stamps = row.state.columns.compactMap { $0?.stamp }
        #expect(stamps.count == 3)
        for stamp in stamps { #expect(stamp.counter == stamp.clock.rawValue, "\(stamp)") }
        #expect(Set(stamps.map(\.counter)).count == 3)
        #expect(row.state.vector["hub"] == stamps.map(\.counter).max())
    }

    /// The counter of the stamp of `column` of the row 'k1', as an export carries it.
    static func counter(_ replica: Replica, column: Int) throws -> UInt64? {
        try replica.export(after: .start).rows.first { $0.key == "k1" }?.state.columns[column]?.stamp.counter
    }
}
