import ArgumentParser
import BegawiCore
import BegawiReplica
import Foundation

/// `begawi demo`: three replicas on this machine, edited offline through the `sqlite3` shell, then
/// brought into step; exits 0 only when every replica agrees. The network comes with `begawi hub`.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the replica engine at work: offline edits at three sites, a conflict, and agreement.")

    @Option(help: "The declared schema (JSON).") var schema: String = "config/schema.example.json"
    @Flag(help: "Keep the temporary folder and its replica files.") var keep = false

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("begawi-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: folder) } }
        let declared = try SchemaFile.load(schema)
        let sites = ["lpk-mitra", "lpk-cendekia", "disnaker"]
        var replicas: [String: Replica] = [:]
        print("Begawi demo: three replicas in \(folder)")
        for site in sites {
            replicas[site] = try Replica.create(at: "\(folder)/\(site).sqlite", siteID: site, schema: declared)
            print("  \(site).sqlite created for site \(site)")
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
        for site in sites { try replicas[site]!.captureLocalChanges() }

        print("\n2. They come online: each LPK sends to the office, the office sends back to each.")
        try exchange(replicas, ["lpk-mitra": "disnaker", "lpk-cendekia": "disnaker"])
        try exchange(replicas, ["disnaker": "lpk-mitra"])
        try exchange(replicas, ["disnaker": "lpk-cendekia"])

        print("\n3. Offline again, the LPK and the office edit the same enrollment; the office also fixes a phone number.")
        try shell.run("lpk-mitra", "UPDATE enrollments SET status = 'active', started_on = '2026-03-02' WHERE id = '0190a000-0000-7000-8000-0000000000e1';")
        Thread.sleep(forTimeInterval: 0.05) // the office's edit is later on the clock: it wins the status field
        try shell.run("disnaker", "UPDATE enrollments SET status = 'dropped', notes = 'mengundurkan diri' WHERE id = '0190a000-0000-7000-8000-0000000000e1';")
        try shell.run("disnaker", "UPDATE participants SET phone = '081200000099' WHERE id = 'p-6474021203980002';")
        for site in sites { try replicas[site]!.captureLocalChanges() }

        print("\n4. Online again.")
        try exchange(replicas, ["lpk-mitra": "disnaker"])
        try exchange(replicas, ["disnaker": "lpk-mitra"])
        try exchange(replicas, ["disnaker": "lpk-cendekia"])

        print("\n5. Conflicts the merge resolved (the losing value is kept in the ledger, nothing is lost):")
        for site in sites {
            for c in try replicas[site]!.conflicts() {
                print("  at \(site): \(c.table).\(c.column) of \(c.key): \(Display.value(c.loserValue)) by \(c.loser.site) lost to \(Display.value(c.winnerValue)) by \(c.winner.site)")
            }
        }

        print("\n6. Every replica now holds:")
        var reference: [String: [String: [SQLValue]]]?
        var agree = true
        for site in sites {
            var all: [String: [String: [SQLValue]]] = [:]
            for table in declared.tables { all[table.name] = try replicas[site]!.rows(of: table.name) }
            print("  \(site): " + declared.tables.map { "\(all[$0.name]!.count) \($0.name)" }.joined(separator: ", "))
            if let reference, reference != all { agree = false }
            reference = reference ?? all
        }
        let status = try replicas["lpk-mitra"]!.rows(of: "enrollments")["0190a000-0000-7000-8000-0000000000e1"]
        print("  the shared enrollment everywhere: status \(status.map { Display.value($0[2]) } ?? "?"), started_on \(status.map { Display.value($0[4]) } ?? "?")")
        for r in replicas.values { try r.close() }
        if keep { print("\nThe replica files stay in \(folder); open one with: sqlite3 \(folder)/disnaker.sqlite") }
        guard agree else {
            print("\nThe replicas DISAGREE: this is a bug; please report it with the output above.")
            throw ExitCode(1)
        }
        print("\nAll three replicas agree.")
    }

    /// Syncs each source to its target until the target has caught up, printing what travelled.
    func exchange(_ replicas: [String: Replica], _ pairs: [String: String]) throws {
        for (from, to) in pairs.sorted(by: { $0.key < $1.key }) {
            let source = replicas[from]!, target = replicas[to]!
            var rows = 0, bytes = 0, changed = 0, conflicts = 0
            while true {
                let (batch, encoded) = try source.exportEncoded(after: try target.cursor(for: source.replicaID))
                let result = try target.apply(encoded: encoded)
                rows += batch.rows.count
                bytes += encoded.count
                changed += result.rowsChanged
                conflicts += result.conflicts
                if batch.complete { break }
            }
            print("  \(from) → \(to): \(rows) row changes in \(bytes) bytes; \(changed) rows changed at \(to), \(conflicts) conflicts")
        }
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
