import BegawiCore
import BegawiSite
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CurlTransportTests {
    static let credential = "site-7f3a-CREDENTIAL-never-shown-0123456789"

    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    func transport(_ server: HTTPSEchoServer, options: CurlTransport.Options = .init(), clock: any WallClock = SystemWallClock()) throws -> CurlTransport {
        try CurlTransport(baseURL: server.baseURL, caFile: certificates.ca.certificate, credential: Self.credential, options: options, clock: clock)
    }

    @Test func getRoundTrip() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let clock = SteppingClock(start: 1_780_000_000_000)
        let response = try await transport(server, clock: clock).send(HubRequest(method: "GET", path: "/echo/items?since=5", headers: [("X-Site", "pasar-minggu")]))

        #expect(response.status == 200)
        #expect(response.headers["x-test-server"] == "https_echo")
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.sentAt == 1_780_000_000_000)
        #expect(response.receivedAt == 1_780_000_000_001)
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "GET")
        #expect(echo.path == "/echo/items?since=5")
        #expect(echo.headers["authorization"] == "Bearer \(Self.credential)")
        #expect(echo.headers["x-site"] == "pasar-minggu")
        #expect(echo.headers["user-agent"]?.hasPrefix("begawi/") == true)
        #expect(echo.headers["accept-encoding"]?.contains("gzip") == true)
        #expect(echo.bodyLength == 0)
    }

    @Test func postRoundTrip() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let body = Array("hello begawi".utf8)
        let response = try await transport(server).send(HubRequest(method: "POST", path: "/echo/batches", headers: [("Content-Type", "application/json")], body: body))

        #expect(response.status == 200)
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "POST")
        #expect(echo.headers["content-type"] == "application/json")
        #expect(echo.headers["content-length"] == "12")
        #expect(echo.headers["expect"] == nil)
        #expect(echo.headers["content-encoding"] == nil)
        #expect(echo.bodyLength == 12)
        #expect(echo.sha256 == "0e8ba5c614ff23f137524ce71a036ad516656db33d1be714e1e8b4af62b53422")
    }

    @Test func gzipRequestBodyIsDecodedByTheServer() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let transport = try transport(server)
        let body = Array((0..<2000).map { "row \($0) of the enrollment table;" }.joined().utf8)
        let plain = try await transport.send(HubRequest(method: "POST", path: "/echo", body: body))
        let zipped = try await transport.send(HubRequest(method: "POST", path: "/echo", body: body, gzipBody: true))

        let plainEcho = try JSONDecoder().decode(Echo.self, from: Data(plain.body))
        let zippedEcho = try JSONDecoder().decode(Echo.self, from: Data(zipped.body))
        #expect(zippedEcho.headers["content-encoding"] == "gzip")
        #expect(zippedEcho.headers["content-type"] == "application/octet-stream")
        #expect(zippedEcho.bodyLength == body.count)
        #expect(zippedEcho.rawLength < body.count / 4)
        #expect(zippedEcho.sha256 == plainEcho.sha256)
    }

    @Test func gzipResponseIsDecoded() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let response = try await transport(server).send(HubRequest(method: "GET", path: "/gzip"))

        #expect(response.status == 200)
        #expect(response.headers["content-encoding"] == "gzip")
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
        #expect(object?["message"] == "this answer travelled gzip-encoded")
    }

    @Test func requestsOnOneTransportReuseOneConnection() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let transport = try transport(server)
        var clients: [String] = []
        for request in [HubRequest(method: "GET", path: "/echo"), HubRequest(method: "POST", path: "/echo", body: [1, 2, 3]),
                        HubRequest(method: "GET", path: "/echo")] {
            let response = try await transport.send(request)
            let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
            #expect(echo.method == request.method)
            clients.append(echo.client)
        }
        #expect(Set(clients).count == 1)
    }

    @Test func concurrentSendsAreSerializedOnOneConnection() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let transport = try transport(server)
        _ = try await transport.send(HubRequest(method: "GET", path: "/echo"))
        let clients = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<6 {
                group.addTask {
                    let response = try await transport.send(HubRequest(method: "POST", path: "/echo/\(index)", body: Array(repeating: UInt8(index), count: 5000)))
                    return try JSONDecoder().decode(Echo.self, from: Data(response.body)).client
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(clients.count == 1)
    }

    @Test func plainHTTPBaseURLIsRefused() throws {
        let error = try #require(throws: BegawiError.self) {
            try CurlTransport(baseURL: "http://127.0.0.1:8443", caFile: certificates.ca.certificate, credential: Self.credential)
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains("https://"))
    }

    @Test func missingCAFileIsRefused() throws {
        let missing = certificates.directory + "/no-such-ca.crt"
        let error = try #require(throws: BegawiError.self) {
            try CurlTransport(baseURL: "https://127.0.0.1:8443", caFile: missing, credential: Self.credential)
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains(missing))
        #expect(error.message.contains("ca_file"))
    }

    @Test func serverCertificateFromAnotherCAIsRefused() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.serverSignedByOtherCA)
        defer { server.stop() }
        let error = try await #require(throws: BegawiError.self) {
            try await transport(server).send(HubRequest(method: "GET", path: "/echo"))
        }
        #expect(error.code == .network)
        #expect(error.message.contains(certificates.ca.certificate))
        #expect(error.message.contains("ca_file"))
        #expect(error.cause?.contains("curl error 60") == true)
    }

    @Test func serverCertificateForAnotherNameIsRefused() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.serverForOtherName)
        defer { server.stop() }
        let error = try await #require(throws: BegawiError.self) {
            try await transport(server).send(HubRequest(method: "GET", path: "/echo"))
        }
        #expect(error.code == .network)
        #expect(error.message.contains("not made for the name 127.0.0.1"))
    }

    @Test func refusedConnectionIsANetworkError() async throws {
        let port = try ClosedPort()
        defer { port.close() }
        let transport = try CurlTransport(baseURL: "https://127.0.0.1:\(port.number)", caFile: certificates.ca.certificate, credential: Self.credential)
        let error = try await #require(throws: BegawiError.self) {
            try await transport.send(HubRequest(method: "GET", path: "/echo"))
        }
        #expect(error.code == .network)
        #expect(error.message.contains("https://127.0.0.1:\(port.number) refused the connection"))
    }

    @Test func silentServerTimesOutWithinTheConnectTimeout() async throws {
        // The kernel completes the TCP handshake into the backlog, but no one ever answers the TLS hello.
        let port = try ClosedPort(listening: true)
        defer { port.close() }
        let transport = try CurlTransport(baseURL: "https://127.0.0.1:\(port.number)", caFile: certificates.ca.certificate,
                                          credential: Self.credential, options: .init(connectTimeoutMs: 500))
        let started = ContinuousClock.now
        let error = try await #require(throws: BegawiError.self) {
            try await transport.send(HubRequest(method: "GET", path: "/echo"))
        }
        #expect(error.code == .network)
        #expect(error.message == "the hub at https://127.0.0.1:\(port.number) did not answer within 500 ms; check the network")
        // Without the timeout it would wait for ever; the bound leaves room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func nonPositiveLimitsAreRefused() throws {
        let error = try #require(throws: BegawiError.self) {
            try CurlTransport(baseURL: "https://127.0.0.1:8443", caFile: certificates.ca.certificate, credential: Self.credential,
                              options: .init(lowSpeedTimeSeconds: 0))
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains("stall_seconds"))
    }

    @Test func stalledResponseIsAbortedAfterTheLowSpeedTime() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let transport = try transport(server, options: .init(lowSpeedTimeSeconds: 2))
        let started = ContinuousClock.now
        let error = try await #require(throws: BegawiError.self) {
            try await transport.send(HubRequest(method: "GET", path: "/stall"))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error.code == .network)
        #expect(error.message.contains("stopped responding"))
        // The server stays silent for a minute; the upper bound leaves room for a loaded machine.
        #expect(elapsed >= .milliseconds(1500) && elapsed < .seconds(30), "aborted after \(elapsed)")
    }

    /// A held request waits without curl's low-speed check (it would wake every second): its own
    /// limit is the hold plus the stall time until the answer begins, the stall time after.
    @Test(arguments: [("/silent", 3), ("/stall", 1)])
    func aSilentHeldRequestIsAbortedByItsOwnLimit(path: String, seconds: Int) async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let transport = try transport(server, options: .init(lowSpeedTimeSeconds: 1))
        var request = HubRequest(method: "GET", path: path)
        request.holdSeconds = 2
        let started = ContinuousClock.now
        let error = try await #require(throws: BegawiError.self) { try await transport.send(request) }
        let elapsed = ContinuousClock.now - started
        #expect(error.code == .network)
        #expect(error.message.contains("stopped responding"), "\(error)")
        #expect(error.cause?.contains("no data for \(seconds) s") == true, "\(error)")
        #expect(elapsed >= .seconds(seconds) - .milliseconds(100) && elapsed < .seconds(seconds + 20), "aborted after \(elapsed)")
        // The handle stays usable, with the low-speed check back for an ordinary request.
        #expect(try await transport.send(HubRequest(method: "GET", path: "/echo")).status == 200)
    }

    @Test func cancellingTheTaskAbortsATransfer() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let transport = try transport(server)
        let started = ContinuousClock.now
        let task = Task { try await transport.send(HubRequest(method: "GET", path: "/stall")) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // The server stays silent for a minute: well under that means the cancellation aborted it.
        #expect(ContinuousClock.now - started < .seconds(30))
        // The handle stays usable after an aborted transfer.
        let response = try await transport.send(HubRequest(method: "GET", path: "/echo"))
        #expect(response.status == 200)
    }

    @Test func httpErrorStatusIsReturnedNotThrown() async throws {
        let server = try await HTTPSEchoServer.start(presenting: certificates.server)
        defer { server.stop() }
        let response = try await transport(server).send(HubRequest(method: "POST", path: "/too-large", body: Array(repeating: 7, count: 1000)))

        #expect(response.status == 413)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
        #expect(object?["reason"]?.contains("send smaller batches") == true)
    }

    @Test func credentialNeverAppearsInErrors() async throws {
        let otherCA = try await HTTPSEchoServer.start(presenting: certificates.serverSignedByOtherCA)
        defer { otherCA.stop() }
        let otherName = try await HTTPSEchoServer.start(presenting: certificates.serverForOtherName)
        defer { otherName.stop() }
        let port = try ClosedPort()
        defer { port.close() }

        var errors: [any Error] = []
        func record(_ body: () async throws -> Void) async {
            do { try await body() } catch { errors.append(error) }
        }
        let ca = certificates.ca.certificate
        let credential = Self.credential
        await record { _ = try CurlTransport(baseURL: "http://127.0.0.1:1", caFile: ca, credential: credential) }
        await record { _ = try CurlTransport(baseURL: "https://127.0.0.1:1", caFile: "/missing", credential: credential) }
        await record { _ = try CurlTransport(baseURL: "https://127.0.0.1:1", caFile: ca, credential: credential + "\n") }
        for base in [otherCA.baseURL, otherName.baseURL, "https://127.0.0.1:\(port.number)"] {
            await record { _ = try await CurlTransport(baseURL: base, caFile: ca, credential: credential).send(HubRequest(method: "GET", path: "/echo")) }
        }
        await record {
            _ = try await CurlTransport(baseURL: "https://127.0.0.1:1", caFile: ca, credential: credential)
                .send(HubRequest(method: "GET", path: "/echo", headers: [("Authorization", "Bearer \(credential)")]))
        }

        #expect(errors.count == 7)
        for error in errors {
            #expect(!String(describing: error).contains(credential))
            #expect(!String(reflecting: error).contains(credential))
        }
    }
}

/// A wall clock that moves one millisecond each time it is read.
final class SteppingClock: WallClock, @unchecked Sendable {
    // @unchecked: `now` is only touched under `lock`.
    private let lock = NSLock()
    private var now: UInt64

    init(start: UInt64) { now = start }

    func nowMilliseconds() -> UInt64 {
        lock.withLock {
            defer { now += 1 }
            return now
        }
    }
}

/// A bound loopback port: not listening, a connection to it is refused; listening, connections wait unaccepted.
struct ClosedPort {
    let socket: Int32
    let number: Int

    init(listening: Bool = false) throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socket, socketAddress, length) == 0 && getsockname(socket, socketAddress, &length) == 0
            }
        }
        guard socket >= 0, bound, !listening || listen(socket, 8) == 0 else { throw TestCertificateError(message: "could not bind a loopback port") }
        self.socket = socket
        number = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(socket) }
}
