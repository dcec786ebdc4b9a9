import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// The office's dashboard in a real headless browser (Debian's Chromium, driven by Selenium):
/// sign-in with the office's credential only; each site's health, the consolidated enrollments
/// with filters and CSV, and the conflict ledger with a re-applied losing value — every figure
/// checked against the hub's database.
@Suite(.blocking) struct DashboardTests {
    @Test(arguments: ClusterStore.available) func theOfficeSeesWhatTheDatabaseHoldsAndReappliesALosingValue(store: ClusterStore) throws {
        let world = try OfficeWorld(label: "dashboard", store: store)
        let agencies = world.agencies, cluster = world.cluster
        // Two rows pending at lpk-a when its round opens; a second registration refused at lpk-b;
        // the BLKI and the office write one enrollment's notes at once (the office's is later).
        try agencies.offerProgram("prog-las-2", by: "lpk-a", title: "Pengelasan Lanjut")
        try agencies.offerProgram("prog-las-3", by: "lpk-a", title: "Pengelasan Pipa")
        try agencies.sync("lpk-a")
        try agencies.register(world.people[0], at: "lpk-b")
        try agencies.sync("lpk-b")
        try cluster.staff("blki", "UPDATE enrollments SET notes = 'jadwal pindah ke sore' WHERE id = 'enr-6'")
        Thread.sleep(forTimeInterval: 0.05)
        try cluster.staff("office", "UPDATE enrollments SET notes = 'diperiksa kantor' WHERE id = 'enr-6'")
        try agencies.sync("blki")
        try agencies.sync("office")
        let conflict = try #require(try cluster.query("hub", "SELECT id FROM _begawi_conflicts WHERE tbl = 'enrollments' AND key = 'enr-6' AND col = 'notes'")
            .first?.first.flatMap { Int64($0) })

        let seen = try DashboardTests.browse(cluster, conflict: conflict)

        // Sign-in: the office only.
        #expect((seen["unsigned_url"] as? String)?.hasSuffix("/office/masuk") == true)
        #expect((seen["other_url"] as? String)?.hasSuffix("/office/masuk") == true)
        #expect((seen["other_message"] as? String)?.contains("bukan kantor") == true, "\(seen["other_message"] ?? "")")
        #expect((seen["office_url"] as? String)?.hasSuffix("/office/") == true, "\(seen["office_url"] ?? "")")
        #expect(seen["lang"] as? String == "id")
        let cookie = try #require(seen["cookie"] as? [String: Any])
        #expect(cookie["httpOnly"] as? Bool == true && cookie["secure"] as? Bool == true && cookie["sameSite"] as? String == "Strict")

        // Health: as the hub's health ledger holds it.
        let health = try #require(seen["health"] as? [String: [String: String]])
        #expect(Set(health.keys) == ["lpk-a", "lpk-b", "blki", "office"])
        // Read as text on both stores (NULL as "NULL").
        let ledger = try cluster.query("hub", """
            SELECT site, pending, rows_refused, conflicts, daemon_version, schema_version, clock_offset_ms, last_contact FROM _hub_site_health
            """)
        for row in ledger {
            let site = row[0]
            func value(_ i: Int) -> String? { row[i] == "NULL" ? nil : row[i] }
            let shown = try #require(health[site], "\(site) is not shown")
            #expect(shown["tertunda"] == value(1), "\(site)")
            #expect(shown["penolakan"] == row[2], "\(site)")
            #expect(shown["konflik"] == row[3], "\(site)")
            #expect(shown["versi"] == value(4) && shown["versi"] == DaemonVersion.current.description, "\(site)")
            #expect(shown["skema"] == value(5), "\(site)")
            let offset = value(6).flatMap { Int64($0) }.map { String(format: "%.1f", Double($0) / 1000).replacingOccurrences(of: ".", with: ",") + " detik" }
            #expect(shown["selisih"] == offset, "\(site)")
            #expect(shown["kontak"]?.hasSuffix(" WITA") == true, "\(site): \(shown["kontak"] ?? "")")
            let wita = DateFormatter()
            wita.locale = Locale(identifier: "en_US_POSIX")
            wita.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
            wita.dateFormat = "yyyy-MM-dd HH:mm:ss"
            let contact = try #require(Int64(row[7]), "\(site)")
            #expect(shown["kontak"] == wita.string(from: Date(timeIntervalSince1970: Double(contact) / 1000)) + " WITA", "\(site)")
        }
        #expect(health["lpk-a"]?["tertunda"] == "2")
        #expect(health["lpk-b"]?["penolakan"] == "1")
        #expect(health["blki"]?["konflik"] == "1" || health["office"]?["konflik"] == "1")

        // Enrollments of 2025, filtered in the form: the counts written by hand, and the CSV is the CLI's.
        let report = try #require(seen["report"] as? [[String: Any]])
        var found: [String: [String: [String: Int]]] = [:]
        for line in report {
            let counts = try #require(line["counts"] as? [String: String])
            found[line["partner"] as! String, default: [:]][line["program"] as! String] =
                counts.filter { $0.key != "total" && $0.value != "0" }.mapValues { Int($0)! }
        }
        #expect(found == OfficeWorld.expected2025)
        #expect((seen["report_total"] as? [String: String])?["total"] == "7")
        #expect(seen["report_headers"] as? [String] == ["Mitra", "Program", "Terdaftar", "Aktif", "Selesai", "Bersertifikat", "Mengundurkan diri", "Jumlah"])
        #expect((seen["report_url"] as? String)?.contains("dari=2025-01-01") == true)
        let cli = try agencies.hub("report", ["--from", "2025-01-01", "--to", "2025-12-31", "--format", "csv"])
        #expect(seen["csv"] as? String == cli)
        #expect((seen["csv_type"] as? String)?.hasPrefix("text/csv") == true)

        // Every entry of the ledger is listed; the owner column of the second registration cannot be re-applied.
        let listed = try #require(seen["conflicts"] as? [String: [String: String]])
        let ledgerIDs = try cluster.query("hub", "SELECT id FROM _begawi_conflicts").map { $0[0] }
        #expect(Set(listed.keys) == Set(ledgerIDs))
        let owner = try cluster.query("hub", "SELECT id FROM _begawi_conflicts WHERE tbl = 'participants' AND col = 'registered_by'").first?.first
        #expect(owner.flatMap { listed[$0]?["tindakan"] }?.hasPrefix("Tidak dapat diterapkan ulang") == true, "\(listed)")

        // The conflict: the losing value shown, re-applied, at the hub and then at the BLKI.
        let before = try #require(seen["conflict_before"] as? [String: String])
        #expect(before["kalah"] == "jadwal pindah ke sore" && before["menang"] == "diperiksa kantor", "\(before)")
        #expect((seen["notice"] as? String)?.contains("diterapkan ulang") == true, "\(seen["notice"] ?? "")")
        #expect((seen["conflict_after"] as? [String: String])?["tindakan"]?.hasPrefix("Diterapkan ulang") == true)
        #expect(try agencies.rows("hub", "enrollments")["enr-6"]?.contains("jadwal pindah ke sore") == true)
        // The audit trail names the re-apply and who asked, no value.
        #expect(try cluster.query("hub", "SELECT site, tbl, key, reason FROM _hub_audit WHERE action = 'reapplied'")
                == [["office", "enrollments", "enr-6", "conflict \(conflict)"]])
        try agencies.sync("blki")
        #expect(try agencies.rows("blki", "enrollments")["enr-6"]?.contains("jadwal pindah ke sore") == true)
        #expect((seen["after_sign_out_url"] as? String)?.hasSuffix("/office/masuk") == true)
    }

    /// Runs Tests/Tools/dashboard.py against the cluster's hub.
    static func browse(_ cluster: Cluster, conflict: Int64) throws -> [String: Any] {
        let credential = { (site: String) in
            try String(contentsOfFile: cluster.path("\(site).credential"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let data = try Prometheus.runPython([Repository.root.appendingPathComponent("Tests/Tools/dashboard.py").path, cluster.hubURL,
                                             try credential("office"), try credential("lpk-a"), String(conflict), cluster.path("tls/ca.crt")],
                                            what: "the browser run")
        guard let seen = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ClusterError("the browser run printed no JSON object")
        }
        return seen
    }
}
