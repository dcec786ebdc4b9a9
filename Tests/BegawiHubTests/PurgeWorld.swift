import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiSite
import BegawiTestSupport
import Foundation
import GRDB
import Logging

/// A wall clock a test moves by whole days (the hub's and the sites' one clock).
final class DayClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    init(_ start: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000)) { now = start }

    func nowMilliseconds() -> UInt64 { lock.withLock { now } }

    func advance(days: Int) { lock.withLock { now += UInt64(days) * 86_400_000 } }
}

/// A hub without rules and site replicas in one process, on real SQLite files: sites sync through
/// real rounds (`SiteDaemon.syncOnce` over a `StoreTransport`), the hub runs its housekeeping pass
/// when told, and one clock moves them all through simulated days. `@unchecked Sendable`: a test
/// drives it from one task at a time (a purge hook runs on the same thread, between chunks).
final class PurgeWorld: @unchecked Sendable {
    static let schema = Schema(tables: [TableSpec(name: "notes", columns: [ColumnSpec(name: "body"), ColumnSpec(name: "site")])])
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    let folder = TemporaryFolder("begawi-purge")
    let clock = DayClock()
    let store: SQLiteHubStore
    var retention = HubRetention()
    var hubConfiguration = HubConfiguration()
    private(set) var records: [String: SiteRecord] = [:]

    init() throws {
        try SQLiteHubStore.create(at: folder.file("hub.sqlite"), schema: PurgeWorld.schema, clock: clock)
        store = try SQLiteHubStore(path: folder.file("hub.sqlite"), clock: clock)
    }

    deinit { try? store.close() }

    func path(_ site: String) -> String { folder.file("\(site).sqlite") }

    func addSite(_ id: String) throws {
        _ = try store.addSite(id: id, kind: .lpk, name: "Site \(id)")
        records[id] = try store.sites().first { $0.id == id }!
        try Replica.create(at: path(id), siteID: id, schema: PurgeWorld.schema, clock: clock).close()
    }

    /// A write by the site's staff application, on its own connection.
    func staff(_ id: String, _ sql: String, _ arguments: StatementArguments = []) throws {
        // As a staff application does: it waits for the engine's short transactions (a snapshot part's
        // adoption can run while the next part is fetched).
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path(id), configuration: configuration)
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
    }

    /// Inserts `count` notes at a site; returns their keys.
    func insert(_ id: String, count: Int, tag: String) throws -> [String] {
        let keys = (0..<count).map { "\(id)-\(tag)-\($0)" }
        let queue = try DatabaseQueue(path: path(id))
        try queue.write { db in
            for key in keys { try db.execute(sql: "INSERT INTO notes(id, body, site) VALUES (?, ?, ?)", arguments: [key, "note \(key)", id]) }
        }
        try queue.close()
        return keys
    }

    /// One real sync round of the site daemon.
    @discardableResult
    func sync(_ id: String, transport: StoreTransport? = nil) async throws -> RoundReport {
        let transport = transport ?? self.transport(id)
        var configuration = SiteConfiguration(replicaPath: path(id))
        configuration.firstPullBySnapshot = transport.snapshots
        let daemon = SiteDaemon(configuration: configuration, transport: transport, clock: clock, logger: PurgeWorld.logger)
        return try await daemon.syncOnce().0
    }

    /// Pushes what the hub lacks of a site at once, without a round (a write between two steps of the hub).
    func pushNow(_ id: String) throws {
        let replica = try Replica.open(at: path(id), clock: clock)
        defer { try? replica.close() }
        let record = records[id]!
        let cursor = try store.session(site: record, replica: replica.replicaID, configuration: hubConfiguration).pushCursor
        let batch = try replica.export(after: cursor, for: store.hubReplicaID, soleRecipient: true)
        _ = try store.push(site: record, replica: replica.replicaID, batch: batch, schemaVersion: nil)
    }

    func transport(_ id: String, failPullsAfter: Int? = nil) -> StoreTransport {
        StoreTransport(store: store, site: records[id]!, configuration: hubConfiguration, failPullsAfter: failPullsAfter)
    }

    /// The hub's housekeeping pass at the clock's time.
    @discardableResult
    func housekeep() throws -> [String: Int] { try store.housekeep(now: clock.nowMilliseconds(), retention: retention) }

    /// Rows of a table in a file, by key: live ones, or tombstones with `dead`.
    func keys(_ file: String, dead: Bool = false) throws -> Set<String> {
        let queue = try DatabaseQueue(path: file)
        defer { try? queue.close() }
        return Set(try queue.read { db in try String.fetchAll(db, sql: dead ? "SELECT id FROM _begawi_dead_notes" : "SELECT id FROM notes") })
    }

    /// A count from a file.
    func count(_ file: String, _ sql: String) throws -> Int {
        let queue = try DatabaseQueue(path: file)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    var hubPath: String { folder.file("hub.sqlite") }
}
