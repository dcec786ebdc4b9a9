import BegawiCore
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
