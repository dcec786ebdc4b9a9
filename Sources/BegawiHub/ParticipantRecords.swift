public import BegawiCore
package import BegawiRules

/// One entry of where a row's data went: accepted and refused writes, and which sites were given or
/// lost sight of it.
public struct TraceEntry: Sendable, Hashable {
    /// When (ms since the Unix epoch).
    public var at: Int64
    /// The site concerned.
    public var site: String
    /// The table.
    public var table: String
    /// The row's key.
    public var key: String
    /// What happened: inserted, updated, deleted, revived, refused, granted, revoked, erased.
    public var action: String
    /// The refusal's reason, if any.
    public var reason: String?

    /// Makes an entry (both hub stores build them).
    public init(at: Int64, site: String, table: String, key: String, action: String, reason: String?) {
        self.at = at
        self.site = site
        self.table = table
        self.key = key
        self.action = action
        self.reason = reason
    }

    /// The trace's words for a feed event of `_hub_feed` (its kind).
    package static func action(ofEvent kind: Int64) -> String {
        switch HubRulesSQL.Event(rawValue: kind) {
        case .grant?: "granted"
        case .revoke?: "revoked"
        case .erase?: "erasure sent"
        case nil: "unknown"
        }
    }

    /// The trace's order: oldest first, then by table and key (both stores sort the same way).
    package static func ordered(_ entries: [TraceEntry]) -> [TraceEntry] {
        entries.sorted { ($0.at, $0.table, $0.key) < ($1.at, $1.table, $1.key) }
    }
}

/// Two rows of the table whose key derives from an identity number (`key_from`) that are likely
/// one person: alike in the declared columns (see `TableAccess.duplicateColumns`), with identity
/// numbers that differ.
public struct DuplicateCandidate: Sendable, Hashable {
    /// The two keys.
    public var keys: [String]
    /// The registering sites.
    public var sites: [String]
    /// How many digits of the identity numbers differ (1 is a likely typo).
    public var differingDigits: Int

    /// Makes a candidate pair.
    public init(keys: [String], sites: [String], differingDigits: Int) {
        self.keys = keys
        self.sites = sites
        self.differingDigits = differingDigits
    }

    /// The columns the schema file declares for comparing `person`'s rows (`"duplicates"`), checked
    /// against the table: refused when none are declared or one is not a column of `spec`.
    package static func columns(of person: TableAccess, in spec: TableSpec) throws -> [String] {
        let alike = person.duplicateColumns
        guard !alike.isEmpty else {
            throw BegawiError(.configuration, "the schema file declares no \"duplicates\" columns for table '\(person.table)' (for example \"duplicates\": [\"full_name\", \"birth_date\"] beside \"key_from\")")
        }
        for c in alike where spec.position(of: c) == nil {
            throw BegawiError(.invalidArgument, "table '\(person.table)' has no column '\(c)'")
        }
        return alike
    }

    /// The pairs among `rows` (each a person row's key, identity number, registering site and its
    /// normalized compared values, sorted by those values then key, as the stores' statements give
    /// them) that are alike in all `columns` compared values and whose identity numbers, of one
    /// length, differ in 1 to `maxDigits` places. Groups come in the order of their values.
    package static func pairs(_ rows: [(key: String?, identity: String?, owner: String?, alike: [String])], columns: Int,
                              maxDigits: Int) -> [DuplicateCandidate] {
        var groups: [[String]: [(key: String?, identity: String?, owner: String?)]] = [:]
        for r in rows where r.alike.count == columns {
            groups[r.alike, default: []].append((r.key, r.identity, r.owner))
        }
        var found: [DuplicateCandidate] = []
        for (_, members) in groups.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) where members.count > 1 {
            for i in 0..<members.count {
                for j in (i + 1)..<members.count {
                    guard let a = members[i].identity, let b = members[j].identity, a.count == b.count else { continue }
                    let differing = zip(a, b).filter { $0 != $1 }.count
                    guard differing > 0, differing <= maxDigits else { continue }
                    found.append(DuplicateCandidate(keys: [members[i].key ?? "", members[j].key ?? ""],
                                                    sites: [members[i].owner ?? "", members[j].owner ?? ""], differingDigits: differing))
                }
            }
        }
        return found
    }
}

/// What an erasure removed.
public struct ErasureReport: Sendable, Hashable {
    /// The rows removed at the hub.
    public var rows: [RowKey]
    /// The sites told to remove them on their next pull.
    public var sites: [String]

    /// Makes a report.
    public init(rows: [RowKey], sites: [String]) {
        self.rows = rows
        self.sites = sites
    }
}

/// The table of people (its key derived from an identity number, `key_from`) that the commands
/// about participants need, with both stores' refusals in one set of words.
package enum PersonTable {
    /// The rules, or the refusal of a command that needs them.
    package static func requirePolicy(_ policy: AccessPolicy?) throws -> AccessPolicy {
        guard let policy else {
            throw BegawiError(.configuration, "the hub's schema file declares no access rules; this command needs them (see config/handak-begawi.json)")
        }
        return policy
    }

    /// The table whose key derives from an identity number (`key_from`): one row per person.
    package static func of(_ policy: AccessPolicy) throws -> (TableAccess, TableAccess.DerivedKey) {
        guard let rule = policy.tables.values.first(where: { $0.derivedKey != nil }), let derived = rule.derivedKey else {
            throw BegawiError(.configuration, "no table of the schema derives its key from an identity number (\"key_from\"); this command needs one")
        }
        return (rule, derived)
    }

    /// The refusal of an erasure of a person the hub does not hold.
    package static func notHeld(_ table: String) -> BegawiError {
        BegawiError(.invalidArgument, "no row of '\(table)' with that key at the hub (it may be erased already); its trace shows its history")
    }
}

extension ErasureLog.Entry {
    /// The erasures a hub's `_hub_erased` rows hold (table, key, time, person: the person's key, or
    /// the row's own when none was recorded), one entry per person in the order of the rows given
    /// (oldest first).
    package static func grouped(_ rows: [(table: String, key: String, at: Int64, person: String)]) -> [ErasureLog.Entry] {
        var byPerson: [String: ErasureLog.Entry] = [:]
        var order: [String] = []
        for row in rows {
            if byPerson[row.person] == nil { order.append(row.person) }
            byPerson[row.person, default: ErasureLog.Entry(at: row.at, person: row.person, rows: [])].rows.append([row.table, row.key])
        }
        return order.compactMap { byPerson[$0] }
    }
}
