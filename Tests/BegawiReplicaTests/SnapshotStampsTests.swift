import BegawiCore
@testable import BegawiReplica
import Testing

/// The SQL functions a snapshot part's adoption renumbers merge state with work on bytes: what they
/// write must be what the engine writes for the same row (`RowRecord.encodeStamps`), with the
/// adopting replica's site numbers and its change number for every register.
@Suite struct SnapshotStampsTests {
    /// The part's site directory (the hub's numbers) and a site that knows only itself, numbered otherwise.
    static let part = [(1, "hub-x"), (2, "lpk-a"), (3, "lpk-b")]

    static func stamp(_ clock: UInt64, _ site: String, _ counter: UInt64) -> Stamp {
        Stamp(clock: HybridTimestamp(rawValue: clock), site: site, counter: counter)
    }

    /// Rows as the hub stores them: an insert (one stamp), a row edited later by another site, one
    /// whose registers share a stamp but not a change number (two pairs at the hub, one here), a deleted row.
    static func records() -> [RowRecord] {
        var insert = RowRecord(columnCount: 3)
        for i in 0..<3 { insert.state.columns[i] = Register(value: .null, stamp: stamp(100, "lpk-a", 1)) }
        insert.state.deleted = Register(value: RowState.liveMarker, stamp: stamp(100, "lpk-a", 1))
        insert.state.vector = VersionVector([("lpk-a", 1)])
        insert.registerSeq = [5, 5, 5, 5]
        var edited = insert
        edited.state.columns[2] = Register(value: .null, stamp: stamp(300, "lpk-b", 2))
        edited.state.vector = VersionVector([("lpk-a", 1), ("lpk-b", 2)])
        edited.registerSeq = [5, 5, 5, 9]
        var shared = insert
        shared.registerSeq = [5, 5, 7, 7]
        var deleted = edited
        deleted.state.deleted = Register(value: RowState.deletedMarker, stamp: stamp(400, "hub-x", 3))
        deleted.state.vector = VersionVector([("hub-x", 3), ("lpk-a", 1), ("lpk-b", 2)])
        deleted.registerSeq = [11, 5, 5, 9]
        var sparse = RowRecord(columnCount: 3)
        sparse.state.columns[1] = Register(value: .null, stamp: stamp(200, "lpk-b", 1))
        sparse.state.vector = VersionVector([("lpk-b", 1)])
        sparse.registerSeq = [0, 0, 6, 0]
        return [insert, edited, shared, deleted, sparse]
    }

    @Test func renumberedBytesAreWhatTheEngineWrites() throws {
        var hub = SiteDirectory(rows: SnapshotStampsTests.part)
        var here = SiteDirectory(rows: [(1, "lpk-b")])
        let stamps = SnapshotStamps(part: SnapshotStampsTests.part, sites: &here, columnCount: 3)
        #expect(here.ids == ["lpk-b": 1, "hub-x": 2, "lpk-a": 3], "the part's other sites join this replica's directory")
        for (n, record) in SnapshotStampsTests.records().enumerated() {
            let seq = Int64(40 + n)
            let got = try stamps.stamps(record.encodeStamps(sites: &hub), seq: seq)
            let gotVector = try stamps.vector(record.encodeVector(sites: &hub))
            var adopted = record
            adopted.registerSeq = adopted.registerSeq.indices.map { i in
                (i == 0 ? record.state.deleted != nil : record.state.columns[i - 1] != nil) ? UInt64(seq) : 0
            }
            var sites = here
            #expect(got == adopted.encodeStamps(sites: &sites), "row \(n): stamps")
            #expect(gotVector == adopted.encodeVector(sites: &sites), "row \(n): vector")
            let decoded = try RowRecord.decode(seq: UInt64(seq), stamps: got, vector: gotVector, columnCount: 3, sites: here)
            #expect(decoded.state == record.state && decoded.registerSeq == adopted.registerSeq, "row \(n) reads back as the hub's")
        }
        #expect(stamps.maxClock == 400, "the replica's clock observes the greatest stamp")
    }

    @Test func malformedMergeStateIsRefused() throws {
        var hub = SiteDirectory(rows: SnapshotStampsTests.part)
        var here = SiteDirectory(rows: [])
        let stamps = SnapshotStamps(part: [(1, "hub-x"), (2, "lpk-a")], sites: &here, columnCount: 3)
        let record = SnapshotStampsTests.records()[1]
        let good = record.encodeStamps(sites: &hub)
        #expect(throws: BegawiError.self, "truncated") { try stamps.stamps(Array(good.dropLast()), seq: 1) }
        #expect(throws: BegawiError.self, "a site the part does not list (lpk-b is number 3)") { try stamps.stamps(good, seq: 1) }
        #expect(throws: BegawiError.self, "a vector's sites out of order") { try stamps.vector([2, 2, 1, 1, 1]) }
        #expect(throws: BegawiError.self, "a zero counter") { try stamps.vector([1, 1, 0]) }
        #expect(try stamps.vector([2, 1, 1, 2, 1]) == [2, 1, 1, 2, 1], "hub-x before lpk-a: in order")
    }
}
