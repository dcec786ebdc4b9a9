import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB
import Testing

/// Batches forged by an authenticated site, pushed straight to the hub's store as its push route
/// would hand them over: every forged row is refused, the refusal is audited, and nothing of the
/// hub's rows or merge state changes. A legitimate batch built the same way lands, so the test can fail.
///
/// The batches are random: the seed is printed, and `BEGAWI_FORGED_SEED=<seed>` replays a run.
@Suite struct ForgedBatchTests {
    static let batchCount = 1_200

    @Test func forgedBatchesAreRefusedAndChangeNothing() throws {
        let seed = ProcessInfo.processInfo.environment["BEGAWI_FORGED_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("ForgedBatchTests: seed \(seed); replay with BEGAWI_FORGED_SEED=\(seed)")
        var forge = Forge(world: try ForgeWorld(), rng: SplitMix64(seed: seed))
        let world = forge.world
        let before = try world.snapshot()
        var previous = before
        var audited = try world.h.store.auditCount(action: "refused")
        var failures: [String] = []
        var kinds: [Forgery: Int] = [:]
        var reasons: [String: Int] = [:]

        for index in 0..<ForgedBatchTests.batchCount {
            let (pusher, rows) = forge.batch()
            let batch = world.batch(from: pusher, rows)
            let outcome = try world.h.store.push(site: world.h.site(pusher).record, replica: world.h.site(pusher).replica.replicaID, batch: batch)
            func fail(_ text: String) { failures.append("batch \(index) from \(pusher): \(text)") }
            for row in rows {
                kinds[row.forgery, default: 0] += 1
                let refusals = outcome.refused.filter { $0.table == row.table && $0.key == row.key }
                guard refusals.count == 1, let refusal = refusals.first else {
                    fail("\(row.forgery) on \(row.table)/\(row.key) was \(refusals.isEmpty ? "accepted" : "refused \(refusals.count) times")")
                    continue
                }
                reasons[refusal.reason.code, default: 0] += 1
                if refusal.reason.code.isEmpty || refusal.message.isEmpty { fail("\(row.forgery) on \(row.table): empty reason or message") }
                if !row.expected.contains(refusal.reason.code) {
                    fail("\(row.forgery) on \(row.table)/\(row.key): reason '\(refusal.reason.code)', expected \(row.expected.sorted())")
                }
            }
            if outcome.refused.count != rows.count { fail("\(outcome.refused.count) refusals for \(rows.count) rows") }
            if outcome.rowsChanged != 0 { fail("\(outcome.rowsChanged) rows changed") }
            let after = try world.snapshot()
            if after != previous { fail("the hub changed: \(previous.difference(to: after))") }
            previous = after
            let count = try world.h.store.auditCount(action: "refused")
            if count != audited + rows.count { fail("the audit trail gained \(count - audited) refusals for \(rows.count) rows") }
            audited = count
            if failures.count > 40 { break }
        }

        let report = failures.prefix(40).joined(separator: "\n")
        #expect(failures.count == 0, "\(failures.count) failures (seed \(seed)):\n\(report)")
        #expect(try world.snapshot() == before, "the hub changed (seed \(seed))")
        print("ForgedBatchTests: forgeries \(kinds.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "))")
        print("ForgedBatchTests: reasons \(reasons.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        if failures.isEmpty {
            for forgery in Forgery.allCases {
                #expect(kinds[forgery, default: 0] >= 60, "forgery \(forgery.rawValue) is rare: \(kinds[forgery, default: 0]) rows")
            }
        }

        // The control: legitimate batches in the same style land.
        let prog = try #require(try world.hubValues("programs", "prog-a"))
        let update = forge.ownUpdate(pusher: "lpk-a", table: "programs", key: "prog-a", column: "title", value: .text("Las 3G, angkatan 2"))
        let newcomer = Person.make(9_001)
        let insert = forge.insert(pusher: "lpk-b", table: "participants", key: newcomer.key(world.h.policy),
                                  values: ["nik": .text(newcomer.nik), "full_name": .text(newcomer.name), "registered_by": .text("lpk-b")])
        let outcome = try world.h.store.push(site: world.h.site("lpk-a").record, replica: world.h.site("lpk-a").replica.replicaID,
                                             batch: world.batch(from: "lpk-a", [update]))
        #expect(outcome.refused.isEmpty, "\(outcome.refused.map(\.reason))")
        #expect(outcome.rowsChanged == 1)
        #expect(try world.hubValues("programs", "prog-a")?["title"] == .text("Las 3G, angkatan 2"))
        #expect(try world.hubValues("programs", "prog-a")?["provider"] == prog["provider"])
        let second = try world.h.store.push(site: world.h.site("lpk-b").record, replica: world.h.site("lpk-b").replica.replicaID,
                                            batch: world.batch(from: "lpk-b", [insert]))
        #expect(second.refused.isEmpty, "\(second.refused.map(\.reason))")
        #expect(try world.hubValues("participants", newcomer.key(world.h.policy))?["registered_by"] == .text("lpk-b"))
        #expect(try world.snapshot() != before)
        #expect(try world.h.store.auditCount(action: "refused") == audited)
    }
}

/// The kinds of forgery.
enum Forgery: String, CaseIterable, Hashable {
    case updateOthersRow, deleteOthersRow, insertNamingOtherOwner, enrollInOthersProgram, changeOwner, setOfficeOnly
    case foreignStampOwnRow, foreignStampOthersRow, foreignVectorEntry, wrongKindOfTable, invalidNIK, keyNotFromNIK, secondRegistration
}

/// One forged row and the refusal reasons that fit it.
struct ForgedRow {
    var table: String
    var key: String
    var state: RowState
    var forgery: Forgery
    var expected: Set<String>
}

/// What the hub holds, compared before and after: the synced tables and the merge state.
struct HubSnapshot: Equatable {
    var tables: [String: [String: [SQLValue]]]
    var mergeState: [[DatabaseValue]]

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

/// A hub with rows of every table owned by several sites, and what a forger may know of them.
final class ForgeWorld {
    let h: HubHarness
    static let siteKinds: [String: SiteKind] = ["disnaker": .office, "lpk-a": .lpk, "lpk-b": .lpk, "blki": .blki, "bplk": .bplk, "pt-a": .company, "pt-b": .company]
    var kinds: [String: SiteKind] { ForgeWorld.siteKinds }
    /// The merge state of every row the hub holds, as the office's replica (which receives all) has it.
    private(set) var states: [String: [String: RowState]] = [:]
    private(set) var values: [String: [String: [String: SQLValue]]] = [:]
    let reader: DatabaseQueue
    let people: [String: Person]

    static let tables = ["partners", "participants", "programs", "enrollments", "certifications", "placements", "vacancies"]

    init() throws {
        let h = try HubHarness()
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

        var config = Configuration()
        config.readonly = true
        reader = try DatabaseQueue(path: h.folder.file("hub.sqlite"), configuration: config)
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

    func snapshot() throws -> HubSnapshot {
        var tables: [String: [String: [SQLValue]]] = [:]
        for table in ForgeWorld.tables { tables[table] = try h.hubRows(table) }
        let merge = try reader.read { db in
            try Row.fetchAll(db, sql: "SELECT tbl, key, seq, vector, stamps FROM _begawi_rows ORDER BY tbl, key").map { row in
                (0..<row.count).map { row[$0] as DatabaseValue }
            }
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
        return ChangeBatch(source: h.site(pusher).replica.replicaID, base: 0, after: 0, through: 0, complete: true, tables: tables, rows: changes)
    }
}

/// Makes forged rows at random.
struct Forge {
    let world: ForgeWorld
    var rng: SplitMix64
    var counter: UInt64 = 1_000_000
    var clock: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000) + 1_000
    var serial = 0

    static let freeColumn = ["partners": "name", "participants": "phone", "programs": "title", "enrollments": "notes",
                             "certifications": "number", "placements": "position", "vacancies": "title"]
    static let officeOnly = ["participants": "verified_on", "programs": "approved_on", "certifications": "verified_on", "placements": "verified_on"]
    var nonOffice: [String] { world.kinds.keys.filter { $0 != "disnaker" }.sorted() }

    mutating func pick<T>(_ list: [T]) -> T { list[Int(rng.next() % UInt64(list.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    /// A stamp of `site`: its counter, or the next of the forger's own.
    mutating func stamp(_ site: String, counter c: UInt64? = nil) -> Stamp {
        clock += 1
        let n: UInt64
        if let c { n = c } else {
            counter += 1
            n = counter
        }
        return Stamp(clock: HybridTimestamp(milliseconds: clock, counter: 0), site: site, counter: n)
    }

    mutating func text() -> String {
        serial += 1
        return "forged \(serial) \(rng.next() % 10_000)"
    }

    func keys(_ table: String) -> [String] { (world.values[table] ?? [:]).keys.sorted() }

    /// An update of existing columns by `pusher` with its own stamps, over what it knows of the row.
    mutating func ownUpdate(pusher: String, table: String, key: String, column: String, value: SQLValue,
                            knows: Bool = true, forgery: Forgery = .updateOthersRow, expected: Set<String> = []) -> ForgedRow {
        let spec = world.spec(table)
        var state = RowState(columnCount: spec.columns.count)
        let s = stamp(pusher)
        state.columns[spec.position(of: column)!] = Register(value: value, stamp: s)
        if knows, let known = world.states[table]?[key] { state.vector = known.vector }
        state.vector.raise(pusher, to: s.counter)
        return ForgedRow(table: table, key: key, state: state, forgery: forgery, expected: expected)
    }

    /// An insert by `pusher` with its own stamps.
    mutating func insert(pusher: String, table: String, key: String, values: [String: SQLValue],
                         forgery: Forgery = .insertNamingOtherOwner, expected: Set<String> = []) -> ForgedRow {
        let spec = world.spec(table)
        var state = RowState(columnCount: spec.columns.count)
        var full = Forge.minimal(table)
        for (c, v) in values { full[c] = v }
        for (c, v) in full.sorted(by: { $0.key < $1.key }) { state.columns[spec.position(of: c)!] = Register(value: v, stamp: stamp(pusher)) }
        let d = stamp(pusher)
        state.deleted = Register(value: RowState.liveMarker, stamp: d)
        state.vector.raise(pusher, to: d.counter)
        return ForgedRow(table: table, key: key, state: state, forgery: forgery, expected: expected)
    }

    /// Values for the NOT NULL columns of a new row.
    static func minimal(_ table: String) -> [String: SQLValue] {
        switch table {
        case "partners": ["kind": .text("lpk"), "name": .text("Palsu")]
        case "participants": ["full_name": .text("Palsu"), "sex": .text("L")]
        case "programs": ["title": .text("Palsu"), "funding": .text("self")]
        case "enrollments": ["participant_id": .text("p0"), "program_id": .text("prog-a"), "status": .text("registered")]
        case "certifications": ["participant_id": .text("p0"), "number": .text("C-X"), "scheme": .text("Las"), "issuer": .text("LSP")]
        case "placements": ["participant_id": .text("p0"), "position": .text("Welder"), "kind": .text("employment")]
        default: ["title": .text("Palsu")]
        }
    }

    func kind(_ site: String) -> SiteKind { world.kinds[site]! }
    func writes(_ site: String, _ table: String) -> Bool { world.h.policy[table]!.writers.contains(kind(site)) }
    func ownRows(_ site: String, _ table: String) -> [String] { keys(table).filter { world.owner(table, $0) == site } }
    func othersRows(_ site: String, _ table: String) -> [String] { keys(table).filter { world.owner(table, $0) != site } }

    /// A participant that never was at the hub, with its derived key.
    mutating func newPerson() -> (key: String, nik: String) {
        serial += 1
        let p = Person.make(2_000 + serial % 7_000)
        return (p.key(world.h.policy), p.nik)
    }

    /// A batch: the pushing site and one to three forged rows with distinct keys.
    mutating func batch() -> (String, [ForgedRow]) {
        let pusher = chance(8) ? "disnaker" : pick(nonOffice)
        var rows: [ForgedRow] = []
        let wanted = 1 + Int(rng.next() % 3)
        var attempts = 0
        while rows.count < wanted, attempts < 50 {
            attempts += 1
            let forgery = pick(Forgery.allCases)
            guard let row = make(forgery, by: pusher), !rows.contains(where: { $0.table == row.table && $0.key == row.key }) else { continue }
            rows.append(row)
        }
        return (pusher, rows)
    }

    /// A forged row of a kind by a site, or nil when the site cannot make that forgery.
    mutating func make(_ forgery: Forgery, by pusher: String) -> ForgedRow? {
        let office = pusher == "disnaker"
        let others = world.kinds.keys.filter { $0 != pusher }.sorted() + ["hub", "lpk-zz", "ghost-\(rng.next() % 100)"]
        switch forgery {
        case .updateOthersRow, .deleteOthersRow:
            guard !office else { return nil }
            let table = pick(ForgeWorld.tables)
            let targets = othersRows(pusher, table)
            guard !targets.isEmpty else { return nil }
            let key = pick(targets)
            let reason: Set<String> = [writes(pusher, table) ? "not-owner" : "not-writer"]
            var row = ownUpdate(pusher: pusher, table: table, key: key, column: Forge.freeColumn[table]!, value: .text(text()),
                                knows: chance(50), forgery: forgery, expected: reason)
            if forgery == .deleteOthersRow {
                let d = stamp(pusher)
                row.state.deleted = Register(value: RowState.deletedMarker, stamp: d)
                row.state.vector.raise(pusher, to: d.counter)
                if chance(50) { row.state.columns = row.state.columns.map { _ in nil } }
            }
            return row

        case .insertNamingOtherOwner:
            let tables = ["participants", "programs", "certifications", "placements", "vacancies"].filter { writes(pusher, $0) }
            guard !office, !tables.isEmpty else { return nil }
            let table = pick(tables)
            let ownerColumn = world.h.policy[table]!.ownerColumn!
            var values: [String: SQLValue] = [ownerColumn: .text(pick(others))]
            var key = "forged-\(table)-\(serial)-\(rng.next() % 1_000_000)"
            if table == "participants" {
                let p = newPerson()
                key = p.key
                values["nik"] = .text(p.nik)
            }
            return insert(pusher: pusher, table: table, key: key, values: values, forgery: forgery, expected: ["not-owner"])

        case .enrollInOthersProgram:
            guard !office, writes(pusher, "enrollments") else { return nil }
            let programs = othersRows(pusher, "programs") + ["prog-none"]
            let key = "forged-enr-\(serial)-\(rng.next() % 1_000_000)"
            let program = pick(programs)
            // A program the hub does not have is an unknown reference; another site's is not the pusher's.
            return insert(pusher: pusher, table: "enrollments", key: key,
                          values: ["program_id": .text(program), "participant_id": .text(pick(keys("participants")))],
                          forgery: forgery, expected: [program == "prog-none" ? "unknown-reference" : "not-owner"])

        case .changeOwner:
            guard !office else { return nil }
            let tables = ["participants", "programs", "enrollments", "certifications", "placements", "vacancies"].filter { !ownRows(pusher, $0).isEmpty }
            guard !tables.isEmpty else { return nil }
            let table = pick(tables)
            let key = pick(ownRows(pusher, table))
            if table == "enrollments" {
                return ownUpdate(pusher: pusher, table: table, key: key, column: "program_id", value: .text(pick(othersRows(pusher, "programs"))),
                                 forgery: forgery, expected: ["not-owner"])
            }
            let column = world.h.policy[table]!.ownerColumn!
            // Emptying the owner column breaks its NOT NULL before it changes the owner.
            let emptied = chance(10)
            return ownUpdate(pusher: pusher, table: table, key: key, column: column, value: emptied ? .null : .text(pick(others)),
                             forgery: forgery, expected: [emptied ? "bad-value" : "owner-change"])

        case .setOfficeOnly:
            guard !office else { return nil }
            let tables = Forge.officeOnly.keys.sorted().filter { writes(pusher, $0) }
            guard !tables.isEmpty else { return nil }
            let table = pick(tables)
            let column = Forge.officeOnly[table]!
            let date = SQLValue.text("2031-0\(1 + rng.next() % 9)-1\(rng.next() % 10)")
            let own = ownRows(pusher, table)
            if !own.isEmpty, chance(60) {
                let key = pick(own)
                let value: SQLValue = world.values[table]![key]![column] == .null ? date : (chance(50) ? .null : date)
                return ownUpdate(pusher: pusher, table: table, key: key, column: column, value: value, forgery: forgery, expected: ["office-only"])
            }
            var values: [String: SQLValue] = [column: date, world.h.policy[table]!.ownerColumn!: .text(pusher)]
            var key = "forged-\(table)-\(serial)-\(rng.next() % 1_000_000)"
            if table == "participants" {
                let p = newPerson()
                key = p.key
                values["nik"] = .text(p.nik)
            }
            return insert(pusher: pusher, table: table, key: key, values: values, forgery: forgery, expected: ["office-only"])

        case .foreignStampOwnRow, .foreignStampOthersRow:
            let table = pick(ForgeWorld.tables)
            let candidates = forgery == .foreignStampOwnRow && !office ? ownRows(pusher, table) : othersRows(pusher, table)
            guard !candidates.isEmpty else { return nil }
            let key = pick(candidates)
            let known = world.states[table]![key]!
            let spec = world.spec(table)
            let column = Forge.freeColumn[table]!
            let position = spec.position(of: column)!
            let site = pick(others)
            let onDeleted = chance(25)
            // Either a write the hub has not seen (counter past its vector), or, where the hub holds
            // writes of that site, a different write of it under a counter it has seen — the very
            // write the hub holds in that register (same site and counter) included, with a later
            // clock and another value.
            var counter = known.vector[site] + 1 + rng.next() % 4
            if known.vector[site] >= 1, chance(50) {
                let held = onDeleted ? known.deleted?.stamp : known.columns[position]?.stamp
                if let held, held.site == site, chance(50) {
                    counter = held.counter
                } else {
                    counter = pick(Array(1...known.vector[site]))
                }
            }
            var state = RowState(columnCount: spec.columns.count)
            state.vector = known.vector
            let foreign = stamp(site, counter: counter)
            if onDeleted {
                state.deleted = Register(value: chance(50) ? RowState.deletedMarker : RowState.liveMarker, stamp: foreign)
            } else {
                state.columns[position] = Register(value: .text(text()), stamp: foreign)
            }
            state.vector.raise(site, to: counter)
            if chance(50) {
                let own = stamp(pusher)
                let other = spec.columns.indices.filter { $0 != position && spec.columns[$0].name == "notes" }
                if let i = other.first { state.columns[i] = Register(value: .text(text()), stamp: own) }
                state.vector.raise(pusher, to: own.counter)
            }
            return ForgedRow(table: table, key: key, state: state, forgery: forgery, expected: ["forged-stamp"])

        case .foreignVectorEntry:
            let table = pick(ForgeWorld.tables)
            let candidates = office ? keys(table) : ownRows(pusher, table)
            guard !candidates.isEmpty else { return nil }
            let key = pick(candidates)
            var row = ownUpdate(pusher: pusher, table: table, key: key, column: Forge.freeColumn[table]!, value: .text(text()),
                                forgery: forgery, expected: ["forged-stamp"])
            let site = pick(others)
            row.state.vector.raise(site, to: (world.states[table]![key]?.vector[site] ?? 0) + 1 + rng.next() % 1_000)
            return row

        case .wrongKindOfTable:
            guard !office else { return nil }
            let tables = ForgeWorld.tables.filter { !writes(pusher, $0) }
            let table = pick(tables)
            var values: [String: SQLValue] = [:]
            var key = "forged-\(table)-\(serial)-\(rng.next() % 1_000_000)"
            switch table {
            case "partners":
                if chance(50) {
                    return ownUpdate(pusher: pusher, table: table, key: pusher, column: "name", value: .text(text()),
                                     forgery: forgery, expected: ["not-writer"])
                }
                key = pusher + "-2"
                values = ["kind": .text(kind(pusher).rawValue)]
            case "participants":
                let p = newPerson()
                key = p.key
                values = ["nik": .text(p.nik), "registered_by": .text(pusher)]
            case "enrollments":
                values = ["program_id": .text(pick(keys("programs"))), "participant_id": .text(pick(keys("participants")))]
            default:
                values = [world.h.policy[table]!.ownerColumn!: .text(pusher)]
            }
            return insert(pusher: pusher, table: table, key: key, values: values, forgery: forgery, expected: ["not-writer"])

        case .invalidNIK:
            guard office || writes(pusher, "participants") else { return nil }
            let nik = badNIK()
            let key = chance(70) ? NIK.key(for: nik, salt: world.h.policy["participants"]!.derivedKey!.salt) : newPerson().key
            return insert(pusher: pusher, table: "participants", key: key, values: ["nik": .text(nik), "registered_by": .text(pusher)],
                          forgery: forgery, expected: ["invalid-nik"])

        case .keyNotFromNIK:
            guard office || writes(pusher, "participants") else { return nil }
            let p = newPerson()
            let key: String
            switch rng.next() % 4 {
            case 0: key = NIK.key(for: p.nik, salt: "another-programme")
            case 1: key = newPerson().key
            case 2: key = "p" + String(format: "%016llx%016llx", rng.next(), rng.next())
            default: key = UUID().uuidString.lowercased()
            }
            return insert(pusher: pusher, table: "participants", key: key, values: ["nik": .text(p.nik), "registered_by": .text(pusher)],
                          forgery: forgery, expected: ["key-mismatch"])

        case .secondRegistration:
            guard !office, writes(pusher, "participants") else { return nil }
            let theirs = othersRows(pusher, "participants")
            guard !theirs.isEmpty else { return nil }
            let key = pick(theirs)
            let person = world.people[key]!
            return insert(pusher: pusher, table: "participants", key: key,
                          values: ["nik": .text(person.nik), "full_name": .text(text()), "registered_by": .text(pusher)],
                          forgery: forgery, expected: ["already-registered"])
        }
    }

    /// A number that is not a plausible NIK, made by breaking a plausible one in one place.
    mutating func badNIK() -> String {
        var digits = Array(newPerson().nik)
        func set(_ at: Int, _ text: String) { digits.replaceSubrange(at..<at + text.count, with: Array(text)) }
        switch rng.next() % 10 {
        case 0: set(0, pick(["00", "10", "20", "99", "41", "80", "98"]))
        case 1: set(2, "00")
        case 2: set(4, "00")
        case 3: set(8, String(format: "%02d", 13 + Int(rng.next() % 87)))
        case 4: set(6, String(format: "%02d", pick([0, 32, 33, 39, 40, 72, 80, 99])))
        case 5: set(6, pick(["30", "31", "70", "71"])); set(8, "02")
        case 6: set(12, "0000")
        case 7: digits.removeLast(1 + Int(rng.next() % 3))
        case 8: digits.append(contentsOf: Array(String(rng.next() % 10)))
        default: digits[Int(rng.next() % 16)] = pick(["a", " ", "-", "O", "٣"])
        }
        return String(digits)
    }
}
