import BegawiCore
import Testing

@Suite struct ByteWriterTests {
    @Test func varintsUseLEB128() {
        var w = ByteWriter()
        w.varint(0)
        w.varint(127)
        w.varint(128)
        w.varint(300)
        #expect(w.bytes == [0x00, 0x7F, 0x80, 0x01, 0xAC, 0x02])
        var top = ByteWriter()
        top.varint(.max)
        #expect(top.bytes == Array(repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func aWriterEmptiedWritesAsANewOne() {
        var w = ByteWriter(capacity: 4)
        w.varint(300)
        w.removeAll()
        #expect(w.bytes.isEmpty)
        w.varint(128)
        #expect(w.bytes == [0x80, 0x01])
    }

    @Test func signedValuesAreZigzagged() {
        var w = ByteWriter()
        for v: Int64 in [0, -1, 1, -2, 2] { w.signed(v) }
        #expect(w.bytes == [0, 1, 2, 3, 4])
    }

    @Test func everyFieldRoundTrips() throws {
        var rng = SplitMix64(seed: 0xB17E)
        let unsigned: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 32, 1 << 62, .max - 1, .max]
            + (0..<500).map { _ in rng.next() >> UInt64.random(in: 0...63, using: &rng) }
        let signed: [Int64] = [0, 1, -1, 63, -64, 64, -65, .max, .min, .min + 1]
            + (0..<500).map { _ in Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng) }
        let strings = ["", "a", "Siti Nurhaliza", "☕️🇮🇩", String(repeating: "x", count: 300)]
        var w = ByteWriter(capacity: 64)
        for v in unsigned { w.varint(v) }
        for v in signed { w.signed(v) }
        for s in strings { w.string(s) }
        w.fixed64(0x0102_0304_0506_0708)
        w.byte(0xAB)
        w.raw([9, 8, 7])

        var r = ByteReader(w.bytes, what: "test data")
        for v in unsigned { #expect(try r.varint() == v) }
        for v in signed { #expect(try r.signed() == v) }
        for s in strings { #expect(try r.string() == s) }
        #expect(try r.fixed64() == 0x0102_0304_0506_0708)
        #expect(try r.byte() == 0xAB)
        #expect(Array(try r.raw(3)) == [9, 8, 7])
        #expect(r.atEnd)
        #expect(r.remaining == 0)
    }

    @Test func fixed64IsLittleEndian() {
        var w = ByteWriter()
        w.fixed64(0x0102_0304_0506_0708)
        #expect(w.bytes == [8, 7, 6, 5, 4, 3, 2, 1])
    }

    @Test func aReaderStaysInsideItsRange() throws {
        let bytes: [UInt8] = [1, 2, 3, 4, 5]
        var r = ByteReader(bytes, range: 1..<3, what: "slice")
        #expect(r.remaining == 2)
        #expect(try r.byte() == 2)
        #expect(try r.byte() == 3)
        #expect(r.atEnd)
        let error = try #require(throws: BegawiError.self) { try r.byte() }
        #expect(error.code == .badBatch)
        #expect(error.message.contains("slice"))
    }

    @Test func everyReadThrowsOnTruncatedInput() {
        var w = ByteWriter()
        w.varint(1 << 40)
        w.string("hello")
        w.fixed64(7)
        let full = w.bytes
        for length in 0..<full.count {
            var r = ByteReader(Array(full.prefix(length)), what: "prefix")
            #expect(throws: BegawiError.self, "\(length) bytes") {
                _ = try r.varint()
                _ = try r.string()
                _ = try r.fixed64()
            }
        }
    }

    @Test func anOverlongVarintIsRefused() {
        var r = ByteReader(Array(repeating: 0x80, count: 10) + [0x00], what: "varint")
        #expect(throws: BegawiError.self) { try r.varint() }
    }

    @Test func countRefusesValuesAboveItsLimit() throws {
        var w = ByteWriter()
        w.varint(10)
        w.varint(10)
        var r = ByteReader(w.bytes, what: "counts")
        #expect(throws: BegawiError.self) { try r.count(max: 9) }
        var ok = ByteReader(w.bytes, what: "counts")
        #expect(try ok.count(max: 10) == 10)
    }

    @Test func negativeRawLengthsAreRefused() {
        var r = ByteReader([1, 2, 3], what: "raw")
        #expect(throws: BegawiError.self) { try r.raw(-1) }
        #expect(throws: BegawiError.self) { try r.raw(4) }
    }

    @Test func invalidUTF8IsRefused() {
        for bad: [UInt8] in [[2, 0xC3, 0x28], [1, 0xFF], [3, 0xE2, 0x82], [4, 0xF0, 0x9F, 0x98]] {
            var r = ByteReader(bad, what: "string")
            #expect(throws: BegawiError.self, "\(bad)") { try r.string() }
        }
        var r = ByteReader([9, 0x61], what: "string")
        #expect(throws: BegawiError.self) { try r.string() }
    }
}
