import Foundation

/// Tests/Tools/https_echo.py run as a real process on a port of the kernel's choosing; killed by `stop()`.
final class HTTPSEchoServer: @unchecked Sendable {
    // @unchecked: `process` is set once in init; Process itself is thread-safe for terminate and wait.
    private let process: Process
    /// The port the server listens on, on 127.0.0.1.
    let port: Int

    /// The base URL to give a transport.
    var baseURL: String { "https://127.0.0.1:\(port)" }

    /// Starts a server presenting `certificate` and waits until it listens.
    static func start(presenting certificate: TestCertificates.KeyPair) async throws -> HTTPSEchoServer {
        let certificates = try TestCertificates.shared()
        let portFile = "\(certificates.directory)/port-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: portFile) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/https_echo.py").path
        let arguments = [script, "--cert", certificate.certificate, "--key", certificate.key, "--port-file", portFile]
        let process = Process()
        // The distribution's python3 starts in a fraction of the time of a version manager's shim.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
        }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Generous: under the full suite, python3 starts on a machine busy with the other tests' processes.
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                return HTTPSEchoServer(process: process, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        throw TestCertificateError(message: "https_echo.py did not start listening (exit status \(process.terminationStatus))")
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Kills the server (SIGKILL) and reaps it.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// What /echo reports about the request it received.
struct Echo: Decodable {
    let method: String
    let path: String
    let headers: [String: String]
    let rawLength: Int
    let bodyLength: Int
    let sha256: String
    let client: String
}
