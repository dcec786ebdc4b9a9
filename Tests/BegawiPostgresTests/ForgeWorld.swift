import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import Foundation
import GRDB
import Testing

/// A hub with rows of every table owned by several sites, and what a forger may know of them
/// (BegawiHubTests' `ForgeWorld` on either store).
final class ForgeWorld {
    let h: RulesHarness
    static let siteKinds: [String: SiteKind] = ["disnaker": .office, "lpk-a": .lpk, "lpk-b": .lpk, "blki": .blki, "bplk": .bplk, "pt-a": .company, "pt-b": .company]
    var kinds: [String: SiteKind] { ForgeWorld.siteKinds }
    /// The merge state of every row the hub holds, as the office's replica (which receives all) has it.
    private(set) var states: [String: [String: RowState]] = [:]
    private(set) var values: [String: [String: [String: SQLValue]]] = [:]
    let people: [String: Person]

    static let tables = ["partners", "participants", "programs", "enrollments", "certifications", "placements", "vacancies"]

    init(kind: StoreKind) throws {
        let h = try RulesHarness(kind: kind)
        for (id, kind) in ForgeWorld.siteKinds.sorted(by: { $0.key < $1.key }) { try h.addSite(id, kind: kind) }
        for (id, kind) in ForgeWorld.siteKinds.sorted(by: { $0.key < $1.key }) {
            try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES (?, ?, ?)", [id, kind.rawValue, "Partner \(id)"])
        }
        var people: [String: Person] = [:]
        func register(_ site: String, _ n: Int) throws -> String {
            let p = Person.make(n)
            let key = p.key(h.policy)
            people[key] = p
            try h.staff(site, "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                        [key, p.nik, p.name, p.birth, p.female ? "P" : "L", site])
            return key
        }
        let a1 = try register("lpk-a", 1), a2 = try register("lpk-a", 2), b1 = try register("lpk-b", 3), k1 = try register("blki", 4)
        let n1 = try register("bplk", 5)
        for (site, program) in [("lpk-a", "prog-a"), ("lpk-b", "prog-b"), ("blki", "prog-k"), ("bplk", "prog-n")] {
            try h.staff(site, "INSERT INTO programs(id, provider, title, funding) VALUES (?, ?, 'Las', 'APBD')", [program, site])
        }
        for (site, id, person, program) in [("lpk-a", "enr-a", a1, "prog-a"), ("lpk-b", "enr-b", b1, "prog-b"), ("lpk-b", "enr-b2", a1, "prog-b"),
                                            ("blki", "enr-k", k1, "prog-k"), ("bplk", "enr-n", n1, "prog-n")] {
            try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'active')", [id, person, program])
        }
        for (site, id, person) in [("lpk-a", "cert-a", a1), ("lpk-b", "cert-b", b1), ("blki", "cert-k", k1)] {
            try h.staff(site, "INSERT INTO certifications(id, participant_id, number, scheme, issuer, recorded_by) VALUES (?, ?, 'C-1', 'Las', 'LSP', ?)",
                        [id, person, site])
        }
        for (site, id, person) in [("pt-a", "pl-a", a1), ("pt-b", "pl-b", b1), ("pt-a", "pl-a2", n1)] {
            try h.staff(site, "INSERT INTO placements(id, participant_id, company, position, kind) VALUES (?, ?, ?, 'Welder', 'employment')", [id, person, site])
        }
        for (site, id) in [("pt-a", "vac-a"), ("pt-b", "vac-b")] {
            try h.staff(site, "INSERT INTO vacancies(id, company, title) VALUES (?, ?, 'Welder')", [id, site])
        }
        try h.syncAll()
        // The office verifies and approves, and edits rows of sites: other sites' writes on a site's own rows.
        try h.staff("disnaker", "UPDATE participants SET verified_on = '2025-02-01' WHERE id IN (?, ?)", [a1, b1])
        try h.staff("disnaker", "UPDATE participants SET phone = '0811' WHERE id = ?", [a2])
        try h.staff("disnaker", "UPDATE programs SET approved_on = '2025-02-02' WHERE id IN ('prog-a', 'prog-k')")
        try h.staff("disnaker", "UPDATE certifications SET verified_on = '2025-02-03' WHERE id = 'cert-a'")
        try h.staff("disnaker", "UPDATE placements SET verified_on = '2025-02-04' WHERE id = 'pl-a'")
        try h.staff("disnaker", "UPDATE vacancies SET title = 'Welder (3G)' WHERE id = 'vac-b'")
        try h.syncAll()
        self.people = people
        self.h = h

        for table in ForgeWorld.tables {
            states[table] = try h.site("disnaker").replica.rowStates(of: table)
            let spec = h.document.schema.table(named: table)!
            var byKey: [String: [String: SQLValue]] = [:]
            for (key, row) in try h.hubRows(table) {
                byKey[key] = Dictionary(uniqueKeysWithValues: spec.columns.enumerated().map { ($1.name, row[$0]) })
            }
            values[table] = byKey
            #expect(Set(byKey.keys) == Set(states[table]!.keys), "the office holds what the hub holds of \(table)")
        }
    }

    /// The hub's rows and every row's merge state as the store keeps it (SQLite: `_begawi_rows`
    /// with its change number; PostgreSQL: `_begawi_rows` with its position and published copy).
    func snapshot() throws -> HubSnapshot {
        var tables: [String: [String: [SQLValue]]] = [:]
        for table in ForgeWorld.tables { tables[table] = try h.hubRows(table) }
        let merge: [String]
        switch h.kind {
        case .sqlite:
            var config = Configuration()
            config.readonly = true
            let reader = try DatabaseQueue(path: h.folder.file("hub.sqlite"), configuration: config)
            defer { try? reader.close() }
            merge = try reader.read { db in
                try Row.fetchAll(db, sql: "SELECT tbl, key, seq, vector, stamps FROM _begawi_rows ORDER BY tbl, key").map { row in
                    (0..<row.count).map { "\(row[$0] as DatabaseValue)" }.joined(separator: "|")
                }
            }
        case .postgres:
            let link = try PostgresLink.connect(try #require(h.settings))
            defer { link.close() }
            merge = try link.query("""
                SELECT tbl || '|' || key || '|' || coalesce(encode(state, 'hex'), '-') || '|' || coalesce(pos::text, '-') || '|'
                    || coalesce(array_to_string(register_seq, ','), '-') || '|' || coalesce(encode(pub_state, 'hex'), '-')
                FROM _begawi_rows ORDER BY tbl, key
                """).map { row in try row.decode(String.self) }
        }
        return HubSnapshot(tables: tables, mergeState: merge)
    }

    func hubValues(_ table: String, _ key: String) throws -> [String: SQLValue]? {
        let spec = h.document.schema.table(named: table)!
        return try h.hubRows(table)[key].map { row in Dictionary(uniqueKeysWithValues: spec.columns.enumerated().map { ($1.name, row[$0]) }) }
    }

    /// The site owning a row the hub holds, by the rules.
    func owner(_ table: String, _ key: String) -> String? {
        guard let row = values[table]?[key] else { return nil }
        switch h.policy[table]!.owner {
        case .none: return nil
        case .column(let c): return row[c].flatMap { if case .text(let t) = $0 { t } else { nil } }
        case .via(let c, let other):
            guard case .text(let ref)? = row[c] else { return nil }
            return owner(other, ref)
        }
    }

    func spec(_ table: String) -> TableSpec { h.document.schema.table(named: table)! }

    /// A batch from the pushing site's replica, naming every column of each table it carries.
    func batch(from pusher: String, _ rows: [ForgedRow]) -> ChangeBatch {
        var tables: [BatchTable] = []
        var changes: [RowChange] = []
        for row in rows {
            let index: Int
            if let i = tables.firstIndex(where: { $0.name == row.table }) {
                index = i
            } else {
                tables.append(BatchTable(name: row.table, columns: spec(row.table).columns.map(\.name)))
                index = tables.count - 1
            }
            changes.append(RowChange(table: index, key: row.key, state: row.state))
        }
        return ChangeBatch(replicaID: h.site(pusher).replica.replicaID, baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: true, tables: tables, rows: changes)
    }
}

/// What a forged push must leave as it was: the hub's rows and their merge state.
struct HubSnapshot: Equatable {
    var tables: [String: [String: [SQLValue]]]
    var mergeState: [String]

    func difference(to other: HubSnapshot) -> String {
        var parts: [String] = []
        for (name, rows) in tables where other.tables[name] != rows {
            let theirs = other.tables[name] ?? [:]
            let changed = Set(rows.keys).union(theirs.keys).filter { rows[$0] != theirs[$0] }
            parts.append("\(name): \(changed.sorted())")
        }
        if mergeState != other.mergeState { parts.append("_begawi_rows: \(mergeState.count) → \(other.mergeState.count) rows, contents differ") }
        return parts.joined(separator: "; ")
    }
}
