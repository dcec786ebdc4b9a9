import BegawiCore
import Foundation
import Testing

/// The purge's speed on both stores, for the report: `BEGAWI_PURGE_ROWS=20000 swift test --filter
/// HubStorePurgeFiguresTests` prints the pass's time, rows per second and the longest batch (a
/// batch is one transaction: what a push touching its rows may wait for), with as many live rows
/// as tombstones. The port of BegawiHubTests' `PurgeFiguresTests`.
@Suite(.blocking) struct HubStorePurgeFiguresTests {
    static var rows: Int { Int(ProcessInfo.processInfo.environment["BEGAWI_PURGE_ROWS"] ?? "") ?? 2000 }

    // No time limit: under `.blocking` it would count the wait for a slot too (a loaded run went past 20 minutes so).
    @Test(arguments: StoreKind.available)
    func purgeOfManyTombstones(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            try world.addSite("lpk-a")
            // As many live rows stay below the horizon as there are tombstones.
            let keys = try world.insert("lpk-a", count: Self.rows, tag: "n")
            let live = try world.insert("lpk-a", count: Self.rows, tag: "live")
            try await world.sync("lpk-a")
            try world.staff("lpk-a", "DELETE FROM courses WHERE id LIKE 'lpk-a-n-%'")
            try await world.sync("lpk-a")
            try await world.sync("lpk-a")
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == keys.count)

            nonisolated(unsafe) var marks: [ContinuousClock.Instant] = []
            world.purgeState.betweenChunks = { _ in marks.append(.now) }
            let start = ContinuousClock.now
            let done = try world.housekeep()
            let elapsed = ContinuousClock.now - start
            #expect(done["tombstones.purged"] == keys.count, "\(done)")
            #expect(try world.count("SELECT count(*) FROM _begawi_rows") == live.count)
            let chunks = zip([start] + marks, marks).map { $1 - $0 }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("\(kind.rawValue): purge of \(keys.count) tombstones: \(String(format: "%.2f", seconds)) s, \(Int(Double(keys.count) / seconds)) rows/s, "
                  + "\(chunks.count) batches of at most \(world.purgeState.chunkRows) rows, longest \(chunks.max().map { "\($0)" } ?? "-")")
        }
    }
}
