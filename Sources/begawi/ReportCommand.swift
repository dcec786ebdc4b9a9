import ArgumentParser
import BegawiCore
import BegawiHub
import Foundation

/// `begawi hub report`: enrollments by partner × program × status, with totals.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Enrollments by partner × program × status for a period of registration dates, with totals (counts only, no personal data).")
    @OptionGroup var options: HubCommand.Options
    @Option(help: "First registration date counted (YYYY-MM-DD); default: the earliest.") var from: String?
    @Option(help: "Last registration date counted (YYYY-MM-DD); default: the latest.") var to: String?
    @Option(help: "Only this partner (site id).") var partner: String?
    @Option(help: "Only this program (id).") var program: String?
    @Option(help: "Only this status.") var status: String?
    @Option(help: "table, csv or json.") var format: Format = .table

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    func run() throws {
        let store = try HubCommand.openStore(options)
        defer { try? store.close() }
        let report = try store.enrollmentReport(ReportFilter(from: from, to: to, partner: partner, program: program, status: status))
        switch format {
        case .csv: FileHandle.standardOutput.write(Data(report.csv.utf8))
        case .json:
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        case .table: print(ReportCommand.table(report))
        }
    }

    /// Aligned columns: each partner's programs, the partner's subtotal, and the grand total.
    static func table(_ report: EnrollmentReport) -> String {
        let period = "enrollments registered \(report.from.map { "from \($0)" } ?? "from the start") \(report.to.map { "to \($0)" } ?? "to date")"
        guard !report.lines.isEmpty else { return period + ": none" }
        var rows: [[String]] = [["partner", "program"] + report.statuses + ["total"]]
        let subtotals = Dictionary(uniqueKeysWithValues: report.partnerTotals.map { ($0.partner, $0) })
        var current: String?
        func subtotal(_ partner: String) {
            guard let s = subtotals[partner] else { return }
            rows.append(["", "  all programs"] + report.statuses.map { String(s.counts[$0] ?? 0) } + [String(s.total)])
        }
        for line in report.lines {
            if let c = current, c != line.partner { subtotal(c) }
            let first = current != line.partner
            current = line.partner
            // Names and titles come from partner sites: shown on one line, with nothing a terminal
            // would obey (ESC, bidi overrides) or a reader could not see.
            rows.append([first ? InvisibleCharacters.shown("\(line.partnerName) (\(line.partner))") : "", InvisibleCharacters.shown(line.programTitle)]
                        + report.statuses.map { String(line.counts[$0] ?? 0) } + [String(line.total)])
        }
        if let c = current { subtotal(c) }
        rows.append(["TOTAL", ""] + report.statuses.map { String(report.totals[$0] ?? 0) } + [String(report.total)])
        let widths = (0..<rows[0].count).map { i in rows.map { $0[i].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i < 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return ([period] + lines).joined(separator: "\n")
    }
}
