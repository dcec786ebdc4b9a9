import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// What the rules' store-level tests need of a hub store beyond the registry: both stores have it
/// with the same signatures.
protocol RulesHubStore: RegistryHubStore {
    /// How many audit entries there are, of one action if given.
    func auditCount(action: String?) throws -> Int
    /// The digest of the rules the hub last ran with.
    func installedRulesDigest() throws -> String?
    /// The rows newly granted per site when the rules changed since the last start.
    var rulesRecomputed: [String: Int]? { get }
}

extension SQLiteHubStore: RulesHubStore {}
extension PostgresHubStore: RulesHubStore {}

/// A hub under the rules of config/handak-begawi.json on either store, and site replicas (real
/// SQLite files), exchanging batches through the store's push and pull as the HTTP routes do: the
/// store-level twin of BegawiHubTests' `HubHarness`, so that each rule behaviour runs on both.
final class RulesHarness {
    struct Site {
        let record: SiteRecord
        let replica: Replica
    }

    /// What one exchange did.
    struct Exchange {
        var refused: [RowRefusal] = []
        var received = 0
        var evicted = 0
    }

    let kind: StoreKind
    let folder = TemporaryFolder()
    let document: SchemaDocument
    let schemaText: Data
    var policy: AccessPolicy { document.policy! }
    private(set) var store: any RulesHubStore
    private(set) var sites: [String: Site] = [:]
    private var others: [any RulesHubStore] = []
    /// PostgreSQL: the hub's database, dropped by `close`.
    private(set) var settings: PostgresSettings?
    private var database: ScratchDatabase?

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var handakBegawi: Data {
        get throws { try Data(contentsOf: repositoryRoot.appendingPathComponent("config/handak-begawi.json")) }
    }

    /// A new hub of `kind` with the schema file published as its first version, running its rules.
    init(kind: StoreKind, schemaText: Data? = nil) throws {
        self.kind = kind
        let text = try schemaText ?? RulesHarness.handakBegawi
        self.schemaText = text
        document = try SchemaDocument.parse(text)
        switch kind {
        case .sqlite:
            try SQLiteHubStore.create(at: folder.file("hub.sqlite"), schemaText: text)
            store = try SQLiteHubStore(path: folder.file("hub.sqlite"), policy: document.policy)
        case .postgres:
            let scratch = try ScratchDatabase()
            database = scratch
            let settings = scratch.settings
            self.settings = settings
            // Opened with the rules before anything is published: publishing installs them.
            let postgres = try PostgresHubStore(settings: settings, poolSize: 2, policy: document.policy, erasureLog: folder.file("hub.erasures"))
            store = postgres
            _ = try postgres.publish(schemaText: text)
        }
    }

    deinit { close() }

    /// The hub's erasure log: beside the SQLite file (its default), or the file a PostgreSQL hub is given.
    var erasureLogPath: String { kind == .sqlite ? folder.file("hub.sqlite") + ".erasures" : folder.file("hub.erasures") }

    /// Another hub process on the same database, with the same rules.
    func another() throws -> any RulesHubStore {
        let other: any RulesHubStore = switch kind {
        case .sqlite: try SQLiteHubStore(path: folder.file("hub.sqlite"), policy: document.policy)
        case .postgres: try PostgresHubStore(settings: try #require(settings), poolSize: 2, policy: document.policy, erasureLog: erasureLogPath)
        }
        others.append(other)
        return other
    }

    /// Publishes a later version as `begawi hub schema publish` does (the SQLite store's file is
    /// published while closed, then opened again with the rules it ran with).
    func publish(_ text: Data) throws {
        switch kind {
        case .sqlite:
            RulesHarness.close(store)
            _ = try SQLiteHubStore.publish(at: folder.file("hub.sqlite"), schemaText: text)
            store = try SQLiteHubStore(path: folder.file("hub.sqlite"), policy: document.policy)
        case .postgres:
            _ = try #require(store as? PostgresHubStore).publish(schemaText: text)
        }
    }

    /// Closes the store and opens it again with `policy` (a restart, perhaps with other rules).
    func reopen(policy: AccessPolicy?) throws {
        RulesHarness.close(store)
        store = switch kind {
        case .sqlite: try SQLiteHubStore(path: folder.file("hub.sqlite"), policy: policy)
        case .postgres: try PostgresHubStore(settings: try #require(settings), poolSize: 2, policy: policy, erasureLog: erasureLogPath)
        }
    }

    func close() {
        for site in sites.values { try? site.replica.close() }
        sites = [:]
        for store in [store] + others { RulesHarness.close(store) }
        others = []
        database?.drop()
        database = nil
    }

    private static func close(_ store: any RulesHubStore) {
        if let sqlite = store as? SQLiteHubStore { try? sqlite.close() }
        if let postgres = store as? PostgresHubStore { postgres.close() }
    }

    @discardableResult
    func addSite(_ id: String, kind: SiteKind) throws -> Site {
        _ = try store.addSite(id: id, kind: kind, name: "Site \(id)")
        let record = try #require(try store.sites().first { $0.id == id })
        let replica = try Replica.create(at: folder.file("\(id).sqlite"), siteID: id, schema: document.schema)
        let site = Site(record: record, replica: replica)
        sites[id] = site
        return site
    }

    func site(_ id: String) -> Site { sites[id]! }

    /// A write by the site's staff application: its own connection, knowing nothing of Begawi.
    func staff(_ id: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: folder.file("\(id).sqlite"))
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }

    /// Pushes everything the hub lacks (settling refusals as the site daemon does), then pulls to the
    /// head, through `store` (default: the harness's). Without `soleRecipient`, rows born and deleted
    /// since the last push are sent too, as a hostile site would.
    @discardableResult
    func sync(_ id: String, batchRows: Int = 500, soleRecipient: Bool = true, through store: (any RulesHubStore)? = nil) throws -> Exchange {
        let store = store ?? self.store
        let site = self.site(id)
        var exchange = Exchange()
        let session = try store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
        let awaiting = try site.replica.requeueAwaitingReferences()
        var cursor = session.pushCursor
        while true {
            let batch = try site.replica.export(after: cursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: batchRows), soleRecipient: soleRecipient)
            if batch.rows.isEmpty && batch.complete && cursor == ExchangeCursor(baseSeq: batch.throughSeq, seq: batch.throughSeq) { break }
            let wire = try BatchCodec.decode(try BatchCodec.encode(batch))
            let outcome = try store.push(site: site.record, replica: site.replica.replicaID, batch: wire, schemaVersion: nil)
            if !outcome.refused.isEmpty {
                let restore = try outcome.restore.map { try BatchCodec.decode(Array(try #require(Data(base64Encoded: $0)))) }
                _ = try site.replica.settleRefusals(outcome.refused, restore: restore)
                exchange.refused += outcome.refused
            }
            cursor = outcome.cursor
        }
        let waiting = Set(exchange.refused.filter { $0.reason.action == .keep }.map { RowKey(table: $0.table, key: $0.key) })
        try site.replica.resolveAwaiting(awaiting.subtracting(waiting))
        var pull = try site.replica.cursor(for: session.hubReplicaID)
        while true {
            let (_, bytes) = try store.pull(site: site.record, replica: site.replica.replicaID, after: pull, maxRows: 200, schemaVersion: nil, fresh: false)
            let page = try BatchCodec.decode(bytes)
            let result = try site.replica.apply(page)
            exchange.received += page.rows.count
            exchange.evicted += result.evicted
            pull = result.cursor
            if page.complete { break }
        }
        return exchange
    }

    /// Syncs every site, `rounds` times over, so that what one pushes reaches the others.
    func syncAll(rounds: Int = 2) throws {
        for _ in 0..<rounds {
            for id in sites.keys.sorted() { try sync(id) }
        }
    }

    func hubRows(_ table: String) throws -> [String: [SQLValue]] { try store.rows(of: table) }
    func siteRows(_ id: String, _ table: String) throws -> [String: [SQLValue]] { try site(id).replica.rows(of: table) }
    /// Keys of every row the site holds, live or tombstone, of a table.
    func siteStateKeys(_ id: String, _ table: String) throws -> Set<String> { Set(try site(id).replica.rowStates(of: table).keys) }

    /// A hub with `sites` registered, each also named by the office in `partners`, as the rules need
    /// to tell an LPK from a company.
    static func withPartners(_ kind: StoreKind, _ sites: [(id: String, kind: SiteKind)]) throws -> RulesHarness {
        let h = try RulesHarness(kind: kind)
        for site in sites { try h.addSite(site.id, kind: site.kind) }
        for site in sites {
            try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES (?, ?, ?)", [site.id, site.kind.rawValue, "Partner \(site.id)"])
        }
        return h
    }

    /// Registers `person` as a participant at `site`, as its staff would; returns the row's key.
    func register(_ site: String, _ person: Person) throws -> String {
        let key = person.key(policy)
        try staff(site, "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                  [key, person.nik, person.name, person.birth, person.female ? "P" : "L", site])
        return key
    }

    /// For every site that is not an office, the live rows of each table that is not a catalogue it
    /// holds, against those the rules let it see by the hub's live rows (`AccessPolicy.receivers`):
    /// what it holds of the hub's rows and may not see (a leak), and what it may see and lacks
    /// (after a full sync, none).
    func sightProblems() throws -> (leaked: [String], missing: [String]) {
        var live: [String: [String: StoredRow]] = [:]
        for spec in document.schema.tables {
            live[spec.name] = try hubRows(spec.name).mapValues { values in
                StoredRow(values: Dictionary(uniqueKeysWithValues: zip(spec.columns.map(\.name), values)), live: true)
            }
        }
        let lookup = LiveRowsLookup(rows: live)
        var leaked: [String] = [], missing: [String] = []
        for (id, site) in sites.sorted(by: { $0.key < $1.key }) where site.record.kind != .office {
            for (name, rule) in policy.tables.sorted(by: { $0.key < $1.key }) where rule.receivers == .linked {
                let held = Set(try siteRows(id, name).keys)
                var seen = Set<String>()
                for (key, row) in live[name] ?? [:] where try policy.receivers(of: name, key: key, row: row, lookup: lookup).contains(id) {
                    seen.insert(key)
                }
                // A row the hub does not hold is the site's own, waiting (an awaited reference): no leak.
                let atHub = Set((live[name] ?? [:]).keys)
                leaked += held.intersection(atHub).subtracting(seen).sorted().map { "\(id) holds \(name)/\($0)" }
                missing += seen.subtracting(held).sorted().map { "\(id) lacks \(name)/\($0)" }
            }
        }
        return (leaked, missing)
    }
}

/// The rules' view of the hub's live rows, read through the store (tombstones are not readable
/// through it; the tests' rows own their owners live).
struct LiveRowsLookup: RuleLookup {
    let rows: [String: [String: StoredRow]]

    func row(_ table: String, key: String) throws -> StoredRow? { rows[table]?[key] }

    func rows(_ table: String, where column: String, is value: String, liveOnly: Bool) throws -> [(key: String, row: StoredRow)] {
        (rows[table] ?? [:]).filter { $0.value.text(column) == value }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// Made-up people of Bontang with plausible NIKs (never a real person's), as BegawiHubTests makes them.
struct Person {
    let nik: String
    let name: String
    let birth: String
    let female: Bool

    static let given = ["Agus", "Ahmad", "Andi", "Ani", "Budi", "Dewi", "Eka", "Fitri", "Hendra", "Indah", "Joko", "Kartini", "Lestari", "Muhammad", "Nur", "Putri", "Rina", "Siti", "Taufik", "Wahyu"]
    static let family = ["Saputra", "Wijaya", "Hidayat", "Pratama", "Kusuma", "Lestari", "Rahman", "Siregar", "Nasution", "Syahputra"]

    /// The n-th made-up person: a kecamatan of Bontang, a birth date, and serial n.
    static func make(_ n: Int) -> Person {
        let female = n % 2 == 1
        let day = 1 + n % 28, month = 1 + (n / 28) % 12, year = 80 + n % 20
        let kecamatan = 1 + n % 3
        let nik = String(format: "6474%02d%02d%02d%02d%04d", kecamatan, day + (female ? 40 : 0), month, year, 1 + n % 9999)
        let name = "\(given[n % given.count]) \(family[(n / given.count) % family.count])"
        return Person(nik: nik, name: name, birth: String(format: "19%02d-%02d-%02d", year, month, day), female: female)
    }

    func key(_ policy: AccessPolicy) -> String {
        NIK.key(for: nik, salt: policy["participants"]!.derivedKey!.salt)
    }
}
