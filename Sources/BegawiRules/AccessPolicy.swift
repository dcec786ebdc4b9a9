public import BegawiCore
import Foundation

/// The rules between agencies for every synced table, read from the schema file's `access` objects.
///
/// The engine stays generic: a schema without `access` objects has no policy, and every site then
/// writes and receives every row.
public struct AccessPolicy: Hashable, Sendable {
    /// Rules by table name.
    public var tables: [String: TableAccess] {
        didSet { referenceIndex = AccessPolicy.referenceIndex(tables) }
    }
    /// `references(of:)` of every table, made when the rules are set: the hub asks for every row.
    private(set) var referenceIndex: [String: [Reference]]

    /// Makes a policy; `validate(against:)` checks it.
    public init(tables: [TableAccess]) {
        let byName = Dictionary(tables.map { ($0.table, $0) }, uniquingKeysWith: { a, _ in a })
        self.tables = byName
        referenceIndex = AccessPolicy.referenceIndex(byName)
    }

    /// The rules of a table.
    public subscript(table: String) -> TableAccess? { tables[table] }

    /// A stable digest of the rules, to notice when they change between runs.
    public var digest: String {
        var text = ""
        for name in tables.keys.sorted() {
            let t = tables[name]!
            text += "\(name)|\(t.owner)|\(t.writers.map(\.rawValue).sorted())|\(t.officeOnly.sorted())|\(t.receivers)|"
            text += "\(t.linkedBy.map { "\($0.table).\($0.column)" })|\(t.allowedValues.keys.sorted().map { "\($0)=\(t.allowedValues[$0]!.sorted())" })|"
            text += "\(t.derivedKey.map { "\($0.column),\($0.check),\($0.salt)" } ?? "")\n"
        }
        return Hashing.sha256Hex(Array(text.utf8))
    }

    /// Throws an error naming the first rule that does not fit the schema.
    public func validate(against schema: Schema) throws {
        func fail(_ table: String, _ text: String) -> BegawiError {
            BegawiError(.invalidSchema, "table '\(table)': \(text); fix its \"access\" object in the schema file")
        }
        for spec in schema.tables where tables[spec.name] == nil {
            throw BegawiError(.invalidSchema, "table '\(spec.name)' has no \"access\" object; once one table declares rules, every table must")
        }
        for (name, rule) in tables {
            guard let spec = schema.table(named: name) else { throw fail(name, "the schema declares no such table") }
            func column(_ c: String, _ what: String) throws {
                guard spec.position(of: c) != nil else { throw fail(name, "\(what) '\(c)' is not one of its columns") }
            }
            switch rule.owner {
            case .none:
                guard rule.writers.isEmpty else { throw fail(name, "rows without an owner can only be written by the office, so \"writers\" must be empty") }
            case .column(let c):
                try column(c, "owner column")
                guard !rule.officeOnly.contains(c) else { throw fail(name, "the owner column cannot also be office-only") }
            case .via(let c, let other):
                try column(c, "owner reference")
                guard other != name else { throw fail(name, "the owner reference points at the table itself; point at the table that names the owner") }
                guard let target = tables[other] else { throw fail(name, "the owner reference names table '\(other)', which has no rules") }
                if case .via = target.owner { throw fail(name, "the owner reference leads to '\(other)', whose owner is itself a reference; point at the table that names the owner") }
            }
            for c in rule.officeOnly { try column(c, "office-only column") }
            for (c, _) in rule.allowedValues { try column(c, "column with allowed values") }
            for link in rule.linkedBy {
                guard let other = schema.table(named: link.table), tables[link.table] != nil else { throw fail(name, "linked_by names table '\(link.table)', which is not declared") }
                guard other.position(of: link.column) != nil else { throw fail(name, "linked_by names column '\(link.column)', which '\(link.table)' does not have") }
                if rule.receivers == .all { throw fail(name, "a table every site receives needs no linked_by") }
            }
            if let derived = rule.derivedKey {
                try column(derived.column, "key_from column")
                guard TableAccess.DerivedKey.checks[derived.check] != nil else {
                    throw fail(name, "key_from check '\(derived.check)' is unknown; use \(TableAccess.DerivedKey.checkNames)")
                }
                guard !derived.salt.isEmpty else { throw fail(name, "key_from needs a non-empty salt") }
            }
        }
    }
}
