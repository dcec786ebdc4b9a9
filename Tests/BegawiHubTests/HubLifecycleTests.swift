@testable import BegawiHub
import BegawiCertificates
import BegawiCore
import Logging
import ServiceLifecycle
import Testing

/// The hub's thread pools belong to its run (issue 13, "One house"): the daemon's lanes work while
/// it serves, and once its service group has stopped they are shut down, no thread left behind.
@Suite struct HubLifecycleTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test(.timeLimit(.minutes(1))) func theLanesStopWithTheServiceGroup() async throws {
        let h = try HubHarness()
        defer { h.close() }
        let ca = try PrivateCA.make(commonName: "begawi-test-ca", days: 2)
        let identity = try PrivateCA.issue(for: ["127.0.0.1"], commonName: "begawi-test-hub", by: ca, days: 2)
        try identity.certificate.write(toFile: h.folder.file("hub.crt"), atomically: true, encoding: .utf8)
        try identity.key.write(toFile: h.folder.file("hub.key"), atomically: true, encoding: .utf8)
        let configuration = HubConfiguration(host: "127.0.0.1", port: 0, certificateFile: h.folder.file("hub.crt"),
                                             privateKeyFile: h.folder.file("hub.key"), databasePath: h.folder.file("hub.sqlite"))
        let (ready, readied) = AsyncStream.makeStream(of: Void.self)
        let mounted = Mounted()
        let daemon = try HubDaemon(configuration: configuration, policy: h.policy, declared: h.document.schema, logger: Self.logger,
                                   routes: { _, lanes in mounted.lanes = lanes; return [] }, onReady: { _ in readied.yield() })
        let lanes = daemon.server.lanes
        #expect(mounted.lanes === lanes, "the route groups got lanes other than the server's")
        let group = ServiceGroup(configuration: .init(services: [.init(service: daemon)], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var readiness = ready.makeAsyncIterator()
            _ = await readiness.next()
            #expect(try await lanes.run { 1 } == 1)
            #expect(try await lanes.office { 2 } == 2)
            try await HubServer.probe(daemon.store, in: lanes)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // Process-wide pools would still take work here.
        await #expect(throws: CancellationError.self) { try await lanes.run { 1 } }
        await #expect(throws: CancellationError.self) { try await lanes.office { 1 } }
    }

    /// The lanes the route factory was given (it runs once, inside the daemon's init).
    final class Mounted: @unchecked Sendable {
        var lanes: Blocking?
    }
}
