import BegawiCore
import BegawiPostgres
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// The sessions of one hub process: never more than the pool's size at the server, a session the
/// server ended replaced, and a closed pool refusing loans.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresPoolTests {
    @Test func manyThreadsShareAFewSessions() throws {
        try TestPostgres.withDatabase { settings in
            let pool = try PostgresPool(settings: settings, size: 2)
            defer { pool.close() }
            let seen = Shared<(most: Int64, failures: [String])>((0, []))
            concurrently((0..<6).map { _ in
                {
                    for _ in 0..<5 {
                        do {
                            // Sessions of this test's database, counted by the server itself.
                            let count = try pool.withLink { link in
                                try link.query("SELECT pg_sleep(0.02)")
                                return try #require(try link.query("""
                                    SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                                    """).first).decode(Int64.self)
                            }
                            seen.with { $0.most = max($0.most, count) }
                        } catch {
                            seen.with { $0.failures.append("\(error)") }
                        }
                    }
                }
            })
            let (most, failures) = seen.with { $0 }
            #expect(failures.isEmpty, "\(failures)")
            #expect(most >= 1 && most <= 2, "the server saw \(most) sessions at once")
            #expect(pool.openSessions <= 2)
        }
    }

    @Test func aSessionTheServerEndedIsReplaced() throws {
        try TestPostgres.withDatabase { settings in
            let pool = try PostgresPool(settings: settings, size: 1)
            defer { pool.close() }
            let first = try pool.withLink { link in try #require(try link.query("SELECT pg_backend_pid()").first).decode(Int32.self) }
            let admin = try PostgresLink.connect(settings)
            defer { admin.close() }
            try admin.query("SELECT pg_terminate_backend(\(first))")
            // The pool's idle session notices the end once the server's close reaches it; a loaded
            // machine (a clean-clone CI run) once needed more than 5 s: up to a minute, ending early.
            var second = first
            let deadline = Date().addingTimeInterval(60)
            while second == first, Date() < deadline {
                second = (try? pool.withLink { link in try #require(try link.query("SELECT pg_backend_pid()").first).decode(Int32.self) }) ?? first
                if second == first { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(second != first)
            #expect(pool.openSessions == 1)
        }
    }

    @Test func aClosedPoolRefusesLoans() throws {
        try TestPostgres.withDatabase { settings in
            let pool = try PostgresPool(settings: settings, size: 1)
            try pool.withLink { try $0.query("SELECT 1") }
            pool.close()
            #expect(pool.openSessions == 0)
            let error = try #require(throws: BegawiError.self) { try pool.withLink { try $0.query("SELECT 1") } }
            #expect(error.message.contains("closed"))
        }
    }

    @Test func aSizeOutsideTheLimitsIsRefused() throws {
        let settings = try PostgresSettings(url: "postgresql://begawi@127.0.0.1/hub")
        for size in [0, -1, 1_001] {
            #expect(throws: BegawiError.self) { try PostgresPool(settings: settings, size: size) }
        }
    }
}
