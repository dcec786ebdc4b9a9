internal import CZlib
import BegawiCore

/// gzip (RFC 1952), the framing HTTP's `Content-Encoding: gzip` names; `Deflate` is the zlib framing.
enum Gzip {
    /// Compresses bytes into one gzip member at the given level (0–9).
    static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip header and CRC-32 trailer instead of zlib's.
        guard begawi_deflate_init2(&stream, level, 31) == Z_OK else {
            throw BegawiError(.invalidArgument, "zlib could not start compressing the request body")
        }
        defer { deflateEnd(&stream) }
        // deflateBound covers the zlib wrapper; the gzip wrapper is 12 bytes longer at most.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let status: Int32 = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw BegawiError(.invalidArgument, "zlib could not gzip the request body", cause: "zlib status \(status)")
        }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }
}
