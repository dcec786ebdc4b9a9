import BegawiCore
import Foundation
import Testing

/// A payload built by hand, stream by stream, so each test can break exactly one thing.
///
/// As built it is valid: one table `t` with one column `c`, one site `s`, and one live row `k1`
/// whose vector is {s:3} and whose deleted register and column share the stamp 1000.0@s#3.
struct CraftedBatch {
    var source = "src"
    /// Replaces the length-prefixed source in the header.
    var rawSource: [UInt8]?
    var base: UInt64 = 0, after: UInt64 = 0, through: UInt64 = 5
    var complete: UInt8 = 1
    var tables: [(name: String, columns: [String])] = [("t", ["c"])]
    var sites = ["s"]
    var rowCount: UInt64 = 1
    var headTrailer: [UInt8] = []
    var tableStream: [UInt8] = []
    var keyStream = bytes { $0.byte(1); $0.string("k1") }
    var vectorStream = bytes { $0.varint(1); $0.varint(0); $0.signed(3) }
    var maskStream = bytes { $0.varint(0b101) }
    var stampStream = bytes { $0.varint(1); $0.signed(1_000); $0.varint(0); $0.varint(0); $0.varint(0) }
    var valueStreams: [[UInt8]] = [bytes { $0.byte(3); $0.string("v") }]
    /// Added to the declared length of the last stream.
    var lastLengthError = 0
    /// Streams left off the end of the payload.
    var droppedStreams = 0
    var payloadTrailer: [UInt8] = []

    static func bytes(_ build: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter()
        build(&w)
        return w.bytes
    }

    var payload: [UInt8] {
        var head = ByteWriter()
        if let rawSource { head.raw(rawSource) } else { head.string(source) }
        head.varint(base)
        head.varint(after)
        head.varint(through)
        head.byte(complete)
        head.varint(UInt64(tables.count))
        for table in tables {
            head.string(table.name)
            head.varint(UInt64(table.columns.count))
            for column in table.columns { head.string(column) }
        }
        head.varint(UInt64(sites.count))
        for site in sites { head.string(site) }
        head.varint(rowCount)
        head.raw(headTrailer)
        var streams = [head.bytes, tableStream, keyStream, vectorStream, maskStream, stampStream] + valueStreams
        streams.removeLast(droppedStreams)
        var out = ByteWriter()
        out.varint(UInt64(streams.count))
        for (i, s) in streams.enumerated() {
            out.varint(UInt64(s.count + (i == streams.count - 1 ? lastLengthError : 0)))
        }
        for s in streams { out.raw(s) }
        out.raw(payloadTrailer)
        return out.bytes
    }

    var encoded: [UInt8] { Self.frame(payload) }

    /// Frames a payload as `BatchCodec.encode` does.
    static func frame(_ payload: [UInt8], declaredSize: Int? = nil) -> [UInt8] {
        var out = ByteWriter()
        out.raw(Array("BGW".utf8))
        out.byte(BatchCodec.format)
        out.varint(UInt64(declaredSize ?? payload.count))
        out.raw(try! Deflate.compress(payload))
        return out.bytes
    }
}

/// One way to break the crafted batch.
struct Malformation: Sendable, CustomTestStringConvertible {
    let name: String
    let apply: @Sendable (inout CraftedBatch) -> Void
    var testDescription: String { name }

    init(_ name: String, _ apply: @escaping @Sendable (inout CraftedBatch) -> Void) {
        self.name = name
        self.apply = apply
    }

    static let all: [Malformation] = [
        Malformation("too few streams") { $0.droppedStreams = 2 },
        Malformation("a stream longer than the payload") { $0.lastLengthError = 1 },
        Malformation("streams shorter than the payload") { $0.lastLengthError = -1 },
        Malformation("bytes after the streams") { $0.payloadTrailer = [0] },
        Malformation("a stream count the tables do not need") { $0.valueStreams.append([]) },
        Malformation("a missing value stream") { $0.valueStreams = []; $0.maskStream = CraftedBatch.bytes { $0.varint(1) } },
        Malformation("after beyond through") { $0.after = 6 },
        Malformation("a complete flag of 2") { $0.complete = 2 },
        Malformation("a source that is not UTF-8") { $0.rawSource = [2, 0xC3, 0x28] },
        Malformation("an empty site id") { $0.sites = [""] },
        Malformation("a header with trailing bytes") { $0.headTrailer = [0] },
        Malformation("more rows than the streams hold") { $0.rowCount = 2 },
        Malformation("a row count above the limit") { $0.rowCount = 1 << 40 },
        Malformation("a table with too many columns") { $0.tables = [("t", (0...TableSpec.maximumColumns).map { "c\($0)" })] },
        Malformation("a row of a table the batch does not name") {
            $0.tables = [("t", ["c"]), ("u", ["d"])]
            $0.valueStreams.append([])
            $0.tableStream = [5]
        },
        Malformation("a row but no tables") { $0.tables = []; $0.valueStreams = [] },
        Malformation("an unknown key kind") { $0.keyStream = CraftedBatch.bytes { $0.byte(2); $0.string("k1") } },
        Malformation("an empty key") { $0.keyStream = CraftedBatch.bytes { $0.byte(1); $0.string("") } },
        Malformation("a truncated UUID key") { $0.keyStream = [0, 1, 2, 3] },
        Malformation("a key that is not UTF-8") { $0.keyStream = [1, 2, 0xC3, 0x28] },
        Malformation("a vector counter of zero") { $0.vectorStream = CraftedBatch.bytes { $0.varint(1); $0.varint(0); $0.signed(0) } },
        Malformation("a vector naming one site twice") {
            // Two sites, so two entries are within bounds and only the repetition is wrong.
            $0.sites = ["s", "t"]
            $0.vectorStream = CraftedBatch.bytes { $0.varint(2); $0.varint(0); $0.signed(3); $0.varint(0); $0.signed(0) }
        },
        Malformation("a vector naming an unknown site") { $0.vectorStream = CraftedBatch.bytes { $0.varint(1); $0.varint(1); $0.signed(3) } },
        Malformation("a vector with more entries than sites") {
            $0.vectorStream = CraftedBatch.bytes { $0.varint(2); $0.varint(0); $0.signed(3) }
        },
        Malformation("a vector counter of 2^62") { $0.vectorStream = CraftedBatch.bytes { $0.varint(1); $0.varint(0); $0.signed(1 << 62) } },
        Malformation("a mask naming a column the table lacks") { $0.maskStream = CraftedBatch.bytes { $0.varint(0b1101) } },
        Malformation("a deleted value without a deleted register") { $0.maskStream = CraftedBatch.bytes { $0.varint(0b110) } },
        Malformation("registers without stamps") {
            $0.stampStream = CraftedBatch.bytes { $0.varint(0) }
        },
        Malformation("more stamps than registers") {
            $0.stampStream = CraftedBatch.bytes {
                $0.varint(3)
                for _ in 0..<3 { $0.signed(1_000); $0.varint(0); $0.varint(0); $0.varint(0) }
            }
        },
        Malformation("a stamp index out of range") {
            $0.stampStream = CraftedBatch.bytes {
                $0.varint(2)
                for _ in 0..<2 { $0.signed(1_000); $0.varint(0); $0.varint(0); $0.varint(0) }
                $0.varint(0)
                $0.varint(2)
            }
        },
        Malformation("a stamp clock beyond 48 bits") {
            $0.stampStream = CraftedBatch.bytes { $0.varint(1); $0.signed(1 << 48); $0.varint(0); $0.varint(0); $0.varint(0) }
        },
        Malformation("a stamp counter beyond 16 bits") {
            $0.stampStream = CraftedBatch.bytes { $0.varint(1); $0.signed(1_000); $0.varint(70_000); $0.varint(0); $0.varint(0) }
        },
        Malformation("a stamp naming an unknown site") {
            $0.stampStream = CraftedBatch.bytes { $0.varint(1); $0.signed(1_000); $0.varint(0); $0.varint(1); $0.varint(0) }
        },
        Malformation("a stamp the vector does not cover") {
            $0.stampStream = CraftedBatch.bytes { $0.varint(1); $0.signed(1_000); $0.varint(0); $0.varint(0); $0.varint(3) }
        },
        Malformation("a stamp stream with trailing bytes") { $0.stampStream.append(0) },
        Malformation("a value of unknown type") { $0.valueStreams = [[9]] },
        Malformation("a text value that is not UTF-8") { $0.valueStreams = [[3, 2, 0xFF, 0xFE]] },
        Malformation("a blob longer than its stream") { $0.valueStreams = [[4, 9, 1, 2]] },
        Malformation("a truncated real") { $0.valueStreams = [[2, 0, 0, 0]] },
        Malformation("a value stream with an extra value") { $0.valueStreams = [[3, 1, 0x76, 0]] },
        Malformation("a register without its value") { $0.valueStreams = [[]] },
        Malformation("a varint of eleven bytes") { $0.maskStream = Array(repeating: 0xFF, count: 10) + [0x01] },
    ]
}

/// `BatchCodec.decode` on damaged, truncated, hostile and foreign input: always `.badBatch`, never a crash.
@Suite struct BatchCodecRefusalTests {
    static func expectBadBatch(_ bytes: [UInt8], limits: BatchCodec.Limits = BatchCodec.Limits(),
                               _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let batch = try BatchCodec.decode(bytes, limits: limits)
            Issue.record("decoded \(batch.rows.count) rows instead of refusing. \(comment ?? "")", sourceLocation: sourceLocation)
        } catch let error as BegawiError {
            #expect(error.code == .badBatch, "\(error) \(comment ?? "")", sourceLocation: sourceLocation)
        } catch {
            Issue.record("threw \(error) instead of a BegawiError. \(comment ?? "")", sourceLocation: sourceLocation)
        }
    }

    static let valid = try! BatchCodec.encode(BatchCodecTests.sampleBatch())

    @Test func theCraftedBatchIsValidAsBuilt() throws {
        // The malformations below each break one thing of this batch.
        let batch = try BatchCodec.decode(CraftedBatch().encoded)
        let s = stamp(1_000, "s", 3)
        var state = RowState(columnCount: 1)
        state.vector = VersionVector([("s", 3)])
        state.deleted = Register(value: RowState.liveMarker, stamp: s)
        state.columns[0] = Register(value: .text("v"), stamp: s)
        #expect(batch == ChangeBatch(replicaID: "src", baseSeq: 0, afterSeq: 0, throughSeq: 5, complete: true,
                                     tables: [BatchTable(name: "t", columns: ["c"])],
                                     rows: [RowChange(table: 0, key: "k1", state: state)]))
    }

    @Test(arguments: Malformation.all)
    func aMalformedPayloadIsRefused(_ malformation: Malformation) {
        var crafted = CraftedBatch()
        malformation.apply(&crafted)
        Self.expectBadBatch(crafted.encoded, Comment(rawValue: malformation.name))
    }

    @Test func aRowStampWithNoSitesIsRefusedWithoutCrashing() async {
        // A row with a register but a batch that names no site at all.
        await #expect(processExitsWith: .success, "decode must throw .badBatch, not trap") {
            var crafted = CraftedBatch()
            crafted.sites = []
            crafted.vectorStream = CraftedBatch.bytes { $0.varint(0) }
            do {
                _ = try BatchCodec.decode(crafted.encoded)
                exit(3)
            } catch let error as BegawiError {
                if error.code != .badBatch { exit(4) }
            }
        }
    }

    @Test func foreignBytesAreRefused() {
        Self.expectBadBatch([])
        Self.expectBadBatch(Array("BG".utf8))
        Self.expectBadBatch(Array("BGW".utf8))
        Self.expectBadBatch(Array(#"{"source":"a","rows":[]}"#.utf8))
        var wrongMagic = Self.valid
        wrongMagic[2] = UInt8(ascii: "X")
        Self.expectBadBatch(wrongMagic)
        do {
            _ = try BatchCodec.decode(wrongMagic)
        } catch let error as BegawiError {
            #expect(error.message.contains("not a Begawi batch"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test(arguments: [UInt8(0), 2, 0xFF])
    func anUnknownFormatByteIsRefused(_ format: UInt8) throws {
        var bytes = Self.valid
        bytes[3] = format
        let error = try #require(throws: BegawiError.self) { try BatchCodec.decode(bytes) }
        #expect(error.code == .badBatch)
        #expect(error.message.contains("format \(format)"))
    }

    @Test func everyTruncationIsRefused() {
        for length in 0..<Self.valid.count {
            Self.expectBadBatch(Array(Self.valid.prefix(length)), "first \(length) of \(Self.valid.count) bytes")
        }
    }

    @Test func trailingBytesAfterTheCompressedStreamAreRefused() {
        Self.expectBadBatch(Self.valid + [0])
        Self.expectBadBatch(Self.valid + Self.valid)
    }

    @Test func aWrongDeclaredSizeIsRefused() throws {
        let payload = CraftedBatch().payload
        #expect(throws: Never.self) { try BatchCodec.decode(CraftedBatch.frame(payload)) }
        Self.expectBadBatch(CraftedBatch.frame(payload, declaredSize: payload.count - 1))
        Self.expectBadBatch(CraftedBatch.frame(payload, declaredSize: payload.count + 1))
        Self.expectBadBatch(CraftedBatch.frame(payload, declaredSize: 0))
    }

    @Test func aCompressionBombIsRefusedByItsDeclaredSize() throws {
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let bomb = CraftedBatch.frame(zeros)
        #expect(bomb.count < 64 << 10, "16 MiB of zeros compress to \(bomb.count) bytes")
        let limits = BatchCodec.Limits(maxUncompressedBytes: 1 << 20)
        let error = try #require(throws: BegawiError.self) { try BatchCodec.decode(bomb, limits: limits) }
        #expect(error.code == .badBatch)
        #expect(error.message.contains("\(zeros.count)"))
        #expect(error.message.contains("\(1 << 20)"))
    }

    @Test func aCompressionBombThatUnderstatesItsSizeIsRefused() {
        // It declares a few bytes, within the limit, then expands far beyond them.
        let zeros = [UInt8](repeating: 0, count: 16 << 20)
        let liar = CraftedBatch.frame(zeros, declaredSize: 100)
        Self.expectBadBatch(liar, limits: BatchCodec.Limits(maxUncompressedBytes: 1 << 20))
        Self.expectBadBatch(liar)
    }

    @Test func aDeclaredSizeBeyondAnyIntegerIsRefused() {
        var frame = ByteWriter()
        frame.raw(Array("BGW".utf8))
        frame.byte(BatchCodec.format)
        frame.varint(.max)
        frame.raw([0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        Self.expectBadBatch(frame.bytes)
        var overlong = ByteWriter()
        overlong.raw(Array("BGW".utf8))
        overlong.byte(BatchCodec.format)
        overlong.raw(Array(repeating: 0xFF, count: 12))
        Self.expectBadBatch(overlong.bytes)
    }

    @Test func randomByteFlipsAreRefusedOrDecodeCleanly() throws {
        var rng = SplitMix64(seed: 0xF11F)
        var decoded = 0
        for round in 0..<3_000 {
            var bytes = Self.valid
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            do {
                let batch = try BatchCodec.decode(bytes)
                decoded += 1
                // Whatever decodes is a well-formed batch: it encodes and decodes again to itself.
                try #require(try BatchCodec.encode(BatchCodec.decode(BatchCodec.encode(batch))) == BatchCodec.encode(batch), "round \(round)")
            } catch let error as BegawiError {
                try #require(error.code == .badBatch, "round \(round): \(error)")
            }
        }
        // zlib's checksum catches nearly every flip of the compressed bytes.
        #expect(decoded < 30)
    }

    /// The payload inside a valid frame.
    static func payload(of frame: [UInt8]) throws -> [UInt8] {
        var reader = ByteReader(frame, range: 4..<frame.count, what: "frame")
        let size = try reader.count(max: Int.max)
        return try Deflate.decompress(frame[(frame.count - reader.remaining)...], expectedSize: size, limit: 1 << 20)
    }

    @Test func randomFlipsInsideThePayloadAreRefusedOrDecodeCleanly() throws {
        // Past the checksum: damage the payload itself, then frame it validly.
        let payload = try Self.payload(of: Self.valid)
        #expect(try BatchCodec.decode(CraftedBatch.frame(payload)) == BatchCodecTests.sampleBatch())
        var rng = SplitMix64(seed: 0xF22F)
        var decoded = 0, refused = 0
        for round in 0..<2_000 {
            var bytes = payload
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[i] = 0
                case 1: bytes[i] = 0xFF
                default: bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                }
            }
            do {
                let batch = try BatchCodec.decode(CraftedBatch.frame(bytes))
                decoded += 1
                let again = try BatchCodec.encode(batch)
                try #require(try BatchCodec.encode(BatchCodec.decode(again)) == again, "round \(round)")
            } catch let error as BegawiError {
                refused += 1
                try #require(error.code == .badBatch, "round \(round): \(error)")
            }
        }
        // Both outcomes must occur, or the flips are not reaching the decoder's checks.
        #expect(refused > 500)
        #expect(decoded > 500)
    }
}
