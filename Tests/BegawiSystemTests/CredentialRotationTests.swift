import BegawiTestSupport
import Foundation
import Testing

/// A site whose credential leaked gets a new one with `hub rotate-credential`, also after
/// `revoke-site`; the running hub refuses the old one at the next request, and its 401 names the
/// command. A credential file is never written over another file.
@Suite(.blocking) struct CredentialRotationTests {
    @Test(arguments: ClusterStore.available) func aRotatedCredentialReplacesTheOldOneAtOnce(store: ClusterStore) throws {
        let cluster = try Cluster(label: "rotate", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-1', 'Las')")
        try cluster.sync("lpk-a")
        let old = try String(contentsOfFile: cluster.path("lpk-a.credential"), encoding: .utf8)

        // Adding the site again is refused with the command to run instead, and leaves no file behind.
        let again = try Cluster.run(["hub", "add-site", "--config", cluster.hubConfig, "--id", "lpk-a", "--kind", "lpk", "--name", "Again",
                                     "--credential-out", cluster.path("again.credential")], expect: -1)
        #expect(again.status != 0)
        #expect(again.errors.contains("begawi hub rotate-credential --id lpk-a"), "\(again.errors)")
        #expect(!FileManager.default.fileExists(atPath: cluster.path("again.credential")))

        // Rotation while the hub runs: the new credential in a new file of mode 0600.
        let rotated = try Cluster.run(["hub", "rotate-credential", "--config", cluster.hubConfig, "--id", "lpk-a",
                                       "--credential-out", cluster.path("lpk-a.new")])
        #expect(rotated.output.contains("the old one is refused"), "\(rotated.output)")
        let new = try String(contentsOfFile: cluster.path("lpk-a.new"), encoding: .utf8)
        #expect(new.hasPrefix("bgw1.lpk-a.") && new != old)
        let mode = try FileManager.default.attributesOfItem(atPath: cluster.path("lpk-a.new"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!rotated.output.contains(new.trimmingCharacters(in: .whitespacesAndNewlines)))

        // The old credential is refused at once, and the refusal says what to run.
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-2', 'Bubut')")
        let refused = try cluster.sync("lpk-a", expect: -1)
        #expect(refused.status == 1)
        #expect(refused.errors.contains("401") && refused.errors.contains("begawi hub rotate-credential --id SITE"), "\(refused.errors)")
        #expect(!(try cluster.rows("hub", "programs").keys.contains("prog-2")))

        // The new one works.
        try FileManager.default.removeItem(atPath: cluster.path("lpk-a.credential"))
        try FileManager.default.moveItem(atPath: cluster.path("lpk-a.new"), toPath: cluster.path("lpk-a.credential"))
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "programs").keys.contains("prog-2"))

        // A revoked site gets a new credential the same way (printed once when no file is named).
        try Cluster.run(["hub", "revoke-site", "--config", cluster.hubConfig, "--id", "lpk-a"])
        #expect(try cluster.sync("lpk-a", expect: -1).status == 1)
        let printed = try Cluster.run(["hub", "rotate-credential", "--config", cluster.hubConfig, "--id", "lpk-a"])
        #expect(printed.errors.contains("not shown again"), "\(printed.errors)")
        let token = printed.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("bgw1.lpk-a.") && token + "\n" != new)
        try (token + "\n").write(toFile: cluster.path("lpk-a.credential"), atomically: true, encoding: .utf8)
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-3', 'Las Listrik')")
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "programs").keys.contains("prog-3"))
        let sites = try Cluster.run(["hub", "sites", "--config", cluster.hubConfig]).output
        #expect(sites.contains("lpk-a\tlpk\tactive"), "\(sites)")
        #expect(try cluster.query("hub", "SELECT credential_generation FROM _hub_sites WHERE id = 'lpk-a'") == [["3"]])

        // An unknown site is refused with what to do.
        let unknown = try Cluster.run(["hub", "rotate-credential", "--config", cluster.hubConfig, "--id", "lpk-z",
                                       "--credential-out", cluster.path("lpk-z.credential")], expect: -1)
        #expect(unknown.status != 0)
        #expect(unknown.errors.contains("no site 'lpk-z'") && unknown.errors.contains("add-site"), "\(unknown.errors)")
        #expect(!FileManager.default.fileExists(atPath: cluster.path("lpk-z.credential")))
    }

    @Test(arguments: ClusterStore.available) func aCredentialFileIsNeverWrittenOverAnotherFile(store: ClusterStore) throws {
        let cluster = try Cluster(label: "credential-out", store: store)
        let hub = cluster.hubConfig
        try Cluster.run(["hub", "add-site", "--config", hub, "--id", "lpk-a", "--kind", "lpk", "--name", "A",
                         "--credential-out", cluster.path("lpk-a.credential")])
        let first = try String(contentsOfFile: cluster.path("lpk-a.credential"), encoding: .utf8)
        let hash = try cluster.query("hub", "SELECT secret_sha256 FROM _hub_sites WHERE id = 'lpk-a'")

        // A second site named with the first one's file: refused, nothing added, the file as it was.
        let second = try Cluster.run(["hub", "add-site", "--config", hub, "--id", "lpk-b", "--kind", "lpk", "--name", "B",
                                      "--credential-out", cluster.path("lpk-a.credential")], expect: -1)
        #expect(second.status != 0)
        #expect(second.errors.contains("already exists") && second.errors.contains("nothing was changed"), "\(second.errors)")
        #expect(try String(contentsOfFile: cluster.path("lpk-a.credential"), encoding: .utf8) == first)
        #expect(try cluster.query("hub", "SELECT id FROM _hub_sites") == [["lpk-a"]])

        // A rotation into an existing file: refused before the hub changes the credential.
        let rotation = try Cluster.run(["hub", "rotate-credential", "--config", hub, "--id", "lpk-a",
                                        "--credential-out", cluster.path("lpk-a.credential")], expect: -1)
        #expect(rotation.status != 0)
        #expect(rotation.errors.contains("already exists"), "\(rotation.errors)")
        #expect(try cluster.query("hub", "SELECT secret_sha256 FROM _hub_sites WHERE id = 'lpk-a'") == hash)
        #expect(try String(contentsOfFile: cluster.path("lpk-a.credential"), encoding: .utf8) == first)

        // A symbolic link (even a dangling one) is not followed.
        try FileManager.default.createSymbolicLink(atPath: cluster.path("link.credential"), withDestinationPath: cluster.path("elsewhere"))
        let linked = try Cluster.run(["hub", "add-site", "--config", hub, "--id", "lpk-c", "--kind", "lpk", "--name", "C",
                                      "--credential-out", cluster.path("link.credential")], expect: -1)
        #expect(linked.status != 0)
        #expect(!FileManager.default.fileExists(atPath: cluster.path("elsewhere")))
        #expect(try cluster.query("hub", "SELECT id FROM _hub_sites") == [["lpk-a"]])
    }
}
