import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Testing

/// A cursor or page size from a peer is input: at and past the edges of what SQLite's integers hold,
/// an export answers or refuses with a reason, and never traps.
@Suite(.blocking) struct ExportBoundsTests {
    static let t0: UInt64 = 1_780_000_000_000

    @Test func cursorsAtAndPastTheLargestSequenceNumber() throws {
        let folder = TemporaryFolder("export-bounds")
        let replica = try Replica.create(at: folder.file("r.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? replica.close() }
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a) VALUES ('k1', 'a')")
        try replica.captureLocalChanges(clock: .wall(Self.t0))

        let largest = UInt64(Int64.max)
        for seq in [0, 1, largest - 1, largest] {
            let batch = try replica.export(after: ExchangeCursor(baseSeq: 0, seq: seq))
            #expect(batch.throughSeq >= seq)
        }
        for seq in [largest + 1, UInt64.max - 1, UInt64.max] {
            let error = try #require(throws: BegawiError.self) { try replica.export(after: ExchangeCursor(baseSeq: 0, seq: seq)) }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("\(largest)"), "\(error)")
        }
        for rows in [Int.max, Int.max / 16, BatchLimits.maxRows + 1] {
            let error = try #require(throws: BegawiError.self) { try replica.export(after: .start, limits: BatchLimits(maxRows: rows)) }
            #expect(error.code == .invalidArgument)
        }
        #expect(try replica.export(after: .start, limits: BatchLimits(maxRows: BatchLimits.maxRows)).rows.count == 1)
    }

    /// A hand-edited site directory (ids index an array) is refused as corrupted, never a trap.
    @Test(arguments: [-1, 0, 1 << 40, Int(Int64.max)])
    func aSiteIdOutOfRangeIsCorruption(_ id: Int) throws {
        let folder = TemporaryFolder("export-bounds")
        let replica = try Replica.create(at: folder.file("r.sqlite"), siteID: "lpk-1", schema: testSchema, clock: ManualClock(Self.t0))
        defer { try? replica.close() }
        try SQLiteShell.run(replica.path, "INSERT INTO t(id, a) VALUES ('k1', 'a')")
        try replica.captureLocalChanges(clock: .wall(Self.t0))
        try SQLiteShell.run(replica.path, "INSERT INTO _begawi_sites(id, site) VALUES (\(id), 'tampered')")
        let error = try #require(throws: BegawiError.self) { try replica.export(after: .start) }
        #expect(error.code == .corrupted, "\(error)")
    }
}
