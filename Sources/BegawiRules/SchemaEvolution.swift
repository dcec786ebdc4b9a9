import BegawiCore

/// What publishing a schema version would change, and what it may not: the check a new version passes
/// before the hub or any replica takes it. A pure value: the published history and the candidate in,
/// the changes and the refusals out.
///
/// A version only adds (tables, nullable or defaulted columns, allowed values) or changes rules, so that a site
/// still on an older version keeps working: every column it knows still exists with the same type, and
/// a column it does not know is one the hub keeps apart. Anything else is done in steps over several
/// versions: expand (add the new), migrate (fill it), contract (stop using the old; it stays declared).
public struct SchemaEvolution: Sendable {
    /// One change a version makes, said in a line.
    public struct Change: Hashable, Sendable, CustomStringConvertible {
        /// What changes, as the office reads it.
        public var description: String
    }

    /// A change that is refused, with what to do instead.
    public struct Refusal: Hashable, Sendable, CustomStringConvertible {
        /// What the candidate does that is not allowed.
        public var problem: String
        /// How to make the change in allowed steps.
        public var remedy: String

        public var description: String { "\(problem); \(remedy)" }
    }

    /// The version the candidate follows (nil when nothing is published yet).
    public let current: Int?
    /// The candidate's version.
    public let version: Int
    /// The allowed changes, in the order of the candidate's tables.
    public internal(set) var changes: [Change] = []
    /// Every refused change; empty when the candidate may be published.
    public internal(set) var refusals: [Refusal] = []
    /// Whether the candidate is the current version already (the same content): nothing to publish.
    public internal(set) var isPublished = false

    /// Whether the candidate may be published.
    public var isAllowed: Bool { refusals.isEmpty }

    /// Checks `candidate` against every version published so far (`history`, in any order).
    public init(history: [SchemaDocument], candidate: SchemaDocument) {
        version = candidate.version
        guard let latest = history.max(by: { $0.version < $1.version }) else {
            current = nil
            changes = [Change(description: "version \(candidate.version): the first, with \(candidate.schema.tables.count) tables")]
            return
        }
        current = latest.version
        if let same = history.first(where: { $0.version == candidate.version }) {
            if same.digest == candidate.digest, candidate.version == latest.version {
                isPublished = true
                return
            }
            refuse(same.digest == candidate.digest
                       ? "version \(candidate.version) is published already, and \(latest.version) is the current one"
                       : "version \(candidate.version) is published already with other content",
                   "give the new file \"version\": \(latest.version + 1)")
            return
        }
        guard candidate.version > latest.version else {
            refuse("version \(candidate.version) is older than the published version \(latest.version)",
                   "give the new file \"version\": \(latest.version + 1)")
            return
        }
        compareTables(latest.schema, candidate.schema, everUsed: SchemaEvolution.names(history))
        compareRules(latest.policy, candidate.policy, tables: candidate.schema)
        if isAllowed, changes.isEmpty {
            changes.append(Change(description: "no change to the tables or rules (a new version number only)"))
        }
    }

    /// Throws one error listing every refusal with its remedy; returns when the candidate is allowed.
    public func requireAllowed() throws {
        guard !isAllowed else { return }
        let lines = refusals.map { "- \($0)" }.joined(separator: "\n")
        throw BegawiError(.invalidSchema, "version \(version) cannot be published; nothing was changed:\n\(lines)")
    }

    /// A one-line summary of the changes, for a history listing.
    public var summary: String { changes.map(\.description).joined(separator: "; ") }

    mutating func refuse(_ problem: String, _ remedy: String) {
        refusals.append(Refusal(problem: problem, remedy: remedy))
    }

    mutating func note(_ change: String) { changes.append(Change(description: change)) }

    /// Every table name, and every column name per table, any published version declared (lowercased:
    /// SQLite's names ignore case).
    static func names(_ history: [SchemaDocument]) -> (tables: [String: Int], columns: [String: Int]) {
        var tables: [String: Int] = [:], columns: [String: Int] = [:]
        for document in history.sorted(by: { $0.version < $1.version }) {
            for table in document.schema.tables {
                let name = table.name.lowercased()
                if tables[name] == nil { tables[name] = document.version }
                for column in [table.primaryKey] + table.columns {
                    let qualified = name + "." + column.name.lowercased()
                    if columns[qualified] == nil { columns[qualified] = document.version }
                }
            }
        }
        return (tables, columns)
    }
}
