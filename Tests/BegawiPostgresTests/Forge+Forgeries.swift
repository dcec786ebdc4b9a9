import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB

/// The forgeries themselves, one case each, and the broken numbers they use.
extension Forge {
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
