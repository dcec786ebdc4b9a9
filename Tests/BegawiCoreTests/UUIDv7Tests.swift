import BegawiCore
import Testing

@Suite struct UUIDv7Tests {
    static let now: UInt64 = 1_780_000_000_123

    static func generator(_ clock: any WallClock = FixedWallClock(milliseconds: now), seed: UInt64 = 7) -> UUIDv7Generator<SplitMix64> {
        UUIDv7Generator(clock: clock, random: SplitMix64(seed: seed))
    }

    static func isCanonical(_ text: String) -> Bool {
        let chars = Array(text.utf8)
        guard chars.count == 36 else { return false }
        for (i, c) in chars.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c) else { return false }
            }
        }
        return true
    }

    @Test func keysAreCanonicalLowercaseText() {
        var g = Self.generator(SystemWallClock(), seed: 1)
        for _ in 0..<1_000 {
            let key = g.next()
            #expect(Self.isCanonical(key), "\(key)")
            #expect(key == key.lowercased())
        }
    }

    @Test func versionAndVariantBitsAreSet() {
        var g = Self.generator(seed: 2)
        for _ in 0..<2_000 {
            let bytes = g.nextBytes()
            #expect(bytes.count == 16)
            #expect(bytes[6] >> 4 == 7, "version nibble")
            #expect(bytes[8] >> 6 == 0b10, "RFC 9562 variant")
        }
        let text = g.next()
        #expect(Array(text)[14] == "7")
        #expect("89ab".contains(Array(text)[19]))
    }

    @Test func theFirst48BitsAreTheWallClockMilliseconds() {
        var g = Self.generator()
        let bytes = g.nextBytes()
        let ms = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(ms == Self.now)
        #expect(g.next().hasPrefix("019e"))
    }

    @Test func keysStrictlyIncreaseUnderAStuckClock() {
        // 10,000 keys in one millisecond: far more than the 12-bit counter holds, so it borrows ahead.
        var g = Self.generator(seed: 3)
        var previous = g.next()
        var previousBytes = UUIDText.parse(previous)!
        for _ in 0..<10_000 {
            let key = g.next()
            let bytes = UUIDText.parse(key)!
            #expect(key > previous)
            #expect(bytes.lexicographicallyPrecedes(previousBytes) == false && bytes != previousBytes)
            previous = key
            previousBytes = bytes
        }
        let lastMs = previousBytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(lastMs > Self.now, "the counter carried into later milliseconds")
        #expect(lastMs <= Self.now + 3)
    }

    @Test func keysStrictlyIncreaseWhenTheClockStepsBack() {
        let readings: [UInt64] = [5_000, 5_000, 4_000, 5_001, 3, 5_001, 5_002, 5_002, 1]
        var g = Self.generator(ScriptedWallClock(readings), seed: 4)
        var keys: [String] = []
        for _ in 0..<(readings.count + 5) { keys.append(g.next()) }
        #expect(keys == keys.sorted())
        #expect(Set(keys).count == keys.count)
    }

    @Test func independentGeneratorsDoNotCollide() {
        var a = Self.generator(seed: 5)
        var b = Self.generator(seed: 6)
        var seen = Set<String>()
        for _ in 0..<2_000 {
            seen.insert(a.next())
            seen.insert(b.next())
        }
        #expect(seen.count == 4_000)
    }

    @Test func parseInvertsFormat() {
        var rng = SplitMix64(seed: 8)
        for _ in 0..<2_000 {
            let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = UUIDText.format(bytes)
            #expect(Self.isCanonical(text))
            #expect(UUIDText.parse(text) == bytes)
        }
        #expect(UUIDText.format(Array(repeating: 0, count: 16)) == "00000000-0000-0000-0000-000000000000")
        #expect(UUIDText.format(Array(repeating: 0xFF, count: 16)) == "ffffffff-ffff-ffff-ffff-ffffffffffff")
    }

    @Test(arguments: [
        "019A2B3C-4D5E-7F60-8A1B-2C3D4E5F6A7B", // uppercase
        "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6A7b", // one uppercase digit
        "", "-", "019a2b3c",
        "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7", // one digit short
        "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b0", // one digit long
        "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b-",
        "019a2b3c4d5e7f608a1b2c3d4e5f6a7b", // no dashes
        "019a2b3c-4d5e-7f60-8a1b2c3d4e5f6a7b0", // a dash missing, length kept
        "019a2b3-c4d5e-7f60-8a1b-2c3d4e5f6a7b", // a dash out of place
        "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7g", // not hex
        "019a2b3c_4d5e_7f60_8a1b_2c3d4e5f6a7b",
        " 019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b",
        "{019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b}",
        "019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7é",
        "３201234567890001",
    ])
    func parseRefusesAnythingButCanonicalText(_ text: String) {
        #expect(UUIDText.parse(text) == nil)
    }

    @Test func parseAcceptsTheCanonicalForm() {
        #expect(UUIDText.parse("019a2b3c-4d5e-7f60-8a1b-2c3d4e5f6a7b") == [
            0x01, 0x9A, 0x2B, 0x3C, 0x4D, 0x5E, 0x7F, 0x60, 0x8A, 0x1B, 0x2C, 0x3D, 0x4E, 0x5F, 0x6A, 0x7B,
        ])
    }
}
