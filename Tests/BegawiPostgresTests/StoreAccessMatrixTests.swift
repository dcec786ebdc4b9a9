import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The access matrix of BegawiHubTests' `AccessMatrixTests` at the store level, on both stores:
/// every table × every site kind × {insert, update, delete, receive}, each cell checked on its own
/// hub with real site replicas, against a table written here by hand.
///
/// What a cell does (the acting site is `lpk-a`, `blki`, `bplk`, `pt-a` or `disnaker`; the other
/// owners are `lpk-b` and `pt-b`, and the office `disnaker` writes the partner registry):
/// - insert: the site inserts a row naming itself as owner (`registered_by`, `provider`,
///   `recorded_by`, `company` = its own id; for partners, its own registry entry). An enrollment goes
///   into a program of the site's own, made and synced first, when the site's kind can own programs;
///   a company owns none, so it tries the nearest thing, an enrollment into `lpk-b`'s program; the
///   office, owning nothing, enrolls into `lpk-b`'s program too.
/// - update, delete: on a row the site owns, inserted and synced first. A kind that cannot own rows of
///   the table works on another site's row instead (`lpk-b`'s or `pt-b`'s; for partners, the office's
///   entry for the acting site): the office may, the others are refused. Where the site receives that
///   row it changes its copy (partners, programs and vacancies are catalogues; a company receives a
///   participant once placed with it, which it is here); where it never receives it (a company and
///   enrollments or certifications, a training site and placements) it writes the row blind, knowing
///   the key: it inserts a row with that key in its replica, then changes or deletes it.
/// - receive: after a full sync, does the site hold a row of another site (`lpk-b`'s or `pt-b`'s, or
///   for partners the office's entry for `lpk-b`) that is not linked to it? Catalogues: every site.
///   Linked tables: only the office. Receiving through a link is checked by the tests after the matrix.
///
/// A refused write is checked three ways: the push's refusals name the row with a reason, the hub's
/// row is as before, and the site's replica holds the hub's row again (or no row, if it may not see it).
@Suite(.blocking) struct StoreAccessMatrixTests {
    /// "I", "U", "D", "R" where the cell is allowed, "-" where it is refused or not received.
    static let expected: [String: [SiteKind: String]] = [
        // partners: the registry of sites. No owner and no writers: only the office writes it, even a
        // site's own entry; a catalogue, so every site receives it.
        "partners": [.lpk: "---R", .blki: "---R", .bplk: "---R", .company: "---R", .office: "IUDR"],
        // participants: owned by the registering site; training sites (lpk, blki, bplk) register and
        // keep their own; a company never writes a person. Linked: a site that neither registered nor
        // is linked to the person never receives them; the office receives everyone.
        "participants": [.lpk: "IUD-", .blki: "IUD-", .bplk: "IUD-", .company: "----", .office: "IUDR"],
        // programs: owned by the provider, a training site; a catalogue every site receives, companies
        // included (they read it but cannot write it).
        "programs": [.lpk: "IUDR", .blki: "IUDR", .bplk: "IUDR", .company: "---R", .office: "IUDR"],
        // enrollments: owned through the program (its provider); training sites write those of their
        // own programs. Linked with nothing linking to it: only the program's provider and the office see one.
        "enrollments": [.lpk: "IUD-", .blki: "IUD-", .bplk: "IUD-", .company: "----", .office: "IUDR"],
        // certifications: owned by the recording training site; seen by it and the office only.
        "certifications": [.lpk: "IUD-", .blki: "IUD-", .bplk: "IUD-", .company: "----", .office: "IUDR"],
        // placements: owned by the company; training sites never write or see another's placement.
        "placements": [.lpk: "----", .blki: "----", .bplk: "----", .company: "IUD-", .office: "IUDR"],
        // vacancies: owned by the company; a catalogue every site receives.
        "vacancies": [.lpk: "---R", .blki: "---R", .bplk: "---R", .company: "IUDR", .office: "IUDR"],
    ]

    enum Operation: String, CaseIterable, Sendable {
        case insert, update, delete, receive
        var letter: Character { Character(rawValue.prefix(1).uppercased()) }
    }

    struct Cell: Sendable, CustomTestStringConvertible {
        let table: String
        let kind: SiteKind
        let operation: Operation
        let store: StoreKind
        var allowed: Bool { StoreAccessMatrixTests.expected[table]![kind]!.contains(operation.letter) }
        var testDescription: String { "\(store.rawValue): \(table) × \(kind.rawValue) × \(operation.rawValue)" }
    }

    static let tables = ["partners", "participants", "programs", "enrollments", "certifications", "placements", "vacancies"]

    static let cells: [Cell] = StoreKind.available.flatMap { store in
        tables.flatMap { table in
            SiteKind.allCases.flatMap { kind in Operation.allCases.map { Cell(table: table, kind: kind, operation: $0, store: store) } }
        }
    }

    static func actor(_ kind: SiteKind) -> String {
        switch kind {
        case .lpk: "lpk-a"
        case .blki: "blki"
        case .bplk: "bplk"
        case .company: "pt-a"
        case .office: "disnaker"
        }
    }

    @Test func theMatrixCoversEveryTableOfTheSchema() throws {
        let h = try RulesHarness(kind: .sqlite)
        #expect(Set(h.policy.tables.keys) == Set(StoreAccessMatrixTests.tables))
        #expect(StoreAccessMatrixTests.cells.count == 7 * 5 * 4 * StoreKind.available.count)
        for table in StoreAccessMatrixTests.tables {
            #expect(Set(StoreAccessMatrixTests.expected[table]!.keys) == Set(SiteKind.allCases), "\(table)")
        }
    }

    @Test(arguments: StoreAccessMatrixTests.cells) func cell(_ cell: Cell) throws {
        let world = try MatrixWorld(actingKind: cell.kind, store: cell.store)
        let actor = world.actor
        let h = world.h
        try world.fixtures(for: cell.table)

        if cell.operation == .receive {
            let other = world.othersRow(cell.table)
            #expect(try h.hubRows(cell.table)[other] != nil, "the other site's row is at the hub")
            try h.syncAll()
            let holds = try h.siteStateKeys(actor, cell.table).contains(other)
            #expect(holds == cell.allowed, "\(cell.testDescription): the site \(holds ? "holds" : "does not hold") another site's row")
            return
        }

        let target: String
        // A row the site never received, written blind in its replica.
        var blind = false
        let column = world.updatedColumn(cell.table)
        let position = h.document.schema.table(named: cell.table)!.position(of: column)!
        switch cell.operation {
        case .insert:
            try world.prepareOwnInsert(cell.table)
            target = try world.insertOwn(cell.table)
        case .update, .delete:
            if world.canOwn(cell.table) {
                target = try world.insertOwn(cell.table)
                let prepared = try h.sync(actor)
                #expect(prepared.refused.isEmpty, "the site's own row lands first: \(prepared.refused.map(\.reason))")
            } else {
                target = world.othersTarget(cell.table)
                try world.prepareOthers(cell.table)
            }
            #expect(try h.hubRows(cell.table)[target] != nil)
            blind = try !world.holds(cell.table, target)
            if cell.operation == .update {
                try world.change(cell.table, target, column: column)
            } else {
                try world.remove(cell.table, target)
            }
        case .receive:
            return
        }

        let hubBefore = try h.hubRows(cell.table)
        let refusalsBefore = try h.store.health().first { $0.site == actor }?.rowsRefused ?? 0
        // A site sends nothing for a row inserted and deleted again in its replica; sent anyway (as a
        // hostile site would), the deletion must be refused.
        let exchange = try h.sync(actor, soleRecipient: !(blind && cell.operation == .delete))
        let hubAfter = try h.hubRows(cell.table)
        // The health ledger (`/metrics`, the dashboard) counts the refusals the site was told of.
        #expect(try h.store.health().first { $0.site == actor }?.rowsRefused == refusalsBefore + exchange.refused.count)
        let refusal = exchange.refused.first { $0.table == cell.table && $0.key == target }

        if cell.allowed {
            #expect(exchange.refused.isEmpty, "\(cell.testDescription) was refused: \(exchange.refused.map(\.reason))")
            switch cell.operation {
            case .insert: #expect(hubAfter[target] != nil, "\(cell.testDescription): the row is at the hub")
            case .update: #expect(hubAfter[target]?[position] == .text(MatrixWorld.changedValue), "\(cell.testDescription): the hub holds the change")
            case .delete: #expect(hubAfter[target] == nil, "\(cell.testDescription): the row is gone at the hub")
            case .receive: break
            }
        } else {
            #expect(refusal != nil, "\(cell.testDescription) was not refused")
            #expect(refusal.map { !$0.reason.code.isEmpty && !$0.message.isEmpty } ?? false)
            #expect(hubAfter[target] == hubBefore[target], "\(cell.testDescription): the hub's row is as before")
            if cell.operation == .insert { #expect(hubAfter[target] == nil) }
            if cell.operation != .insert { #expect(hubAfter[target] != nil) }
            // The site holds what the hub holds, or nothing if it may not see the row.
            let atSite = try h.siteRows(actor, cell.table)[target]
            #expect(atSite == nil || atSite == hubAfter[target], "\(cell.testDescription): the site keeps no refused value")
        }
    }

    // MARK: receiving through links

    /// A participant registered by `lpk-b` reaches a training site once enrolled in one of its
    /// programs, and leaves it when the enrollment is deleted; the enrollment stays with its provider.
    @Test(arguments: StoreKind.available, [SiteKind.lpk, .blki, .bplk])
    func trainingSiteReceivesParticipantOnceEnrolled(store: StoreKind, _ kind: SiteKind) throws {
        let world = try MatrixWorld(actingKind: kind, store: store)
        let (h, actor) = (world.h, world.actor)
        try world.fixtures(for: "enrollments")
        let person = world.person
        try h.staff(actor, "INSERT INTO programs(id, provider, title) VALUES ('prog-own', ?, 'Las')", [actor])
        try h.syncAll()
        #expect(try !h.siteStateKeys(actor, "participants").contains(person))

        try h.staff(actor, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-own', ?, 'prog-own', 'registered')", [person])
        try h.syncAll()
        #expect(try h.siteRows(actor, "participants")[person] == h.hubRows("participants")[person])
        // lpk-b registered the person but does not see another site's enrollment of them.
        #expect(try !h.siteStateKeys("lpk-b", "enrollments").contains("enr-own"))
        #expect(try !h.siteStateKeys(actor, "enrollments").contains("enr-b"))

        try h.staff(actor, "DELETE FROM enrollments WHERE id = 'enr-own'")
        try h.syncAll()
        #expect(try !h.siteStateKeys(actor, "participants").contains(person))
        #expect(try h.hubRows("participants")[person] != nil)
    }

    /// A company receives a participant once it records a placement of them, and not their
    /// enrollments or certifications; other companies and training sites do not see the placement.
    @Test(arguments: StoreKind.available) func companyReceivesParticipantOncePlaced(store: StoreKind) throws {
        let world = try MatrixWorld(actingKind: .company, store: store)
        let (h, person) = (world.h, world.person)
        try world.fixtures(for: "certifications")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Las')")
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'completed')", [person])
        try h.syncAll()
        #expect(try !h.siteStateKeys("pt-a", "participants").contains(person))

        try h.staff("pt-a", "INSERT INTO placements(id, participant_id, company, position, kind) VALUES ('pl-a', ?, 'pt-a', 'Welder', 'employment')", [person])
        try h.syncAll()
        #expect(try h.siteRows("pt-a", "participants")[person] == h.hubRows("participants")[person])
        #expect(try h.siteStateKeys("pt-a", "enrollments").isEmpty)
        #expect(try h.siteStateKeys("pt-a", "certifications").isEmpty)
        #expect(try h.siteStateKeys("pt-b", "placements").isEmpty)
        #expect(try h.siteStateKeys("pt-b", "participants").isEmpty)
        #expect(try h.siteStateKeys("lpk-b", "placements").isEmpty)
        #expect(try Set(h.siteRows("disnaker", "placements").keys) == ["pl-a"])

        try h.staff("pt-a", "DELETE FROM placements WHERE id = 'pl-a'")
        try h.syncAll()
        #expect(try !h.siteStateKeys("pt-a", "participants").contains(person))
    }

    /// A training site that records a certification of another site's participant receives them.
    @Test(arguments: StoreKind.available) func trainingSiteReceivesParticipantOnceItCertifies(store: StoreKind) throws {
        let world = try MatrixWorld(actingKind: .blki, store: store)
        let (h, person) = (world.h, world.person)
        try world.fixtures(for: "participants")
        try h.syncAll()
        #expect(try !h.siteStateKeys("blki", "participants").contains(person))
        try h.staff("blki", """
            INSERT INTO certifications(id, participant_id, number, scheme, issuer, recorded_by) VALUES ('cert-k', ?, 'C-9', 'Las', 'LSP', 'blki')
            """, [person])
        try h.syncAll()
        #expect(try h.siteRows("blki", "participants")[person] == h.hubRows("participants")[person])
        #expect(try !h.siteStateKeys("lpk-b", "certifications").contains("cert-k"))
    }
}
