@testable import BegawiHub
import BegawiCertificates
import BegawiCore
import BegawiRules
import Foundation
import Logging
import Testing

/// The daemon's seam (issue 17): `HubDaemon` serves whatever `ServedHubStore` the binary opens,
/// runs that store's start checks, and its housekeeping and publishing follow what the store says
/// it does.
@Suite(.blocking) struct HubDaemonSeamTests {
    /// A hub configuration with a certificate, over the harness's file.
    static func configuration(_ h: HubHarness) throws -> HubConfiguration {
        let ca = try PrivateCA.make(commonName: "begawi-test-ca", days: 2)
        let identity = try PrivateCA.issue(for: ["127.0.0.1"], commonName: "begawi-test-hub", by: ca, days: 2)
        try identity.certificate.write(toFile: h.folder.file("hub.crt"), atomically: true, encoding: .utf8)
        try identity.key.write(toFile: h.folder.file("hub.key"), atomically: true, encoding: .utf8)
        return HubConfiguration(host: "127.0.0.1", port: 0, certificateFile: h.folder.file("hub.crt"),
                                privateKeyFile: h.folder.file("hub.key"), databasePath: h.folder.file("hub.sqlite"))
    }

    @Test func theDaemonServesTheStoreItIsGivenAndRunsItsStartChecks() throws {
        let h = try HubHarness(schemaText: PublishedSchemaTests.text(1))
        defer { h.close() }
        let configuration = try Self.configuration(h)
        let published = try SchemaDocument.parse(PublishedSchemaTests.text(1))
        let opened = OpenedStores()
        let daemon = try HubDaemon(configuration: configuration, policy: nil, declared: published.schema, logger: HubLifecycleTests.logger,
                                   open: { clock in try opened.open(h.folder.file("hub.sqlite"), clock: clock) })
        #expect(opened.count == 1)
        #expect(daemon.store as AnyObject === opened.last)
        #expect(daemon.publisher() == nil, "a SQLite push publishes its own rows: no timer")
        daemon.server.lanes.abandon()
        try daemon.store.close()

        // The opened store's own checks refuse a schema that is not the published one, and it is closed.
        let changed = try SchemaDocument.parse(PublishedSchemaTests.text(2, extra: #", {"name": "room"}"#))
        #expect(throws: BegawiError.self) {
            _ = try HubDaemon(configuration: configuration, policy: nil, declared: changed.schema, logger: HubLifecycleTests.logger,
                              open: { clock in try opened.open(h.folder.file("hub.sqlite"), clock: clock) })
        }
        #expect(opened.count == 2 && opened.last?.checks == 1)
        #expect(opened.last?.closed == true)
    }

    @Test func publishingRunsAtTheStoresInterval() async throws {
        let h = try HubHarness(schemaText: PublishedSchemaTests.text(1))
        defer { h.close() }
        let store = try ForwardingStore(SQLiteHubStore(path: h.folder.file("hub.sqlite")), interval: .milliseconds(50))
        defer { try? store.close() }
        let lanes = Blocking()
        let publisher = HubPublisher(store: store, lanes: lanes, interval: .milliseconds(50), logger: HubLifecycleTests.logger)
        let running = Task { try await publisher.run() }
        // Generous: the machine is shared; the timer fires every 50 ms.
        let deadline = ContinuousClock.now + .seconds(60)
        while store.publishes < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        running.cancel()
        try await running.value
        try await lanes.shutdown()
        #expect(store.publishes >= 3)
    }
}

/// The stores a daemon's `open` made, for the test to look at.
final class OpenedStores: @unchecked Sendable {
    private(set) var stores: [ForwardingStore] = []
    var count: Int { stores.count }
    var last: ForwardingStore? { stores.last }
    func open(_ path: String, clock: any WallClock) throws -> any ServedHubStore {
        let store = try ForwardingStore(SQLiteHubStore(path: path, clock: clock))
        stores.append(store)
        return store
    }
}

/// A served store that forwards to a SQLite one, counting the daemon's calls of the seam, and
/// publishing on a timer when asked to.
final class ForwardingStore: ServedHubStore, @unchecked Sendable {
    let inner: SQLiteHubStore
    let interval: Duration?
    private let lock = NSLock()
    private var counts = (checks: 0, housekeepings: 0, publishes: 0, closed: false)

    init(_ inner: SQLiteHubStore, interval: Duration? = nil) {
        self.inner = inner
        self.interval = interval
    }

    var checks: Int { lock.withLock { counts.checks } }
    var housekeepings: Int { lock.withLock { counts.housekeepings } }
    var publishes: Int { lock.withLock { counts.publishes } }
    var closed: Bool { lock.withLock { counts.closed } }

    func prepareToServe(declared: Schema?, policy: AccessPolicy?, schemaFile: String, logger: Logger) throws {
        lock.withLock { counts.checks += 1 }
        try inner.prepareToServe(declared: declared, policy: policy, schemaFile: schemaFile, logger: logger)
    }
    func housekeep(now: UInt64, retention: HubRetention) throws -> [String: Int] {
        lock.withLock { counts.housekeepings += 1 }
        return try inner.housekeep(now: now, retention: retention)
    }
    var publishInterval: Duration? { interval }
    func publishWaiting() throws { lock.withLock { counts.publishes += 1 } }
    func close() throws {
        lock.withLock { counts.closed = true }
        try inner.close()
    }

    var hubReplicaID: String { inner.hubReplicaID }
    func authenticate(token: String) throws -> SiteRecord? { try inner.authenticate(token: token) }
    func credentialIsCurrent(site: String, secretHash: String) throws -> Bool { try inner.credentialIsCurrent(site: site, secretHash: secretHash) }
    func session(site: SiteRecord, replica: String, configuration: HubConfiguration) throws -> HubSession {
        try inner.session(site: site, replica: replica, configuration: configuration)
    }
    func push(site: SiteRecord, replica: String, batch: ChangeBatch, schemaVersion: Int?) throws -> PushOutcome {
        try inner.push(site: site, replica: replica, batch: batch, schemaVersion: schemaVersion)
    }
    func unsettledRefusals(site: SiteRecord, replica: String, schemaVersion: Int?) throws -> PushOutcome? {
        try inner.unsettledRefusals(site: site, replica: replica, schemaVersion: schemaVersion)
    }
    var currentSchemaVersion: Int? { inner.currentSchemaVersion }
    func publishedSchema(version: Int) -> PublishedSchema? { inner.publishedSchema(version: version) }
    func noteSession(site: String, replica: String, report: SiteReport) throws { try inner.noteSession(site: site, replica: replica, report: report) }
    func noteContact(site: String) throws { try inner.noteContact(site: site) }
    var feed: FeedNotifier { inner.feed }
    func noteRefused(site: String, daemonVersion: DaemonVersion?, schemaVersion: Int) throws {
        try inner.noteRefused(site: site, daemonVersion: daemonVersion, schemaVersion: schemaVersion)
    }
    func health() throws -> [SiteHealth] { try inner.health() }
    func headSeq() throws -> UInt64 { try inner.headSeq() }
    func probe() throws { try inner.probe() }
    func pull(site: SiteRecord, replica: String, after cursor: ExchangeCursor, maxRows: Int, schemaVersion: Int?,
              fresh: Bool) throws -> (batch: ChangeBatch, bytes: [UInt8]) {
        try inner.pull(site: site, replica: replica, after: cursor, maxRows: maxRows, schemaVersion: schemaVersion, fresh: fresh)
    }
    func snapshotPart(site: SiteRecord, replica id: String, table: String, after: String?, maxRows: Int,
                      schemaVersion: Int?, compressed: Bool) throws -> (rows: Int, bytes: [UInt8])? {
        try inner.snapshotPart(site: site, replica: id, table: table, after: after, maxRows: maxRows, schemaVersion: schemaVersion, compressed: compressed)
    }
    func catchUp(site: SiteRecord, replica: String, fromVersion: Int, schemaVersion: Int?, afterSeq: UInt64,
                 maxRows: Int) throws -> (batch: ChangeBatch, bytes: [UInt8], next: UInt64?) {
        try inner.catchUp(site: site, replica: replica, fromVersion: fromVersion, schemaVersion: schemaVersion, afterSeq: afterSeq, maxRows: maxRows)
    }
    func backup(to path: String) throws { try inner.backup(to: path) }
}

/// A log handler that keeps each message, for a test to read.
final class LogLines: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var messages: [String] { lock.withLock { lines } }
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lock.withLock { lines.append("\(event.message)") } }
}
