import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Handled ledger entries leave a site's replica after its retention, with their values; entries
/// that still hold a row back stay, however old (issue 15, item 3).
@Suite struct LedgerRetentionTests {
    static let day: Int64 = 86_400_000
    static let now: Int64 = 1_780_000_000_000

    /// A replica whose ledgers hold old and recent entries, handled and not.
    static func ledgers(_ folder: TemporaryFolder) throws -> (Replica, StaffApp) {
        let path = folder.file("r.sqlite")
        let replica = try Replica.create(at: path, siteID: "lpk-a", schema: testSchema)
        let staff = try StaffApp(path: path)
        try staff.execute("INSERT INTO t(id, a) VALUES ('held', 'x'), ('waiting', 'y')")
        let old = now - 100 * day, recent = now - 10 * day
        for (at, key, reason) in [(old, "gone", "not-owner"), (old, "held", "bad-value"), (old, "waiting", "awaiting-reference"),
                                  (old, "gone-too", "awaiting-reference"), (recent, "gone", "not-owner"), (old, "gone-2", "bad-value")] {
            try staff.execute("INSERT INTO _begawi_refusals(at, tbl, key, reason, message, vals) VALUES (?, 't', ?, ?, 'm', '{\"a\":\"v\"}')",
                              [at, key, reason])
        }
        for at in [old, old, recent] {
            try staff.execute("""
                INSERT INTO _begawi_conflicts(tbl, key, col, loser_value, winner_value, winner_deleted, loser_clock, loser_site,
                  loser_counter, winner_clock, winner_site, winner_counter, detected_at) VALUES ('t', 'held', 'a', 'l', 'w', 0, 1, 'lpk-b', 1, 2, 'lpk-c', 1, ?)
                """, [at])
        }
        return (replica, staff)
    }

    @Test func handledEntriesOlderThanTheRetentionLeaveInBoundedSteps() throws {
        let folder = TemporaryFolder()
        let (replica, staff) = try Self.ledgers(folder)
        defer { try? replica.close() }
        let before = UInt64(Self.now - 90 * Self.day)
        var conflicts = 0, refusals = 0, steps = 0, after: Int64 = 0
        while true {
            // One entry per step: the steps go on from where the last one ended, past the entries kept.
            let step = try replica.clearHandledLedgers(before: before, keeping: ["bad-value"], afterRefusal: after, limit: 1)
            #expect(step.conflicts <= 1 && step.refusals <= 1)
            conflicts += step.conflicts
            refusals += step.refusals
            if let last = step.lastRefusal { after = last }
            steps += 1
            if !step.more { break }
        }
        #expect(conflicts == 2)
        #expect(refusals == 3)
        #expect(steps > 3)
        let left = try staff.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, reason FROM _begawi_refusals ORDER BY id").map { "\($0[0] as String) \($0[1] as String)" }
        }
        // Kept: a row this site's checks hold back, a row waiting for its reference, and the recent one.
        #expect(left == ["held bad-value", "waiting awaiting-reference", "gone not-owner"])
        #expect(try replica.conflicts().map(\.detectedAt) == [UInt64(Self.now - 10 * Self.day)])
        // Once the rows are no longer held (deleted), their entries are handled too.
        try staff.execute("DELETE FROM t")
        let last = try replica.clearHandledLedgers(before: before, keeping: ["bad-value"], limit: 100)
        #expect(last.refusals == 2)
        #expect(try replica.refusalCount() == 1)
    }

    @Test func theCommandLineClearStillKeepsHeldRows() throws {
        let folder = TemporaryFolder()
        let (replica, _) = try Self.ledgers(folder)
        defer { try? replica.close() }
        // `begawi site clear-refusals` goes through the same bounded steps, in one transaction; it keeps
        // only the reasons it is given.
        #expect(try replica.clearRefusals(before: nil, keeping: ["bad-value"]) == 5)
        #expect(try replica.refusals().map(\.key) == ["held"])
    }
}
