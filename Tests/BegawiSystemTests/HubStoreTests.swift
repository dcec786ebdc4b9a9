import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// The hub on either store, with real processes: `begawi hub run` on SQLite or on PostgreSQL
/// (`database = "postgresql://…"`), three `begawi site run` daemons writing at once.
@Suite(.blocking) struct HubStoreTests {
    /// Staff write at three sites while their daemons run, two of them the same field of one row
    /// (offline, so that their writes conflict): every site ends with the hub's rows, and the hub's
    /// ledger holds the conflict.
    @Test(arguments: ClusterStore.available) func threeDaemonsConvergeOnTheHubsRows(store: ClusterStore) throws {
        let cluster = try Cluster(label: "stores", store: store)
        try cluster.startHub()
        let sites = ["lpk-a", "lpk-b", "blki"]
        for s in sites { try cluster.addSite(s, kind: s == "blki" ? "blki" : "lpk", extra: "pull_interval_seconds = 1") }
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, phone) VALUES ('p1', '6474010101900001', 'Siti Aminah', '0811')")
        try cluster.syncAll()
        // The same field at two sites while apart, then everyone's own rows with the daemons running.
        try cluster.staff("lpk-a", "UPDATE participants SET phone = '0812' WHERE id = 'p1'")
        try cluster.staff("lpk-b", "UPDATE participants SET phone = '0813' WHERE id = 'p1'")
        for s in sites { try cluster.startDaemon(s) }
        for (n, s) in sites.enumerated() {
            for i in 0..<20 { try cluster.staff(s, "INSERT INTO programs(id, title) VALUES ('\(s)-\(i)', 'Program \(n)-\(i)')") }
        }
        try cluster.staff("blki", "UPDATE participants SET education = 'SMA' WHERE id = 'p1'")
        let converged = try waitFor(60) {
            let hub = try cluster.rows("hub", "programs"), person = try cluster.rows("hub", "participants")
            guard hub.count == 60, person["p1"]?.contains("SMA") == true else { return false }
            return try sites.allSatisfy { try cluster.rows($0, "programs") == hub && cluster.rows($0, "participants") == person }
        }
        for s in sites { cluster.stopDaemon(s) }
        #expect(converged, "the sites did not converge on the hub's rows within 60 s\n\(cluster.hubLog())")
        let phone = try #require(try cluster.rows("hub", "participants")["p1"])
        #expect(phone.contains("0812") || phone.contains("0813"))
        let ledger = try cluster.ledger("hub")
        #expect(ledger.count == 1 && ledger.first?[2] == "phone", "\(ledger)")
        #expect(!cluster.hubLog().contains("error"), "\(cluster.hubLog())")
        for s in sites { #expect(cluster.daemonStatus(s) == 0, "\(s) did not stop cleanly") }
    }

    /// What a hub on PostgreSQL does not do is said, never half-done: `hub backup` and a URL
    /// holding a password are refused with what to do instead. The office's dashboard is mounted,
    /// and `hub report` answers as on SQLite (this schema lacks the report's tables: it says which).
    @Test(.enabled(if: ClusterStore.server != nil, "BEGAWI_TEST_POSTGRES is unset: Tests/Tools/pgcluster start DIR prints a URL to set it to"))
    func aPostgresHubSaysWhatItDoesNotDoYet() throws {
        let cluster = try Cluster(label: "pg-limits", store: .postgres)
        let postgres = try #require(cluster.postgres)
        cluster.hubEnvironment["BEGAWI_LOG_LEVEL"] = "notice"
        try cluster.startHub()
        #expect(!cluster.hubLog().contains("office's dashboard (/office/) is not served"), "\(cluster.hubLog())")
        try cluster.addSite("lpk-a")
        let sites = try Cluster.run(["hub", "sites", "--config", cluster.hubConfig])
        #expect(sites.output.contains("lpk-a\tlpk\tactive"), "\(sites.output)")

        let backup = try Cluster.run(["hub", "backup", "--config", cluster.hubConfig, cluster.path("copy.sqlite")], expect: -1)
        #expect(backup.status != 0 && backup.errors.contains("pg_dump") && backup.errors.contains("hub restored"), "\(backup.errors)")
        #expect(!FileManager.default.fileExists(atPath: cluster.path("copy.sqlite")))
        let report = try Cluster.run(["hub", "report", "--config", cluster.hubConfig], expect: -1)
        #expect(report.status != 0 && report.errors.contains("the report needs the Handak Begawi tables"), "\(report.errors)")

        // A password in the URL is refused, and never printed.
        let secret = "s3cret-Pw"
        let withPassword = postgres.url.replacingOccurrences(of: "postgresql://postgres@", with: "postgresql://postgres:\(secret)@")
        #expect(withPassword != postgres.url)
        let text = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        try text.replacingOccurrences(of: postgres.url, with: withPassword).write(toFile: cluster.path("bad.toml"), atomically: true, encoding: .utf8)
        let refused = try Cluster.run(["hub", "sites", "--config", cluster.path("bad.toml")], expect: -1)
        #expect(refused.status != 0 && refused.errors.contains("database_password_file"), "\(refused.errors)")
        #expect(!refused.errors.contains(secret) && !refused.output.contains(secret))
        // The password in its file: the test server trusts loopback, so any password logs in.
        try "\(secret)\n".write(toFile: cluster.path("pg.password"), atomically: true, encoding: .utf8)
        try (text + "\ndatabase_password_file = \"pg.password\"\n").write(toFile: cluster.path("good.toml"), atomically: true, encoding: .utf8)
        let fine = try Cluster.run(["hub", "sites", "--config", cluster.path("good.toml")])
        #expect(fine.output.contains("lpk-a"))
        #expect(!cluster.hubLog().contains(secret))
    }

    /// The keys that select PostgreSQL are checked as hub.toml is read, before any server is asked:
    /// each refusal says what to do and never repeats a password.
    @Test func theDatabaseKeysAreCheckedAsTheFileIsRead() throws {
        let folder = TemporaryFolder()
        func refused(_ lines: String) throws -> String {
            let file = folder.file("hub-\(UUID().uuidString.prefix(6)).toml")
            try "schema = \"schema.json\"\n\(lines)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let run = try Cluster.run(["hub", "sites", "--config", file], expect: -1)
            #expect(run.status != 0)
            return run.output + run.errors
        }
        let password = try refused(#"database = "postgresql://begawi:Rahasia-42@127.0.0.1:1/hub""#)
        #expect(password.contains("database_password_file") && !password.contains("Rahasia-42"), "\(password)")
        let missing = try refused("database = \"postgresql://begawi@127.0.0.1:1/hub\"\ndatabase_password_file = \"nowhere.password\"")
        #expect(missing.contains("cannot read database_password_file"), "\(missing)")
        let twoLines = folder.file("two.password")
        try "Rahasia-42\nmore\n".write(toFile: twoLines, atomically: true, encoding: .utf8)
        let two = try refused("database = \"postgres://begawi@127.0.0.1:1/hub\"\ndatabase_password_file = \"\(twoLines)\"")
        #expect(two.contains("alone on one line") && !two.contains("Rahasia-42"), "\(two)")
        let sqlite = try refused("database = \"hub.sqlite\"\ndatabase_password_file = \"nowhere.password\"")
        #expect(sqlite.contains("only for a PostgreSQL database"), "\(sqlite)")
        let mode = try refused(#"database = "postgresql://begawi@127.0.0.1:1/hub?sslmode=sometimes""#)
        #expect(mode.contains("unknown sslmode"), "\(mode)")
        // No database file to put the audit's archive beside: its folder must be named.
        let audit = try refused("database = \"postgresql://begawi@127.0.0.1:1/hub\"\naudit_retention_days = 30")
        #expect(audit.contains("audit_archive_dir") && audit.contains("audit_retention_days"), "\(audit)")
    }
}
