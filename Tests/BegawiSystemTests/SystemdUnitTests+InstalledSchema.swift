import Foundation
import Testing

/// The default schemas ship with the binary: an installed `begawi`, run from a folder that is not the
/// source tree, finds them in the share folder of its own prefix.
extension SystemdUnitTests {
    /// A `make install-files` layout under a prefix no system path names, and an empty working folder.
    struct Installed {
        let stage: String
        let prefix: String
        let work: URL
        var binary: String { prefix + "/bin/begawi" }

        init(_ tests: SystemdUnitTests) throws {
            stage = NSTemporaryDirectory() + "begawi-installed-\(UUID().uuidString.prefix(8))"
            let (status, output) = try tests.run("/usr/bin/make", ["-s", "install-files", "BIN=\(Cluster.binary)", "DESTDIR=\(stage)", "PREFIX=/opt/begawi-test"],
                                                 in: Repository.root)
            #expect(status == 0, "\(output)")
            // The binary finds its prefix through its own real path.
            prefix = URL(fileURLWithPath: stage + "/opt/begawi-test").resolvingSymlinksInPath().path
            work = URL(fileURLWithPath: stage + "/work")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        }

        func remove() { try? FileManager.default.removeItem(atPath: stage) }
    }

    @Test func anInstalledReplicaCreateFindsItsDefaultSchemaOutsideTheSourceTree() throws {
        let installed = try Installed(self)
        defer { installed.remove() }
        let created = try run(installed.binary, ["replica", "create", "--file", "r.sqlite", "--site", "lpk-a"], in: installed.work)
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("tables participants, programs, enrollments"), "\(created.output)")

        // An explicit --schema is never looked up elsewhere: a wrong one fails with its own name.
        let wrong = try run(installed.binary, ["replica", "create", "--file", "w.sqlite", "--site", "lpk-a", "--schema", "nowhere.json"], in: installed.work)
        #expect(wrong.status != 0)
        #expect(wrong.output.contains("nowhere.json") && !wrong.output.contains("share/begawi"), "\(wrong.output)")

        // Without the installed copy the error names every place looked, unless this machine has
        // Begawi installed system-wide (then that copy is found, as it should be).
        try FileManager.default.removeItem(atPath: installed.prefix + "/share/begawi/schema.example.json")
        let system = ["/usr/share/begawi/schema.example.json", "/usr/local/share/begawi/schema.example.json"]
        let missing = try run(installed.binary, ["replica", "create", "--file", "m.sqlite", "--site", "lpk-a"], in: installed.work)
        if system.contains(where: { FileManager.default.fileExists(atPath: $0) }) {
            #expect(missing.status == 0, "\(missing.output)")
        } else {
            #expect(missing.status != 0)
            for place in ["config/schema.example.json", installed.prefix + "/share/begawi/schema.example.json"] + system {
                #expect(missing.output.contains(place), "\(place) is not named in:\n\(missing.output)")
            }
            #expect(!FileManager.default.fileExists(atPath: installed.work.appendingPathComponent("m.sqlite").path))
        }
    }

    @Test func anInstalledDemoRunsOutsideTheSourceTree() throws {
        let installed = try Installed(self)
        defer { installed.remove() }
        let demo = try run(installed.binary, ["demo"], in: installed.work)
        #expect(demo.status == 0, "\(demo.output)")
        #expect(demo.output.contains("rules from \(installed.prefix)/share/begawi/handak-begawi.json"), "\(demo.output)")
        #expect(demo.output.contains("The hub and all four sites agree."), "\(demo.output)")
    }
}
