#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Talks to systemd's service manager through `$NOTIFY_SOCKET` (sd_notify(3), one datagram per
/// message): `READY=1`, `STOPPING=1`, `STATUS=…` and watchdog pings. Outside systemd (no socket)
/// every call does nothing.
public final class SystemdNotifier: @unchecked Sendable {
    private let address: String?
    /// Half the watchdog interval systemd expects pings within, if it watches this process.
    public let pingInterval: Duration?
    private let lock = NSLock()
    private var lastPing: ContinuousClock.Instant?
    private var readySent = false

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the process's environment.
    public convenience init() { self.init(environment: ProcessInfo.processInfo.environment) }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let socket = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        address = socket
        var interval: Duration?
        if socket != nil, let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 {
            // Only when the watchdog is meant for this process (systemd sets WATCHDOG_PID to it).
            let mine = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
            if mine { interval = .microseconds(Int64(usec / 2)) }
        }
        pingInterval = interval
    }

    /// Whether a service manager listens.
    public var isActive: Bool { address != nil }

    /// The service is ready: its database is open and, for the hub, its listener bound.
    public func ready(status: String? = nil) {
        lock.withLock { readySent = true }
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// Whether `ready` was called: before that, a reload must not announce readiness.
    public var isReady: Bool { lock.withLock { readySent } }

    /// The service is stopping (it finishes the batch in hand first).
    public func stopping() { send(["STOPPING=1"]) }

    /// The service is re-reading its configuration; `ready` follows when it is done.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send(["RELOADING=1", "MONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000)"])
    }

    /// One line of state for `systemctl status`.
    public func status(_ line: String) { send(["STATUS=\(line)"]) }

    /// Tells the watchdog this process is alive; called by the part that would hang. Sends at most
    /// one ping per quarter of the watchdog interval, so that a step which blocks for less than
    /// three quarters of it (a SQLite busy wait, a slow request) never looks like a hang.
    public func alive() {
        guard let interval = pingInterval.map({ $0 / 2 }) else { return }
        let now = ContinuousClock.now
        let due = lock.withLock {
            if let last = lastPing, now - last < interval { return false }
            lastPing = now
            return true
        }
        if due { send(["WATCHDOG=1"]) }
    }

    func send(_ lines: [String]) {
        guard let address else { return }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 } // the abstract namespace
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard path.count < capacity else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let message = Array(lines.joined(separator: "\n").utf8)
        _ = withUnsafePointer(to: &addr) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        #endif
    }
}
