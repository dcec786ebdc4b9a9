import Foundation

/// A raw TCP connection to the hub from a chosen loopback source address (127.0.0.2, …), as an
/// outsider would hold one: idle, or stopped in the middle of a TLS handshake. Thousands fit in
/// one test process (no process per connection).
final class HostileSocket {
    private let fd: Int32

    /// Starts connecting to 127.0.0.1:`port` from `source`, without waiting for the hub to accept.
    init(port: Int, source: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket failed: errno \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else {
            Glibc.close(fd)
            throw ClusterError("bind to \(source) failed: errno \(errno)")
        }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 || errno == EINPROGRESS else {
            Glibc.close(fd)
            throw ClusterError("connect from \(source) failed: errno \(errno)")
        }
    }

    deinit { Glibc.close(fd) }

    /// The first bytes of a TLS ClientHello: a record header announcing 512 bytes, and a few of
    /// them. The hub's TLS waits for the rest, which never comes.
    static let partialClientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]

    /// Sends what fits without blocking (nothing if the connection is not up yet).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    /// Whether the hub has closed the connection (an end of file or a reset is waiting).
    var closedByPeer: Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 0) == 1 else { return false }
        if pfd.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }
}

/// This process's open-file limit, raised for thousands of sockets.
enum FileLimit {
    /// Raises the soft RLIMIT_NOFILE to at least `wanted` (within the hard limit); returns why not, or nil.
    static func raise(to wanted: Int) -> String? {
        var limits = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limits) == 0 else { return "getrlimit failed: errno \(errno)" }
        if limits.rlim_cur != rlim_t.max, limits.rlim_cur < rlim_t(wanted) {
            guard limits.rlim_max == rlim_t.max || limits.rlim_max >= rlim_t(wanted) else {
                return "the hard open-file limit is \(limits.rlim_max), below the \(wanted) this test needs (ulimit -Hn)"
            }
            limits.rlim_cur = rlim_t(wanted)
            guard setrlimit(resource, &limits) == 0 else { return "setrlimit to \(wanted) failed: errno \(errno)" }
        }
        return nil
    }

    /// Whether the flood test can run; prints the reason when it cannot.
    static let canHoldFlood: Bool = {
        guard let reason = raise(to: 12_000) else { return true }
        print("ExposureTests: skipping the flood test: \(reason)")
        return false
    }()
}
