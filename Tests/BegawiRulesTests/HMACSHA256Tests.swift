import BegawiCore
import BegawiRules
import Testing

/// HMAC-SHA256 against RFC 4231, and the participant key derived from it.
@Suite struct HMACSHA256Tests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func repeated(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

    /// RFC 4231 section 4 (test case 5 truncates its output, so it is left out).
    static let rfc4231: [(number: Int, key: [UInt8], data: [UInt8], tag: String)] = [
        (1, repeated(0x0b, 20), bytes("Hi There"),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (2, bytes("Jefe"), bytes("what do ya want for nothing?"),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (3, repeated(0xaa, 20), repeated(0xdd, 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (4, Array(UInt8(1)...UInt8(25)), repeated(0xcd, 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (6, repeated(0xaa, 131), bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (7, repeated(0xaa, 131),
         bytes("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: [1, 2, 3, 4, 6, 7]) func rfc4231TestCase(_ number: Int) {
        let vector = HMACSHA256Tests.rfc4231.first { $0.number == number }!
        let tag = Hashing.hmacSHA256(key: vector.key, message: vector.data)
        #expect(tag.count == 32)
        #expect(Hex.encode(tag) == vector.tag, "RFC 4231 test case \(number)")
    }

    @Test func keyOfExactlyOneBlockIsUsedAsIs() {
        // A 64-byte key is not hashed; a 65-byte one is. Both differ from each other's tags.
        let message = HMACSHA256Tests.bytes("Bontang")
        let block = Hashing.hmacSHA256(key: HMACSHA256Tests.repeated(0x61, 64), message: message)
        let longer = Hashing.hmacSHA256(key: HMACSHA256Tests.repeated(0x61, 65), message: message)
        #expect(block != longer)
        // A key longer than a block is its hash.
        let hashed = Hashing.hmacSHA256(key: Hashing.sha256(HMACSHA256Tests.repeated(0x61, 65)), message: message)
        #expect(hashed == longer)
    }

    static let salt = "handak-begawi-bontang-v1"

    @Test func participantKeyIsDeterministicAndShaped() {
        let nik = "6474014512990001"
        let key = NIK.key(for: nik, salt: HMACSHA256Tests.salt)
        #expect(key == NIK.key(for: nik, salt: HMACSHA256Tests.salt))
        #expect(key.hasPrefix("p"))
        #expect(key.count == 33)
        #expect(key.dropFirst().allSatisfy { "0123456789abcdef".contains($0) })
        #expect(!key.contains(nik))
        // Computed independently: the first 16 bytes of HMAC-SHA256(salt, NIK), in hex.
        #expect(key == "pb6e7625e381f7d17116a58a1cb7b088a")
        #expect(key == "p" + Hex.encode(Hashing.hmacSHA256(key: HMACSHA256Tests.bytes(HMACSHA256Tests.salt), message: HMACSHA256Tests.bytes(nik)).prefix(16)))
    }

    @Test func participantKeyDiffersBySaltAndByNumber() {
        let nik = "6474014512990001"
        let a = NIK.key(for: nik, salt: HMACSHA256Tests.salt)
        let b = NIK.key(for: nik, salt: "handak-begawi-bontang-v2")
        let c = NIK.key(for: nik, salt: "")
        #expect(a != b)
        #expect(a != c)
        #expect(b != c)
        #expect(NIK.key(for: "6474014512990002", salt: HMACSHA256Tests.salt) != a)
        for k in [a, b, c] {
            #expect(k.hasPrefix("p"))
            #expect(k.count == 33)
        }
    }
}
