import ArgumentParser
import BegawiCore
import BegawiHub
import BegawiOffice
import BegawiPostgres
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
        let filter = ReportFilter(from: from, to: to, partner: partner, program: program, status: status)
        let report: EnrollmentReport
        switch try HubDatabase(try HubConfigFile.load(options.config)) {
        case .sqlite:
            let store = try HubCommand.openStore(options, for: "report")
            defer { try? store.close() }
            report = try store.enrollmentReport(filter)
        case .postgres(let settings):
            // Opened without rules: the report follows the published current version's (its statuses' order).
            let store = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { store.close() }
            report = try store.enrollmentReport(filter)
        }
        switch format {
        case .csv: FileHandle.standardOutput.write(Data(report.csv.utf8))
        case .json:
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        case .table: print(report.table)
        }
    }
}
