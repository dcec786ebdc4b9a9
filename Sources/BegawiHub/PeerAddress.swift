import NIOCore

/// The address a connection comes from, as the key of per-address limits: an IPv4 address, or an
/// IPv6 /64 (one household or server gets a whole /64, so counting single IPv6 addresses would
/// let one client count as millions). An IPv4 address mapped into IPv6 counts as the IPv4 one.
enum PeerAddress {
    static func key(_ address: SocketAddress?) -> String {
        switch address {
        case .v4?:
            return address?.ipAddress ?? "unknown"
        case .v6(let a)?:
            let bytes = withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
            guard bytes.count == 16 else { return "unknown" }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket?:
            return "local"
        case nil:
            return "unknown"
        }
    }
}
