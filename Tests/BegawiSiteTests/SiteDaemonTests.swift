@testable import BegawiSite
import BegawiCore
import BegawiReplica
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// The site daemon as a service inside its library (issue 13, item 4), on a real replica file with
/// an injected transport: a failed round throws what made it fail and the status file says so, and
/// the daemon stops when its service group shuts down (`ReplicaLaneTests` shows the replica closed).
@Suite struct SiteDaemonTests {
    /// A hub that never answers: every request fails as a refused connection would.
    struct Unreachable: HubTransport {
        func send(_ request: HubRequest) async throws -> HubResponse {
            throw BegawiError(.network, "the hub cannot be reached (test transport)")
        }
    }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func configuration() throws -> SiteConfiguration {
        let folder = NSTemporaryDirectory() + "begawi-daemon-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Replica.create(at: folder + "/r.sqlite", siteID: "lpk-a", schema: SiteValueCheckTests.schema).close()
        return SiteConfiguration(replicaPath: folder + "/r.sqlite", watchIntervalMilliseconds: 50)
    }

    @Test func aFailedRoundThrowsItsErrorAndTheStatusFileKeepsIt() async throws {
        let c = try configuration()
        let daemon = SiteDaemon(configuration: c, transport: Unreachable(), logger: Self.logger)
        await #expect(throws: BegawiError.self) { _ = try await daemon.syncOnce() }
        let status = SiteStatus.load(from: c.statusPath)
        #expect(status.lastError?.contains("cannot be reached") == true, "\(String(describing: status.lastError))")
        #expect(status.lastSuccessAt == nil)
    }

    @Test(.timeLimit(.minutes(1))) func theDaemonStopsWithItsGroup() async throws {
        let c = try configuration()
        let (ready, readied) = AsyncStream.makeStream(of: Void.self)
        let daemon = SiteDaemon(configuration: c, transport: Unreachable(), logger: Self.logger,
                                hooks: .init(onReady: { readied.yield() }))
        let group = ServiceGroup(configuration: .init(services: [.init(service: daemon)], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var readiness = ready.makeAsyncIterator()
            _ = await readiness.next()
            // Let the loop try (and fail) a round before the group shuts down.
            try await Task.sleep(for: .milliseconds(300))
            let asked = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(ContinuousClock.now - asked < .seconds(5))
        }
        #expect(SiteStatus.load(from: c.statusPath).lastError != nil, "no round ran before the stop")
    }
}
