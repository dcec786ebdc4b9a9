import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The hub's 1 s publisher on PostgreSQL (docs/postgresql.md, "Held pulls across processes"): a
/// push whose own publish lost its turn leaves its rows waiting, and the timer gives them their
/// places without any further push or pull.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresPublisherTests {
    @Test func aChangeLeftUnpublishedIsPublishedByTheTimerAlone() async throws {
        try await TestPostgres.withDatabaseAsync { settings in
            let store = try PostgresHubStore(settings: settings, poolSize: 2)
            defer { store.close() }
            _ = try store.publish(schemaText: StoreKind.firstSchema)
            let credential = try store.addSite(id: "lpk-a", kind: .lpk, name: "LPK A")
            var site = TestSite(record: try #require(try store.authenticate(token: credential.token)), clock: 1_000)
            let before = try store.headSeq()

            // Another process holds the turn to publish while the push commits: its own publish skips.
            let other = try PostgresLink.connect(settings)
            defer { other.close() }
            try other.query("BEGIN")
            try other.query("SELECT pos FROM _begawi_feed_head FOR UPDATE")
            let row = site.write("c1", ["title": .text("Las")], insert: true)
            _ = try store.push(site: site.record, replica: site.replica, batch: site.batch([row]), schemaVersion: nil)
            try other.query("COMMIT")
            #expect(try waiting(other) == 1)

            // Nothing else publishes it: a few seconds later it still waits (the test can fail).
            try await Task.sleep(for: .seconds(3))
            #expect(try waiting(other) == 1 && store.headSeq() == before)
            #expect(try store.feedWaiting() == 1, "the metric counts the waiting row")

            let lanes = Blocking()
            let publisher = HubPublisher(store: store, lanes: lanes, interval: .seconds(1), logger: Logger(label: "test"))
            let running = Task { try await publisher.run() }
            // Generous: the machine is shared; the timer fires every second.
            let deadline = ContinuousClock.now + .seconds(30)
            while try waiting(other) > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            running.cancel()
            try await running.value
            try await lanes.shutdown()
            #expect(try waiting(other) == 0)
            #expect(try store.feedWaiting() == 0)
            #expect(try store.headSeq() == before + 1)
        }
    }

    /// The rows committed and waiting for a position.
    private func waiting(_ link: PostgresLink) throws -> Int64 {
        let row = try #require(try link.query("SELECT count(*) FROM _begawi_rows WHERE pending AND state IS NOT NULL").first)
        return try row.decode(Int64.self)
    }
}
