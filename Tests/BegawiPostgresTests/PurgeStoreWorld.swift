import BegawiCore
@testable import BegawiHub
@testable import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiSite
import BegawiTestSupport
import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing

/// A wall clock the housekeeping tests move by whole days (the hub's and the sites' one clock).
final class PurgeClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now = UInt64(Date().timeIntervalSince1970 * 1000)

    func nowMilliseconds() -> UInt64 { lock.withLock { now } }

    func advance(days: Int) { lock.withLock { now += UInt64(days) * 86_400_000 } }
}

/// A hub of either store on a clock the test moves, and sites holding real replica files that sync
/// through real rounds of the site daemon (`SiteDaemon.syncOnce` over `PurgeTransport`); the hub
/// keeps house when told. Each store instance the test adds stands for a hub process of its own.
/// `@unchecked Sendable`: a test drives it from one task at a time.
final class PurgeStoreWorld: @unchecked Sendable {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    let hub: StoreHub
    let clock: PurgeClock
    let folder: TemporaryFolder
    var retention = HubRetention()
    private(set) var records: [String: SiteRecord] = [:]
    private let hubPath: String?

    private init(hub: StoreHub, clock: PurgeClock, folder: TemporaryFolder, hubPath: String?) {
        self.hub = hub
        self.clock = clock
        self.folder = folder
        self.hubPath = hubPath
    }

    /// Runs `body` with a new hub of `kind` (the courses schema published), removed afterwards.
    static func with(_ kind: StoreKind, _ body: (PurgeStoreWorld) async throws -> Void) async throws {
        let clock = PurgeClock()
        let folder = TemporaryFolder("pg-purge")
        switch kind {
        case .sqlite:
            let path = folder.file("hub.sqlite")
            try SQLiteHubStore.create(at: path, schemaText: StoreKind.firstSchema, clock: clock)
            let hub = try StoreHub(kind: .sqlite, open: { try SQLiteHubStore(path: path, clock: clock) },
                                   publish: { text, _ in try SQLiteHubStore.publish(at: path, schemaText: text) },
                                   published: { _ in try SQLiteHubStore.published(at: path) })
            defer { hub.close() }
            try await body(PurgeStoreWorld(hub: hub, clock: clock, folder: folder, hubPath: path))
        case .postgres:
            try await TestPostgres.withDatabaseAsync { settings in
                let hub = try StoreHub(kind: .postgres, open: { try PostgresHubStore(settings: settings, poolSize: 2, clock: clock) },
                                       publish: { text, store in try #require(store as? PostgresHubStore).publish(schemaText: text) },
                                       published: { store in try #require(store as? PostgresHubStore).published() })
                hub.settings = settings
                defer { hub.close() }
                _ = try hub.publish(StoreKind.firstSchema)
                try await body(PurgeStoreWorld(hub: hub, clock: clock, folder: folder, hubPath: nil))
            }
        }
    }

    var kind: StoreKind { hub.kind }

    func path(_ site: String) -> String { folder.file("\(site).sqlite") }

    /// Registers a site and makes its replica.
    func addSite(_ id: String) throws {
        let credential = try hub.store.addSite(id: id, kind: .lpk, name: "Site \(id)")
        let record = try #require(try hub.store.authenticate(token: credential.token))
        records[id] = record
        try Replica.create(at: path(id), siteID: id, schema: SchemaDocument.parse(StoreKind.firstSchema).schema, clock: clock).close()
    }

    /// A write by the site's staff application, on its own connection.
    func staff(_ id: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: path(id))
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }

    /// Inserts `count` courses at a site; returns their keys.
    func insert(_ id: String, count: Int, tag: String) throws -> [String] {
        let keys = (0..<count).map { "\(id)-\(tag)-\($0)" }
        let queue = try DatabaseQueue(path: path(id))
        try queue.write { db in
            for key in keys { try db.execute(sql: "INSERT INTO courses(id, title, quota) VALUES (?, ?, 1)", arguments: [key, "course \(key)"]) }
        }
        try queue.close()
        return keys
    }

    /// Deletes courses at a site.
    func delete(_ id: String, _ keys: some Sequence<String>) throws {
        for key in keys { try staff(id, "DELETE FROM courses WHERE id = ?", [key]) }
    }

    /// One real round of the site's daemon against `store` (the hub's first by default); returns the
    /// transport, which recorded the pulls.
    @discardableResult
    func sync(_ id: String, through store: (any RegistryHubStore)? = nil) async throws -> PurgeTransport {
        var configuration = HubConfiguration()
        configuration.retention = retention
        let transport = PurgeTransport(InProcessTransport(store: store ?? hub.store, site: records[id]!, configuration: configuration))
        let daemon = SiteDaemon(configuration: SiteConfiguration(replicaPath: path(id)), transport: transport, clock: clock,
                                logger: PurgeStoreWorld.logger)
        _ = try await daemon.syncOnce()
        return transport
    }

    /// The hub's housekeeping pass at the clock's time, through `store` (the hub's first by default).
    @discardableResult
    func housekeep(through store: (any RegistryHubStore)? = nil) throws -> [String: Int] {
        try #require((store ?? hub.store) as? any ServedHubStore).housekeep(now: clock.nowMilliseconds(), retention: retention)
    }

    /// Pushes what the hub lacks of a site at once, without a round, through `store` (a write
    /// between two steps of the hub's pass).
    func pushNow(_ id: String, through store: any RegistryHubStore) throws {
        let replica = try Replica.open(at: path(id), clock: clock)
        defer { try? replica.close() }
        let record = records[id]!
        let cursor = try store.session(site: record, replica: replica.replicaID, configuration: HubConfiguration()).pushCursor
        let batch = try replica.export(after: cursor, for: store.hubReplicaID, soleRecipient: true)
        _ = try store.push(site: record, replica: replica.replicaID, batch: batch, schemaVersion: nil)
    }

    /// The hub's record of its purge (the first store instance's): chunk size and the test hook.
    var purgeState: PurgeHorizon {
        switch hub.store {
        case let sqlite as SQLiteHubStore: sqlite.purgeState
        case let postgres as PostgresHubStore: postgres.purgeState
        default: PurgeHorizon()
        }
    }

    /// The sites the hub counts as expired now.
    func expired() throws -> [String] {
        switch hub.store {
        case let sqlite as SQLiteHubStore: try sqlite.expiredSites(now: clock.nowMilliseconds(), retention: retention)
        case let postgres as PostgresHubStore: try postgres.expiredSites(now: clock.nowMilliseconds(), retention: retention)
        default: throw BegawiError(.invalidArgument, "an unknown store")
        }
    }

    /// A count from the hub's database (the same table names on both stores).
    func count(_ sql: String) throws -> Int {
        if let hubPath {
            let queue = try DatabaseQueue(path: hubPath)
            defer { try? queue.close() }
            return try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
        }
        return try TestPostgres.withLink(to: hub) { link in
            let row = try #require(try link.query(PostgresQuery(unsafeSQL: sql)).first)
            return Int(try row.decode(Int64.self))
        }
    }

    /// Runs statements on the hub's database.
    func execute(_ sql: String) throws {
        if let hubPath {
            let queue = try DatabaseQueue(path: hubPath)
            defer { try? queue.close() }
            try queue.write { db in try db.execute(sql: sql) }
            return
        }
        try TestPostgres.withLink(to: hub) { link in
            for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                try link.query(PostgresQuery(unsafeSQL: statement))
            }
        }
    }

    /// The live keys of the courses at a site, or tombstones with `dead`.
    func siteKeys(_ id: String, dead: Bool = false) throws -> Set<String> {
        let queue = try DatabaseQueue(path: path(id))
        defer { try? queue.close() }
        return Set(try queue.read { db in try String.fetchAll(db, sql: dead ? "SELECT id FROM _begawi_dead_courses" : "SELECT id FROM courses") })
    }

    /// The hub's live keys of the courses.
    func hubKeys() throws -> Set<String> { Set(try hub.store.rows(of: "courses").keys) }
}

/// A site daemon's transport over `InProcessTransport` that answers as the hub's routes do for
/// what the housekeeping tests need: a session is noted in the site's health, a refusal becomes
/// its status and JSON body; and records the pulls asked (cursor position, fresh copy or not).
final class PurgeTransport: HubTransport, @unchecked Sendable {
    let inner: InProcessTransport
    private let lock = NSLock()
    private var asked: [(seq: UInt64, fresh: Bool)] = []
    /// The pulls asked, in order.
    var pulls: [(seq: UInt64, fresh: Bool)] { lock.withLock { asked } }

    init(_ inner: InProcessTransport) { self.inner = inner }

    func send(_ request: HubRequest) async throws -> HubResponse {
        if request.path.hasPrefix("/v1/pull") {
            let query = request.path.split(separator: "?").last.map(String.init) ?? ""
            let fields = Dictionary(query.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { a, _ in a })
            lock.withLock { asked.append((UInt64(fields["position"] ?? "") ?? 0, fields["fresh"] == "1")) }
        }
        do {
            let response = try await inner.send(request)
            if request.path.hasPrefix("/v1/session"), let replica = request.headers.first(where: { $0.0 == WireHeader.replica })?.1 {
                try inner.store.noteSession(site: inner.site.id, replica: replica, report: SiteReport())
            }
            return response
        } catch let refusal as HubRefusal {
            return HubResponse(status: refusal.status, headers: [:], body: Array(try JSONEncoder().encode(refusal.body)))
        }
    }
}
