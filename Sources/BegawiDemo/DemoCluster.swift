import BegawiCore
import Foundation

/// The demo's processes: this same `begawi` binary as the hub and as each site's `sync`.
final class DemoCluster {
    let folder: String
    private var hub: Process?
    private(set) var hubPort = 0
    var hubURL: String { "https://127.0.0.1:\(hubPort)" }

    /// The `begawi` binary run as the hub and each site.
    let executable: String

    init(folder: String, executable: String) {
        self.folder = folder
        self.executable = executable
    }

    /// Runs `begawi` with arguments; prints its output unless `quiet`; throws on failure.
    @discardableResult
    func begawi(_ arguments: [String], quiet: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["BEGAWI_LOG_LEVEL"] = "error"
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BegawiError(.invalidArgument, "begawi \(arguments.prefix(2).joined(separator: " ")) failed: \(text)")
        }
        if !quiet { print(text, terminator: "") }
        return text
    }

    func writeHubConfig() throws {
        try """
            listen = "127.0.0.1:0"
            database = "hub.sqlite"
            schema = "schema.json"
            tls_certificate = "tls/hub.crt"
            tls_key = "tls/hub.key"
            port_file = "hub.port"
            """.write(toFile: "\(folder)/hub.toml", atomically: true, encoding: .utf8)
    }

    func startHub() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["hub", "run", "--config", "\(folder)/hub.toml"]
        var env = ProcessInfo.processInfo.environment
        env["BEGAWI_LOG_LEVEL"] = "warning"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: "\(folder)/hub.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: "\(folder)/hub.log")
        try process.run()
        hub = process
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: "\(folder)/hub.port", encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                hubPort = port
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOfFile: "\(folder)/hub.log", encoding: .utf8)) ?? ""
        throw BegawiError(.invalidArgument, "the demo's hub did not start: \(log)")
    }

    func stopHub() {
        guard let hub, hub.isRunning else { return }
        hub.terminate()
        hub.waitUntilExit()
    }

    func writeSiteConfig(_ site: String) throws {
        try """
            site_id = "\(site)"
            replica = "\(site).sqlite"
            hub_url = "\(hubURL)"
            ca_file = "tls/ca.crt"
            credential_file = "\(site).credential"
            schema = "schema.json"
            """.write(toFile: "\(folder)/\(site).toml", atomically: true, encoding: .utf8)
    }

    /// Registers a site at the hub, hands it its credential, and makes its replica.
    func addSite(_ id: String, kind: String, name: String) throws {
        try begawi(["hub", "add-site", "--config", "\(folder)/hub.toml", "--id", id, "--kind", kind, "--name", name,
                    "--credential-out", "\(folder)/\(id).credential"], quiet: true)
        try writeSiteConfig(id)
        try begawi(["site", "init", "--config", "\(folder)/\(id).toml"], quiet: true)
    }

    /// One `begawi site sync` round, its report printed under the site's name (without the epoch).
    func sync(_ site: String, label: String) throws {
        let text = try begawi(["site", "sync", "--config", "\(folder)/\(site).toml"], quiet: true)
        for (i, line) in text.split(separator: "\n").enumerated() {
            let shown = line.components(separatedBy: "; hub epoch").first ?? String(line)
            print(i == 0 ? "  \(site)\(label.isEmpty ? "" : " (\(label))"): \(shown)" : "    \(shown)")
        }
    }

    /// What `begawi site status` says at a site.
    func status(_ site: String) throws -> String {
        try begawi(["site", "status", "--config", "\(folder)/\(site).toml"], quiet: true)
    }

    /// The office's consolidated report (`begawi hub report`, as a table).
    func report() throws -> String {
        try begawi(["hub", "report", "--config", "\(folder)/hub.toml"], quiet: true)
    }
}
