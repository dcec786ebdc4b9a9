import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiTestSupport
import Foundation
import Testing

/// The cluster identity a hub keeps beside its epoch: read from a real server, kept and read back,
/// and compared.
@Suite(.blocking)
struct PostgresClusterIdentityTests {
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func aServerSaysWhichClusterAndTimelineItIs() throws {
        try TestPostgres.withDatabase { settings in
            let link = try PostgresLink.connect(settings)
            defer { link.close() }
            let identity = try PostgresClusterIdentity.read(link)
            #expect(identity.timeline >= 1)
            #expect(Int64(identity.systemIdentifier) != nil && identity.systemIdentifier != "0")
            // Another database of the same cluster is the same cluster.
            let again = try TestPostgres.withDatabase { other in
                let link = try PostgresLink.connect(other)
                defer { link.close() }
                return try PostgresClusterIdentity.read(link)
            }
            #expect(again == identity)
            #expect(identity.changed(since: again) == nil)
        }
    }

    /// A standby of the test cluster (`pgcluster standby`), refused while it follows, then promoted:
    /// the same cluster on the next timeline, which a hub must take as a change.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func aPromotedStandbyIsTheSameClusterOnANewTimeline() throws {
        let server = try #require(TestPostgres.url)
        let primary = try PostgresLink.connect(PostgresSettings(url: server))
        let before = try PostgresClusterIdentity.read(primary)
        primary.close()
        let standby = try TestStandby()
        defer { standby.stop() }
        let following = try PostgresLink.connect(standby.settings())
        let refusal = try #require(throws: BegawiError.self) { try PostgresClusterIdentity.read(following) }
        #expect(refusal.code == .configuration && refusal.message.contains("standby"), "\(refusal)")
        following.close()

        try standby.promote()
        let link = try PostgresLink.connect(standby.settings())
        defer { link.close() }
        let after = try PostgresClusterIdentity.read(link)
        #expect(after.systemIdentifier == before.systemIdentifier)
        #expect(after.timeline == before.timeline + 1)
        #expect(after.changed(since: before)?.contains("timeline") == true)
    }

    /// A hub's database copied to a standby that is then promoted (a failover, or a recovery that
    /// starts a new timeline) serves under a new epoch whose lineage shares the old feed through
    /// the head it has; the database where it last ran keeps its epoch.
    @Test(.enabled(if: TestPostgres.available, TestPostgres.skipped))
    func aHubOnAPromotedStandbyServesANewEpochSharingTheOldFeed() throws {
        try TestPostgres.withDatabase { settings in
            let first = try PostgresHubStore(settings: settings, poolSize: 2)
            _ = try first.publish(schemaText: StoreKind.firstSchema)
            #expect(first.epochChange == nil)
            let credential = try first.addSite(id: "lpk-a", kind: .lpk, name: "LPK A")
            var site = TestSite(record: try #require(try first.authenticate(token: credential.token)), clock: 1_000)
            let rows = (1...3).map { site.write("c\($0)", ["title": .text("Las \($0)")], insert: true) }
            _ = try first.push(site: site.record, replica: site.replica, batch: site.batch(rows), schemaVersion: nil)
            _ = try first.pull(site: site.record, replica: site.replica, after: .start, maxRows: 10, schemaVersion: nil, fresh: true)
            let (epoch, head) = (first.hubReplicaID, try first.headSeq())
            #expect(head >= 3)
            first.close()

            // The same database opened again where it ran: the same epoch.
            let again = try PostgresHubStore(settings: settings, poolSize: 1)
            #expect(again.hubReplicaID == epoch && again.epochChange == nil)
            again.close()

            let standby = try TestStandby()
            defer { standby.stop() }
            try standby.promote()
            let moved = try standby.settings(database: settings.database)

            let restored = try PostgresHubStore(settings: moved, poolSize: 1)
            defer { restored.close() }
            #expect(restored.hubReplicaID != epoch)
            #expect(restored.epochChange?.contains("timeline") == true, "\(String(describing: restored.epochChange))")
            let session = try restored.session(site: site.record, replica: site.replica, configuration: HubConfiguration())
            #expect(session.hubReplicaID == restored.hubReplicaID)
            #expect(session.lineage == [LineageLink(replicaID: epoch, throughSeq: head)])
            // What the hub holds from the site is kept: nothing is sent again.
            #expect(session.pushCursor.seq == 1)
            // Opened again on the promoted server: no further change.
            let later = try PostgresHubStore(settings: moved, poolSize: 1)
            #expect(later.hubReplicaID == restored.hubReplicaID && later.epochChange == nil)
            later.close()
        }
    }

    @Test func anIdentityIsKeptAndReadBack() {
        let identity = PostgresClusterIdentity(systemIdentifier: "-7715832564422357077", timeline: 3)
        #expect(PostgresClusterIdentity(stored: identity.description) == identity)
        for bad in ["", "1", "1/", "/1", "x/1", "1/0", "1/-2", "1/2/3", "99999999999999999999/1"] {
            #expect(PostgresClusterIdentity(stored: bad) == nil, "\(bad)")
        }
    }

    @Test func anotherClusterOrTimelineIsAChange() {
        let ran = PostgresClusterIdentity(systemIdentifier: "7715832564422357077", timeline: 1)
        #expect(ran.changed(since: ran) == nil)
        let promoted = PostgresClusterIdentity(systemIdentifier: ran.systemIdentifier, timeline: 2)
        #expect(promoted.changed(since: ran)?.contains("timeline 2, not 1") == true)
        let elsewhere = PostgresClusterIdentity(systemIdentifier: "42", timeline: 1)
        #expect(elsewhere.changed(since: ran)?.contains("another PostgreSQL cluster") == true)
    }
}
