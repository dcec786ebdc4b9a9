internal import CZlib

/// zlib-wrapped deflate (RFC 1950): compact, and its Adler-32 trailer catches truncation and damage.
public enum Deflate {
    /// The zlib library's version.
    public static var libraryVersion: String { String(cString: zlibVersion()) }

    /// Compresses bytes at the given level (0–9); with `gzip`, in gzip framing (RFC 1952, HTTP's
    /// `Content-Encoding: gzip`) instead of zlib's.
    public static func compress(_ input: [UInt8], level: Int32 = 6, gzip: Bool = false) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip header and CRC-32 trailer instead of zlib's.
        guard begawi_deflate_init2(&stream, level, gzip ? 31 : 15) == Z_OK else {
            throw BegawiError(.storage, "zlib could not start compressing")
        }
        defer { deflateEnd(&stream) }
        // deflateBound covers the zlib wrapper; the gzip wrapper is 12 bytes longer at most.
        // Not zeroed: zeroing touched every page of a bound as large as the input (a snapshot part's
        // 14 MB), though the output fills a fraction of it.
        var status: Int32 = Z_STREAM_ERROR
        let output = [UInt8](unsafeUninitializedCapacity: Int(deflateBound(&stream, uLong(input.count))) + 32) { outBuf, written in
            status = input.withUnsafeBufferPointer { inBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
            written = status == Z_STREAM_END ? Int(stream.total_out) : 0
        }
        guard status == Z_STREAM_END else { throw BegawiError(.storage, "zlib could not compress (status \(status))") }
        return output
    }

    /// Decompresses bytes that must expand to exactly `expectedSize` bytes, never more than `limit`.
    ///
    /// The size check stops a compression bomb before it is buffered.
    public static func decompress(_ input: ArraySlice<UInt8>, expectedSize: Int, limit: Int) throws -> [UInt8] {
        guard expectedSize >= 0, expectedSize <= limit else {
            throw BegawiError(.badBatch, "the batch declares \(expectedSize) bytes uncompressed, more than the limit of \(limit); send smaller batches")
        }
        var stream = z_stream()
        guard begawi_inflate_init2(&stream, 15) == Z_OK else {
            throw BegawiError(.storage, "zlib could not start decompressing")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: expectedSize + 1)
        let status: Int32 = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expectedSize, stream.avail_in == 0 else {
            throw BegawiError(.badBatch, "the batch's compressed payload is truncated or damaged; resend the batch from the same cursor", cause: "zlib status \(status)")
        }
        output.removeLast()
        return output
    }
}
