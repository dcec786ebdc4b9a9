/// Comparisons whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes, reading every byte of the shorter one without an early exit.
    ///
    /// Lengths are treated as public (digests are all 32 bytes): unequal lengths compare unequal, and
    /// the time taken depends only on the lengths, never on the contents.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: a.count ^ b.count)
        let n = min(a.count, b.count)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for i in 0..<n { difference |= UInt(a[i] ^ b[i]) }
            }
        }
        return difference == 0
    }
}
