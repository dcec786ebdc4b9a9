import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB
import Testing

/// One cell's hub (BegawiHubTests' `MatrixWorld` on either store): the acting site, `lpk-b` and `pt-b` as other owners, and the office.
struct MatrixWorld {
    let h: RulesHarness
    let kind: SiteKind
    let actor: String
    /// A person registered by `lpk-b`.
    let person: String

    static let changedValue = "Changed by the cell"

    init(actingKind kind: SiteKind, store: StoreKind) throws {
        h = try RulesHarness(kind: store)
        self.kind = kind
        actor = StoreAccessMatrixTests.actor(kind)
        for (id, k) in [(actor, kind), ("lpk-b", .lpk), ("pt-b", .company), ("disnaker", .office)] where h.sites[id] == nil {
            try h.addSite(id, kind: k)
        }
        person = Person.make(1).key(h.policy)
    }

    func canOwn(_ table: String) -> Bool { kind != .office && h.policy[table]!.writers.contains(kind) }

    /// The key of a row the other owner (or, for partners, the office) holds.
    func othersRow(_ table: String) -> String {
        switch table {
        case "partners": "lpk-b"
        case "participants": person
        case "programs": "prog-b"
        case "enrollments": "enr-b"
        case "certifications": "cert-b"
        case "placements": "pl-b"
        default: "vac-b"
        }
    }

    /// The row a site that cannot own rows of the table tries to change: another site's row, and for
    /// partners the office's entry for the acting site (or, for the office itself, its entry for `lpk-b`).
    func othersTarget(_ table: String) -> String {
        table == "partners" && kind != .office ? actor : othersRow(table)
    }

    func updatedColumn(_ table: String) -> String {
        switch table {
        case "partners": "name"
        case "enrollments": "notes"
        case "participants": "full_name"
        case "programs", "vacancies": "title"
        case "certifications": "number"
        default: "position"
        }
    }

    /// The other owners' rows, pushed to the hub: the office's registry entry for `lpk-b`, and a
    /// participant, program, enrollment, certification of `lpk-b`, a placement and vacancy of `pt-b`.
    func fixtures(for table: String) throws {
        try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES ('lpk-b', 'lpk', 'LPK B')")
        let p = Person.make(1)
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, 'lpk-b')",
                    [person, p.nik, p.name, p.birth, p.female ? "P" : "L"])
        switch table {
        case "programs", "enrollments":
            try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Operator Forklift')")
            if table == "enrollments" {
                try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'registered')", [person])
            }
        case "certifications":
            try h.staff("lpk-b", "INSERT INTO certifications(id, participant_id, number, scheme, issuer, recorded_by) VALUES ('cert-b', ?, 'C-1', 'Las', 'LSP', 'lpk-b')", [person])
        case "placements":
            try h.staff("pt-b", "INSERT INTO placements(id, participant_id, company, position, kind) VALUES ('pl-b', ?, 'pt-b', 'Welder', 'employment')", [person])
        case "vacancies":
            try h.staff("pt-b", "INSERT INTO vacancies(id, company, title) VALUES ('vac-b', 'pt-b', 'Welder')")
        default: break
        }
        for id in ["disnaker", "lpk-b", "pt-b"] { try h.sync(id) }
    }

    /// What an insert needs first: a program of the site's own for its enrollment.
    func prepareOwnInsert(_ table: String) throws {
        if table == "enrollments", canOwn("programs") {
            try h.staff(actor, "INSERT INTO programs(id, provider, title) VALUES ('prog-own', ?, 'Las')", [actor])
            let exchange = try h.sync(actor)
            #expect(exchange.refused.isEmpty)
        }
    }

    /// Inserts, at the acting site, a row naming it as owner; returns its key.
    @discardableResult
    func insertOwn(_ table: String) throws -> String {
        switch table {
        case "partners":
            try h.staff(actor, "INSERT INTO partners(id, kind, name) VALUES (?, ?, 'Own entry')", [actor, kind.rawValue])
            return actor
        case "participants":
            let p = Person.make(2)
            let key = p.key(h.policy)
            try h.staff(actor, "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                        [key, p.nik, p.name, p.birth, p.female ? "P" : "L", actor])
            return key
        case "programs":
            try h.staff(actor, "INSERT INTO programs(id, provider, title) VALUES ('prog-new', ?, 'Pengelasan')", [actor])
            return "prog-new"
        case "enrollments":
            if canOwn("programs"), try !h.siteRows(actor, "programs").keys.contains("prog-own") {
                try h.staff(actor, "INSERT INTO programs(id, provider, title) VALUES ('prog-own', ?, 'Las')", [actor])
            }
            let program = canOwn("programs") ? "prog-own" : "prog-b"
            try h.staff(actor, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-new', ?, ?, 'registered')", [person, program])
            return "enr-new"
        case "certifications":
            try h.staff(actor, "INSERT INTO certifications(id, participant_id, number, scheme, issuer, recorded_by) VALUES ('cert-new', ?, 'C-2', 'Las', 'LSP', ?)", [person, actor])
            return "cert-new"
        case "placements":
            try h.staff(actor, "INSERT INTO placements(id, participant_id, company, position, kind) VALUES ('pl-new', ?, ?, 'Fitter', 'apprenticeship')", [person, actor])
            return "pl-new"
        default:
            try h.staff(actor, "INSERT INTO vacancies(id, company, title) VALUES ('vac-new', ?, 'Fitter')", [actor])
            return "vac-new"
        }
    }

    /// Before changing another site's row: the office writes the acting site's registry entry; a
    /// company is placed with the person so that it receives them; the site pulls what it may see.
    func prepareOthers(_ table: String) throws {
        switch table {
        case "partners" where kind != .office:
            try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES (?, ?, 'Entry by the office')", [actor, kind.rawValue])
            try h.sync("disnaker")
        case "participants" where kind == .company:
            try h.staff(actor, "INSERT INTO placements(id, participant_id, company, position, kind) VALUES ('pl-own', ?, ?, 'Welder', 'employment')", [person, actor])
        default: break
        }
        let exchange = try h.sync(actor)
        #expect(exchange.refused.isEmpty)
    }

    /// Whether the acting site holds the row in its replica.
    func holds(_ table: String, _ key: String) throws -> Bool { try h.siteRows(actor, table)[key] != nil }

    /// Changes one column of the row at the acting site; a row it does not hold is written blind.
    func change(_ table: String, _ key: String, column: String) throws {
        if try !holds(table, key) { try blindInsert(table, key) }
        try h.staff(actor, "UPDATE \(table) SET \(column) = ? WHERE id = ?", [MatrixWorld.changedValue, key])
    }

    /// Deletes the row at the acting site; a row it does not hold is written blind, then deleted.
    func remove(_ table: String, _ key: String) throws {
        if try !holds(table, key) { try blindInsert(table, key) }
        try h.staff(actor, "DELETE FROM \(table) WHERE id = ?", [key])
    }

    /// A row with another site's key, made up at the acting site (it knows the key, not the row).
    func blindInsert(_ table: String, _ key: String) throws {
        switch table {
        case "enrollments":
            try h.staff(actor, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-b', 'active')", [key, person])
        case "certifications":
            try h.staff(actor, "INSERT INTO certifications(id, participant_id, number, scheme, issuer, recorded_by) VALUES (?, ?, 'C-1', 'Las', 'LSP', 'lpk-b')", [key, person])
        case "placements":
            try h.staff(actor, "INSERT INTO placements(id, participant_id, company, position, kind) VALUES (?, ?, 'pt-b', 'Welder', 'employment')", [key, person])
        default:
            Issue.record("no blind insert for \(table): the site should hold the row")
        }
    }
}
