import Foundation
import Testing

/// One raw HTTP/1.1 connection over TLS through `openssl s_client`, for requests libcurl will not
/// send: no Authorization header, a Content-Length larger than the body, a body that never ends.
///
/// The request goes to s_client's stdin over a socket pair (written with MSG_NOSIGNAL, without
/// blocking), so a hub that stops reading can neither stall the test nor kill it with SIGPIPE.
final class RawTLSConnection {
    private let process = Process()
    private let input: Int32
    private let collector: OutputCollector
    private var closed = false

    /// Connects to the hub on 127.0.0.1:`port`, trusting only `caFile`, from `source` (a loopback
    /// address such as 127.0.0.2) if given.
    init(port: Int, caFile: String, source: String? = nil) throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw ClusterError("socketpair failed: errno \(errno)")
        }
        input = fds[0]
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
        let childEnd = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:\(port)", "-CAfile", caFile, "-verify_return_error"]
            + (source.map { ["-bind", "\($0):0"] } ?? [])
        process.standardInput = childEnd
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do {
            try process.run()
        } catch {
            Glibc.close(fds[0])
            Glibc.close(fds[1])
            throw error
        }
        Glibc.close(fds[1])
        collector = OutputCollector(output.fileHandleForReading)
    }

    deinit { close() }

    /// Whether the connection is still open (s_client exits when the hub closes it).
    var isOpen: Bool { process.isRunning }

    /// Stops s_client (the process this connection started) and closes the socket pair.
    func close() {
        // Once only: closing `input` twice could close a descriptor another test has been given since.
        guard !closed else { return }
        closed = true
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        Glibc.close(input)
    }

    /// Writes as much of `bytes` as s_client takes without blocking; returns how many it took.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Int {
        var written = 0
        var idle = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { send(input, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                written += n
                idle = 0
            } else if n < 0, errno == EAGAIN || errno == EINTR, idle < 100 {
                // s_client is busy sending to the hub; give it a moment, but not forever.
                idle += 1
                usleep(10_000)
            } else {
                break
            }
        }
        return written
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    /// The first complete response (status, lowercase headers, body), or nil if none came in time.
    func response(within seconds: Double) -> ProbeAnswer? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let answer = Self.parse(collector.bytes) { return answer }
            usleep(10_000)
        } while Date() < deadline
        return Self.parse(collector.bytes)
    }

    static func parse(_ data: [UInt8]) -> ProbeAnswer? {
        let text = String(decoding: data, as: UTF8.self)
        guard let start = text.range(of: "HTTP/1."), let end = text.range(of: "\r\n\r\n", range: start.upperBound..<text.endIndex) else { return nil }
        var lines = text[start.lowerBound..<end.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = Array(text[end.upperBound...].utf8)
        let length = headers["content-length"].flatMap(Int.init) ?? 0
        guard body.count >= length else { return nil }
        return ProbeAnswer(status: status, headers: headers, body: Array(body.prefix(length)))
    }

    /// The head of a request: request line, Host and the given headers, then the blank line.
    static func head(_ method: String, _ path: String, _ headers: [(String, String)]) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        return text + "\r\n"
    }
}

/// Collects a pipe's bytes on its own thread while the process runs.
private final class OutputCollector: @unchecked Sendable {
    // @unchecked: `data` is only touched under `lock`.
    private let lock = NSLock()
    private var data: [UInt8] = []

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { data.append(contentsOf: chunk) }
            }
        }
    }

    var bytes: [UInt8] { lock.withLock { data } }
}
