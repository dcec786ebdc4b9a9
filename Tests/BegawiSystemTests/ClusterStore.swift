import BegawiTestSupport
import Foundation
import Testing

/// The hub's store in a system test: the issue asks that the system tests run against both
/// stores, with the store as a parameter. PostgreSQL joins when `BEGAWI_TEST_POSTGRES` names a
/// server (`make test` starts one); SQLite always runs.
enum ClusterStore: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The server's URL, as `make test` passes it.
    static let server = ProcessInfo.processInfo.environment["BEGAWI_TEST_POSTGRES"]

    /// The stores this run can test; the skipped one is said once on standard error.
    static var available: [ClusterStore] {
        if server != nil { return [.sqlite, .postgres] }
        skippedOnce.say()
        return [.sqlite]
    }

    private static let skippedOnce = SaidOnce("system tests run on SQLite only: BEGAWI_TEST_POSTGRES is unset (Tests/Tools/pgcluster start DIR prints a URL to set it to)")
}

/// A line written to standard error once per test run.
final class SaidOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var said = false
    private let text: String
    init(_ text: String) { self.text = text }
    func say() {
        let first = lock.withLock { () -> Bool in defer { said = true }; return !said }
        if first { FileHandle.standardError.write(Data("note: \(text)\n".utf8)) }
    }
}

/// A fresh database on the test server for one cluster's hub, made and read through `psql` (the
/// hub's rows as text, as the SQLite file's are read), dropped with the cluster.
struct TestDatabase {
    /// The database's URL (the server's, with this database's name).
    let url: String
    private let server: String
    private let name: String

    /// Makes a new, empty database on the server `BEGAWI_TEST_POSTGRES` names.
    init() throws {
        guard let server = ClusterStore.server, var parts = URLComponents(string: server) else {
            throw ClusterError("BEGAWI_TEST_POSTGRES is unset or not a URL")
        }
        self.server = server
        // Hex digits only: a database's name cannot be a bound value.
        name = "begawi_sys_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        parts.path = "/" + name
        guard let url = parts.string else { throw ClusterError("cannot make the test database's URL") }
        self.url = url
        _ = try TestDatabase.psql(server, "CREATE DATABASE \(name)")
    }

    /// Each row of `sql`'s answer, its values as text (NULL as "NULL").
    func query(_ sql: String) throws -> [[String]] {
        try TestDatabase.psql(url, sql).split(separator: "\n", omittingEmptySubsequences: true)
            .map { line in line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Copies the database with `pg_dump` (custom format) into `file`.
    func dump(to file: String) throws {
        try TestDatabase.tool(["pg_dump", "-Fc", "-d", url, "-f", file])
    }

    /// Puts the copy in `file` back over the database (`pg_restore --clean`), as an operator restores one.
    func restore(from file: String) throws {
        try TestDatabase.tool(["pg_restore", "--clean", "--if-exists", "--single-transaction", "-d", url, file])
    }

    /// Runs a PostgreSQL client program; throws with its errors unless it succeeds.
    private static func tool(_ arguments: [String]) throws {
        let result = try ChildProcess.run("/usr/bin/env", arguments, environment: ProcessInfo.processInfo.environment, input: nil)
        guard result.status == 0 else { throw ClusterError("\(arguments[0]) failed (\(result.status)): \(result.errors)") }
    }

    /// Drops the database, ending any session still on it.
    func drop() {
        _ = try? TestDatabase.psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs one statement with `psql`; its unaligned, tab-separated output.
    static func psql(_ url: String, _ sql: String) throws -> String {
        let result = try ChildProcess.run("/usr/bin/env", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-P", "null=NULL",
                                                          "-d", url, "-c", sql], environment: ProcessInfo.processInfo.environment, input: nil)
        guard result.status == 0 else { throw ClusterError("psql failed (\(result.status)): \(result.errors)") }
        return result.output
    }
}
