@testable import BegawiHub
import BegawiCore
import BegawiReplica
import Dispatch
import Foundation
import GRDB
import Testing

/// Dashboard queries never stall push and pull (issue 12, item 6): the office's reads have a lane of
/// their own, one thread wide. A dashboard read held open (deterministically, by a semaphore inside
/// its read transaction) and more pages queued behind it leave a push and a pull as quick as ever.
/// The sync lane is bounded too (issue 13, item 4): work beyond its threads waits its turn.
/// Each test holds threads of lanes of its own, as each hub run has.
@Suite struct BlockingLaneTests {
    /// Waits for a semaphore off the cooperative pool.
    static func wait(_ semaphore: DispatchSemaphore) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { semaphore.wait(); c.resume() }
        }
    }

    @Test func aHeldDashboardReadDelaysNeitherPushNorPull() async throws {
        try await Blocking.withLanes { lanes in try await heldDashboardRead(lanes) }
    }

    func heldDashboardRead(_ lanes: Blocking) async throws {
        let h = try HubHarness()
        _ = try h.addSite("lpk-a", kind: .lpk)
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-1', 'lpk-a', 'Las listrik')")
        nonisolated(unsafe) let harness = h
        let store = h.store
        let hubFile = h.folder.file("hub.sqlite")

        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let held = Task {
            try await lanes.office {
                let reader = try DatabaseQueue(path: hubFile)
                defer { try? reader.close() }
                try reader.read { db in
                    _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM programs")
                    started.signal()
                    release.wait()
                }
            }
        }
        await Self.wait(started)
        // More dashboard pages wait behind the held one, in its lane.
        let finished = Finished()
        let queued = (0..<8).map { _ in Task { _ = try await lanes.office { try store.health() }; finished.add() } }

        // Meanwhile a push and a pull go through the sync lane, as the routes send them.
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            let exchange = try await lanes.run { try harness.sync("lpk-a") }
            #expect(exchange.refused.isEmpty)
        }
        #expect(elapsed < .seconds(5), "a push and a pull took \(elapsed) while a dashboard read was held")
        #expect(try h.hubRows("programs")["prog-1"] != nil)
        // The office's lane is one thread: nothing queued behind the held read runs, however long
        // it is given (in a shared pool they would all be done well within this).
        try await Task.sleep(for: .milliseconds(500))
        #expect(finished.count == 0, "\(finished.count) dashboard reads ran beside the held one")

        release.signal()
        try await held.value
        for task in queued { try await task.value }
        #expect(finished.count == 8)
    }

    @Test func workBeyondTheSyncLanesThreadsWaitsItsTurn() async throws {
        try await Blocking.withLanes { lanes in try await workBeyondTheSyncLane(lanes) }
    }

    func workBeyondTheSyncLane(_ lanes: Blocking) async throws {
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let holders = (0..<Blocking.syncThreads).map { _ in Task { try await lanes.run { started.signal(); release.wait() } } }
        for _ in holders { await Self.wait(started) }
        let extra = Finished()
        let queued = Task { try await lanes.run { extra.add() } }
        // On an unbounded queue the extra body would start on a thread of its own at once.
        try await Task.sleep(for: .milliseconds(500))
        #expect(extra.count == 0, "work ran beside \(Blocking.syncThreads) held bodies")
        for _ in holders { release.signal() }
        for holder in holders { try await holder.value }
        try await queued.value
        #expect(extra.count == 1)
    }

    final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.withLock { value += 1 } }
        var count: Int { lock.withLock { value } }
    }
}
