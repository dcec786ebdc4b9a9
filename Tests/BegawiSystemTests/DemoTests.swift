import BegawiTestSupport
import Foundation
import Testing

/// `begawi demo` as `make demo` runs it: the labour office's story on the Handak Begawi schema, from
/// offline work to every replica agreeing, with no personal value in its output.
@Suite(.serialized, .blocking) struct DemoTests {
    static let schema = Repository.root.appendingPathComponent("config/handak-begawi.json").path
    static let sites = ["lpk-mitra", "lpk-cendekia", "blki", "disnaker"]

    @Test func tellsTheStoryAndEveryReplicaAgrees() throws {
        let started = Date()
        let run = try Cluster.run(["demo", "--schema", DemoTests.schema])
        let out = run.output
        #expect(Date().timeIntervalSince(started) < 60, "the demo must run in well under a minute")
        let lines = out.split(separator: "\n").map(String.init)
        // The consolidated report: seven enrollments, by status in the schema's order.
        let total = lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("TOTAL") }
        #expect(total?.split(separator: " ").map(String.init) == ["TOTAL", "1", "3", "1", "1", "1", "7"], "\(out)")
        // The enrollment edited at the BLKI and at the office: the office's later edit won.
        #expect(lines.contains { $0.contains("enrollments 01958a00-0000-7000-8000-000000001301 status: 'active' by blki lost to 'dropped' by disnaker") },
                "\(out)")
        // The person registered at two LPKs: refused at the second, listed by its `site status`, in the ledger.
        #expect(lines.contains { $0.contains("participants p") && $0.contains("already-registered:") }, "\(out)")
        #expect(lines.contains { $0.contains("lpk-cendekia's registration of this person differs from lpk-mitra's") }, "\(out)")
        #expect(out.contains("registered_by lpk-mitra"), "\(out)")
        for site in DemoTests.sites {
            #expect(lines.contains { $0.hasPrefix("  \(site) ") && $0.hasSuffix("  agrees") }, "\(site) does not agree:\n\(out)")
        }
        #expect(!out.contains("DIFFERS"))
        #expect(out.contains("The hub and all four sites agree."))
        try DemoTests.expectNoPersonalData(out + run.errors)
        // Without --keep nothing stays behind.
        let folder = try #require(lines.first?.components(separatedBy: "Begawi demo in ").last)
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    @Test func keepLeavesTheHubServingUntilSIGTERM() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("begawi-demo-test-\(UUID().uuidString.prefix(8)).out").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Cluster.binary)
        process.arguments = ["demo", "--keep", "--schema", DemoTests.schema]
        let output = FileHandle(forWritingAtPath: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var out = ""
        let deadline = Date().addingTimeInterval(120)
        while !out.contains("Press Ctrl-C"), process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            out = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        try #require(out.contains("Press Ctrl-C"), "the demo did not wait for Ctrl-C:\n\(out)")
        let folder = try #require(out.split(separator: "\n").first?.components(separatedBy: "Begawi demo in ").last)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = try String(contentsOfFile: "\(folder)/hub.port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(out.contains("dashboard:    https://127.0.0.1:\(port)/office/"), "\(out)")
        #expect(out.contains("credential:   \(folder)/disnaker.credential"))
        #expect(out.contains("CA to trust:  \(folder)/tls/ca.crt"))
        #expect(FileManager.default.fileExists(atPath: "\(folder)/disnaker.credential"))
        #expect(FileManager.default.fileExists(atPath: "\(folder)/tls/ca.crt"))
        // The hub still serves: a site syncs with it.
        let sync = try Cluster.run(["site", "sync", "--config", "\(folder)/lpk-mitra.toml"])
        #expect(sync.output.hasPrefix("sent 0 rows"), "\(sync.output)")

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        out = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(out.contains("The hub stopped; the files stay in \(folder)."), "\(out)")
        #expect(FileManager.default.fileExists(atPath: "\(folder)/hub.sqlite"))
        try DemoTests.expectNoPersonalData(out)
    }

    /// No NIK (16 digits), phone number, or made-up name (a given name and a family name of
    /// ../shared/data/names.txt, kept also as Tests/Data/names.txt) in the text.
    static func expectNoPersonalData(_ text: String) throws {
        #expect(text.firstMatch(of: try Regex("[0-9]{16}")) == nil, "a NIK-like number in the demo's output")
        #expect(text.firstMatch(of: try Regex("08[0-9]{8,11}")) == nil, "a phone number in the demo's output")
        let shared = Repository.root.deletingLastPathComponent().appendingPathComponent("shared/data/names.txt").path
        let own = Repository.root.appendingPathComponent("Tests/Data/names.txt").path
        let list = try (try? String(contentsOfFile: shared, encoding: .utf8)) ?? String(contentsOfFile: own, encoding: .utf8)
        var given: [String] = [], family: [String] = []
        var section = ""
        for line in list.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("[") { section = line; continue }
            if section == "[given]" { given.append(line) } else if section == "[family]" { family.append(line) }
        }
        #expect(!given.isEmpty && !family.isEmpty)
        for g in given {
            for f in family where text.contains("\(g) \(f)") { Issue.record("the name \(g) \(f) in the demo's output") }
        }
    }
}
