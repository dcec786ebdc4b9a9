import BegawiCore
import Testing

@Suite struct DeflateTests {
    @Test func compressedBytesDecompressToTheInput() throws {
        var rng = SplitMix64(seed: 0xDEF1)
        let inputs: [[UInt8]] = [
            [], [42], Array("the same words again and again, ".utf8).repeated(200),
            (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) },
        ]
        for input in inputs {
            for level in [Int32(0), 1, 6, 9] {
                let packed = try Deflate.compress(input, level: level)
                #expect(try Deflate.decompress(packed[...], expectedSize: input.count, limit: input.count) == input)
            }
        }
    }

    @Test func repetitiveInputShrinks() throws {
        let input = Array("enrollment,".utf8).repeated(10_000)
        #expect(try Deflate.compress(input).count < input.count / 50)
    }

    @Test func aWrongExpectedSizeIsRefused() throws {
        let input = Array("hello, hello, hello".utf8)
        let packed = try Deflate.compress(input)
        for size in [0, input.count - 1, input.count + 1] {
            let error = try #require(throws: BegawiError.self) { try Deflate.decompress(packed[...], expectedSize: size, limit: 1_000) }
            #expect(error.code == .badBatch)
        }
    }

    @Test func aSizeAboveTheLimitIsRefusedBeforeDecompressing() throws {
        let error = try #require(throws: BegawiError.self) {
            try Deflate.decompress([0x78, 0x9C][...], expectedSize: 1_001, limit: 1_000)
        }
        #expect(error.code == .badBatch)
        #expect(error.message.contains("1001"))
        #expect(throws: BegawiError.self) { try Deflate.decompress([][...], expectedSize: -1, limit: 1_000) }
    }

    @Test func aDamagedChecksumIsRefused() throws {
        let input = Array("a payload worth checking".utf8)
        var packed = try Deflate.compress(input)
        packed[packed.count - 1] ^= 1
        #expect(throws: BegawiError.self) { try Deflate.decompress(packed[...], expectedSize: input.count, limit: 1_000) }
    }

    @Test func aSliceThatDoesNotStartAtZeroDecompresses() throws {
        let input = Array("offset".utf8)
        let framed: [UInt8] = [1, 2, 3] + (try Deflate.compress(input))
        #expect(try Deflate.decompress(framed[3...], expectedSize: input.count, limit: 100) == input)
    }
}

extension Array {
    func repeated(_ times: Int) -> [Element] { Array((0..<times).map { _ in self }.joined()) }
}
