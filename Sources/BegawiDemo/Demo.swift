public import BegawiCore
import BegawiHub
public import BegawiRules
import Foundation

/// `begawi demo`: the labour office's story on the Handak Begawi schema. A hub and four sites (two
/// LPKs, the BLKI, the office) on this machine over loopback TLS, in a temporary folder; the sites
/// work offline through the `sqlite3` shell, come online with `begawi site sync`, and the demo
/// passes only when every replica agrees with the hub under the rules.
public struct Demo {
    let schema: String
    let policy: AccessPolicy?
    let salt: String
    let keep: Bool
    let show: (SQLValue) -> String
    /// The `begawi` binary the demo runs as hub and sites (the one running it).
    let executable: String

    /// Prepares the demo on the schema file at `schema` (already read into `policy`); `keep` leaves the
    /// folder and the hub running; `show` writes a coded value as the CLI does; `executable` is the
    /// `begawi` binary to run as hub and sites.
    public init(schema: String, policy: AccessPolicy?, keep: Bool, executable: String, show: @escaping (SQLValue) -> String) throws {
        guard let salt = policy?.tables.values.compactMap(\.derivedKey).first?.salt else {
            throw BegawiError(.configuration, "the demo needs the Handak Begawi schema with its rules (config/handak-begawi.json); \(schema) derives no participant key")
        }
        self.schema = schema
        self.policy = policy
        self.salt = salt
        self.keep = keep
        self.show = show
        self.executable = executable
    }

    /// Tells the story; returns whether the hub and every site agree in the end.
    public func run() async throws -> Bool {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("begawi-demo-\(UUID().uuidString.prefix(8).lowercased())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: schema, toPath: "\(folder)/schema.json")
        let demo = DemoCluster(folder: folder, executable: executable)
        defer {
            demo.stopHub()
            if !keep { try? FileManager.default.removeItem(atPath: folder) }
        }
        let sites = DemoStory.partners.map(\.id)
        let story = DemoStory(shell: DemoShell(folder: folder), salt: salt)
        print("Begawi demo in \(folder)")

        print("\n0. The labour office makes a private CA and starts its hub over HTTPS; it adds four sites.")
        try demo.begawi(["hub", "make-certificates", "--out", "\(folder)/tls"], quiet: true)
        try demo.writeHubConfig()
        try demo.begawi(["hub", "init", "--config", "\(folder)/hub.toml"], quiet: true)
        try demo.startHub()
        print("  hub listening on \(demo.hubURL), rules from \(schema)")
        for partner in DemoStory.partners {
            try demo.addSite(partner.id, kind: partner.kind, name: partner.name)
            print("  \(partner.id) (\(partner.kind), \(partner.name)): replica \(partner.id).sqlite, credential handed over")
        }

        print("\n1. Offline, the staff at each site do a day's work through the sqlite3 shell (no NIK, name or phone is printed).")
        try story.firstDay()

        print("\n2. They come online: each site runs a sync round (push what the hub lacks, pull what it may see).")
        for pass in 0..<2 { for site in sites { try demo.sync(site, label: pass == 0 ? "" : "again") } }
        let twice = DemoStory.twice.key(salt: salt)
        print("  The person registered at both LPKs is one row (key \(twice), derived from the NIK). The hub kept lpk-mitra's")
        print("  registration, the first it received, and refused lpk-cendekia's. `begawi site status` at lpk-cendekia:")
        let status = try demo.status("lpk-cendekia").split(separator: "\n")
        for line in status.drop(while: { !$0.hasPrefix("refused changes") }) { print("    \(line)") }
        let held = try story.shell.query("lpk-cendekia", "SELECT registered_by FROM participants WHERE id = '\(twice)';")
        let enrolled = try story.shell.query("lpk-cendekia", "SELECT count(*) FROM enrollments WHERE participant_id = '\(twice)';")
        print("  lpk-cendekia still enrolled the person (\(Demo.trimmed(enrolled)) enrollment), so it sees them: its replica holds the hub's row, registered_by \(Demo.trimmed(held)).")

        print("\n3. Offline again, training goes on; the BLKI and the office both change the status of enrollment \(DemoStory.contested).")
        try story.secondDay()

        print("\n4. Online again.")
        for pass in 0..<2 { for site in sites { try demo.sync(site, label: pass == 0 ? "" : "again") } }

        print("\n5. The office's consolidated report (`begawi hub report`):")
        for line in try demo.report().split(separator: "\n") { print("  \(line)") }

        let store = try SQLiteHubStore(path: "\(folder)/hub.sqlite", policy: policy)
        defer { try? store.close() }
        print("\n6. The hub's conflict ledger (the losing values are kept, nothing is lost):")
        for line in DemoLedger.lines(try store.conflicts(), policy: store.policy, show: show) { print(line) }
        if let row = try store.rows(of: "enrollments")[DemoStory.contested],
           let column = store.schema.table(named: "enrollments")?.columns.firstIndex(where: { $0.name == "status" }) {
            print("  So enrollment \(DemoStory.contested) has status \(show(row[column])) at the hub and at every site that may see it;")
            print("  the office reviews the losing value in the ledger (the dashboard's Konflik page can re-apply it).")
        }

        print("\n7. Rows per table in each replica; each site must hold exactly the hub's rows it may see, with the hub's values:")
        let agree = try DemoAgreement.check(store: store, folder: folder, sites: sites)
        print(agree ? "\nThe hub and all four sites agree." : "\nThe replicas DISAGREE: this is a bug; please report it with the output above.")
        if keep {
            await serve(demo, folder: folder)
        } else {
            print("`begawi demo --keep` keeps the files and the hub running, for the office's dashboard.")
        }
        return agree
    }

    /// Keeps the hub running for the office's dashboard until Ctrl-C or SIGTERM.
    func serve(_ demo: DemoCluster, folder: String) async {
        print("""

            The hub keeps running, and the files stay in \(folder).
              dashboard:    https://127.0.0.1:\(demo.hubPort)/office/  (the office logs in with its credential)
              credential:   \(folder)/\(DemoStory.office).credential
              CA to trust:  \(folder)/tls/ca.crt
              a site's sync: \(executable) site sync --config \(folder)/lpk-mitra.toml
            Press Ctrl-C to stop the hub.
            """)
        fflush(nil)
        await DemoSignals.waitForStop()
        demo.stopHub()
        print("The hub stopped; the files stay in \(folder).")
    }

    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
}
