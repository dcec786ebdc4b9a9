import BegawiCore
import Testing

/// Round trips and size of the wire codec.
@Suite struct BatchCodecTests {
    static let people = BatchTable(name: "people", columns: ["name", "age", "score", "photo"])
    static let visits = BatchTable(name: "visits", columns: ["person", "note"])

    static func reg(_ value: SQLValue, _ s: Stamp) -> Register { Register(value: value, stamp: s) }

    /// A batch exercising every kind of value, key and row the codec must carry.
    static func sampleBatch() -> ChangeBatch {
        let s1 = stamp(1_780_000_000_000, "site-a", 7, logical: 3)
        let s2 = stamp(1_780_000_000_500, "site-b", 2)
        let old = stamp(1_700_000_000_000, "site-c", 1) // much earlier: a negative clock delta
        var full = RowState(columnCount: 4)
        full.vector = VersionVector([("site-a", 7), ("site-b", 2)])
        full.deleted = Register(value: RowState.liveMarker, stamp: s1)
        full.columns = [
            reg(.text("Siti Nurhaliza — ☕️ 🇮🇩"), s1), reg(.integer(.min), s2), reg(.real(-0.0), s1), reg(.blob(Array(0...255)), s2),
        ]
        var nulls = RowState(columnCount: 4)
        nulls.vector = VersionVector([("site-c", 1), ("site-a", 1)])
        nulls.deleted = Register(value: RowState.liveMarker, stamp: old)
        nulls.columns = [reg(.null, old), reg(.integer(.max), old), reg(.real(.infinity), old), reg(.blob([]), old)]
        var some = RowState(columnCount: 4)
        some.vector = VersionVector([("site-a", 9)])
        some.columns[1] = reg(.integer(0), stamp(1_780_000_000_001, "site-a", 9))
        some.columns[2] = reg(.real(3.141_592_653_589_793), stamp(1_780_000_000_001, "site-a", 8))
        var vectorOnly = RowState(columnCount: 4)
        vectorOnly.vector = VersionVector([("site-a", 12), ("site-b", 3), ("site-c", 1)])
        var deleted = RowState(columnCount: 2)
        deleted.vector = VersionVector([("site-b", 5)])
        deleted.deleted = Register(value: RowState.deletedMarker, stamp: stamp(1_780_000_000_900, "site-b", 5))
        var visit = RowState(columnCount: 2)
        visit.vector = VersionVector([("site-a", 10)])
        visit.deleted = Register(value: RowState.liveMarker, stamp: stamp(1_780_000_000_010, "site-a", 10))
        visit.columns = [reg(.text("019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b"), visit.deleted!.stamp), reg(.text(""), visit.deleted!.stamp)]
        return ChangeBatch(
            replicaID: "site-a", baseSeq: 3, afterSeq: 10, throughSeq: 42, complete: false, tables: [people, visits],
            rows: [
                RowChange(table: 0, key: "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b", state: full),
                RowChange(table: 0, key: "3201234567890001", state: nulls),
                RowChange(table: 1, key: "019A2B3C-4D5E-7F60-8A1B-2C3D4E5F6A7B", state: visit),
                RowChange(table: 0, key: "ffffffff-ffff-ffff-ffff-ffffffffffff", state: some),
                RowChange(table: 0, key: "a key with spaces", state: vectorOnly),
                RowChange(table: 1, key: "00000000-0000-0000-0000-000000000000", state: deleted),
            ])
    }

    @Test func aBatchWithEveryKindOfRowRoundTrips() throws {
        let batch = Self.sampleBatch()
        let decoded = try BatchCodec.decode(try BatchCodec.encode(batch))
        #expect(decoded == batch)
        // Spelled out, so a failure points at the part that was lost.
        #expect(decoded.replicaID == "site-a")
        #expect(decoded.cursorAfter == ExchangeCursor(baseSeq: 3, seq: 42))
        #expect(decoded.tables == [Self.people, Self.visits])
        #expect(decoded.rows.map(\.key) == batch.rows.map(\.key))
        #expect(decoded.rows[2].key == "019A2B3C-4D5E-7F60-8A1B-2C3D4E5F6A7B", "a non-canonical UUID key keeps its spelling")
        #expect(decoded.rows[4].state == batch.rows[4].state, "a row without registers keeps its vector")
        #expect(decoded.rows[5].state.deleted?.value == RowState.deletedMarker)
        #expect(decoded.rows[3].state.columns[0] == nil)
        #expect(decoded.rows[0].state.columns[2]?.value == .real(-0.0))
        if case .real(let zero)? = decoded.rows[0].state.columns[2]?.value { #expect(zero.sign == .minus) }
    }

    @Test func everyCompressionLevelDecodes() throws {
        let batch = Self.sampleBatch()
        for level in Int32(0)...9 {
            #expect(try BatchCodec.decode(try BatchCodec.encode(batch, level: level)) == batch)
        }
    }

    @Test func aSingleTableBatchRoundTrips() throws {
        var batch = Self.sampleBatch()
        batch.tables = [Self.people]
        batch.rows = batch.rows.filter { $0.table == 0 }
        batch.complete = true
        #expect(try BatchCodec.decode(try BatchCodec.encode(batch)) == batch)
    }

    @Test func anEmptyBatchRoundTrips() throws {
        for tables in [[], [Self.people, Self.visits]] {
            let batch = ChangeBatch(replicaID: "s", baseSeq: 0, afterSeq: 0, throughSeq: 0, complete: true, tables: tables, rows: [])
            #expect(try BatchCodec.decode(try BatchCodec.encode(batch)) == batch)
        }
    }

    @Test func nanKeepsItsBitPattern() throws {
        let payloadNaN = Double(nan: 0x1234, signaling: false)
        var state = RowState(columnCount: 1)
        state.vector = VersionVector([("a", 1)])
        state.columns[0] = Self.reg(.real(payloadNaN), stamp(5, "a", 1))
        let batch = ChangeBatch(replicaID: "a", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true,
                                tables: [BatchTable(name: "t", columns: ["x"])], rows: [RowChange(table: 0, key: "k", state: state)])
        let decoded = try BatchCodec.decode(try BatchCodec.encode(batch))
        guard case .real(let value)? = decoded.rows.first?.state.columns[0]?.value else {
            Issue.record("the real value did not come back")
            return
        }
        #expect(value.bitPattern == payloadNaN.bitPattern)
    }

    @Test func aRowWithManyDistinctStampsRoundTrips() throws {
        let table = BatchTable(name: "wide", columns: (0..<40).map { "c\($0)" })
        var state = RowState(columnCount: 40)
        for i in 0..<40 {
            // Stamps repeat irregularly, so the per-register stamp index is exercised.
            let s = stamp(1_000 + UInt64(i % 7), ["a", "b", "c"][i % 3], UInt64(1 + i % 5), logical: UInt16(i % 2))
            state.columns[i] = Self.reg(.integer(Int64(i)), s)
            state.vector.raise(s.site, to: s.counter)
        }
        let batch = ChangeBatch(replicaID: "a", baseSeq: 0, afterSeq: 0, throughSeq: 9, complete: true, tables: [table],
                                rows: [RowChange(table: 0, key: "k", state: state)])
        #expect(try BatchCodec.decode(try BatchCodec.encode(batch)) == batch)
    }

    @Test func aTableOfTheLargestAllowedWidthRoundTrips() throws {
        // TableSpec accepts 63 non-key columns, so batches must carry a register in each of them.
        let width = TableSpec.maximumColumns
        let table = BatchTable(name: "widest", columns: (0..<width).map { "c\($0)" })
        let s = stamp(1_000, "a", 1)
        var state = RowState(columnCount: width)
        state.vector = VersionVector([("a", 1)])
        state.deleted = Register(value: RowState.liveMarker, stamp: s)
        state.columns = (0..<width).map { Self.reg(.integer(Int64($0)), s) }
        let batch = ChangeBatch(replicaID: "a", baseSeq: 0, afterSeq: 0, throughSeq: 1, complete: true, tables: [table],
                                rows: [RowChange(table: 0, key: "k", state: state)])
        let decoded = try BatchCodec.decode(try BatchCodec.encode(batch))
        #expect(decoded == batch)
        #expect(decoded.rows.first?.state.columns.last??.value == .integer(Int64(width - 1)))
    }

    @Test func randomBatchesFromSimulatedHistoriesRoundTrip() throws {
        var rng = SplitMix64(seed: 0xBA7C4)
        var keys = UUIDv7Generator(clock: FixedWallClock(milliseconds: 1_780_000_000_000), random: SplitMix64(seed: 1))
        let tables = [BatchTable(name: "a", columns: ["x", "y", "z"]), BatchTable(name: "b", columns: ["p", "q"])]
        for seed in UInt64(0)..<300 {
            let (wide, _) = RowSimulation.random(seed: seed, columnCount: 3)
            let (narrow, _) = RowSimulation.random(seed: seed &+ 10_000, columnCount: 2)
            var rows: [RowChange] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let table = Int.random(in: 0...1, using: &rng)
                var state = (table == 0 ? wide : narrow).randomSnapshot(&rng)
                // Batches send only the registers changed since the receiver's base.
                for i in state.columns.indices where Int.random(in: 0..<4, using: &rng) == 0 { state.columns[i] = nil }
                if Int.random(in: 0..<4, using: &rng) == 0 { state.deleted = nil }
                let key = Bool.random(using: &rng) ? keys.next() : "key-\(Int.random(in: 0...999, using: &rng))"
                rows.append(RowChange(table: table, key: key, state: state))
            }
            let throughSeq = UInt64.random(in: 0...1_000, using: &rng)
            let batch = ChangeBatch(replicaID: "a", baseSeq: 0, afterSeq: throughSeq / 2, throughSeq: throughSeq, complete: Bool.random(using: &rng),
                                    tables: tables, rows: rows)
            let decoded = try BatchCodec.decode(try BatchCodec.encode(batch))
            try #require(decoded == batch, "seed \(seed)")
        }
    }

    @Test func rowsAtTheRowLimitDecodeAndOneMoreIsRefused() throws {
        var batch = Self.sampleBatch()
        let limit = batch.rows.count
        let encoded = try BatchCodec.encode(batch)
        #expect(try BatchCodec.decode(encoded, limits: BatchCodec.Limits(maxRows: limit)) == batch)
        let error = try #require(throws: BegawiError.self) {
            try BatchCodec.decode(encoded, limits: BatchCodec.Limits(maxRows: limit - 1))
        }
        #expect(error.code == .badBatch)
        batch.rows = []
        #expect(try BatchCodec.decode(try BatchCodec.encode(batch), limits: BatchCodec.Limits(maxRows: 0)) == batch)
    }

    // MARK: size

    /// A first sync of 1,000 freshly inserted rows: what the codec was designed for.
    static func enrollmentBatch() -> ChangeBatch {
        var rng = SplitMix64(seed: 0x5123)
        var keys = UUIDv7Generator(clock: FixedWallClock(milliseconds: 1_780_000_000_000), random: SplitMix64(seed: 2))
        let names = ["Siti", "Budi", "Dewi", "Agus", "Rina", "Joko", "Wati", "Eko", "Sri", "Hadi"]
        let villages = ["Sukamaju", "Cibodas", "Mekarsari", "Sindangsari", "Karanganyar"]
        let table = BatchTable(name: "people", columns: ["name", "age", "village", "weight"])
        var rows: [RowChange] = []
        var clock = HybridClock()
        var wall: UInt64 = 1_780_000_000_000
        for counter in UInt64(1)...1_000 {
            wall += UInt64.random(in: 0...40, using: &rng)
            let s = Stamp(clock: try! clock.tick(wallMilliseconds: wall), site: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", counter: counter)
            var state = RowState(columnCount: 4)
            state.vector = VersionVector([(s.site, counter)])
            state.deleted = Register(value: RowState.liveMarker, stamp: s)
            state.columns = [
                reg(.text("\(names.randomElement(using: &rng)!) \(names.randomElement(using: &rng)!)"), s),
                reg(.integer(Int64.random(in: 0...90, using: &rng)), s),
                reg(.text(villages.randomElement(using: &rng)!), s),
                reg(.real(Double(Int.random(in: 300...900, using: &rng)) / 10), s),
            ]
            rows.append(RowChange(table: 0, key: keys.next(), state: state))
        }
        return ChangeBatch(replicaID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", baseSeq: 0, afterSeq: 0, throughSeq: 1_000, complete: true,
                           tables: [table], rows: rows)
    }

    @Test func theEncodingIsCompact() throws {
        let batch = Self.enrollmentBatch()
        let encoded = try BatchCodec.encode(batch)
        #expect(try BatchCodec.decode(encoded) == batch)
        // What the rows hold as plain text: key, site and clock once per row, and the values.
        var plain = 0
        for row in batch.rows {
            plain += row.key.utf8.count + row.state.vector.entries[0].site.utf8.count + 20
            for case let register? in row.state.columns {
                switch register.value {
                case .text(let s): plain += s.utf8.count
                default: plain += 8
                }
            }
        }
        let perRow = Double(encoded.count) / Double(batch.rows.count)
        // About 20 bytes a row today, most of them the random half of each UUIDv7 key.
        #expect(perRow < 28, "\(encoded.count) bytes for \(batch.rows.count) rows")
        #expect(encoded.count * 5 < plain, "\(encoded.count) bytes encoded against \(plain) bytes of plain content")
    }
}
