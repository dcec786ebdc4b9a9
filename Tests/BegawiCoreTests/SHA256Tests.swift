import BegawiCore
import Foundation
import Testing

@Suite struct SHA256Tests {
    @Test func nistVectors() {
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ]
        for (message, digest) in vectors {
            #expect(Hashing.sha256Hex(Array(message.utf8)) == digest, "message \(message.debugDescription)")
        }
    }

    @Test func oneMillionLetterA() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Hashing.sha256Hex(input) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length across the padding boundaries (55, 56, 63, 64, 119, 120, ...) agrees with coreutils.
    @Test func randomInputsMatchSha256sum() throws {
        var rng = SplitMix64(seed: 0x05A2_56A2)
        let lengths = Array(0...200) + [1_000, 4_095, 4_096, 65_537]
        let inputs = lengths.map { n in (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let expected = try Sha256sum.digests(of: inputs)
        for (input, digest) in zip(inputs, expected) {
            #expect(Hashing.sha256Hex(input) == digest, "length \(input.count)")
        }
    }

    @Test func digestIsThirtyTwoBytesAndMatchesHex() {
        let digest = Hashing.sha256(Array("abc".utf8))
        #expect(digest.count == 32)
        #expect(Hex.encode(digest) == Hashing.sha256Hex(Array("abc".utf8)))
    }

    @Test func slicesAndNonContiguousCollectionsHashLikeArrays() {
        var rng = SplitMix64(seed: 77)
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let expected = Hashing.sha256(Array(bytes[13..<250]))
        #expect(Hashing.sha256(bytes[13..<250]) == expected)
        #expect(Hashing.sha256((13..<250).lazy.map { bytes[$0] }) == expected)
        #expect(Hashing.sha256("abc".utf8) == Hashing.sha256([0x61, 0x62, 0x63]))
    }

    @Test func constantTimeEqual() {
        let a = Hashing.sha256(Array("token".utf8))
        #expect(ConstantTime.equal(a, a))
        #expect(ConstantTime.equal([], []))
        for i in [0, 15, 31] {
            var b = a
            b[i] ^= 0x01
            #expect(!ConstantTime.equal(a, b), "differs at byte \(i)")
        }
        #expect(!ConstantTime.equal(a, Array(a.dropLast())))
        #expect(!ConstantTime.equal(Array(a.dropLast()), a))
        #expect(!ConstantTime.equal(a, []))
        #expect(!ConstantTime.equal([0], [0, 0]))
    }

    @Test func hexRoundTripsAndRefusesBadText() {
        let bytes: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]
        #expect(Hex.encode(bytes) == "00017f80abff")
        #expect(Hex.decode("00017f80abff") == bytes)
        #expect(Hex.decode("00017F80ABFF") == bytes)
        #expect(Hex.decode("") == [])
        #expect(Hex.encode([UInt8]()) == "")
        for bad in ["0", "abc", "0g", "zz", " 00", "00 ", "éé", "0x00"] {
            #expect(Hex.decode(bad) == nil, "\(bad.debugDescription)")
        }
        let digest = Hashing.sha256([1, 2, 3])
        #expect(Hex.decode(Hex.encode(digest)) == digest)
    }
}

/// The coreutils `sha256sum`, run once over a directory of input files: an independent implementation.
enum Sha256sum {
    static let executable = "/usr/bin/sha256sum"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The lowercase hex digest of each input, in order.
    static func digests(of inputs: [[UInt8]]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (i, input) in inputs.enumerated() {
            let url = directory.appendingPathComponent("input-\(i)")
            try Data(input).write(to: url)
            paths.append(url.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = paths
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw Failure(description: "\(executable) exited with \(process.terminationStatus); is coreutils installed?")
        }
        // Each line is "<64 hex digits>  <path>", in argument order.
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        guard lines.count == inputs.count else {
            throw Failure(description: "\(executable) printed \(lines.count) lines for \(inputs.count) files")
        }
        return lines.map { String($0.prefix(64)) }
    }
}
