import BegawiCore
import BegawiPostgres
import BegawiTestSupport
import Foundation
import Testing

/// The PostgreSQL server the tests use: `make test` starts a throwaway cluster
/// (`Tests/Tools/pgcluster`) and names it in `BEGAWI_TEST_POSTGRES`.
///
/// Unset (a plain `swift test`), the suites that need it are skipped with the reason printed;
/// set, an unreachable server fails them.
enum TestPostgres {
    /// The server's URL, as `make test` passes it.
    static let url = ProcessInfo.processInfo.environment["BEGAWI_TEST_POSTGRES"]

    /// Whether a server was named.
    static var available: Bool { url != nil }

    /// Why the suites that need a server were skipped.
    static let skipped: Comment = "BEGAWI_TEST_POSTGRES is unset: make test starts a throwaway cluster (Tests/Tools/pgcluster start DIR prints a URL to set it to)"

    /// Runs `body` with a new, empty database of its own, dropped afterwards; `adjust` changes the
    /// settings (timeouts) its sessions get.
    static func withDatabase<T>(_ adjust: (inout PostgresSettings) -> Void = { _ in },
                                _ body: (PostgresSettings) throws -> T) throws -> T {
        let database = try ScratchDatabase()
        defer { database.drop() }
        var settings = database.settings
        adjust(&settings)
        return try body(settings)
    }

    /// `withDatabase` for an async body.
    static func withDatabaseAsync<T>(_ body: (PostgresSettings) async throws -> T) async throws -> T {
        let database = try ScratchDatabase()
        defer { database.drop() }
        return try await body(database.settings)
    }

    /// Runs `body` with a session of its own on a PostgreSQL hub's database.
    static func withLink<T>(to hub: StoreHub, _ body: (PostgresLink) throws -> T) throws -> T {
        let settings = try #require(hub.settings, "the hub is not on PostgreSQL")
        let link = try PostgresLink.connect(settings)
        defer { link.close() }
        return try body(link)
    }
}

/// A standby of the test cluster (`Tests/Tools/pgcluster standby`): a copy that follows it until
/// promoted to a primary on the next timeline. `stop()` ends it and removes its folder.
struct TestStandby {
    let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/pgcluster").path
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("begawi-standby-\(UUID().uuidString)").path
    /// Its URL, as pgcluster prints it.
    let url: String

    /// Copies the test cluster and starts the copy. pgcluster leaves a server running, which
    /// Foundation's `Process` would wait for: `runLeavingDaemon`.
    init() throws {
        let server = try #require(TestPostgres.url, "BEGAWI_TEST_POSTGRES is unset")
        let made = try ChildProcess.runLeavingDaemon([tool, "standby", server, folder])
        guard made.status == 0 else {
            _ = try? ChildProcess.runLeavingDaemon([tool, "stop", folder])
            throw BegawiError(.storage, "pgcluster standby failed: \(made.output)")
        }
        url = try String(contentsOfFile: folder + "/url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The settings of `database` on the standby.
    func settings(database: String? = nil) throws -> PostgresSettings {
        var settings = try PostgresSettings(url: url)
        if let database { settings.database = database }
        return settings
    }

    /// Makes it a primary on the next timeline.
    func promote() throws {
        let promoted = try ChildProcess.runLeavingDaemon([tool, "promote", folder])
        try #require(promoted.status == 0, "pgcluster promote: \(promoted.output)")
    }

    /// Ends it and removes its folder.
    func stop() {
        _ = try? ChildProcess.runLeavingDaemon([tool, "stop", folder])
    }
}

/// A new, empty database on the test server for one test or run, removed by `drop()`.
struct ScratchDatabase {
    let name: String
    /// Settings naming this database on the test server.
    let settings: PostgresSettings

    /// Makes the database; `options` follow its name in `CREATE DATABASE` (a template, a collation).
    init(options: String = "") throws {
        let server = try #require(TestPostgres.url, "BEGAWI_TEST_POSTGRES is unset")
        let admin = try PostgresLink.connect(PostgresSettings(url: server))
        defer { admin.close() }
        let name = "begawi_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        // A database's name cannot be a bound value; this one is made here of hex digits only.
        try admin.query(.init(unsafeSQL: "CREATE DATABASE \(name) \(options)"))
        do {
            var settings = try PostgresSettings(url: server)
            settings.database = name
            self.settings = settings
        } catch {
            _ = try? admin.query(.init(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
            throw error
        }
        self.name = name
    }

    /// Removes the database, ending any session still on it.
    func drop() {
        guard let server = TestPostgres.url, let admin = try? PostgresLink.connect(PostgresSettings(url: server)) else { return }
        _ = try? admin.query(.init(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        admin.close()
    }
}
