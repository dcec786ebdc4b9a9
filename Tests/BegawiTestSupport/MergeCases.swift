import Foundation

/// The shared merge cases (../shared/spec/merge-cases.json, kept also as Tests/Data/merge-cases.json;
/// Tests/Data/merge-cases.README.md gives the rules), decoded once for every suite that runs them:
/// replica to replica (`ConformanceTests`) and through a hub store (`StoreConformanceTests`).
public struct MergeCases: Decodable, Sendable {
    /// The synced table every case writes.
    public let table: String
    /// Its columns besides the key `id`.
    public let columns: [String]
    /// The cases, in the file's order.
    public let cases: [Case]

    /// One case: its sites, its steps in order, what must hold after the last one.
    public struct Case: Decodable, Sendable {
        public let name: String
        public let sites: [String]
        public let steps: [Step]
        public let expect: Expect
    }

    /// The row and values of an insert or update.
    public struct Write: Decodable, Sendable {
        public let row: String
        public let set: [String: String]
    }

    /// `to` merges everything `from` has that `to` lacks.
    public struct SyncStep: Decodable, Sendable {
        public let from: String
        public let to: String
    }

    /// One step: a write at a site with its clock, or a sync.
    public struct Step: Decodable, Sendable {
        public let at: String?
        public let clock: UInt64?
        public let insert: Write?
        public let update: Write?
        public let delete: String?
        public let sync: SyncStep?
    }

    /// What must hold after the last step (the README's `expect`).
    public struct Expect: Decodable, Sendable {
        public let final: [String: [String: String]]
        public let ledger_must: [[String]]
        public let ledger_may: [[String]]
        public let deleted_must: [[String]]?
        public let deleted_may: [[String]]?
    }

    /// One conflict ledger entry as the cases name it: the row, the column, the losing value, and
    /// whether the winner was a delete.
    public struct LedgerEntry: Hashable, Sendable {
        public let row: String
        public let column: String
        public let value: String
        public let lostToDelete: Bool

        public init(row: String, column: String, value: String, lostToDelete: Bool) {
            self.row = row
            self.column = column
            self.value = value
            self.lostToDelete = lostToDelete
        }
    }

    /// The shared folder's cases when it is beside the repository (or named by BEGAWI_SHARED);
    /// otherwise the copy the repository keeps in Tests/Data, so that a clone alone runs them too.
    public static func load() throws -> MergeCases {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = ProcessInfo.processInfo.environment["BEGAWI_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? root.deletingLastPathComponent().appendingPathComponent("shared")
        let sharedFile = shared.appendingPathComponent("spec/merge-cases.json")
        let own = root.appendingPathComponent("Tests/Data/merge-cases.json")
        guard let data = (try? Data(contentsOf: sharedFile)) ?? (try? Data(contentsOf: own)) else {
            throw MergeCasesMissing(message: "the conformance cases are missing at \(sharedFile.path) and \(own.path); set BEGAWI_SHARED to the shared folder")
        }
        return try JSONDecoder().decode(MergeCases.self, from: data)
    }

    /// The statement a staff application runs for a write step, with its arguments (nil for a sync).
    public func statement(for step: Step) -> (sql: String, arguments: [String?])? {
        let q = { (s: String) in "\"\(s)\"" }
        if let w = step.insert {
            return ("INSERT INTO \(q(table)) (id, \(columns.map(q).joined(separator: ", "))) VALUES (?\(String(repeating: ", ?", count: columns.count)))",
                    [w.row] + columns.map { w.set[$0] })
        } else if let w = step.update {
            let sets = w.set.keys.sorted()
            return ("UPDATE \(q(table)) SET \(sets.map { "\(q($0)) = ?" }.joined(separator: ", ")) WHERE id = ?",
                    sets.map { w.set[$0] } + [w.row])
        } else if let row = step.delete {
            return ("DELETE FROM \(q(table)) WHERE id = ?", [row])
        }
        return nil
    }

    /// Judges one replica's visible rows (values in `columns` order; nil for NULL, or for a value
    /// that is not text) against a case's `final`; nil when they match, else what differs.
    public func judgeRows(_ rows: [String: [String?]], of c: Case, at place: String) -> String? {
        let expected = c.expect.final.mapValues { row in columns.map { Optional(row[$0] ?? "<missing in the case>") } }
        if rows == expected { return nil }
        let differing = Set(rows.keys).union(expected.keys).filter { rows[$0] != expected[$0] }.sorted()
        return "final rows at \(place) differ in \(differing): \(differing.map { "\($0) has \(rows[$0].map { "\($0)" } ?? "nothing"), expected \(expected[$0].map { "\($0)" } ?? "nothing")" }.joined(separator: "; "))"
    }

    /// Judges the union of the ledgers against a case's `ledger_must`/`ledger_may` and
    /// `deleted_must`/`deleted_may`; nil when it lies between them, else what is wrong.
    public func judgeLedger(_ entries: Set<LedgerEntry>, of c: Case) -> String? {
        let ledger = Set(entries.filter { !$0.lostToDelete }.map { [$0.row, $0.column, $0.value] })
        let deleted = Set(entries.filter(\.lostToDelete).map { [$0.row, $0.column, $0.value] })
        let must = Set(c.expect.ledger_must), may = Set(c.expect.ledger_may)
        if !must.isSubset(of: ledger) { return "ledger lacks \(must.subtracting(ledger))" }
        if !ledger.isSubset(of: may) { return "ledger has unexpected \(ledger.subtracting(may))" }
        let dMust = Set(c.expect.deleted_must ?? [])
        let dMay = Set(c.expect.deleted_may ?? c.expect.deleted_must ?? []).union(dMust)
        if !dMust.isSubset(of: deleted) { return "deleted-ledger lacks \(dMust.subtracting(deleted))" }
        if !deleted.isSubset(of: dMay) { return "deleted-ledger has unexpected \(deleted.subtracting(dMay))" }
        return nil
    }
}

/// The merge cases' file is in neither place it is looked for.
public struct MergeCasesMissing: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
