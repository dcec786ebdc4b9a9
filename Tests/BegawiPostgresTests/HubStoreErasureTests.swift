import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// What the erasure tests need of a hub store beyond the rules: both stores have it with the same
/// signatures (the `begawi hub` commands about participants use them).
protocol ErasingHubStore: RulesHubStore {
    func derivedKey(for identity: String) throws -> String
    func erase(key: String) throws -> ErasureReport
    func trace(key: String) throws -> [TraceEntry]
    func duplicates(maxDigits: Int) throws -> [DuplicateCandidate]
}

extension SQLiteHubStore: ErasingHubStore {}
extension PostgresHubStore: ErasingHubStore {}

/// Erasures, traces and likely duplicates on both stores (the SQLite hub's answers are the
/// reference): a person erased leaves the hub and every site that held them at its next pull, writes
/// to their rows are refused from then on (also through another hub process), and the trace tells
/// where their data went without their data.
@Suite(.serialized) struct HubStoreErasureTests {
    /// An office, two LPKs and a company; a program at each LPK. The person is registered and
    /// enrolled at lpk-a and enrolled at lpk-b too; another person stays at lpk-a.
    func world(_ kind: StoreKind) throws -> (h: RulesHarness, erased: String, kept: String) {
        let h = try RulesHarness(kind: kind)
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        try h.addSite("pt-x", kind: .company)
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        let erased = try h.register("lpk-a", Person.make(21))
        let kept = try h.register("lpk-a", Person.make(22))
        try h.staff("lpk-a", "UPDATE participants SET phone = '0811-5400-321' WHERE id = ?", [erased])
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-a', ?, 'prog-a', 'registered')", [erased])
        try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-k', ?, 'prog-a', 'registered')", [kept])
        try h.syncAll()
        try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES ('enr-b', ?, 'prog-b', 'registered')", [erased])
        try h.syncAll()
        return (h, erased, kept)
    }

    func store(_ h: RulesHarness) throws -> any ErasingHubStore { try #require(h.store as? any ErasingHubStore) }

    @Test(arguments: StoreKind.available)
    func anErasedPersonLeavesTheHubAndEverySiteThatHeldThem(kind: StoreKind) throws {
        let (h, erased, kept) = try world(kind)
        defer { h.close() }
        let store = try store(h)
        for site in ["disnaker", "lpk-a", "lpk-b"] {
            #expect(try h.siteStateKeys(site, "participants").contains(erased), "control: \(site) holds the person")
        }
        #expect(try !h.siteStateKeys("pt-x", "participants").contains(erased))
        let before = try store.trace(key: erased)
        #expect(Set(before.map(\.action)).isSuperset(of: ["inserted", "granted"]), "\(before)")
        #expect(before.contains { $0.site == "lpk-b" && $0.action == "granted" && $0.table == "participants" })
        #expect(!before.contains { $0.action == "erased" })
        // lpk-b, offline when the office erases, changes its enrollment of the person.
        try h.staff("lpk-b", "UPDATE enrollments SET status = 'completed' WHERE id = 'enr-b'")

        let report = try store.erase(key: erased)
        #expect(Set(report.rows) == [RowKey(table: "participants", key: erased), RowKey(table: "enrollments", key: "enr-a"),
                                     RowKey(table: "enrollments", key: "enr-b")])
        #expect(report.sites == ["disnaker", "lpk-a", "lpk-b"])
        #expect(try h.hubRows("participants")[erased] == nil)
        #expect(try h.hubRows("participants")[kept] != nil)
        #expect(try Set(h.hubRows("enrollments").keys) == ["enr-k"])
        #expect(try store.conflicts().filter { $0.key == erased }.isEmpty)
        if kind == .postgres { try expectNoTableHolds(Person.make(21), h) }

        // Each site's next sync removes the rows; lpk-b's offline write is refused as erased.
        for site in ["disnaker", "lpk-a", "pt-x"] { try h.sync(site) }
        let lpkB = try h.sync("lpk-b")
        #expect(lpkB.refused.map(\.reason) == ["erased"], "\(lpkB.refused)")
        for site in ["disnaker", "lpk-a", "lpk-b", "pt-x"] {
            #expect(try !h.siteStateKeys(site, "participants").contains(erased), "\(site) still holds the person")
            #expect(try h.siteStateKeys(site, "enrollments").isDisjoint(with: ["enr-a", "enr-b"]), "\(site) still holds an enrollment")
        }
        #expect(try h.siteStateKeys("lpk-a", "participants").contains(kept))
        #expect(try h.siteStateKeys("disnaker", "participants").contains(kept))

        // lpk-a registers the person again: refused as erased, nothing left at the hub.
        _ = try h.register("lpk-a", Person.make(21))
        #expect(try h.sync("lpk-a").refused.map(\.reason) == ["erased"])
        #expect(try h.hubRows("participants")[erased] == nil)
        #expect(try !h.siteStateKeys("lpk-a", "participants").contains(erased))

        let after = try store.trace(key: erased)
        for action in ["inserted", "granted", "erasure sent", "erased", "refused"] {
            #expect(after.contains { $0.action == action }, "the trace lacks '\(action)': \(after)")
        }
        #expect(after.contains { $0.action == "refused" && $0.reason == "erased" && $0.site == "lpk-a" })
        #expect(Set(after.filter { $0.action == "erasure sent" }.map(\.site)) == ["disnaker", "lpk-a", "lpk-b"])
        #expect(after.map(\.at) == after.map(\.at).sorted())
        // Erasing again, or someone the hub never had, is refused in the SQLite store's words.
        let again = #expect(throws: BegawiError.self) { try store.erase(key: erased) }
        #expect(again?.code == .invalidArgument)
        #expect(again?.message == "no row of 'participants' with that key at the hub (it may be erased already); its trace shows its history")
    }

    /// Two hub processes on one database: an erasure through one refuses a push through the other.
    @Test(arguments: StoreKind.available)
    func anErasureThroughOneProcessRefusesAPushThroughAnother(kind: StoreKind) throws {
        let (h, erased, _) = try world(kind)
        defer { h.close() }
        let other = try h.another()
        try h.staff("lpk-a", "UPDATE participants SET phone = '0811-5400-999' WHERE id = ?", [erased])
        _ = try store(h).erase(key: erased)
        let exchange = try h.sync("lpk-a", through: other)
        #expect(exchange.refused.map(\.reason) == ["erased"])
        #expect(try other.rows(of: "participants")[erased] == nil)
        #expect(try !h.siteStateKeys("lpk-a", "participants").contains(erased))
        #expect(try (other as? any ErasingHubStore)?.trace(key: erased).contains { $0.action == "erased" } == true)
    }

    /// `@unchecked Sendable`: each thread touches only its own site's replica and the stores, which
    /// are safe to share.
    final class Run: @unchecked Sendable {
        let h: RulesHarness
        let stores: [any ErasingHubStore]
        init(h: RulesHarness, stores: [any ErasingHubStore]) {
            self.h = h
            self.stores = stores
        }
    }

    /// Two processes: while lpk-a and lpk-b keep writing the person's rows (her phone, new
    /// enrollments of her) and pushing through one, the office erases her through the other. Every
    /// push either committed before the erasure (its rows erased with hers) or is refused after it:
    /// afterwards the hub holds no row of hers or linked to her, and after a round neither does a site.
    @Test(arguments: StoreKind.available)
    func anErasureWhilePushesRunThroughAnotherProcessLeavesNothing(kind: StoreKind) throws {
        let (h, erased, kept) = try world(kind)
        defer { h.close() }
        let run = Run(h: h, stores: [try store(h), try #require(try h.another() as? any ErasingHubStore)])
        let failures = Shared<[String]>([]), refused = Shared<[String]>([])
        let started = DispatchSemaphore(value: 0)
        concurrently([("lpk-a", "prog-a"), ("lpk-b", "prog-b")].map { site, program in
            { @Sendable in
                for round in 0..<8 {
                    do {
                        if site == "lpk-a" {
                            try run.h.staff(site, "UPDATE participants SET phone = ? WHERE id = ?", ["0811-5400-\(round)", erased])
                        }
                        try run.h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')",
                                        ["enr-\(site)-\(round)", erased, program])
                        let exchange = try run.h.sync(site, through: run.stores[1])
                        refused.with { $0 += exchange.refused.map(\.reason.code) }
                    } catch {
                        failures.with { $0.append("\(site) round \(round): \(error)") }
                    }
                    if round == 1 { started.signal() }
                }
            }
        } + [{ @Sendable in
            // Once both sites pushed a little.
            started.wait()
            started.wait()
            do { _ = try run.stores[0].erase(key: erased) } catch { failures.with { $0.append("erase: \(error)") } }
        }])
        #expect(failures.with { $0 }.isEmpty, "\(failures.with { $0 })")
        // A push after the erasure is refused: its update of her row as `erased`, or, once the site
        // has pulled her eviction and updates nothing, its new enrollments of her as
        // `awaiting-reference` (before the erasure both are accepted).
        #expect(refused.with { $0 }.contains { ["erased", "awaiting-reference"].contains($0) }, "no push came after the erasure: \(refused.with { $0 })")
        #expect(try h.hubRows("participants")[erased] == nil)
        let participant = h.document.schema.table(named: "enrollments")!.position(of: "participant_id")!
        #expect(try h.hubRows("enrollments").values.allSatisfy { $0[participant] != .text(erased) })
        #expect(try h.hubRows("participants")[kept] != nil)
        if kind == .postgres { try expectNoTableHolds(Person.make(21), h) }
        try h.syncAll(rounds: 1)
        for site in ["disnaker", "lpk-a", "lpk-b"] {
            #expect(try !h.siteStateKeys(site, "participants").contains(erased), "\(site) still holds the person")
        }
    }

    /// PostgreSQL without an erasure log (`erasure_log` unset): an erasure is refused with nothing
    /// changed, and a hub whose database holds erasures refuses to start until one is named.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func withoutAnErasureLogPostgreSQLRefusesToEraseAndToServeErasures() throws {
        let (h, erased, _) = try world(.postgres)
        defer { h.close() }
        let bare = try PostgresHubStore(settings: try #require(h.settings), poolSize: 1, policy: h.policy)
        defer { bare.close() }
        let refusal = #expect(throws: BegawiError.self) { try bare.erase(key: erased) }
        #expect(refusal?.code == .configuration)
        #expect(refusal?.message.contains("erasure_log") == true)
        #expect(try h.hubRows("participants")[erased] != nil)
        let logger = Logger(label: "test")
        try bare.prepareToServe(declared: h.document.schema, policy: h.policy, schemaFile: "schema.json", logger: logger)
        _ = try store(h).erase(key: erased)
        let start = #expect(throws: BegawiError.self) {
            try bare.prepareToServe(declared: h.document.schema, policy: h.policy, schemaFile: "schema.json", logger: logger)
        }
        #expect(start?.message.contains("holds 1 erasures") == true && start?.message.contains("erasure_log") == true)
    }

    /// Likely duplicates on the columns the schema file declares, ignoring case and spaces
    /// (`DuplicatesTests`), the same on both stores; the person's key from a NIK, or its refusal.
    @Test(arguments: StoreKind.available)
    func aMistypedIdentifierIsFoundOnTheDeclaredColumns(kind: StoreKind) throws {
        let h = try RulesHarness(kind: kind)
        defer { h.close() }
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let first = Person.make(3)
        let last = first.nik.last == "9" ? "8" : "9"
        let again = Person(nik: String(first.nik.dropLast()) + last, name: "  " + first.name.uppercased(), birth: first.birth, female: first.female)
        let keys = [try h.register("lpk-a", first), try h.register("lpk-b", again)]
        _ = try h.register("lpk-a", Person.make(4))
        try h.syncAll()
        let store = try store(h)
        let found = try store.duplicates(maxDigits: 2)
        #expect(found.count == 1)
        #expect(Set(found.first?.keys ?? []) == Set(keys))
        #expect(Set(found.first?.sites ?? []) == ["lpk-a", "lpk-b"])
        #expect(found.first?.differingDigits == 1)
        #expect(try store.duplicates(maxDigits: 0).isEmpty)
        #expect(try store.derivedKey(for: first.nik) == keys[0])
        let bad = #expect(throws: BegawiError.self) { try store.derivedKey(for: "12345") }
        #expect(bad?.message.contains("12345") == false)
    }

    /// The database and the log agree at the next start: an erasure the log lacks (a crash between
    /// the commit and the append; here the log removed) is written into it anew.
    @Test(arguments: StoreKind.available)
    func aMissingErasureLogIsWrittenAnewFromTheDatabase(kind: StoreKind) throws {
        let (h, erased, _) = try world(kind)
        defer { h.close() }
        _ = try store(h).erase(key: erased)
        let path = h.erasureLogPath
        #expect(try ErasureLog(path: path).read().entries.map(\.person) == [erased])
        try FileManager.default.removeItem(atPath: path)
        let done: ErasureReconciliation?
        switch kind {
        case .sqlite:
            try h.reopen(policy: h.policy)
            done = (h.store as? SQLiteHubStore)?.erasuresReconciled
        case .postgres:
            done = try #require(h.store as? PostgresHubStore).reconcileErasures()
        }
        #expect(done == ErasureReconciliation(reapplied: 0, appended: 1, recreated: true))
        #expect(try ErasureLog(path: path).read().entries.map(\.person) == [erased])
    }

    /// PostgreSQL: an erasure the log holds and the database lacks (the database restored from a
    /// copy made before it) is erased again by the next start's reconciliation, once, however many
    /// processes start; the log alone never brings a row back.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func anErasureTheDatabaseLacksIsAppliedAgainOnce() throws {
        let (h, erased, kept) = try world(.postgres)
        defer { h.close() }
        // The log of a hub that erased the person; the database as a copy made before.
        try ErasureLog(path: h.erasureLogPath).append([ErasureLog.Entry(at: 1_700_000_000_000, person: erased,
                                                                        rows: [RowKey(table: "participants", key: erased)])])
        let stores = [try #require(h.store as? PostgresHubStore), try #require(try h.another() as? PostgresHubStore)]
        let results = Shared<[ErasureReconciliation?]>([]), failures = Shared<[String]>([])
        concurrently(stores.map { store in
            {
                do {
                    let done = try store.reconcileErasures()
                    results.with { $0.append(done) }
                } catch {
                    failures.with { $0.append("\(error)") }
                }
            }
        })
        #expect(failures.with { $0 }.isEmpty, "\(failures.with { $0 })")
        let done = results.with { $0 }
        #expect(done.compactMap { $0?.reapplied }.reduce(0, +) == 1, "\(done)")
        #expect(try h.hubRows("participants")[erased] == nil)
        #expect(try h.hubRows("participants")[kept] != nil)
        // The rows linked to the person in the restored copy go too, though the log names only the person.
        #expect(try Set(h.hubRows("enrollments").keys) == ["enr-k"])
        try expectNoTableHolds(Person.make(21), h)
        try h.syncAll(rounds: 1)
        for site in ["disnaker", "lpk-a", "lpk-b"] {
            #expect(try !h.siteStateKeys(site, "participants").contains(erased), "\(site) still holds the person")
        }
        #expect(try stores[0].trace(key: erased).contains { $0.action == "erased" && $0.reason == "re-applied from the erasure log" })
        #expect(try stores[0].reconcileErasures() == ErasureReconciliation())
    }

    /// PostgreSQL: no live row of any table of the hub's database holds the person's NIK, name or
    /// phone, as text or inside a `bytea` (the merge state, the ledger's values).
    func expectNoTableHolds(_ p: Person, _ h: RulesHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let settings = try #require(h.settings)
        let link = try PostgresLink.connect(settings)
        defer { link.close() }
        let tables = try link.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").map { try $0.decode(String.self) }
        #expect(tables.contains("_begawi_rows"), sourceLocation: sourceLocation)
        for table in tables {
            for needle in [p.nik, p.name, "0811-5400-321"] {
                var bindings = PostgresBindings()
                bindings.append(needle)
                let hits = try link.query(PostgresQuery(unsafeSQL: """
                    SELECT count(*) FROM "\(table)" t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, encode(convert_to($1, 'UTF8'), 'hex')) > 0
                    """, binds: bindings)).first.map { try $0.decode(Int64.self) } ?? 0
                #expect(hits == 0, "\(table) holds the person's data", sourceLocation: sourceLocation)
            }
        }
    }
}
