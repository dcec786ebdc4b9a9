public import Foundation

/// A program run to its end with its output captured, both pipes read at once so that a full
/// pipe never blocks it. Blocking: call it from a `.blocking` suite.
public enum ChildProcess {
    /// How the program ended and what it wrote.
    public struct Result: Sendable {
        /// The exit status, or the signal's number when `reason` is `.uncaughtSignal`.
        public let status: Int32
        /// Whether the program exited or was killed by a signal.
        public let reason: Process.TerminationReason
        /// Its standard output (and standard error too when they were merged).
        public let outputData: Data
        /// Its standard error, empty when merged into the output.
        public let errors: String

        /// The standard output as text.
        public var output: String { String(decoding: outputData, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments`; `input` is written to its standard input, which is then
    /// closed (nil keeps the test's own), and `mergingErrors` sends its standard error into the output.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        input: String? = nil, mergingErrors: Bool = false
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = mergingErrors ? out : err
        if let input {
            // Written before the start (it fits in the pipe's buffer), so the process can never have
            // closed its end already.
            let stdin = Pipe()
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
            process.standardInput = stdin
        }
        try process.run()
        let errors = mergingErrors ? nil : ThreadedReader(err.fileHandleForReading)
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorText = errors?.finish() ?? ""
        return Result(status: process.terminationStatus, reason: process.terminationReason, outputData: output, errors: errorText)
    }
}

extension ChildProcess {
    /// Runs a program that leaves a daemon behind (a server it starts) to its end; its exit status
    /// and its output and errors together. Spawned and reaped by hand, with the output in a file:
    /// Foundation's `Process` was seen never to notice the program's own exit while the daemon it
    /// started runs (`pg_ctl start`, the systemd container's PID 1). An exit by a signal gives 128
    /// and the signal's number.
    public static func runLeavingDaemon(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "begawi-run-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw SpawnFailure(program: arguments[0], reason: String(cString: strerror(spawned))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }

    /// A program that could not be started.
    public struct SpawnFailure: Error, CustomStringConvertible {
        public let program: String
        public let reason: String
        public var description: String { "cannot start \(program): \(reason)" }
    }
}
