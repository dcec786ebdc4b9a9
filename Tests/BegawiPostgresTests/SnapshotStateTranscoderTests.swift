import BegawiCore
@testable import BegawiPostgres
import BegawiReplica
import Testing

/// The snapshot part's fast path (`SnapshotStateTranscoder`) gives the bytes the slow one gives
/// (`MergeState.decode`, then `RowRecord`'s encoders), site numbers included, and leaves to the slow
/// path, numbering no site, every state it does not read. No server needed.
struct SnapshotStateTranscoderTests {
    /// A reproducible source of choices (SplitMix64).
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let sites = ["lpk-a", "lpk-b", "hub", "a-site-name-longer-than-fifteen-bytes", "sité-é", "lpk-a2"]

    /// A random state of a table of `columnCount` columns: a vector of a few sites, the deleted register
    /// (live, deleted, another value, or none) and columns with values of every kind, their stamps
    /// drawn from a few so that rows of one write, of several and of many occur.
    static func randomState(columnCount: Int, using g: inout Seeded) -> RowState {
        var state = RowState(columnCount: columnCount)
        state.vector = VersionVector((0..<Int.random(in: 0...4, using: &g)).map { _ in
            (sites.randomElement(using: &g)!, UInt64.random(in: 1...300, using: &g))
        })
        let stamps = (0..<Int.random(in: 1...4, using: &g)).map { _ in
            Stamp(clock: HybridTimestamp(rawValue: UInt64.random(in: 1...(1 << 50), using: &g)),
                  site: sites.randomElement(using: &g)!, counter: UInt64.random(in: 1...100_000, using: &g))
        }
        // Mostly one stamp for all (an insert), as in a real table.
        let single = Bool.random(using: &g)
        func stamp() -> Stamp { single ? stamps[0] : stamps.randomElement(using: &g)! }
        switch Int.random(in: 0..<8, using: &g) {
        case 0: state.deleted = nil
        case 1: state.deleted = Register(value: RowState.deletedMarker, stamp: stamp())
        case 2: state.deleted = Register(value: .integer(7), stamp: stamp())
        default: state.deleted = Register(value: RowState.liveMarker, stamp: stamp())
        }
        for i in 0..<columnCount where Int.random(in: 0..<6, using: &g) > 0 {
            let value: SQLValue = switch Int.random(in: 0..<6, using: &g) {
            case 0: .null
            case 1: .integer(Int64.random(in: Int64.min...Int64.max, using: &g))
            case 2: .real(Double.random(in: -1e12...1e12, using: &g))
            case 3: .blob((0..<Int.random(in: 0...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
            case 4: .text("")
            default: .text(String(repeating: "Siti Nurhaliza ✓ ", count: Int.random(in: 1...5, using: &g)))
            }
            state.columns[i] = Register(value: value, stamp: stamp())
        }
        return state
    }

    /// The slow path: what the part source did for every row before the transcoder.
    static func slow(_ bytes: [UInt8], columnCount: Int, sites: inout SiteDirectory) throws -> SnapshotStateTranscoder.Transcoded {
        var record = RowRecord(columnCount: columnCount)
        record.state = try MergeState.decode(bytes, columnCount: columnCount)
        let vector = record.encodeVector(sites: &sites)
        let stamps = record.encodeStamps(sites: &sites)
        return .init(vector: vector, stamps: stamps, live: record.state.isLive, values: record.state.columns.map { $0?.value ?? .null })
    }

    @Test func givesTheSlowPathsBytesAndSiteNumbersRowAfterRow() throws {
        var g = Seeded(state: 17)
        let columnCount = 7
        var transcoder = SnapshotStateTranscoder(columnCount: columnCount)
        var fastSites = SiteDirectory(rows: [])
        var slowSites = SiteDirectory(rows: [])
        var kinds: Set<Int> = []
        for n in 0..<3000 {
            // Some states written under an earlier schema version: fewer columns than the table's.
            let written = n % 5 == 0 ? columnCount - 2 : columnCount
            let bytes = MergeState.encode(Self.randomState(columnCount: written, using: &g))
            let fast = try #require(bytes.withUnsafeBytes { transcoder.transcode($0, sites: &fastSites) }, "row \(n)")
            let slow = try Self.slow(bytes, columnCount: columnCount, sites: &slowSites)
            #expect(fast.vector == slow.vector, "row \(n)")
            #expect(fast.stamps == slow.stamps, "row \(n)")
            #expect(fast.live == slow.live, "row \(n)")
            #expect(fast.values == slow.values, "row \(n)")
            #expect(fastSites.sites == slowSites.sites, "row \(n)")
            // The rows' distinct writes (the count after the mask): one and several both occur.
            var r = ByteReader(slow.stamps, what: "stamps")
            _ = try r.varint()
            kinds.insert(min(try r.count(max: columnCount + 1), 2))
        }
        #expect(fastSites.sites.count == Self.sites.count + 1)
        #expect(kinds.isSuperset(of: [1, 2]))
    }

    @Test func leavesWhatItDoesNotReadToTheSlowPathAndNumbersNoSite() throws {
        var g = Seeded(state: 5)
        let columnCount = 4
        var transcoder = SnapshotStateTranscoder(columnCount: columnCount)
        var state = Self.randomState(columnCount: columnCount, using: &g)
        state.vector = VersionVector([("lpk-b", 3), ("lpk-a", 2)])
        state.deleted = Register(value: RowState.liveMarker, stamp: Stamp(clock: HybridTimestamp(rawValue: 9), site: "hub", counter: 4))
        let good = MergeState.encode(state)
        var sites = SiteDirectory(rows: [])
        #expect(good.withUnsafeBytes { transcoder.transcode($0, sites: &sites) } != nil)
        #expect(sites.sites.count > 1)

        var untouched = SiteDirectory(rows: [])
        func refused(_ bytes: [UInt8], _ why: Comment) {
            #expect(bytes.withUnsafeBytes { transcoder.transcode($0, sites: &untouched) } == nil, why)
            #expect(untouched.sites == [""], why)
        }
        // Every truncation, and a byte too many.
        for cut in 0..<good.count { refused(Array(good[..<cut]), "cut at \(cut)") }
        refused(good + [0], "a byte after the end")
        // A state of a later schema version: more columns than the table's (the slow path says NewerSchema).
        let wider = MergeState.encode(Self.randomState(columnCount: columnCount + 1, using: &g))
        refused(wider, "a later schema's state")
        #expect(throws: NewerSchema.self) { try MergeState.decode(wider, columnCount: columnCount) }
        // A vector out of order (the store never writes one): the slow path sorts it.
        var w = ByteWriter()
        w.varint(2)
        w.string("lpk-b"); w.varint(3)
        w.string("lpk-a"); w.varint(2)
        w.byte(0)
        w.varint(0)
        refused(w.bytes, "a vector out of order")
        var slowSites = SiteDirectory(rows: [])
        let slow = try Self.slow(w.bytes, columnCount: columnCount, sites: &slowSites)
        #expect(slowSites.sites == ["", "lpk-a", "lpk-b"])
        #expect(!slow.live)
        // A text value that is not UTF-8 (the slow path says the state is damaged).
        var text = ByteWriter()
        text.varint(0)
        text.byte(1)
        text.byte(3)
        text.varint(2)
        text.raw([0xFF, 0xFE])
        refused(text.bytes, "a text value that is not UTF-8")
        #expect(throws: BegawiError.self) { try MergeState.decode(text.bytes, columnCount: columnCount) }
        // An unknown register marker.
        var marker = ByteWriter()
        marker.varint(0)
        marker.byte(2)
        refused(marker.bytes, "an unknown register marker")
    }
}
