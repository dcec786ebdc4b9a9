/// Reads what `ByteWriter` wrote; every read is bounds-checked and throws on truncated input.
public struct ByteReader {
    private let bytes: [UInt8]
    private var offset: Int
    private let end: Int
    private let what: String

    /// Reads `bytes[range]`; `what` names the data in error messages.
    public init(_ bytes: [UInt8], range: Range<Int>? = nil, what: String) {
        self.bytes = bytes
        self.offset = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
        self.what = what
    }

    /// Whether every byte has been read.
    public var atEnd: Bool { offset == end }
    /// How many bytes are left.
    public var remaining: Int { end - offset }

    func truncated() -> BegawiError {
        BegawiError(.badBatch, "the \(what) is truncated or malformed at byte \(offset); resend the batch from the same cursor")
    }

    /// Reads an unsigned varint.
    public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end, shift < 64 else { throw truncated() }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    /// Reads a varint that must fit a count no larger than `limit`.
    public mutating func count(max limit: Int) throws -> Int {
        let v = try varint()
        guard limit >= 0, v <= UInt64(limit) else { throw truncated() }
        return Int(v)
    }

    /// Reads a zigzag-encoded signed varint.
    public mutating func signed() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    /// Reads one byte.
    public mutating func byte() throws -> UInt8 {
        guard offset < end else { throw truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads `n` raw bytes.
    public mutating func raw(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= end - offset else { throw truncated() }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    /// Reads a length-prefixed UTF-8 string; invalid UTF-8 is an error.
    public mutating func string() throws -> String {
        let n = try count(max: remaining)
        let slice = try raw(n)
        guard let s = slice.withUnsafeBufferPointer({ String.validUTF8($0) }) else { throw truncated() }
        return s
    }

    /// Reads eight bytes, little-endian.
    public mutating func fixed64() throws -> UInt64 {
        let slice = try raw(8)
        var v: UInt64 = 0
        for (i, b) in slice.enumerated() { v |= UInt64(b) << UInt64(8 * i) }
        return v
    }
}

extension String {
    /// The string whose UTF-8 is `bytes`, nil when they are not valid UTF-8: as
    /// `String(validating:as:)`, which the standard library does not specialize (it looked up generic
    /// metadata for every string: 13 % of a PostgreSQL hub's CPU building snapshot parts). Decoding
    /// repairs invalid bytes with U+FFFD, so the bytes are valid exactly when they come back unchanged.
    package static func validUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let s = String(decoding: bytes, as: UTF8.self)
        guard s.utf8.count == bytes.count, s.utf8.elementsEqual(bytes) else { return nil }
        return s
    }
}
