import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The 312 shared merge cases (`MergeCases`) at the hub-store level, one test body against each
/// store (issue 17, item 4: merge rules are unchanged on PostgreSQL).
///
/// Each case gets a new hub (`FreshHubs`: the cases' table published as version 2) and one
/// real SQLite replica per site other than "H" (with the hub's published schema, as a new site
/// installs it), written by a staff application on the same file as `ConformanceTests` writes them.
/// A site syncs by the protocol's own steps against the store: a `session`, its export pushed as
/// batches (`push`, from the cursor the hub gives in the session and then in each answer), and
/// pages of the feed (`pull`, from the cursor the replica keeps for the hub) applied to its
/// replica, all through the wire codec, two rows a batch and a page so that every case crosses
/// batches. Expected final rows are checked at every site and at the store; the ledger judged is
/// the union of every site's and the store's.
///
/// How the cases' syncs map onto the store:
/// - "H" is the store. `X → H` is X's session and push; `H → Y` is Y's session and pull.
/// - A site-to-site sync `X → Y` goes through the hub: X pushes, then Y pulls. 290 of the 312
///   cases sync site to site (all 154 without "H"). Their meaning changes: Y receives, besides
///   what X has, whatever other sites pushed earlier; the hub learns X's rows; and the hub merges
///   in orders no replica of the case met. Every write still reaches every site and the hub (a
///   write leaves its site only by a sync from that site, which pushes), and the visible rows
///   depend only on the set of writes and their (clock, site), so `final` is checked unchanged
///   everywhere, and holds in every case whose steps can run (below). The ledger depends on what
///   each writer had seen and on merge orders, so 20 cases' ledgers cannot hold; in 7 more a staff
///   write of the case cannot run as written (the site holds the row already). Those 27 are listed
///   in `cannotHold` with the way they cannot (`StoreLevelChange`), and the check is not weakened:
///   a listed case must fail in exactly that way, and one that passes fails the test, so the list
///   cannot go stale. The other 285 hold as written.
///
/// The sites push with the whole export (`soleRecipient: false`), not the daemon's
/// (`soleRecipient: true`): that one leaves out a row born and deleted at the site since its last
/// push until another replica's version of the key reaches the site, so a delete of a key that
/// another site created too (a key derived from a natural id) travels later than the cases say;
/// `theDaemonsPushDeliversTheDeleteOfASharedKeyLater` checks those 11 cases' end.
///
/// A new site's first pull takes pages (a snapshot is another test's concern), and a site's own
/// tombstone purge and clock correction are left out: the cases' clocks are far in the hub's past.
@Suite(.blocking) struct StoreConformanceTests {
    /// The cases whose expectations cannot hold when site-to-site syncs go through one hub, and how.
    static let cannotHold: [String: StoreLevelChange] = [
        "generated 6": .insertOfAHeldRow,
        "generated 27": .concurrencyLost,
        "generated 50": .insertOfAHeldRow,
        "generated 60": .deleteMetAtTheHub,
        "generated 67": .deleteMetAtTheHub,
        "generated 84": .deleteMetAtTheHub,
        "generated 86": .deleteMetAtTheHub,
        "generated 102": .insertOfAHeldRow,
        "generated 104": .deleteMetAtTheHub,
        "generated 126": .deleteMetAtTheHub,
        "generated 128": .insertOfAHeldRow,
        "generated 138": .deleteMetAtTheHub,
        "generated 140": .concurrencyLost,
        "generated 143": .concurrencyLost,
        "generated 145": .deleteMetAtTheHub,
        "generated 158": .concurrencyLost,
        "generated 160": .deleteMetAtTheHub,
        "generated 185": .deleteMetAtTheHub,
        "generated 198": .deleteMetAtTheHub,
        "generated 201": .concurrencyLost,
        "generated 202": .deleteMetAtTheHub,
        "generated 225": .deleteMetAtTheHub,
        "generated 233": .concurrencyLost,
        "generated 238": .writeChangingNothing,
        "generated 253": .deleteMetAtTheHub,
        "generated 294": .insertOfAHeldRow,
        "generated 296": .deleteMetAtTheHub,
    ]

    /// The cases the daemon's push (`soleRecipient: true`) holds differently: a delete of a shared key travels later.
    static let lostDeletes = ["generated 10", "generated 13", "generated 19", "generated 56", "generated 114",
                              "generated 177", "generated 220", "generated 229", "generated 242", "generated 276", "generated 290"]

    /// The hub's version 2: the first schema's table and the cases' table.
    static func schema(of cases: MergeCases) -> Data {
        let columns = cases.columns.map { #"{"name": "\#($0)"}"# }.joined(separator: ", ")
        return Data(#"{"version": 2, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}]}, {"name": "\#(cases.table)", "columns": [\#(columns)]}]}"#.utf8)
    }

    @Test(arguments: StoreKind.available)
    func allCasesPassAtTheStore(kind: StoreKind) throws {
        let cases = try MergeCases.load()
        #expect(cases.cases.count == 312)
        let hubs = FreshHubs(kind: kind, schemaText: Self.schema(of: cases))
        defer { hubs.drop() }
        let started = ContinuousClock.now
        var failures: [String] = []
        var failedAsListed: Set<String> = []
        for c in cases.cases {
            let problem = try Self.run(c, of: cases, on: hubs, soleRecipient: false)
            switch (problem, Self.cannotHold[c.name]) {
            case (nil, nil): break
            case (let problem?, nil): failures.append("\(c.name): \(problem)")
            case (let problem?, let change?):
                if change.explains(problem) { failedAsListed.insert(c.name) } else { failures.append("\(c.name): \(problem) (listed as \(change))") }
            case (nil, let change?): failures.append("\(c.name): passed, but is listed as unable to hold (\(change)); remove it from cannotHold")
            }
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        print("StoreConformanceTests: 312 cases on \(kind) in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", seconds * 1000 / 312)) ms a case)")
        #expect(failures.count == 0, Comment(rawValue: "\(failures.count) of \(cases.cases.count) cases failed on \(kind):\n" + failures.prefix(10).joined(separator: "\n")))
        #expect(failedAsListed == Set(Self.cannotHold.keys))
    }

    /// The daemon's push leaves out a row born and deleted at the site since its last push ("no
    /// replica ever had it"), but another site may have created the same key (a key derived from a
    /// natural id, as the design allows). In "generated 177", B inserts r2 at 1001 and C at 1003,
    /// and B deletes it at 1007 before any push. Once another replica's version of the key reaches
    /// B, B's tombstone goes out again whole (`BatchMerge`), so the delete, the winner, travels
    /// later than the case says, and arrives. Before that fix it never left B, and the rows stayed
    /// different for good (the hub and C live, B deleted).
    ///
    /// So on these 11 cases the daemon's push is judged by where the case ends after every site
    /// has synced until quiet: every site holds the hub's rows and the same merge state. The steps
    /// of three cannot all run: a staff insert of a key the site still holds (its delete had not
    /// arrived yet) is refused by the table's key; those end there, and are settled as they stand.
    @Test(arguments: StoreKind.available)
    func theDaemonsPushDeliversTheDeleteOfASharedKeyLater(kind: StoreKind) throws {
        let cases = try MergeCases.load()
        let hubs = FreshHubs(kind: kind, schemaText: Self.schema(of: cases))
        defer { hubs.drop() }
        var stopped: [String] = []
        for c in cases.cases where Self.lostDeletes.contains(c.name) {
            let problem = try hubs.withHub { hub in try CaseRun(c, of: cases, hub: hub, soleRecipient: true).runToQuiet(stopped: &stopped) }
            #expect(problem == nil, "\(c.name): \(problem ?? "")")
        }
        #expect(stopped.count <= 3, "steps stopped by a held key in \(stopped)")
    }

    /// Runs a case on a new hub: nil when it held, else what did not. A store that cannot
    /// run the cases yet (PostgreSQL while its push and pull are built) cancels the test, saying why.
    static func run(_ c: MergeCases.Case, of cases: MergeCases, on hubs: FreshHubs, soleRecipient: Bool) throws -> String? {
        let kind = hubs.kind
        do {
            return try hubs.withHub { hub in try CaseRun(c, of: cases, hub: hub, soleRecipient: soleRecipient).run() }
        } catch where StoreKind.notBuiltYet(error) {
            // A cancelled test case prints nothing of its own: say it here, so that a run does not read as a pass.
            print("StoreConformanceTests: skipped on \(kind): \(error)")
            try Test.cancel("the \(kind) store cannot run the merge cases yet: \(error)")
        } catch {
            return "threw \(error)"
        }
    }
}

/// How a merge case cannot hold when its site-to-site syncs go through one hub.
enum StoreLevelChange: CustomStringConvertible {
    /// A site inserts a key that, in the case, it did not hold yet; through the hub it already
    /// received that row, and the staff application's insert fails on the key.
    case insertOfAHeldRow
    /// A site's update sets the values the row already holds through the hub: no write to capture.
    case writeChangingNothing
    /// A write that was concurrent with another in the case was made, through the hub, after its
    /// site had received the other: no conflict, so `ledger_must` misses its loser.
    case concurrencyLost
    /// The hub merged a delete while a column held a write concurrent with it that, in the case,
    /// reached every replica only together with a later write of that column: the hub, or a site
    /// pulling the hub's merged row, records it as lost to the delete (the rule holds), an entry no
    /// replica of the case met, outside `deleted_may`.
    case deleteMetAtTheHub

    /// Whether a case's failure is this change.
    func explains(_ problem: String) -> Bool {
        switch self {
        case .insertOfAHeldRow: problem.contains("UNIQUE constraint failed")
        case .writeChangingNothing: problem.contains("was captured 0 times")
        case .concurrencyLost: problem.hasPrefix("ledger lacks")
        case .deleteMetAtTheHub: problem.hasPrefix("deleted-ledger has unexpected")
        }
    }

    var description: String {
        switch self {
        case .insertOfAHeldRow: "an insert of a row the site holds already through the hub"
        case .writeChangingNothing: "an update that changes nothing through the hub"
        case .concurrencyLost: "writes made concurrent in the case are ordered through the hub"
        case .deleteMetAtTheHub: "the hub met a delete with a concurrent write no replica of the case did"
        }
    }
}

/// One case run against a hub: its sites, their steps, then its expectations judged.
private struct CaseRun {
    let c: MergeCases.Case
    let cases: MergeCases
    let hub: StoreHub
    let table: TableSpec
    /// Whether the sites push as the daemon does (see `StoreConformanceTests`).
    let soleRecipient: Bool
    /// The hub's schema as published, which the sites install as a new site does.
    let schema: Schema

    /// Two rows a batch and a page, as `ConformanceTests` syncs, so that every case crosses batches.
    static let rowsPerExchange = 2
    /// The schema version the sites sync at (the one holding the cases' table).
    static let version = 2

    init(_ c: MergeCases.Case, of cases: MergeCases, hub: StoreHub, soleRecipient: Bool) throws {
        self.soleRecipient = soleRecipient
        self.c = c
        self.cases = cases
        self.hub = hub
        table = TableSpec(name: cases.table, columns: cases.columns.map { ColumnSpec(name: $0) })
        schema = try SchemaDocument.parse(StoreConformanceTests.schema(of: cases)).schema
    }

    /// The case's sites, registered at the store.
    func makeSites(in folder: TemporaryFolder, store: any RegistryHubStore) throws -> [String: CaseSite] {
        var sites: [String: CaseSite] = [:]
        for name in c.sites where name != "H" {
            sites[name] = try CaseSite(name: name, folder: folder, schema: schema, store: store)
        }
        return sites
    }

    /// Runs the steps: nil once all ran, else what stopped them.
    func runSteps(_ sites: [String: CaseSite], store: any RegistryHubStore) throws -> String? {
        for step in c.steps {
            if let s = step.sync {
                if s.from != "H" { try push(sites[s.from]!, to: store) }
                if s.to != "H" { try pull(sites[s.to]!, from: store) }
                continue
            }
            let site = sites[step.at!]!
            if let (sql, arguments) = cases.statement(for: step) {
                try site.app.write { db in try db.execute(sql: sql, arguments: StatementArguments(arguments)) }
            }
            let stamped = try site.replica.captureLocalChanges(clock: .forced(HybridTimestamp(rawValue: step.clock!)))
            guard stamped == 1 else { return "a write at \(site.name) was captured \(stamped) times" }
        }
        return nil
    }

    /// Runs the steps (up to a staff insert the site's table refuses, noted in `stopped`), then syncs
    /// every site until quiet: nil when every site holds the hub's rows and all hold one merge state.
    func runToQuiet(stopped: inout [String]) throws -> String? {
        let store = hub.store
        let folder = TemporaryFolder("store-conformance")
        let sites = try makeSites(in: folder, store: store)
        defer { for site in sites.values { try? site.replica.close() } }
        do {
            if let problem = try runSteps(sites, store: store) { return problem }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            stopped.append(c.name)
        }
        let ordered = sites.values.sorted { $0.name < $1.name }
        for _ in 0..<3 {
            for site in ordered {
                try push(site, to: store)
                try pull(site, from: store)
            }
        }
        let hubRows = try store.rows(of: table.name)
        let states = try ordered.map { try $0.replica.rowStates(of: table.name) }
        for site in ordered {
            let rows = try site.replica.rows(of: table.name)
            if rows != hubRows { return "\(site.name) holds rows \(rows.keys.sorted()), the hub \(hubRows.keys.sorted())" }
        }
        // One merge state per key everywhere, but for a row born and deleted at one site between two
        // of its pushes, which reached no one: a tombstone there alone (its vector names that site only).
        for key in Set(states.flatMap(\.keys)).sorted() {
            var shared: [(String, RowState?)] = []
            for (site, state) in zip(ordered, states) {
                if let own = state[key], !own.isLive, own.vector.entries.map(\.site) == [site.name.lowercased()] { continue }
                shared.append((site.name, state[key]))
            }
            if let first = shared.first, let other = shared.first(where: { $0.1 != first.1 }) {
                return "\(other.0)'s merge state of \(key) differs from \(first.0)'s: \(String(describing: other.1)) against \(String(describing: first.1))"
            }
        }
        return nil
    }

    /// Runs the steps and returns what did not hold, or nil.
    func run() throws -> String? {
        let store = hub.store
        let folder = TemporaryFolder("store-conformance")
        let sites = try makeSites(in: folder, store: store)
        defer { for site in sites.values { try? site.replica.close() } }
        if let problem = try runSteps(sites, store: store) { return problem }

        let text = { (values: [SQLValue]) in values.map { v -> String? in if case .text(let s) = v { s } else { nil } } }
        for site in sites.values {
            if let problem = cases.judgeRows(try site.replica.rows(of: table.name).mapValues(text), of: c, at: site.name) { return problem }
        }
        if let problem = cases.judgeRows(try store.rows(of: table.name).mapValues(text), of: c, at: "the \(hub.kind) store") {
            return problem
        }
        var ledger = Set<MergeCases.LedgerEntry>()
        for entry in try sites.values.flatMap({ try $0.replica.conflicts() }) + store.conflicts() {
            guard case .text(let v) = entry.loserValue else { return "a ledger value is not text" }
            ledger.insert(MergeCases.LedgerEntry(row: entry.key, column: entry.column, value: v, lostToDelete: entry.winnerIsDelete))
        }
        return cases.judgeLedger(ledger, of: c)
    }

    /// A site's session and push of everything the hub lacks, batch by batch, each from the cursor
    /// the hub's answer gives (as `SyncRound` pushes).
    func push(_ site: CaseSite, to store: any HubStore) throws {
        let session = try store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
        var cursor = session.pushCursor
        for _ in 0..<1_000 {
            let (batch, bytes) = try site.replica.exportEncoded(after: cursor, for: session.hubReplicaID,
                                                                limits: BatchLimits(maxRows: Self.rowsPerExchange), soleRecipient: soleRecipient)
            if batch.rows.isEmpty, batch.complete, cursor == ExchangeCursor(baseSeq: batch.throughSeq, seq: batch.throughSeq) { return }
            let outcome = try store.push(site: site.record, replica: site.replica.replicaID, batch: try BatchCodec.decode(bytes),
                                         schemaVersion: Self.version)
            guard outcome.refused.isEmpty else {
                throw BegawiError(.badBatch, "the \(hub.kind) store refused \(outcome.refused.count) rows of \(site.name)'s batch; the cases have no rules")
            }
            guard outcome.cursor != cursor || !batch.rows.isEmpty else {
                throw BegawiError(.badBatch, "the \(hub.kind) store acknowledged \(site.name)'s batch without moving its cursor (\(cursor))")
            }
            cursor = outcome.cursor
        }
        throw BegawiError(.badBatch, "\(site.name)'s push did not settle in 1,000 batches")
    }

    /// A site's session and pull of the feed's pages, each applied with the cursor the replica keeps
    /// for the hub (as `SyncRound` pulls).
    func pull(_ site: CaseSite, from store: any HubStore) throws {
        let session = try store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
        var cursor = try site.replica.cursor(for: session.hubReplicaID)
        for _ in 0..<1_000 {
            let page = try store.pull(site: site.record, replica: site.replica.replicaID, after: cursor,
                                      maxRows: Self.rowsPerExchange, schemaVersion: Self.version, fresh: false)
            let batch = try BatchCodec.decode(page.bytes)
            guard batch.replicaID == session.hubReplicaID else {
                throw BegawiError(.badBatch, "the \(hub.kind) store's page names source \(batch.replicaID), not its epoch \(session.hubReplicaID)")
            }
            let result = try site.replica.apply(batch, budget: Replica.pageWriteBudget)
            guard result.advancedCursor else {
                throw BegawiError(.badBatch, "the \(hub.kind) store's page did not continue \(site.name)'s cursor \(cursor)")
            }
            if batch.complete { return }
            guard result.cursor != cursor else {
                throw BegawiError(.badBatch, "the \(hub.kind) store's feed did not advance past \(cursor) for \(site.name)")
            }
            cursor = result.cursor
        }
        throw BegawiError(.badBatch, "\(site.name)'s pull did not reach the feed's head in 1,000 pages")
    }
}

/// A site of a case: its replica file, a staff application's own connection to it, and its record
/// at the hub (registered with a credential, then authenticated by it as a request would be).
private struct CaseSite {
    let name: String
    let replica: Replica
    let app: DatabaseQueue
    let record: SiteRecord

    init(name: String, folder: TemporaryFolder, schema: Schema, store: any RegistryHubStore) throws {
        self.name = name
        let path = folder.file("\(name).sqlite")
        replica = try Replica.create(at: path, siteID: name.lowercased(), schema: schema)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        app = try DatabaseQueue(path: path, configuration: configuration)
        let credential = try store.addSite(id: name.lowercased(), kind: .lpk, name: "Site \(name)")
        guard let record = try store.authenticate(token: credential.token) else {
            throw BegawiError(.unauthorized, "the \(name) site's new credential was not accepted")
        }
        self.record = record
    }
}
