import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The dashboard's sessions end when their right does: `hub revoke-site` (another process) ends
/// the office's session at its next request, sign-out ends the server's session with or without
/// the form's token, and every answer tells browsers to use HTTPS only (HSTS).
@Suite(.blocking) struct OfficeSessionTests {
    /// A hub with two LPKs that registered one person with different phone numbers (a conflict
    /// the office may re-apply) and two office sites.
    static func world(_ label: String, store: ClusterStore) throws -> (agencies: Agencies, conflict: Int64) {
        let agencies = try Agencies(label: label, store: store)
        for (site, kind) in [("lpk-a", "lpk"), ("lpk-b", "lpk"), ("office", "office"), ("office-2", "office")] {
            try agencies.addSite(site, kind: kind)
        }
        var town = Bontang(series: 9)
        let person = town.person()
        try agencies.register(person, at: "lpk-a", phone: "0811-5400-111")
        try agencies.sync("lpk-a")
        try agencies.register(person, at: "lpk-b", phone: "0811-5400-222")
        try agencies.sync("lpk-b")
        let conflict = try #require(try agencies.cluster.query("hub", "SELECT id FROM _begawi_conflicts WHERE col = 'phone'").first?.first.flatMap { Int64($0) })
        return (agencies, conflict)
    }

    static func credential(_ cluster: Cluster, _ site: String) throws -> String {
        try SiteIdentity.credential(cluster, site)
    }

    @Test(arguments: ClusterStore.available) func revokingTheOfficeEndsItsSessionAtOnce(store: ClusterStore) async throws {
        let (agencies, conflict) = try OfficeSessionTests.world("session-revoke", store: store)
        let cluster = agencies.cluster
        let office = try OfficeClient(cluster)
        let signedIn = try await office.signIn(try OfficeSessionTests.credential(cluster, "office"))
        #expect(signedIn.status == 303 && signedIn.headers["location"] == "/office/", "\(signedIn)")
        let ledger = try await office.get("/office/konflik")
        #expect(ledger.status == 200, "\(ledger)")
        let csrf = try #require(OfficeClient.csrf(ledger))

        try agencies.hub("revoke-site", ["--id", "office"])

        let next = try await office.get("/office/")
        #expect(next.status == 401, "the revoked office's session still opens pages: \(next)")
        #expect(String(decoding: next.body, as: UTF8.self).contains("kredensial kantor ini telah dicabut atau diganti"))
        let reapply = try await office.post("/office/konflik/\(conflict)/terapkan", ["csrf": csrf])
        #expect(reapply.status == 303 || reapply.status == 401, "\(reapply)")
        #expect(try cluster.query("hub", "SELECT count(*) FROM _hub_reapplied") == [["0"]], "a revoked office re-applied a conflict")
        #expect(try agencies.rows("hub", "participants").values.first?.contains("0811-5400-111") == true)
        // Nor can it sign in again.
        let again = try await office.signIn(try OfficeSessionTests.credential(cluster, "office"))
        #expect(again.status == 401, "\(again)")
        #expect(cluster.hubLog().contains("dashboard session ended: the office's credential was revoked or replaced"))
    }

    @Test(arguments: ClusterStore.available) func signOutWithoutTheFormTokenEndsTheServerSession(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "session-sign-out", store: store)
        try cluster.startHub()
        try cluster.addSite("office", kind: "office")
        let office = try OfficeClient(cluster)
        try await office.signIn(try OfficeSessionTests.credential(cluster, "office"))
        #expect(try await office.get("/office/").status == 200)
        // Sign-out as a stale page or a forged form would send it: no token.
        let out = try await office.post("/office/keluar", [:])
        #expect(out.status == 303 && out.headers["location"] == "/office/masuk", "\(out)")
        #expect(out.headers["set-cookie"]?.hasPrefix("begawi_office=;") == true, "\(out.headers)")
        // The old cookie (kept by whoever copied it) opens nothing any more.
        let after = try await office.get("/office/")
        #expect(after.status == 303 && after.headers["location"] == "/office/masuk", "\(after)")

        // A credential replaced in the database (as a rotation does) ends the session too.
        try await office.signIn(try OfficeSessionTests.credential(cluster, "office"))
        #expect(try await office.get("/office/").status == 200)
        try cluster.hubWrite("UPDATE _hub_sites SET secret_sha256 = ? WHERE id = 'office'", [String(repeating: "0", count: 64)])
        let replaced = try await office.get("/office/")
        #expect(replaced.status == 401, "\(replaced)")
        #expect(replaced.headers["set-cookie"]?.hasPrefix("begawi_office=;") == true, "\(replaced.headers)")

        // HSTS on every answer: the API, the dashboard, a refusal and a path that does not exist.
        let probe = try HubProbe(cluster, site: "office", replica: SiteIdentity.freshReplicaID())
        for answer in [try await probe.send("GET", "/v1/health"), try await office.get("/office/masuk"), after, out,
                       try await probe.send("GET", "/v1/pull?epoch=x"), try await probe.send("GET", "/nowhere")] {
            #expect(answer.headers["strict-transport-security"] == "max-age=31536000", "\(answer.status) \(answer.headers)")
        }
    }
}
