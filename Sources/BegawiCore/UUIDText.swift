#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Canonical text of 16-byte UUIDs, and its parsing.
public enum UUIDText {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// The canonical lowercase 8-4-4-4-12 form.
    public static func format(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The 16 bytes of a canonical lowercase UUID text, or nil for any other text.
    public static func parse(_ text: String) -> [UInt8]? {
        var utf8 = text.utf8.makeIterator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        var position = 0
        var high: UInt8? = nil
        while let c = utf8.next() {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                position += 1
                continue
            }
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
            position += 1
            if position > 36 { return nil }
        }
        return position == 36 && bytes.count == 16 ? bytes : nil
    }
}
