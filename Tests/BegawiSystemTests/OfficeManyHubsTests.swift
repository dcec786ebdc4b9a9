import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// The office's dashboard behind several `begawi hub run` processes on one PostgreSQL database
/// (issue 17: sessions live in the database): a session signed in through one process is served by
/// another, a form's outcome shown by whichever serves the next page, and a sign-out through one
/// ends the session in all. The table holds the token's hash, never the token.
@Suite(.blocking) struct OfficeManyHubsTests {
    @Test(.enabled(if: ClusterStore.server != nil, "needs BEGAWI_TEST_POSTGRES"))
    func aSessionSignedInThroughOneHubIsServedByAnother() async throws {
        let (agencies, conflict) = try OfficeSessionTests.world("office-many-hubs", store: .postgres)
        let cluster = agencies.cluster
        let second = try ManyHubsTests.ExtraHub("hub-2", cluster: cluster)
        try second.start()
        defer { second.kill9() }

        let one = try OfficeClient(cluster)
        let signedIn = try await one.signIn(try OfficeSessionTests.credential(cluster, "office"))
        #expect(signedIn.status == 303 && signedIn.headers["location"] == "/office/", "\(signedIn)")
        let cookie = try #require(one.cookie)
        let two = try OfficeClient(cluster, url: second.url)
        two.cookie = cookie

        // The other process serves the session: its pages, and a form with the token the first gave.
        #expect(try await two.get("/office/").status == 200)
        let ledger = try await one.get("/office/konflik")
        let csrf = try #require(OfficeClient.csrf(ledger))
        let reapplied = try await two.post("/office/konflik/\(conflict)/terapkan", ["csrf": csrf])
        #expect(reapplied.status == 303 && reapplied.headers["location"] == "/office/konflik", "\(reapplied)")
        // The outcome waits in the session for the next page, whichever process serves it; once.
        let notice = String(decoding: try await one.get("/office/konflik").body, as: UTF8.self)
        #expect(notice.contains("Konflik \(conflict) diterapkan ulang"), "\(notice)")
        #expect(!String(decoding: try await two.get("/office/konflik").body, as: UTF8.self).contains("Konflik \(conflict) diterapkan ulang"))
        // The losing phone number (lpk-b's) is now the hub's.
        #expect(try agencies.rows("hub", "participants").values.first?.contains("0811-5400-222") == true)

        // The token is kept hashed only.
        let token = String(cookie.dropFirst("begawi_office=".count))
        let stored = try cluster.query("hub", "SELECT id, csrf FROM _hub_sessions")
        #expect(stored.map { $0[0] } == [Hashing.sha256Hex(Array(token.utf8))])
        #expect(!stored.joined().contains(token))

        // A sign-out through one process ends the session in the other.
        let out = try await two.post("/office/keluar", [:])
        #expect(out.status == 303 && out.headers["location"] == "/office/masuk", "\(out)")
        let after = try await one.get("/office/")
        #expect(after.status == 303 && after.headers["location"] == "/office/masuk", "\(after)")
        #expect(try cluster.query("hub", "SELECT count(*) FROM _hub_sessions") == [["0"]])
    }
}
