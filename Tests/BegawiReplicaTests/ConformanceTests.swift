import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Runs the shared merge cases (`MergeCases`: ../shared/spec/merge-cases.json, kept also as
/// Tests/Data/merge-cases.json; Tests/Data/merge-cases.README.md gives the rules) against real
/// replica files, one per site (the hub "H" too), each sync an export applied by the receiver.
@Suite(.blocking) struct ConformanceTests {
    @Test func allCasesPass() throws {
        let cases = try MergeCases.load()
        #expect(cases.cases.count == 312)
        let table = TableSpec(name: cases.table, columns: cases.columns.map { ColumnSpec(name: $0) })
        var failures: [String] = []
        for c in cases.cases {
            do {
                if let problem = try run(c, of: cases, table: table) { failures.append("\(c.name): \(problem)") }
            } catch {
                failures.append("\(c.name): threw \(error)")
            }
        }
        #expect(failures.count == 0, Comment(rawValue: "\(failures.count) of \(cases.cases.count) cases failed:\n" + failures.prefix(10).joined(separator: "\n")))
    }

    func run(_ c: MergeCases.Case, of cases: MergeCases, table: TableSpec) throws -> String? {
        let folder = TemporaryFolder("conformance")
        var replicas: [String: Replica] = [:]
        var apps: [String: StaffApp] = [:]
        for site in c.sites {
            let path = folder.file("\(site).sqlite")
            replicas[site] = try Replica.create(at: path, siteID: site.lowercased(), schema: Schema(tables: [table]))
            apps[site] = try StaffApp(path: path)
        }
        for step in c.steps {
            if let s = step.sync {
                try sync(from: replicas[s.from]!, to: replicas[s.to]!, limits: BatchLimits(maxRows: 2))
                continue
            }
            let site = step.at!
            if let (sql, arguments) = cases.statement(for: step) {
                try apps[site]!.execute(sql, StatementArguments(arguments))
            }
            let stamped = try replicas[site]!.captureLocalChanges(clock: .forced(HybridTimestamp(rawValue: step.clock!)))
            guard stamped == 1 else { return "a write at \(site) was captured \(stamped) times" }
        }

        for (site, replica) in replicas {
            let rows = try replica.rows(of: table.name).mapValues { $0.map { v -> String? in if case .text(let s) = v { s } else { nil } } }
            if let problem = cases.judgeRows(rows, of: c, at: site) { return problem }
        }
        var ledger = Set<MergeCases.LedgerEntry>()
        for replica in replicas.values {
            for entry in try replica.conflicts() {
                guard case .text(let v) = entry.loserValue else { return "a ledger value is not text" }
                ledger.insert(MergeCases.LedgerEntry(row: entry.key, column: entry.column, value: v, lostToDelete: entry.winnerIsDelete))
            }
        }
        if let problem = cases.judgeLedger(ledger, of: c) { return problem }
        for r in replicas.values { try r.close() }
        return nil
    }
}
