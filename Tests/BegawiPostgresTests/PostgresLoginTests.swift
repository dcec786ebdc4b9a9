import BegawiCore
import BegawiPostgres
import Foundation
import Testing

/// A server that accepts the connection but never answers the login is given up after the connect
/// timeout. A listener of the test's own stands for it (a socket that is listened on and never read):
/// stopping the real server's postmaster instead refused every other suite's logins meanwhile.
@Suite(.blocking) struct PostgresLoginTests {
    @Test func aServerThatAcceptsButNeverAnswersTheLoginIsGivenUp() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound, "cannot listen on loopback")
        let port = Int(UInt16(bigEndian: address.sin_port))
        var settings = try PostgresSettings(url: "postgresql://begawi@127.0.0.1:\(port)/begawi")
        settings.connectTimeoutMilliseconds = 500
        let started = Date()
        let error = try #require(throws: BegawiError.self) { try PostgresLink.connect(settings) }
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.4 && waited < 10, "gave up after \(waited) s")
        #expect(error.code == .network)
        #expect(error.message.contains("cannot reach"), "\(error)")
    }
}
