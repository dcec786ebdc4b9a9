import BegawiCore
import BegawiPostgres
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// One blocking session to a real server: its timeouts, transactions, and errors that say what
/// to do without quoting a value.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresLinkTests {
    @Test func aSessionStartsWithItsTimeouts() throws {
        try TestPostgres.withDatabase({ $0.statementTimeoutMilliseconds = 1_500; $0.idleInTransactionTimeoutMilliseconds = 45_000 }) { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let row = try #require(try link.query("""
                SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'), current_database()
                """).first)
            let (statement, idle, database) = try row.decode((String, String, String).self)
            #expect(statement == "1500ms")
            #expect(idle == "45s")
            #expect(database == settings.database)
        }
    }

    @Test func aStatementPastItsTimeoutIsCancelled() throws {
        try TestPostgres.withDatabase({ $0.statementTimeoutMilliseconds = 200 }) { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let started = Date()
            let error = try #require(throws: BegawiError.self) { try link.query("SELECT pg_sleep(5)") }
            #expect(Date().timeIntervalSince(started) < 4)
            #expect(error.code == .storage)
            #expect(error.message.contains("statement timeout"), "\(error)")
            #expect(error.cause?.contains("SQLSTATE 57014") == true, "\(error)")
            // The session survives a cancelled statement.
            #expect(try link.query("SELECT 1").count == 1)
        }
    }

    @Test func aSessionIdleInATransactionIsEnded() throws {
        try TestPostgres.withDatabase({ $0.idleInTransactionTimeoutMilliseconds = 200 }) { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let started = Date()
            let error = try #require(throws: BegawiError.self) {
                try link.transaction { link in
                    try link.query("SELECT 1")
                    Thread.sleep(forTimeInterval: 1)
                    try link.query("SELECT 2")
                }
            }
            // At once: not after the answer's deadline (the statement timeout and a grace).
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(error.code == .network, "\(error)")
            #expect(error.message.contains("session ended"), "\(error)")
            #expect(link.isClosed)
        }
    }

    @Test func aServerThatStopsAnsweringIsGivenUp() throws {
        try TestPostgres.withDatabase({ $0.statementTimeoutMilliseconds = 300; $0.connectTimeoutMilliseconds = 500 }) { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let backend = try #require(try link.query("SELECT pg_backend_pid()").first).decode(Int32.self)
            // A stopped backend answers nothing, not even its own statement timeout: as a dead network would.
            try #require(kill(backend, SIGSTOP) == 0, "cannot stop the session's server process")
            defer { kill(backend, SIGCONT) }
            let started = Date()
            let error = try #require(throws: BegawiError.self) { try link.query("SELECT 1") }
            let waited = Date().timeIntervalSince(started)
            #expect(waited >= 0.7 && waited < 5, "gave up after \(waited) s")
            #expect(error.code == .network, "\(error)")
            #expect(link.isClosed)
        }
    }

    @Test func aTransactionThatThrowsLeavesNothing() throws {
        try TestPostgres.withDatabase { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            try link.query("CREATE TABLE t (n int)")
            struct Stop: Error {}
            #expect(throws: Stop.self) {
                try link.transaction { link in
                    try link.query("INSERT INTO t VALUES (1)")
                    throw Stop()
                }
            }
            // A failed statement whose error the body swallowed: COMMIT answers ROLLBACK.
            let error = try #require(throws: BegawiError.self) {
                try link.transaction { link in
                    try link.query("INSERT INTO t VALUES (2)")
                    _ = try? link.query("SELECT 1 / 0")
                }
            }
            #expect(error.message.contains("rolled back"))
            try link.transaction { link in try link.query("INSERT INTO t VALUES (3)") }
            let rows = try link.query("SELECT n FROM t").map { try $0.decode(Int32.self) }
            #expect(rows == [3])
        }
    }

    @Test func aServerErrorDoesNotQuoteTheValue() throws {
        try TestPostgres.withDatabase { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let value = "6471052301870004"
            let error = try #require(throws: BegawiError.self) { try link.query("SELECT \(value)::int2") }
            let literal = try #require(throws: BegawiError.self) { try link.query("SELECT \("Siti " + value)::int") }
            for error in [error, literal] {
                #expect(error.code == .storage)
                #expect(!error.description.contains(value), "\(error)")
                #expect(error.cause?.contains("SQLSTATE") == true)
            }
        }
    }

    @Test func aMissingDatabaseIsAConfigurationError() throws {
        var settings = try PostgresSettings(url: try #require(TestPostgres.url))
        settings.database = "begawi_never_made"
        let error = try #require(throws: BegawiError.self) { try PostgresLink.connect(settings) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("does not exist"), "\(error)")
    }
}
