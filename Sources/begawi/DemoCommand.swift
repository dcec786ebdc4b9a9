import ArgumentParser
import BegawiCore
import BegawiReplica
import Foundation

/// `begawi demo`: a hub and three sites on this machine over loopback TLS, in a temporary folder.
/// The sites work offline through the `sqlite3` shell, come online with `begawi site sync`, and the
/// demo exits 0 only when every replica agrees with the hub.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show Begawi at work: a hub and three sites over HTTPS, offline edits, a conflict, and agreement.")

    @Option(help: "The declared schema (JSON).") var schema: String = "config/schema.example.json"
    @Flag(help: "Keep the temporary folder and its files.") var keep = false

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("begawi-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let declared = try SchemaFile.load(schema)
        try FileManager.default.copyItem(atPath: schema, toPath: "\(folder)/schema.json")
        let demo = DemoCluster(folder: folder)
        defer {
            demo.stopHub()
            if !keep { try? FileManager.default.removeItem(atPath: folder) }
        }
        let sites = ["lpk-mitra": "lpk", "lpk-cendekia": "lpk", "disnaker": "office"]
        let order = ["lpk-mitra", "lpk-cendekia", "disnaker"]
        print("Begawi demo in \(folder)")
        print("\n0. The office makes a private CA and starts its hub over HTTPS; three sites are registered.")
        try demo.begawi(["hub", "make-certificates", "--out", "\(folder)/tls"], quiet: true)
        try demo.writeHubConfig()
        try demo.begawi(["hub", "init", "--config", "\(folder)/hub.toml"], quiet: true)
        try demo.startHub()
        print("  hub listening on \(demo.hubURL)")
        for site in order {
            try demo.begawi(["hub", "add-site", "--config", "\(folder)/hub.toml", "--id", site, "--kind", sites[site]!,
                             "--name", site, "--credential-out", "\(folder)/\(site).credential"], quiet: true)
            try demo.writeSiteConfig(site)
            try demo.begawi(["site", "init", "--config", "\(folder)/\(site).toml"], quiet: true)
            print("  \(site) (\(sites[site]!)): replica \(site).sqlite, credential handed over")
        }
        let shell = Shell(folder: folder)

        print("\n1. Offline, staff at each LPK register participants and enroll them (through the sqlite3 shell).")
        try shell.run("lpk-mitra", """
            INSERT INTO programs VALUES ('0190a000-0000-7000-8000-000000000001', 'Pengelasan SMAW 3G', 'Manufaktur', 'lpk-mitra', '2026-03-02', '2026-05-29', 20, 'APBD Kota Bontang');
            INSERT INTO participants VALUES ('p-6474014508990001', '6474014508990001', 'Siti Rahmawati', '1999-08-05', 'P', '081200000001', 'Berbas Pantai', 'Bontang Selatan', 'SMK', 'lpk-mitra');
            INSERT INTO participants VALUES ('p-6474021203980002', '6474021203980002', 'Agus Saputra', '1998-03-12', 'L', '081200000002', 'Api-Api', 'Bontang Utara', 'SMA', 'lpk-mitra');
            INSERT INTO enrollments VALUES ('0190a000-0000-7000-8000-0000000000e1', 'p-6474014508990001', '0190a000-0000-7000-8000-000000000001', 'registered', '2026-02-20', NULL, NULL, NULL);
            INSERT INTO enrollments VALUES ('0190a000-0000-7000-8000-0000000000e2', 'p-6474021203980002', '0190a000-0000-7000-8000-000000000001', 'registered', '2026-02-21', NULL, NULL, NULL);
            """)
        try shell.run("lpk-cendekia", """
            INSERT INTO programs VALUES ('0190b000-0000-7000-8000-000000000001', 'Operator Forklift', 'Logistik', 'lpk-cendekia', '2026-03-09', '2026-03-20', 15, 'CSR Perusahaan');
            INSERT INTO participants VALUES ('p-6474034107000003', '6474034107000003', 'Dewi Lestari', '2000-07-01', 'P', '081200000003', 'Loktuan', 'Bontang Barat', 'SMA', 'lpk-cendekia');
            INSERT INTO enrollments VALUES ('0190b000-0000-7000-8000-0000000000e1', 'p-6474034107000003', '0190b000-0000-7000-8000-000000000001', 'registered', '2026-02-25', NULL, NULL, NULL);
            """)

        print("\n2. They come online: each site runs a sync round (push what the hub lacks, pull what it lacks).")
        for pass in 0..<2 { for site in order { try demo.sync(site, label: pass == 0 ? "" : "again") } }

        print("\n3. Offline again, the LPK and the office edit the same enrollment; the office also fixes a phone number.")
        try shell.run("lpk-mitra", "UPDATE enrollments SET status = 'active', started_on = '2026-03-02' WHERE id = '0190a000-0000-7000-8000-0000000000e1';")
        Thread.sleep(forTimeInterval: 0.05) // the office's edit is later on the clock: it wins the status field
        try shell.run("disnaker", "UPDATE enrollments SET status = 'dropped', notes = 'mengundurkan diri' WHERE id = '0190a000-0000-7000-8000-0000000000e1';")
        try shell.run("disnaker", "UPDATE participants SET phone = '081200000099' WHERE id = 'p-6474021203980002';")

        print("\n4. Online again.")
        for pass in 0..<2 { for site in order { try demo.sync(site, label: pass == 0 ? "" : "again") } }
        demo.stopHub()

        print("\n5. Conflicts the hub's merge resolved (the losing value is kept in the ledger, nothing is lost):")
        let hub = try Replica.open(at: "\(folder)/hub.sqlite")
        defer { try? hub.close() }
        for c in try hub.conflicts() {
            print("  \(c.table).\(c.column) of \(c.key): \(Display.value(c.loserValue)) by \(c.loser.site) lost to \(Display.value(c.winnerValue)) by \(c.winner.site)")
        }

        print("\n6. Every replica now holds:")
        func contents(_ r: Replica) throws -> [String: [String: [SQLValue]]] {
            var all: [String: [String: [SQLValue]]] = [:]
            for table in declared.tables { all[table.name] = try r.rows(of: table.name) }
            return all
        }
        let reference = try contents(hub)
        print("  hub: " + declared.tables.map { "\(reference[$0.name]!.count) \($0.name)" }.joined(separator: ", "))
        var agree = true
        for site in order {
            let replica = try Replica.open(at: "\(folder)/\(site).sqlite")
            let all = try contents(replica)
            try replica.close()
            print("  \(site): " + declared.tables.map { "\(all[$0.name]!.count) \($0.name)" }.joined(separator: ", ") + (all == reference ? "" : "  DIFFERS"))
            if all != reference { agree = false }
        }
        let status = reference["enrollments"]?["0190a000-0000-7000-8000-0000000000e1"]
        print("  the shared enrollment everywhere: status \(status.map { Display.value($0[2]) } ?? "?"), started_on \(status.map { Display.value($0[4]) } ?? "?")")
        if keep { print("\nThe files stay in \(folder); open one with: sqlite3 \(folder)/disnaker.sqlite") }
        guard agree else {
            print("\nThe replicas DISAGREE: this is a bug; please report it with the output above.")
            throw ExitCode(1)
        }
        print("\nThe hub and all three sites agree.")
    }
}

/// Runs SQL through the real `sqlite3` shell, as any staff application could write to a replica.
struct Shell {
    let folder: String

    func run(_ site: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["\(folder)/\(site).sqlite"]
        let input = Pipe()
        process.standardInput = input
        do {
            try process.run()
        } catch {
            throw BegawiError(.invalidArgument, "the demo needs the sqlite3 shell at /usr/bin/sqlite3 (apt-get install sqlite3)")
        }
        input.fileHandleForWriting.write(Data((".bail on\n.timeout 5000\n" + sql + "\n").utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BegawiError(.invalidArgument, "the sqlite3 shell failed at \(site) (status \(process.terminationStatus))")
        }
        print("  \(site): \(sql.split(separator: "\n").count) statement(s) through sqlite3")
    }
}
