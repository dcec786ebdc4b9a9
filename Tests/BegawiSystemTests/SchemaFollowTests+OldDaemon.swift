import BegawiCore
import BegawiSite
import Foundation
import Testing

extension SchemaFollowTests {
    /// Over HTTPS, as a daemon from before versions asks (no Begawi-Schema-Version): the hub at
    /// version 2 sends version 1's columns, and a version it never published is refused with the reason.
    @Test(arguments: ClusterStore.available) func theHubCutsItsPagesToTheVersionASiteSays(store: ClusterStore) async throws {
        let cluster = try Self.world("follow-http", store: store)
        try cluster.sync("lpk-a")
        try cluster.staff("lpk-a", "UPDATE programs SET location = 'Gedung A', quota = 11 WHERE id = 'p1'")
        try cluster.sync("lpk-a")
        let credential = try String(contentsOfFile: cluster.path("lpk-b.credential"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let transport = try CurlTransport(baseURL: cluster.hubURL, caFile: cluster.path("tls/ca.crt"), credential: credential)
        var ids = UUIDv7Generator()
        var client = HubClient(transport: transport, replicaID: ids.next())
        let (session, _, _) = try await client.session()
        #expect(session.schemaVersion == 2)
        let page = try BatchCodec.decode(try await client.pull(hubReplicaID: session.hubReplicaID, after: .start, maxRows: 100))
        let programs = try #require(page.tables.first { $0.name == "programs" })
        #expect(!programs.columns.contains("location"))
        #expect(programs.columns.contains("quota"))
        #expect(page.rows.count == 1)

        client.schemaVersion = 7
        let error = await #expect(throws: HubRefusal.self) {
            _ = try await client.pull(hubReplicaID: session.hubReplicaID, after: .start, maxRows: 100)
        }
        #expect(error?.status == 400)
        #expect(error?.message.contains("schema version 7, which this hub never published (it published 1, 2)") == true, "\(String(describing: error))")
    }
}
