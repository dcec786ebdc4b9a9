import BegawiTestSupport
import Foundation
import Testing

/// `begawi hub report`: enrollments by partner × program × status for a period, with totals, as
/// a table, CSV or JSON; counts only.
@Suite(.blocking) struct ReportTests {
    @Test(arguments: ClusterStore.available) func theReportCountsEnrollmentsByPartnerProgramAndStatus(store: ClusterStore) throws {
        let world = try OfficeWorld(label: "report", store: store)
        let hub = world.agencies
        let period = ["--from", "2025-01-01", "--to", "2025-12-31"]

        // JSON against the counts written by hand.
        let json = try hub.hub("report", period + ["--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let lines = try #require(object["lines"] as? [[String: Any]])
        var found: [String: [String: [String: Int]]] = [:]
        for line in lines {
            let partner = try #require(line["partner"] as? String), program = try #require(line["program"] as? String)
            let counts = try #require(line["counts"] as? [String: Int])
            found[partner, default: [:]][program] = counts
            #expect(line["total"] as? Int == counts.values.reduce(0, +))
        }
        #expect(found == OfficeWorld.expected2025)
        #expect(object["total"] as? Int == 7)
        #expect((object["totals"] as? [String: Int]) == ["registered": 1, "active": 3, "completed": 2, "certified": 1])
        #expect(object["statuses"] as? [String] == ["registered", "active", "completed", "certified", "dropped"])
        #expect(lines.first { $0["program"] as? String == "prog-las" }?["program_title"] as? String == "Pengelasan SMAW")
        #expect((lines.first { $0["partner"] as? String == "blki" }?["partner_name"] as? String)?.hasSuffix(" blki") == true, "the name from the partners table")

        // CSV: a header, one line per partner's program, and the totals.
        let csv = try hub.hub("report", period + ["--format", "csv"]).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(csv.first == "partner,partner_name,program,program_title,registered,active,completed,certified,dropped,total")
        #expect(csv.count == 1 + 4 + 1)
        #expect(csv.last == "TOTAL,,,,1,3,2,1,0,7")
        #expect(csv.contains { $0.hasPrefix("lpk-a,") && $0.contains(",prog-las,Pengelasan SMAW,1,2,0,0,0,3") }, "\(csv)")

        // The table, with each partner's subtotal.
        let table = try hub.hub("report", period)
        #expect(table.contains("enrollments registered from 2025-01-01 to 2025-12-31"))
        #expect(table.split(separator: "\n").last?.split(separator: " ").map(String.init) == ["TOTAL", "1", "3", "2", "1", "0", "7"], "\(table)")
        #expect(table.contains("all programs"))

        // Filters, and every year.
        let blki = try hub.hub("report", ["--partner", "blki", "--format", "csv"]).components(separatedBy: "\r\n")
        #expect(blki.contains("TOTAL,,,,0,1,2,0,0,3"), "\(blki)")
        let dropped = try hub.hub("report", ["--status", "dropped", "--format", "csv"]).components(separatedBy: "\r\n")
        #expect(dropped.contains("TOTAL,,,,0,0,0,0,1,1"), "\(dropped)")

        // A bad date is refused with what to type.
        let bad = try hub.run(["hub", "report", "--config", world.cluster.hubConfig, "--from", "1/1/2025"], expect: -1)
        #expect(bad.status != 0 && bad.errors.contains("--from must be a date written YYYY-MM-DD"), "\(bad.errors)")

        // Counts only: no person's NIK, name or phone in any output.
        hub.expectNoPersonalData(world.people)
    }
}
