import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// What only the PostgreSQL store has: several processes opening one new database at once, the
/// epoch kept in the database, versions published through one process reaching the others, and
/// the exchange refused while it is being built.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresHubStoreTests {
    @Test func processesOpeningANewDatabaseAtOnceShareOneEpoch() throws {
        try TestPostgres.withDatabase { settings in
            let opened = Shared<(epochs: [String], failures: [String])>(([], []))
            concurrently((0..<4).map { _ in
                {
                    do {
                        let store = try PostgresHubStore(settings: settings, poolSize: 1)
                        defer { store.close() }
                        opened.with { $0.epochs.append(store.hubReplicaID) }
                    } catch {
                        opened.with { $0.failures.append("\(error)") }
                    }
                }
            })
            let (epochs, failures) = opened.with { $0 }
            #expect(failures.isEmpty, "\(failures)")
            #expect(epochs.count == 4 && Set(epochs).count == 1)
            #expect(UUIDText.parse(try #require(epochs.first)) != nil)

            let again = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { again.close() }
            #expect(again.hubReplicaID == epochs.first)
            #expect(try again.headSeq() == 0)
            try again.probe()
        }
    }

    @Test func aVersionPublishedThroughAnotherProcessReachesThisOne() throws {
        try TestPostgres.withDatabase { settings in
            let one = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { one.close() }
            let two = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { two.close() }
            #expect(two.currentSchemaVersion == nil)
            _ = try one.publish(schemaText: StoreKind.firstSchema)
            // A version asked for by number is read when this process has not seen it.
            #expect(two.publishedSchema(version: 1)?.version == 1)
            _ = try one.publish(schemaText: HubStoreSchemaTests.second)
            #expect(two.currentSchemaVersion == 1, "the latest is re-read at a session's refresh, not at every question")
            try two.refresh()
            #expect(two.currentSchemaVersion == 2)
        }
    }

    /// Four processes add one site, or publish one version, at the same moment: one of them does it,
    /// and the others are refused cleanly (a site) or find it done (a version), never a failed statement.
    @Test func processesRacingForOneSiteOrOneVersionTakeTurns() throws {
        try TestPostgres.withDatabase { settings in
            let stores = try (0..<4).map { _ in try PostgresHubStore(settings: settings, poolSize: 1) }
            defer { stores.forEach { $0.close() } }
            _ = try stores[0].publish(schemaText: StoreKind.firstSchema)
            let outcome = Shared<(added: [String], refused: [String], published: [Bool], failures: [String])>(([], [], [], []))
            concurrently(stores.map { store in
                {
                    do {
                        let credential = try store.addSite(id: "lpk-a", kind: .lpk, name: "A")
                        outcome.with { $0.added.append(credential.token) }
                    } catch let error as BegawiError where error.code == .invalidArgument {
                        outcome.with { $0.refused.append(error.message) }
                    } catch {
                        outcome.with { $0.failures.append("\(error)") }
                    }
                    do {
                        let evolution = try store.publish(schemaText: HubStoreSchemaTests.second)
                        outcome.with { $0.published.append(evolution.isPublished) }
                    } catch {
                        outcome.with { $0.failures.append("\(error)") }
                    }
                }
            })
            let (added, refused, published, failures) = outcome.with { $0 }
            #expect(failures.isEmpty, "\(failures)")
            #expect(added.count == 1 && refused.count == 3 && refused.allSatisfy { $0.contains("already exists") })
            #expect(published.count == 4 && published.filter { !$0 }.count == 1, "one records version 2, the others find it current")
            #expect(try stores[3].authenticate(token: try #require(added.first))?.id == "lpk-a")
            #expect(try stores[3].published().map(\.version) == [1, 2])
        }
    }

    @Test func aStoredKindBegawiNeverWritesIsADamagedDatabase() throws {
        try TestPostgres.withDatabase { settings in
            let store = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { store.close() }
            let credential = try store.addSite(id: "lpk-x", kind: .lpk, name: "LPK X")
            let admin = try PostgresLink.connect(settings)
            defer { admin.close() }
            try admin.query("UPDATE _hub_sites SET kind = 'lembaga' WHERE id = 'lpk-x'")
            let reads: [() throws -> Void] = [{ _ = try store.sites() }, { _ = try store.authenticate(token: credential.token) }]
            for attempt in reads {
                let error = try #require(throws: BegawiError.self) { try attempt() }
                #expect(error.code == .corrupted && error.message.contains("lpk-x") && !error.message.contains("lembaga"), "\(error)")
            }
        }
    }

    @Test func whatCannotBeServedIsRefusedClearly() throws {
        try TestPostgres.withDatabase { settings in
            let store: any HubStore = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { (store as? PostgresHubStore)?.close() }
            let site = SiteRecord(id: "lpk-a", kind: .lpk, name: "A", createdAt: 0)
            let replica = UUID().uuidString.lowercased()
            // Before a first publish there are no synced tables: the exchange says to publish.
            let exchange: [() throws -> Void] = [
                { _ = try store.session(site: site, replica: replica, configuration: HubConfiguration()) },
                { _ = try store.push(site: site, replica: replica, batch: ChangeBatch(replicaID: replica, baseSeq: 0, afterSeq: 0, throughSeq: 0,
                                                                                    complete: true, tables: [], rows: []), schemaVersion: nil) },
                { _ = try store.pull(site: site, replica: replica, after: ExchangeCursor(baseSeq: 0, seq: 0), maxRows: 10, schemaVersion: nil, fresh: false) },
                { _ = try store.snapshotPart(site: site, replica: replica, table: "courses", after: nil, maxRows: 10, schemaVersion: nil, compressed: true) },
                { _ = try store.catchUp(site: site, replica: replica, fromVersion: 1, schemaVersion: nil, afterSeq: 0, maxRows: 10) },
            ]
            for attempt in exchange {
                let error = try #require(throws: BegawiError.self) { try attempt() }
                #expect(error.code == .configuration && error.message.contains("begawi hub schema publish"), "\(error)")
            }
            let backup = try #require(throws: BegawiError.self) { try store.backup(to: "/tmp/never") }
            #expect(backup.message.contains("pg_dump"))
        }
    }

    /// A process serves only with the rules the published schema declares: started without them,
    /// or with others (a version published through another process since), its exchange is refused
    /// with what to do, never served without them; started with them, it serves.
    @Test func aProcessServesOnlyWithThePublishedRules() throws {
        let ruled = Data(#"{"version": 1, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "provider"}], "access": {"owner": "provider", "writers": ["lpk"], "receivers": "all"}}]}"#.utf8)
        let policy = try #require(SchemaDocument.parse(ruled).policy)
        try TestPostgres.withDatabase { settings in
            let store = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { store.close() }
            _ = try store.publish(schemaText: ruled)
            let site = SiteRecord(id: "lpk-a", kind: .lpk, name: "A", createdAt: 0)
            let error = try #require(throws: BegawiError.self) {
                try store.session(site: site, replica: UUID().uuidString.lowercased(), configuration: HubConfiguration())
            }
            #expect(error.code == .configuration && error.message.contains("started without them"), "\(error)")
            var other = policy
            other.tables["courses"]?.receivers = .linked
            let otherStore = try PostgresHubStore(settings: settings, poolSize: 1, policy: other)
            defer { otherStore.close() }
            let differs = try #require(throws: BegawiError.self) {
                try otherStore.session(site: site, replica: UUID().uuidString.lowercased(), configuration: HubConfiguration())
            }
            #expect(differs.code == .configuration && differs.message.contains("other rules"), "\(differs)")
            let ruledStore = try PostgresHubStore(settings: settings, poolSize: 1, policy: policy)
            defer { ruledStore.close() }
            _ = try ruledStore.session(site: site, replica: UUID().uuidString.lowercased(), configuration: HubConfiguration())
            try ruledStore.requireServing(declared: try SchemaDocument.parse(ruled).schema, policy: policy, file: "hub.json")
            #expect(throws: BegawiError.self) { try ruledStore.requireServing(declared: try SchemaDocument.parse(ruled).schema, policy: other, file: "hub.json") }
        }
    }

    @Test func aServerThatCannotBeReachedIsAClearError() throws {
        var settings = try PostgresSettings(url: "postgresql://begawi@127.0.0.1:1/hub")
        settings.connectTimeoutMilliseconds = 2_000
        let error = try #require(throws: BegawiError.self) { try PostgresHubStore(settings: settings, poolSize: 1) }
        #expect(error.code == .network)
    }
}

/// A pull held by one hub process wakes when another process's push is published (LISTEN/NOTIFY).
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresFeedListenerTests {
    /// The wake a held pull got, set by the waiting task.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var wake: FeedNotifier.Wake?
        let done = DispatchSemaphore(value: 0)
        var value: FeedNotifier.Wake? { lock.withLock { wake } }
        func set(_ value: FeedNotifier.Wake) {
            lock.withLock { wake = value }
            done.signal()
        }
    }

    @Test func aPullHeldByOneProcessWakesWhenAnotherPublishes() throws {
        try TestPostgres.withDatabase { settings in
            let pushing = try PostgresHubStore(settings: settings, poolSize: 1)
            let holding = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { pushing.close(); holding.close() }
            _ = try pushing.publish(schemaText: StoreKind.firstSchema)
            let credential = try pushing.addSite(id: "lpk-a", kind: .lpk, name: "LPK A")
            var site = TestSite(record: try #require(try pushing.authenticate(token: credential.token)), clock: 1_000)

            // Held by the other process, past the generation it had seen (a wake in between is not missed).
            let seen = holding.feed.generation, outcome = Outcome(), feed = holding.feed
            Task { outcome.set(await feed.wait(past: seen, timeout: .seconds(30), limit: 10)) }
            let row = site.write("c1", ["title": .text("Las")], insert: true)
            _ = try pushing.push(site: site.record, replica: site.replica, batch: site.batch([row]), schemaVersion: nil)
            // Woken by the notification, well before the 30 s timeout (a generous bound: the machine may be loaded).
            let woken = outcome.done.wait(timeout: .now() + 20) == .success
            #expect(woken && outcome.value == .committed, "\(String(describing: outcome.value))")
        }
    }
}
