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
