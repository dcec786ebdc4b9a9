import BegawiTestSupport
import Foundation
import Testing

/// The units in `systemd/` pass systemd's own checks, offline (systemd 252 on Debian 12):
/// `systemd-analyze verify` prints nothing at all, and `systemd-analyze security` scores each at
/// most 1.5 (an unhardened unit scores 9.6).
@Suite(.blocking) struct SystemdUnitTests {
    static let units = ["begawi-hub.service", "begawi-site.service"]

    /// A copy of the unit whose ExecStart names the binary under test (`verify` checks it exists).
    func staged(_ unit: String) throws -> String {
        let folder = NSTemporaryDirectory() + "begawi-units-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let text = try String(contentsOf: Repository.root.appendingPathComponent("systemd/\(unit)"), encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/begawi "), "the unit runs the installed binary")
        let path = "\(folder)/\(unit)"
        try text.replacingOccurrences(of: "ExecStart=/usr/local/bin/begawi ", with: "ExecStart=\(Cluster.binary) ")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func systemdAnalyze(_ arguments: [String], in folder: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/systemd-analyze", arguments, in: URL(fileURLWithPath: folder))
    }

    /// Runs a program to its end; its output and errors together.
    func run(_ executable: String, _ arguments: [String], in folder: URL) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run(executable, arguments, directory: folder.path, mergingErrors: true)
        return (result.status, result.output)
    }

    @Test(arguments: units)
    func verifyPrintsNothing(unit: String) throws {
        let path = try staged(unit)
        let (status, output) = try systemdAnalyze(["verify", path], in: (path as NSString).deletingLastPathComponent)
        #expect(status == 0)
        #expect(output.isEmpty, "systemd-analyze verify \(unit):\n\(output)")
    }

    @Test(arguments: units)
    func hardenedToAtMostOnePointFive(unit: String) throws {
        let path = try staged(unit)
        let (status, output) = try systemdAnalyze(["security", "--offline=true", path], in: (path as NSString).deletingLastPathComponent)
        #expect(status == 0, "\(output)")
        let line = output.split(separator: "\n").first { $0.contains("Overall exposure level") }.map(String.init) ?? ""
        let score = line.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") }
        #expect(score != nil, "no score in:\n\(output)")
        #expect((score ?? 10) <= 1.5, "\(unit) scores \(score ?? -1):\n\(output)")
    }

    /// `make install` honours DESTDIR and PREFIX: binary, units pointing at the installed binary,
    /// sysusers file, example configuration, default schemas and documentation (staged here from the binary under test).
    @Test func makeInstallStagesEverythingUnderDestdirAndPrefix() throws {
        let stage = NSTemporaryDirectory() + "begawi-stage-\(UUID().uuidString.prefix(8))"
        let (status, output) = try run("/usr/bin/make", ["-s", "install-files", "BIN=\(Cluster.binary)", "DESTDIR=\(stage)", "PREFIX=/opt/begawi"],
                                       in: Repository.root)
        #expect(status == 0, "\(output)")
        let root = stage + "/opt/begawi"
        #expect(FileManager.default.isExecutableFile(atPath: root + "/bin/begawi"))
        for unit in SystemdUnitTests.units {
            let text = try String(contentsOfFile: root + "/lib/systemd/system/" + unit, encoding: .utf8)
            #expect(text.contains("ExecStart=/opt/begawi/bin/begawi "), "\(unit)")
            #expect(!text.contains("/usr/local"), "\(unit)")
        }
        for file in ["lib/sysusers.d/begawi.conf", "lib/tmpfiles.d/begawi.conf", "share/begawi/hub.example.toml", "share/begawi/site.example.toml",
                     "share/begawi/handak-begawi.json", "share/begawi/schema.example.json", "share/doc/begawi/README.md",
                     "share/doc/begawi/docs/concepts.md", "share/doc/begawi/docs/operations.md"] {
            #expect(FileManager.default.fileExists(atPath: root + "/" + file), "\(file)")
        }
        #expect(FileManager.default.fileExists(atPath: stage + "/etc/begawi/credentials"))
        #expect(!FileManager.default.fileExists(atPath: Repository.root.appendingPathComponent("systemd/begawi-hub.service.out").path))
        try? FileManager.default.removeItem(atPath: stage)
    }
}
