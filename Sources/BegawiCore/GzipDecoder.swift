internal import CZlib

/// Decodes gzip (RFC 1952) bodies from the network without ever holding more than a limit.
public enum GzipDecoder {
    /// Inflates `input`; throws `badBatch` for damaged data and for output beyond `limit` bytes
    /// (a compression bomb is stopped as soon as it passes the limit).
    public static func decode(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard begawi_inflate_init2(&stream, 31) == Z_OK else {
            throw BegawiError(.storage, "zlib could not start decompressing")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            // zlib counts in 32 bits: a larger body (only if max_body_bytes allows it) is refused, not truncated.
            guard let available = uInt(exactly: inBuf.count) else {
                throw BegawiError(.badBatch, "the gzip body has \(inBuf.count) bytes, more than zlib takes at once; send smaller batches")
            }
            stream.avail_in = available
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                    throw BegawiError(.badBatch, "the gzip body is damaged or truncated; send it again", cause: "zlib status \(status)")
                }
                guard output.count + produced <= limit else {
                    throw BegawiError(.badBatch, "the gzip body expands past \(limit) bytes; send smaller batches")
                }
                output.append(contentsOf: chunk[0..<produced])
            } while status != Z_STREAM_END && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_STREAM_END, stream.avail_in == 0 else {
            throw BegawiError(.badBatch, "the gzip body is truncated or has trailing data; send it again")
        }
        return output
    }
}
