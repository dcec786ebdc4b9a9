import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stand-in for systemd's notify socket: a Unix datagram socket that records each message the
/// daemon sends (`READY=1`, `WATCHDOG=1`, `STATUS=…`, `STOPPING=1`) with the time it came.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [(at: Date, text: String)] = []
    private var thread: Thread?

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("cannot make a datagram socket") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw ClusterError("cannot bind the notify socket at \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [weak self] in self?.receive() }
        self.thread = thread
        thread.start()
    }

    private func receive() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !Thread.current.isCancelled {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                lock.withLock { received.append((Date(), text)) }
            }
        }
    }

    /// Every message so far, with its arrival time.
    var messages: [(at: Date, text: String)] { lock.withLock { received } }

    /// Waits until a message contains `line`; returns its arrival time.
    func wait(for line: String, timeout: TimeInterval = 20) -> Date? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let hit = messages.first(where: { $0.text.split(separator: "\n").contains(Substring(line)) || $0.text.contains(line) }) { return hit.at }
            usleep(20_000)
        }
        return nil
    }

    deinit {
        thread?.cancel()
        usleep(250_000)
        close(fd)
        unlink(path)
    }
}
