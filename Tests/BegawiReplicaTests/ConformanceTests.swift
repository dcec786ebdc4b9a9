import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Runs the shared merge cases (../shared/spec/merge-cases.json, kept also as Tests/Data/merge-cases.json;
/// Tests/Data/merge-cases.README.md gives the rules) against real replica files.
@Suite(.blocking) struct ConformanceTests {
    struct Cases: Decodable {
        let table: String
        let columns: [String]
        let cases: [Case]
    }

    struct Case: Decodable {
        let name: String
        let sites: [String]
        let steps: [Step]
        let expect: Expect
    }

    struct Write: Decodable {
        let row: String
        let set: [String: String]
    }

    struct SyncStep: Decodable {
        let from: String
        let to: String
    }

    struct Step: Decodable {
        let at: String?
        let clock: UInt64?
        let insert: Write?
        let update: Write?
        let delete: String?
        let sync: SyncStep?
    }

    struct Expect: Decodable {
        let final: [String: [String: String]]
        let ledger_must: [[String]]
        let ledger_may: [[String]]
        let deleted_must: [[String]]?
        let deleted_may: [[String]]?
    }

    /// The shared folder's cases when it is beside the repository (or named by BEGAWI_SHARED);
    /// otherwise the copy the repository keeps in Tests/Data, so that a clone alone runs them too.
    static func load() throws -> Cases {
        let shared = Repository.shared.appendingPathComponent("spec/merge-cases.json")
        let own = Repository.root.appendingPathComponent("Tests/Data/merge-cases.json")
        guard let data = (try? Data(contentsOf: shared)) ?? (try? Data(contentsOf: own)) else {
            throw BegawiError(.invalidArgument, "the conformance cases are missing at \(shared.path) and \(own.path); set BEGAWI_SHARED to the shared folder")
        }
        return try JSONDecoder().decode(Cases.self, from: data)
    }

    @Test func allCasesPass() throws {
        let cases = try Self.load()
        #expect(cases.cases.count == 312)
        let table = TableSpec(name: cases.table, columns: cases.columns.map { ColumnSpec(name: $0) })
        var failures: [String] = []
        for c in cases.cases {
            do {
                if let problem = try run(c, table: table) { failures.append("\(c.name): \(problem)") }
            } catch {
                failures.append("\(c.name): threw \(error)")
            }
        }
        #expect(failures.count == 0, Comment(rawValue: "\(failures.count) of \(cases.cases.count) cases failed:\n" + failures.prefix(10).joined(separator: "\n")))
    }

    func run(_ c: Case, table: TableSpec) throws -> String? {
        let folder = TemporaryFolder("conformance")
        var replicas: [String: Replica] = [:]
        var apps: [String: StaffApp] = [:]
        for site in c.sites {
            let path = folder.file("\(site).sqlite")
            replicas[site] = try Replica.create(at: path, siteID: site.lowercased(), schema: Schema(tables: [table]))
            apps[site] = try StaffApp(path: path)
        }
        let q = { (s: String) in "\"\(s)\"" }
        for step in c.steps {
            if let s = step.sync {
                try sync(from: replicas[s.from]!, to: replicas[s.to]!, limits: BatchLimits(maxRows: 2))
                continue
            }
            let site = step.at!
            let app = apps[site]!
            if let w = step.insert {
                let cols = table.columns.map(\.name)
                try app.execute("INSERT INTO \(q(table.name)) (id, \(cols.map(q).joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: cols.count)))",
                                StatementArguments([w.row] + cols.map { w.set[$0] }))
            } else if let w = step.update {
                let sets = w.set.keys.sorted()
                try app.execute("UPDATE \(q(table.name)) SET \(sets.map { "\(q($0)) = ?" }.joined(separator: ", ")) WHERE id = ?",
                                StatementArguments(sets.map { w.set[$0] } + [w.row]))
            } else if let row = step.delete {
                try app.execute("DELETE FROM \(q(table.name)) WHERE id = ?", [row])
            }
            let stamped = try replicas[site]!.captureLocalChanges(clock: .forced(HybridTimestamp(rawValue: step.clock!)))
            guard stamped == 1 else { return "a write at \(site) was captured \(stamped) times" }
        }

        let expected = c.expect.final.mapValues { row in table.columns.map { SQLValue.text(row[$0.name]!) } }
        for (site, replica) in replicas {
            let rows = try replica.rows(of: table.name).mapValues { $0.map { v -> SQLValue in v } }
            if rows != expected { return "final rows at \(site) differ: \(rows.keys.sorted()) vs \(expected.keys.sorted())" }
        }
        var ledger = Set<[String]>()
        var deleted = Set<[String]>()
        for replica in replicas.values {
            for entry in try replica.conflicts() {
                guard case .text(let v) = entry.loserValue else { return "a ledger value is not text" }
                if entry.winnerIsDelete { deleted.insert([entry.key, entry.column, v]) } else { ledger.insert([entry.key, entry.column, v]) }
            }
        }
        let must = Set(c.expect.ledger_must), may = Set(c.expect.ledger_may)
        if !must.isSubset(of: ledger) { return "ledger lacks \(must.subtracting(ledger))" }
        if !ledger.isSubset(of: may) { return "ledger has unexpected \(ledger.subtracting(may))" }
        let dMust = Set(c.expect.deleted_must ?? [])
        let dMay = Set(c.expect.deleted_may ?? c.expect.deleted_must ?? []).union(dMust)
        if !dMust.isSubset(of: deleted) { return "deleted-ledger lacks \(dMust.subtracting(deleted))" }
        if !deleted.isSubset(of: dMay) { return "deleted-ledger has unexpected \(deleted.subtracting(dMay))" }
        for r in replicas.values { try r.close() }
        return nil
    }
}
