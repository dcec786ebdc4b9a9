import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Values from partner sites reach the office's dashboard and CSV as data, never as markup, a new
/// CSV row or a formula, whatever their Unicode: the payloads of issue 12, read back by Python's
/// HTML parser and its csv module.
@Suite(.blocking) struct OfficeEscapingTests {
    /// A program key that injected attributes when escaping went by `Character`.
    static let key = "zz\"\u{301} selected hidden autofocus onfocus=alert(1) x=\""
    /// Program titles with a bare LF and a bare CR, each followed by a formula.
    static let titles = ["Las\n=cmd|' /C calc'!A0", "Jahit\r=cmd|' /C calc'!A0"]

    @Test(arguments: ClusterStore.available) func partnersValuesStayDataOnTheDashboardAndInBothCSVs(store: ClusterStore) async throws {
        let agencies = try Agencies(label: "office-escaping", store: store)
        for (site, kind) in [("lpk-a", "lpk"), ("office", "office")] { try agencies.addSite(site, kind: kind) }
        try agencies.registerPartners(at: "office")
        let cluster = agencies.cluster
        var town = Bontang(series: 11)
        for (i, id) in [OfficeEscapingTests.key, "prog-lf", "prog-cr", "prog-rlo"].enumerated() {
            try agencies.offerProgram(id, by: "lpk-a", title: "Program \(i)")
            let person = town.person()
            try agencies.register(person, at: "lpk-a")
            try agencies.enroll("enr-\(i)", person.key, in: id, at: "lpk-a")
        }
        try agencies.syncAll()
        // Titles as a hub may hold them from before sites refused control characters: written in
        // its database directly, so that this test does not depend on the sites' checks.
        for (id, title) in [("prog-lf", OfficeEscapingTests.titles[0]), ("prog-cr", OfficeEscapingTests.titles[1]),
                            ("prog-rlo", "Pelatihan \u{202E}fdp.exe")] {
            try cluster.hubWrite("UPDATE programs SET title = ? WHERE id = ?", [title, id])
        }

        let office = try OfficeClient(cluster)
        try await office.signIn(try SiteIdentity.credential(cluster, "office"))
        let page = try await office.get("/office/pendaftaran")
        #expect(page.status == 200, "\(page)")
        let tags = try OfficeEscapingTests.startTags(page.body, cluster)
        let option = try #require(tags.first { $0.tag == "option" && $0.attributes.first?.1 == OfficeEscapingTests.key },
                                  "no option carries the key whole")
        #expect(option.attributes.map(\.0) == ["value"], "the key added attributes: \(option.attributes)")
        let row = try #require(tags.first { $0.tag == "tr" && $0.attributes.contains { $0.0 == "data-program" && $0.1 == OfficeEscapingTests.key } })
        #expect(row.attributes.map(\.0) == ["data-partner", "data-program"], "\(row.attributes)")
        #expect(!tags.contains { $0.attributes.contains { $0.0 == "onfocus" || $0.0 == "hidden" || $0.0 == "autofocus" } })
        // The right-to-left override is shown, not obeyed.
        let text = String(decoding: page.body, as: UTF8.self)
        #expect(text.contains("Pelatihan <span class=tanda>⟨U+202E⟩</span>fdp.exe"))
        #expect(!text.unicodeScalars.contains("\u{202E}"))

        // Both CSVs: each record parses back, strictly, to its fields, and no line of a field
        // starts a formula.
        let csv = try await office.get("/office/pendaftaran.csv")
        #expect(csv.status == 200, "\(csv)")
        let cli = try agencies.hub("report", ["--format", "csv"])
        #expect(String(decoding: csv.body, as: UTF8.self) == cli)
        for (what, bytes) in [("the dashboard's CSV", csv.body), ("hub report --format csv", Array(cli.utf8))] {
            let records = try OfficeEscapingTests.csvRecords(bytes, cluster)
            #expect(records.count == 1 + 4 + 1, "\(what): \(records)")
            #expect(records.allSatisfy { $0.count == records[0].count }, "\(what): \(records)")
            let titles = Dictionary(records.dropFirst().map { ($0[2], $0[3]) }, uniquingKeysWith: { a, _ in a })
            #expect(titles["prog-lf"] == "Las\n'=cmd|' /C calc'!A0", "\(what): \(titles)")
            #expect(titles["prog-cr"] == "Jahit\r'=cmd|' /C calc'!A0", "\(what): \(titles)")
            #expect(titles[OfficeEscapingTests.key] == "Program 0", "\(what): \(titles)")
            for field in records.joined() {
                for line in field.components(separatedBy: CharacterSet(charactersIn: "\r\n")) where Int(line) == nil {
                    #expect(!(line.unicodeScalars.first.map { "=+-@\t".unicodeScalars.contains($0) } ?? false),
                            "\(what): a line of \(field.debugDescription) starts a formula")
                }
            }
        }

        // The terminal's table: one line per program, every invisible character shown.
        let table = try agencies.hub("report")
        #expect(table.contains("Las⟨U+000A⟩=cmd|' /C calc'!A0") && table.contains("Jahit⟨U+000D⟩=cmd|' /C calc'!A0"), "\(table)")
        #expect(table.contains("Pelatihan ⟨U+202E⟩fdp.exe"), "\(table)")
        #expect(!table.unicodeScalars.contains { $0 != "\n" && InvisibleScalar.is($0) }, "\(table.debugDescription)")
        let tableLines = table.split(separator: "\n")
        #expect(tableLines.count == 8, "a heading, the columns, 4 programs, a subtotal, the total: \(table)")
    }

    /// Start tags with their attributes, in order, as Python's `html.parser` reads them.
    static func startTags(_ page: [UInt8], _ cluster: Cluster) throws -> [(tag: String, attributes: [(String, String)])] {
        let file = cluster.path("page-\(UUID().uuidString.prefix(8)).html")
        try Data(page).write(to: URL(fileURLWithPath: file))
        let script = """
            import html.parser, json, sys
            class Tags(html.parser.HTMLParser):
                def __init__(self):
                    super().__init__(convert_charrefs=True)
                    self.tags = []
                def handle_starttag(self, tag, attrs):
                    self.tags.append([tag, [[k, v or ""] for k, v in attrs]])
            p = Tags()
            p.feed(open(sys.argv[1], encoding="utf-8").read())
            p.close()
            print(json.dumps(p.tags))
            """
        let data = try Prometheus.runPython(["-c", script, file], what: "parsing the dashboard's page")
        let tags = try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]])
        return tags.map { tag in
            ((tag[0] as? String) ?? "", ((tag[1] as? [[String]]) ?? []).map { ($0[0], $0[1]) })
        }
    }

    /// The records of a CSV file as Python's csv module reads it in strict mode.
    static func csvRecords(_ bytes: [UInt8], _ cluster: Cluster) throws -> [[String]] {
        let file = cluster.path("report-\(UUID().uuidString.prefix(8)).csv")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let script = """
            import csv, json, sys
            with open(sys.argv[1], newline="", encoding="utf-8") as f:
                print(json.dumps(list(csv.reader(f, strict=True))))
            """
        let data = try Prometheus.runPython(["-c", script, file], what: "reading the CSV")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [[String]])
    }
}

extension Cluster {
    /// A write into the hub's database by another program, as an administrator's `sqlite3` (or
    /// `psql`) would; values bound in order (`?`).
    func hubWrite(_ sql: String, _ values: [String] = []) throws {
        if postgres != nil {
            _ = try query("hub", sql, values)
            return
        }
        let arguments = StatementArguments(values)
        let queue = try DatabaseQueue(path: path("hub.sqlite"), configuration: { var c = Configuration(); c.busyMode = .timeout(10); return c }())
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }
}

enum InvisibleScalar {
    static func `is`(_ scalar: Unicode.Scalar) -> Bool {
        [.control, .format, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory)
    }
}
