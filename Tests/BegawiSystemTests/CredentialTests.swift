import BegawiTestSupport
import Foundation
import Testing

/// Secrets through systemd credentials: `credential:NAME` in a configuration file is the file NAME
/// in `$CREDENTIALS_DIRECTORY` (what `LoadCredential=NAME:PATH` provides), so that neither the
/// unit nor the environment holds the secret.
@Suite(.blocking) struct CredentialTests {
    @Test(arguments: ClusterStore.available) func theSiteAndTheHubReadTheirSecretsFromTheCredentialsDirectory(store: ClusterStore) throws {
        let cluster = try Cluster(label: "credentials", store: store)
        // The hub's TLS key as a credential.
        let hubKeys = cluster.path("hub-credentials")
        try FileManager.default.createDirectory(atPath: hubKeys, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: cluster.path("tls/hub.key"), toPath: "\(hubKeys)/hub.key")
        let hubToml = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        #expect(hubToml.contains("tls_key = \"tls/hub.key\""))
        try hubToml.replacingOccurrences(of: "tls_key = \"tls/hub.key\"", with: "tls_key = \"credential:hub.key\"")
            .write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        cluster.hubEnvironment["CREDENTIALS_DIRECTORY"] = hubKeys
        try cluster.startHub()

        try cluster.addSite("lpk-a")
        let credentials = cluster.path("site-credentials")
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: cluster.path("lpk-a.credential"), toPath: "\(credentials)/site.credential")
        let config = try String(contentsOfFile: cluster.siteConfig("lpk-a"), encoding: .utf8)
        try config.replacingOccurrences(of: "credential_file = \"lpk-a.credential\"", with: "credential_file = \"credential:site.credential\"")
            .write(toFile: cluster.siteConfig("lpk-a"), atomically: true, encoding: .utf8)
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-1', 'Las')")

        // Outside systemd the credential cannot be found: a clear error, nothing sent.
        let outside = try Cluster.run(["site", "sync", "--config", cluster.siteConfig("lpk-a")], expect: -1,
                                      environment: ["CREDENTIALS_DIRECTORY": ""])
        #expect(outside.status != 0)
        #expect(outside.errors.contains("CREDENTIALS_DIRECTORY"), "\(outside.errors)")
        #expect(outside.errors.contains("LoadCredential=site.credential"), "\(outside.errors)")

        let inside = try Cluster.run(["site", "sync", "--config", cluster.siteConfig("lpk-a")], environment: ["CREDENTIALS_DIRECTORY": credentials])
        #expect(inside.output.contains("sent 1 rows"), "\(inside.output)")
        #expect(try cluster.rows("hub", "programs").keys.contains("prog-1"))
    }

    /// The credential goes into a header line: one with a line break inside (a file edited by hand,
    /// or a header smuggled in) is refused before anything is sent.
    @Test(arguments: ClusterStore.available) func aCredentialWithALineBreakInsideIsRefused(store: ClusterStore) throws {
        let cluster = try Cluster(label: "credential-crlf", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let file = cluster.path("lpk-a.credential")
        let good = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try (good + "\r\nX-Injected: 1\n").write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try Cluster.run(["site", "sync", "--config", cluster.siteConfig("lpk-a")], expect: -1)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("[configuration]"), "\(refused.errors)")
        #expect(!refused.errors.contains(good), "the credential must not be shown")
        try (good + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fine = try Cluster.run(["site", "sync", "--config", cluster.siteConfig("lpk-a")])
        #expect(fine.status == 0, "\(fine.errors)")
    }
}
