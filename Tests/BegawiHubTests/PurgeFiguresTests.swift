@testable import BegawiHub
import BegawiCore
import Foundation
import Testing

/// The purge's speed, for the report: `BEGAWI_PURGE_ROWS=100000 swift test --filter PurgeFiguresTests`
/// prints the time, rows per second and the longest chunk (the writer is held one chunk at a time),
/// with as many live rows as tombstones.
@Suite struct PurgeFiguresTests {
    static var rows: Int { Int(ProcessInfo.processInfo.environment["BEGAWI_PURGE_ROWS"] ?? "") ?? 4000 }

    @Test func purgeOfManyTombstones() async throws {
        let world = try PurgeWorld()
        try world.addSite("lpk-a")
        // As many live rows stay below the horizon as there are tombstones.
        let keys = try world.insert("lpk-a", count: Self.rows, tag: "n")
        let live = try world.insert("lpk-a", count: Self.rows, tag: "live")
        try await world.sync("lpk-a")
        try world.staff("lpk-a", "DELETE FROM notes WHERE id LIKE 'lpk-a-n-%'")
        try await world.sync("lpk-a")
        try await world.sync("lpk-a")
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_dead_notes") == keys.count)

        nonisolated(unsafe) var marks: [ContinuousClock.Instant] = []
        world.store.purgeState.betweenChunks = { _ in marks.append(.now) }
        let start = ContinuousClock.now
        let done = try world.housekeep()
        let elapsed = ContinuousClock.now - start
        #expect(done["tombstones.purged"] == keys.count)
        #expect(try world.count(world.hubPath, "SELECT count(*) FROM _begawi_rows") == live.count)
        let chunks = zip([start] + marks, marks).map { $1 - $0 }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("purge of \(keys.count) tombstones: \(String(format: "%.2f", seconds)) s, \(Int(Double(keys.count) / seconds)) rows/s, "
              + "\(chunks.count) chunks of at most \(world.store.purgeState.chunkRows) rows, longest \(chunks.max().map { "\($0)" } ?? "-")")
    }
}
