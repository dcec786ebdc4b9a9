import BegawiCore
import BegawiHub
@testable import BegawiPostgres
import Foundation
import PostgresNIO
import Testing

/// Wrong credentials counted in the database (`_hub_auth_failures`), shared by every hub process on
/// it: failures through two store instances (two processes) add up, the table stays bounded, and an
/// address never shows in an error. The SQLite store shares nothing (one process serves it).
@Suite struct SharedAuthFailuresTests {
    @Test(arguments: StoreKind.available)
    func failuresThroughTwoProcessesAddUp(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            guard kind == .postgres else {
                #expect(hub.store.sharedAuthFailures() == nil, "a SQLite hub counts in its process")
                return
            }
            let one = try #require(hub.store.sharedAuthFailures())
            let two = try #require(try hub.another().sharedAuthFailures())
            #expect(try one.triesLeft("198.51.100.7", perMinute: 6) == 6, "an address with no failure has every try")
            for _ in 0..<3 { _ = try one.failed("198.51.100.7", perMinute: 6) }
            let afterThree = try two.triesLeft("198.51.100.7", perMinute: 6)
            #expect(afterThree >= 3 && afterThree < 4, "the other process sees the first's failures: \(afterThree)")
            for _ in 0..<2 { _ = try two.failed("198.51.100.7", perMinute: 6) }
            let last = try two.failed("198.51.100.7", perMinute: 6)
            #expect(last < 1, "six failures through two processes use up six tries: \(last)")
            #expect(try one.triesLeft("198.51.100.7", perMinute: 6) < 1)
            // More failures never go below none left.
            #expect(try one.failed("198.51.100.7", perMinute: 6) >= 0)
            #expect(try one.triesLeft("203.0.113.9", perMinute: 6) == 6, "another address is not affected")
            // A smaller allowance after a reload caps the tries left.
            _ = try one.failed("203.0.113.9", perMinute: 60)
            #expect(try two.triesLeft("203.0.113.9", perMinute: 2) <= 2)
        }
    }

    /// An address that runs out of tries through one process is heard of by the other (`NOTIFY
    /// begawi_auth`), which then asks the database before checking it; another address is not.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func anAddressOutOfTriesIsHeardOfByTheOtherProcess() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let one = try #require(hub.store.sharedAuthFailures())
            let two = try #require(try hub.another().sharedAuthFailures())
            for _ in 0..<2 { _ = try one.failed("198.51.100.9", perMinute: 3) }
            _ = try one.failed("203.0.113.5", perMinute: 3)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(!two.othersRefused("198.51.100.9"), "not out of tries yet: nothing said")
            #expect(try one.failed("198.51.100.9", perMinute: 3) < 1)
            // A notification is delivered in milliseconds; the wait is generous for a loaded machine.
            let deadline = Date().addingTimeInterval(20)
            while !two.othersRefused("198.51.100.9"), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            #expect(two.othersRefused("198.51.100.9"))
            #expect(!two.othersRefused("203.0.113.5"))
        }
    }

    /// Four threads on two store instances count 60 failures of one address at once: none is lost
    /// (each count is one atomic upsert), so the tries left are the allowance less 60, plus what
    /// refilled while they ran (100 a minute: 5/3 a second, measured, not assumed).
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func concurrentCountsAreNotLost() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let stores = [try #require(hub.store.sharedAuthFailures()), try #require(try hub.another().sharedAuthFailures())]
            let errors = Shared<[String]>([])
            let start = Date()
            concurrently((0..<4).map { n in
                let counts = stores[n % 2]
                return { @Sendable in
                    for _ in 0..<15 {
                        do { _ = try counts.failed("198.51.100.8", perMinute: 100) } catch { errors.with { $0.append("\(error)") } }
                    }
                }
            })
            let elapsed = Date().timeIntervalSince(start)
            #expect(errors.with { $0 }.isEmpty, "\(errors.with { $0 })")
            let left = try stores[0].triesLeft("198.51.100.8", perMinute: 100)
            #expect(left >= 40 && left <= 40 + elapsed * 100 / 60 + 0.01, "\(left) tries left after \(elapsed) s")
        }
    }

    /// What a process heard is kept a minute, on a hand-moved clock, and the set stays bounded.
    @Test func heardAddressesLastAMinuteAndStayBounded() {
        let clock = Shared<Double>(0)
        let heard = RefusedAddresses(maxAddresses: 100) { clock.with { $0 } }
        heard.note("198.51.100.7")
        heard.note("")
        heard.note(String(repeating: "x", count: 300))
        #expect(heard.contains("198.51.100.7") && !heard.contains("203.0.113.9"))
        #expect(!heard.contains("") && !heard.contains(String(repeating: "x", count: 300)), "no payload an address cannot be")
        clock.with { $0 = 59.9 }
        #expect(heard.contains("198.51.100.7"))
        clock.with { $0 = 60 }
        #expect(!heard.contains("198.51.100.7"), "forgotten a minute after")
        for i in 0..<1000 {
            clock.with { $0 = 100 + Double(i) / 100 }
            heard.note("10.0.\(i / 256).\(i % 256)")
        }
        #expect(heard.count <= 100)
        #expect(heard.contains("10.0.3.231"), "the newest are kept")
    }

    /// A bucket untouched for a minute has refilled: the next count anywhere removes its row, and a
    /// stale row reads as full meanwhile; recent rows stay.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func refilledRowsAreRemoved() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let counts = try #require(hub.store.sharedAuthFailures())
            try TestPostgres.withLink(to: hub) { link in
                try link.query("""
                    INSERT INTO _hub_auth_failures (address, tries, updated)
                    SELECT 'old-' || n, 0, extract(epoch FROM clock_timestamp())::float8 - 120 FROM generate_series(1, 150) AS n
                    """)
                try link.query("INSERT INTO _hub_auth_failures VALUES ('recent', 0, extract(epoch FROM clock_timestamp())::float8 - 30)")
            }
            #expect(try counts.triesLeft("old-1", perMinute: 10) == 10, "two minutes refill any allowance")
            let recent = try counts.triesLeft("recent", perMinute: 10)
            #expect(recent >= 5 && recent < 6, "\(recent)")
            _ = try counts.failed("192.0.2.1", perMinute: 10)
            _ = try counts.failed("192.0.2.2", perMinute: 10)
            let left = try TestPostgres.withLink(to: hub) { link in
                try link.query("SELECT address FROM _hub_auth_failures ORDER BY address").map { try $0.decode(String.self) }
            }
            #expect(left == ["192.0.2.1", "192.0.2.2", "recent"], "\(left)")
        }
    }

    /// A count the database cannot take fails with an error that names the table, not the address.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func anErrorNamesNoAddress() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let counts = try #require(hub.store.sharedAuthFailures())
            _ = try TestPostgres.withLink(to: hub) { link in try link.query("DROP TABLE _hub_auth_failures") }
            let calls: [() throws -> Void] = [{ _ = try counts.failed("198.51.100.77", perMinute: 10) },
                                              { _ = try counts.triesLeft("198.51.100.77", perMinute: 10) }]
            for call in calls {
                let error = try #require(throws: (any Error).self) { try call() }
                #expect(!"\(error)".contains("198.51.100.77"), "\(error)")
                #expect("\(error)".contains("_hub_auth_failures"), "\(error)")
            }
        }
    }
}
