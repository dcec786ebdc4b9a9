import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB

/// A hub store and site replicas in one process, exchanging batches through the store's push and
/// pull exactly as the HTTP routes do (real SQLite files, the Handak Begawi schema and its rules).
final class HubHarness {
    struct Site {
        let record: SiteRecord
        let replica: Replica
    }

    /// What one exchange did.
    struct Exchange {
        var refused: [RowRefusal] = []
        var received = 0
        var evicted = 0
        var purged = 0
    }

    let folder = TemporaryFolder()
    let document: SchemaDocument
    var policy: AccessPolicy { document.policy! }
    private(set) var store: SQLiteHubStore
    private(set) var sites: [String: Site] = [:]
    /// The schema version each site says it holds on push and pull; absent says nothing (version 1).
    var schemaVersions: [String: Int] = [:]
    /// The hub's and the sites' clock.
    let clock: any WallClock

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    convenience init(schemaFile: String = "config/handak-begawi.json", clock: any WallClock = SystemWallClock()) throws {
        try self.init(document: try SchemaDocument.load(path: HubHarness.repositoryRoot.appendingPathComponent(schemaFile).path), clock: clock)
    }

    /// A hub made with the document's tables, running with its rules.
    init(document: SchemaDocument, clock: any WallClock = SystemWallClock()) throws {
        self.document = document
        self.clock = clock
        try SQLiteHubStore.create(at: folder.file("hub.sqlite"), schema: document.schema, clock: clock)
        store = try SQLiteHubStore(path: folder.file("hub.sqlite"), clock: clock, policy: document.policy)
    }

    /// A hub made from a schema file's text, which it records as its first published version.
    init(schemaText: Data) throws {
        document = try SchemaDocument.parse(schemaText)
        clock = SystemWallClock()
        try SQLiteHubStore.create(at: folder.file("hub.sqlite"), schemaText: schemaText)
        store = try SQLiteHubStore(path: folder.file("hub.sqlite"), policy: document.policy)
    }

    /// Publishes a later version as `begawi hub schema publish` does, then reopens the store on it.
    func publish(_ text: Data) throws {
        try store.close()
        _ = try SQLiteHubStore.publish(at: folder.file("hub.sqlite"), schemaText: text)
        store = try SQLiteHubStore(path: folder.file("hub.sqlite"), policy: try SchemaDocument.parse(text).policy)
    }

    /// Closes the hub's store and opens it again as the daemon does at a restart (with the rules);
    /// `meanwhile` runs on the closed file's path in between. The sites stay open.
    func reopen(meanwhile: (String) throws -> Void = { _ in }) throws {
        try store.close()
        try meanwhile(folder.file("hub.sqlite"))
        store = try SQLiteHubStore(path: folder.file("hub.sqlite"), clock: clock, policy: document.policy)
    }

    deinit { close() }

    func close() {
        for site in sites.values { try? site.replica.close() }
        sites = [:]
        try? store.close()
    }

    @discardableResult
    func addSite(_ id: String, kind: SiteKind, schema: Schema? = nil) throws -> Site {
        _ = try store.addSite(id: id, kind: kind, name: "Site \(id)")
        let record = try store.sites().first { $0.id == id }!
        let replica = try Replica.create(at: folder.file("\(id).sqlite"), siteID: id, schema: schema ?? document.schema, clock: clock)
        let site = Site(record: record, replica: replica)
        sites[id] = site
        return site
    }

    func site(_ id: String) -> Site { sites[id]! }

    /// Migrates a site's replica as its daemon does, and says the new version from then on.
    func migrateSite(_ id: String, to document: SchemaDocument, from version: Int) throws {
        let site = self.site(id)
        sites[id] = Site(record: site.record, replica: try site.replica.migrate(to: document.schema, version: document.version, catchUpFrom: version))
        schemaVersions[id] = document.version
    }

    /// A write by the site's staff application: its own connection, knowing nothing of Begawi.
    func staff(_ id: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: folder.file("\(id).sqlite"))
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }

    /// Pushes everything the hub lacks (settling refusals as the site daemon does), then pulls to the head.
    /// Without `soleRecipient`, rows born and deleted since the last push are sent too (as no site
    /// daemon sends them), so that a test can show the hub refusing them. With `purge`, the site purges
    /// its tombstones by the session's `purgeBefore` after the push, as the site daemon's round does.
    @discardableResult
    func sync(_ id: String, batchRows: Int = 500, soleRecipient: Bool = true, purge: Bool = false) throws -> Exchange {
        let site = self.site(id)
        var exchange = Exchange()
        let session = try store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
        // As the site daemon does: rows waiting for a row they reference go once more.
        let awaiting = try site.replica.requeueAwaitingReferences()
        var cursor = session.pushCursor
        while true {
            let batch = try site.replica.export(after: cursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: batchRows), soleRecipient: soleRecipient)
            if batch.rows.isEmpty && batch.complete && cursor == ExchangeCursor(baseSeq: batch.throughSeq, seq: batch.throughSeq) { break }
            let wire = try BatchCodec.decode(try BatchCodec.encode(batch))
            let outcome = try store.push(site: site.record, replica: site.replica.replicaID, batch: wire, schemaVersion: schemaVersions[id])
            if !outcome.refused.isEmpty {
                let restore = try outcome.restore.map { try BatchCodec.decode(Array(Data(base64Encoded: $0)!)) }
                try site.replica.settleRefusals(outcome.refused, restore: restore)
                exchange.refused += outcome.refused
            }
            cursor = outcome.cursor
        }
        if purge, let before = session.purgeBefore {
            exchange.purged = try site.replica.purgeOwnTombstones(before: before, acknowledgedSeq: cursor.seq)
        }
        let waiting = Set(exchange.refused.filter { $0.reason.action == .keep }.map { RowKey(table: $0.table, key: $0.key) })
        try site.replica.resolveAwaiting(awaiting.subtracting(waiting))
        var pull = try site.replica.cursor(for: session.hubReplicaID)
        while true {
            let (_, bytes) = try store.pull(site: site.record, replica: site.replica.replicaID, after: pull, maxRows: 200, schemaVersion: schemaVersions[id])
            let page = try BatchCodec.decode(bytes)
            let result = try site.replica.apply(page)
            exchange.received += page.rows.count
            exchange.evicted += result.evicted
            pull = result.cursor
            if page.complete { break }
        }
        // As the site daemon does: removed rows must not linger in the write-ahead log.
        if exchange.evicted > 0 || exchange.refused.contains(where: { $0.reason.action == .erase }) { try site.replica.checkpoint() }
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

    /// Whether a file or its write-ahead log holds these bytes anywhere (free pages included).
    func rawContains(_ file: String, _ text: String) throws -> Bool {
        for path in [file, file + "-wal"] where FileManager.default.fileExists(atPath: path) {
            if try Data(contentsOf: URL(fileURLWithPath: path)).range(of: Data(text.utf8)) != nil { return true }
        }
        return false
    }

    /// Keys of every row the site holds in its replica, live or tombstone, of a table.
    func siteStateKeys(_ id: String, _ table: String) throws -> Set<String> { Set(try site(id).replica.rowStates(of: table).keys) }
}

/// Made-up people of Bontang with plausible NIKs (never a real person's).
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
