@testable import BegawiSite
import BegawiCore
import BegawiReplica
import Dispatch
import Foundation
import Testing

/// The site's SQLite work runs on a lane of one thread, off Swift's cooperative pool (issue 13,
/// item 4): a transaction held open holds that thread only, the next one waits its turn, and the
/// lane closes the replica and stops its thread when the daemon (or `site sync`) ends.
@Suite struct ReplicaLaneTests {
    func replicaFile() throws -> String {
        let folder = NSTemporaryDirectory() + "begawi-lane-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/r.sqlite"
        try Replica.create(at: path, siteID: "lpk-a", schema: SiteValueCheckTests.schema).close()
        return path
    }

    /// Waits for a semaphore off the cooperative pool.
    static func wait(_ semaphore: DispatchSemaphore) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { semaphore.wait(); c.resume() }
        }
    }

    @Test func workWaitsItsTurnOnOneThreadAndTheLaneClosesAfter() async throws {
        let path = try replicaFile()
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let second = Flag()
        let closedLane = try await ReplicaLane.withReplica(at: path) { lane in
            #expect(lane.siteID == "lpk-a")
            async let held: Int = lane.run { replica in
                started.signal()
                release.wait()
                return try replica.pendingChanges(afterSeq: 0)
            }
            await Self.wait(started)
            async let next: Void = lane.run { _ in second.set() }
            // Meanwhile the cooperative pool stays free: this task goes on while the lane is held.
            try await Task.sleep(for: .milliseconds(300))
            #expect(!second.isSet, "a second body ran beside the held one")
            release.signal()
            #expect(try await held == 0)
            try await next
            #expect(second.isSet)
            return lane
        }
        // The replica is closed (its write-ahead log folded in) and the lane's thread is stopped.
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int ?? 0
        #expect(wal == 0)
        await #expect(throws: (any Error).self) { try await closedLane.run { _ in 1 } }
    }

    @Test func aMissingReplicaIsAClearErrorAndStopsTheLane() async throws {
        let path = NSTemporaryDirectory() + "begawi-lane-missing-\(UUID().uuidString.prefix(8))/r.sqlite"
        await #expect(throws: BegawiError.self) {
            try await ReplicaLane.withReplica(at: path) { _ in Issue.record("the body ran without a replica") }
        }
    }

    @Test func theLanesSchemaFollowsAMigration() async throws {
        let path = try replicaFile()
        let v2 = Schema(tables: [TableSpec(name: "programs", columns: SiteValueCheckTests.schema.tables[0].columns + [
            ColumnSpec(name: "location", notNull: true, defaultValue: .text("Bontang")),
        ])])
        try await ReplicaLane.withReplica(at: path) { lane in
            #expect(lane.schema == SiteValueCheckTests.schema)
            try await lane.migrate { try $0.migrate(to: v2, version: 2) }
            #expect(lane.schema == v2)
            #expect(try await lane.run { $0.schema } == v2)
        }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }
}
