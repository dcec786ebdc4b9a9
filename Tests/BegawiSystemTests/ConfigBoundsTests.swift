import BegawiTestSupport
import Foundation
import Testing

/// Numbers in hub.toml and site.toml at and past their edges: a configuration error that names the
/// key and the range, never a trap (`Int64(v) * 1000` once overflowed on a large value).
@Suite(.blocking) struct ConfigBoundsTests {
    static let huge = ["9223372036854775807", "9223372036854775", "18446744073709551", "-1", "-9223372036854775808"]

    /// Runs `command` with a configuration file holding `text`; returns the exit status and stderr.
    static func run(_ command: [String], _ text: String) throws -> (Int32, String) {
        let folder = NSTemporaryDirectory() + "begawi-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try text.write(toFile: folder + "/c.toml", atomically: true, encoding: .utf8)
        let result = try Cluster.run(command + ["--config", folder + "/c.toml"], expect: -1)
        return (result.status, result.errors)
    }

    @Test(arguments: ["max_clock_skew_seconds"])
    func hubDurations(_ key: String) throws {
        for value in Self.huge + ["0"] {
            let (status, errors) = try Self.run(["hub", "sites"], "\(key) = \(value)\n")
            #expect(status != 0 && status < 128, "\(key) = \(value): exit \(status)")
            #expect(errors.contains(key), "\(key) = \(value): \(errors)")
            #expect(!errors.contains("Fatal error"), "\(errors)")
        }
    }

    /// 0 is valid here (pulls never held); past an hour is not.
    @Test func hubMaxWait() throws {
        for value in Self.huge + ["3601"] {
            let (status, errors) = try Self.run(["hub", "sites"], "max_wait_seconds = \(value)\n")
            #expect(status != 0 && status < 128, "max_wait_seconds = \(value): exit \(status)")
            #expect(errors.contains("max_wait_seconds must be between 0"), "max_wait_seconds = \(value): \(errors)")
        }
    }

    @Test(arguments: ["watch_interval_ms", "pull_interval_seconds", "backoff_initial_ms", "backoff_max_seconds",
                      "connect_timeout_ms", "stall_seconds", "wait_seconds"])
    func siteDurations(_ key: String) throws {
        for value in Self.huge {
            let (status, errors) = try Self.run(["site", "status"], "site_id = \"lpk-a\"\nhub_url = \"https://127.0.0.1:1\"\n\(key) = \(value)\n")
            #expect(status != 0 && status < 128, "\(key) = \(value): exit \(status)")
            #expect(errors.contains(key), "\(key) = \(value): \(errors)")
            #expect(!errors.contains("Fatal error"), "\(errors)")
        }
    }
}

/// Numbers on the command line, at and past their edges.
@Suite(.blocking) struct CommandLineBoundsTests {
    @Test(arguments: ["-1", "36601", "9223372036854775807", "-9223372036854775808"])
    func clearRefusalsOlderThanDays(_ days: String) throws {
        let result = try Cluster.run(["site", "clear-refusals", "--config", "/nonexistent.toml", "--older-than-days=\(days)"], expect: -1)
        #expect(result.status != 0 && result.errors.contains("older-than-days"), "\(result)")
        #expect(!result.errors.contains("Fatal error"), "\(result.errors)")
    }

    @Test(arguments: ["18446744073709551615/18446744073709551615", "0/9223372036854775808"])
    func replicaExportAfterACursorPastTheLargest(_ cursor: String) throws {
        let folder = NSTemporaryDirectory() + "begawi-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let schema = Repository.root.appendingPathComponent("config/schema.example.json").path
        try Cluster.run(["replica", "create", "--file", folder + "/r.sqlite", "--site", "lpk-a", "--schema", schema])
        let result = try Cluster.run(["replica", "export", "--file", folder + "/r.sqlite", "--out", folder + "/b", "--after", cursor], expect: -1)
        #expect(result.status != 0 && result.errors.contains("9223372036854775807"), "\(result)")
        #expect(!result.errors.contains("Fatal error"), "\(result.errors)")
    }
}
