@testable import BegawiHub
import BegawiCertificates
import BegawiCore
import BegawiRules
import Foundation
import Logging
import Testing

/// The published check belongs to the daemon (issue 14, item 1): a `HubDaemon`, however it is started,
/// refuses tables or rules other than the published current version's, and starts with those.
@Suite(.blocking) struct HubDaemonSchemaTests {
    @Test func aDaemonRefusesASchemaThatIsNotThePublishedOne() throws {
        let h = try HubHarness(schemaText: PublishedSchemaTests.text(1))
        defer { h.close() }
        let ca = try PrivateCA.make(commonName: "begawi-test-ca", days: 2)
        let identity = try PrivateCA.issue(for: ["127.0.0.1"], commonName: "begawi-test-hub", by: ca, days: 2)
        try identity.certificate.write(toFile: h.folder.file("hub.crt"), atomically: true, encoding: .utf8)
        try identity.key.write(toFile: h.folder.file("hub.key"), atomically: true, encoding: .utf8)
        var configuration = HubConfiguration(host: "127.0.0.1", port: 0, certificateFile: h.folder.file("hub.crt"),
                                             privateKeyFile: h.folder.file("hub.key"), databasePath: h.folder.file("hub.sqlite"))
        configuration.schemaPath = "changed.json"
        let changed = try SchemaDocument.parse(PublishedSchemaTests.text(2, extra: #", {"name": "room"}"#))
        let error = #expect(throws: BegawiError.self) {
            _ = try HubDaemon(configuration: configuration, policy: changed.policy, declared: changed.schema, logger: HubLifecycleTests.logger)
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("the schema file changed.json differs from the hub's published schema version 1") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("begawi hub schema publish changed.json") == true)
        #expect(try PublishedSchemaTests.columns(h.folder.file("hub.sqlite")) == ["id", "title", "quota"])

        let published = try SchemaDocument.parse(PublishedSchemaTests.text(1))
        let daemon = try HubDaemon(configuration: configuration, policy: published.policy, declared: published.schema, logger: HubLifecycleTests.logger)
        daemon.server.lanes.abandon()
        try daemon.store.close()
    }
}
