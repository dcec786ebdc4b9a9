import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB

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
}
