import BegawiCore
import BegawiSite
import BegawiTestSupport
import Foundation
import Testing

@Suite(.blocking) struct OpenAPITests {
    /// The hub serves the repository's OpenAPI document, unchanged, without a credential.
    @Test(arguments: ClusterStore.available) func theHubServesTheDocumentInTheRepository(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "openapi", store: store)
        try cluster.startHub()
        let transport = try CurlTransport(baseURL: cluster.hubURL, caFile: cluster.path("tls/ca.crt"), credential: "none")
        let response = try await transport.send(HubRequest(method: "GET", path: "/v1/openapi.yaml"))
        #expect(response.status == 200)
        let file = try String(contentsOf: Repository.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(String(decoding: response.body, as: UTF8.self) == file, "the hub serves docs/openapi.yaml as built (rebuild after editing it)")
        #expect(response.headers["begawi-hub-time"] != nil)
        let health = try await transport.send(HubRequest(method: "GET", path: "/v1/health"))
        #expect(health.status == 200)
        let unknown = try await transport.send(HubRequest(method: "GET", path: "/v1/nothing"))
        #expect(unknown.status == 404)
        #expect(String(decoding: unknown.body, as: UTF8.self).contains("\"error\""))
    }
}
