import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// How pushes under the rules take turns on PostgreSQL (`RulesTurn`): a push waits for another only
/// when both name a row (its own, or one its rows reference), or when one takes the whole turn (a
/// program's push, the office's). Another session stands for a push in progress by holding the lock
/// that push would hold (a row's, or the rules' lock shared); the pushes run through a second store instance (another process), and
/// whether one waits is read from `pg_locks`, not from a clock.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresRulesTurnTests {
    /// The whole turn's lock (`PostgresHubStore.rulesLock`).
    static let rulesLock = 7_301_947

    /// A site's sync run on another thread; `done` once it ended, with its error if any.
    final class Background: @unchecked Sendable {
        private let finished = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var outcome: Result<RulesHarness.Exchange, any Error>?

        init(_ body: @escaping @Sendable () throws -> RulesHarness.Exchange) {
            Thread.detachNewThread { [self] in
                let result = Result { try body() }
                lock.withLock { outcome = result }
                finished.signal()
            }
        }

        var done: Bool { lock.withLock { outcome != nil } }

        /// Waits (at most a minute) for the end, and gives the exchange or throws its error.
        func wait() throws -> RulesHarness.Exchange {
            guard finished.wait(timeout: .now() + 60) == .success else { throw BegawiError(.storage, "the push never ended") }
            return try lock.withLock { outcome! }.get()
        }
    }

    /// `@unchecked Sendable`: the harness is touched by one background sync at a time.
    final class Run: @unchecked Sendable {
        let h: RulesHarness
        let other: any RulesHubStore
        init(h: RulesHarness, other: any RulesHubStore) {
            self.h = h
            self.other = other
        }
    }

    /// Sessions waiting for an advisory lock: (key1, key2) of the two-key form, (0, key) of the one-key form.
    static func waiting(on link: PostgresLink) throws -> [(Int64, Int64)] {
        try link.query("""
            SELECT CASE WHEN objsubid = 2 THEN classid::bigint ELSE 0 END, CASE WHEN objsubid = 2 THEN objid::int4::bigint ELSE objid::bigint END
            FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
            """).map { try $0.decode((Int64, Int64).self) }
    }

    /// Whether a hub's session waits for a row lock (`pg_stat_activity`).
    static func hubWaitsForARow(on link: PostgresLink) throws -> Bool {
        try link.query("""
            SELECT count(*) FROM pg_stat_activity WHERE application_name = 'begawi-hub' AND wait_event_type = 'Lock'
                AND wait_event IN ('transactionid', 'tuple')
            """).first!.decode(Int64.self) > 0
    }

    /// Waits (at most 20 s, within the holding session's 30 s idle limit) until `condition` holds.
    static func awaitCondition(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<200 {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// Waits (at most 20 s, within the holding session's 30 s idle limit) until some session waits for the lock `wanted` says.
    static func awaitWaiter(on link: PostgresLink, _ wanted: ((Int64, Int64)) -> Bool) throws -> Bool {
        for _ in 0..<200 {
            if try waiting(on: link).contains(where: wanted) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    @Test func aPushWaitsOnlyForThePushesThatNameItsRows() throws {
        let h = try RulesHarness.withPartners(.postgres, [("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk), ("lpk-c", .lpk)])
        for site in ["lpk-a", "lpk-c"] {
            try h.staff(site, "INSERT INTO programs(id, provider, title) VALUES (?, ?, 'Las')", ["prog-\(site)", site])
        }
        let person = try h.register("lpk-b", Person.make(1))
        try h.syncAll()
        let run = Run(h: h, other: try h.another())
        let holder = try PostgresLink.connect(try #require(h.settings))
        defer { holder.close() }

        // A push in progress that names the person (its lock held by another session).
        try holder.query("BEGIN")
        try holder.query("SELECT pg_advisory_xact_lock_shared(\(Int64(PostgresRulesTurnTests.rulesLock)))")
        try holder.query("SELECT 1 FROM _begawi_rows WHERE tbl = 'participants' AND key = \(person) FOR UPDATE")

        // lpk-c's own new person, and enrollment of it: nothing the holder named; it lands meanwhile.
        let theirs = try h.register("lpk-c", Person.make(2))
        try h.staff("lpk-c", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-c', ?, 'prog-lpk-c', 'registered')", [theirs])
        let unrelated = Background { try run.h.sync("lpk-c", through: run.other) }
        #expect(try unrelated.wait().refused.isEmpty)

        // lpk-a enrolls the person: its push names it, and waits for the holder.
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-a', ?, 'prog-lpk-a', 'registered')", [person])
        let enrolling = Background { try run.h.sync("lpk-a", through: run.other) }
        #expect(try PostgresRulesTurnTests.awaitCondition { try PostgresRulesTurnTests.hubWaitsForARow(on: holder) },
                "the push naming the person did not wait for its row")
        #expect(!enrolling.done)
        try holder.query("COMMIT")
        #expect(try enrolling.wait().refused.isEmpty)
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-a", "participants").contains(person))
        let (leaked, missing) = try h.sightProblems()
        #expect(leaked.isEmpty && missing.isEmpty, "\(leaked) \(missing)")
    }

    @Test func theOfficesPushTakesTheWholeTurnAProgramsDoesNot() throws {
        let h = try RulesHarness.withPartners(.postgres, [("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.syncAll()
        let run = Run(h: h, other: try h.another())
        let holder = try PostgresLink.connect(try #require(h.settings))
        defer { holder.close() }
        let whole = { (lock: (Int64, Int64)) in lock == (0, Int64(PostgresRulesTurnTests.rulesLock)) }

        // A push in progress in the shared turn.
        try holder.query("BEGIN")
        try holder.query("SELECT pg_advisory_xact_lock_shared(\(Int64(PostgresRulesTurnTests.rulesLock)))")
        // Another site's own person, and a program's new title (its owner unchanged, nothing found by
        // value): the shared turn, so both land meanwhile.
        _ = try h.register("lpk-b", Person.make(3))
        #expect(try Background { try run.h.sync("lpk-b", through: run.other) }.wait().refused.isEmpty)
        try h.staff("lpk-a", "UPDATE programs SET title = 'Las listrik' WHERE id = 'prog-a'")
        #expect(try Background { try run.h.sync("lpk-a", through: run.other) }.wait().refused.isEmpty)
        // The office may change any owner: its push waits for the whole turn.
        try h.staff("disnaker", "UPDATE programs SET approved_on = '2026-12-05' WHERE id = 'prog-a'")
        let pushing = Background { try run.h.sync("disnaker", through: run.other) }
        #expect(try PostgresRulesTurnTests.awaitWaiter(on: holder, whole), "the office's push did not wait for the whole turn")
        #expect(!pushing.done)
        try holder.query("COMMIT")
        #expect(try pushing.wait().refused.isEmpty)
        try h.syncAll()
        #expect(try h.hubRows("programs")["prog-a"]?.contains(.text("Las listrik")) == true)
    }
}
