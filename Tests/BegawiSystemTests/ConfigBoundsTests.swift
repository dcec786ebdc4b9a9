import Foundation
import Testing

/// Numbers in hub.toml and site.toml at and past their edges: a configuration error that names the
/// key and the range, never a trap (`Int64(v) * 1000` once overflowed on a large value).
@Suite struct ConfigBoundsTests {
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

    @Test(arguments: ["watch_interval_ms", "pull_interval_seconds", "backoff_initial_ms", "backoff_max_seconds",
                      "connect_timeout_ms", "stall_seconds"])
    func siteDurations(_ key: String) throws {
        for value in Self.huge {
            let (status, errors) = try Self.run(["site", "status"], "site_id = \"lpk-a\"\nhub_url = \"https://127.0.0.1:1\"\n\(key) = \(value)\n")
            #expect(status != 0 && status < 128, "\(key) = \(value): exit \(status)")
            #expect(errors.contains(key), "\(key) = \(value): \(errors)")
            #expect(!errors.contains("Fatal error"), "\(errors)")
        }
    }
}
