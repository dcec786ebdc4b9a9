/// The wire encoding of a `ChangeBatch`: binary, column-oriented, zlib-compressed.
///
/// Layout: `"BGW"`, a format byte (1), the uncompressed size as a varint, then a zlib stream of the
/// payload. The payload is a header and a set of streams, one per kind of field (keys, vectors,
/// register masks, stamps, and one per table column for values), so that alike bytes sit together
/// and compress well. Choice measured in BENCHMARKS.md against JSON and a row-wise layout.
public enum BatchCodec {
    /// The current format byte.
    public static let format: UInt8 = 1
    static let magic: [UInt8] = Array("BGW".utf8)

    /// Limits applied when decoding untrusted bytes.
    public struct Limits: Sendable {
        /// The largest uncompressed payload accepted.
        public var maxUncompressedBytes: Int
        /// The most rows accepted in one batch.
        public var maxRows: Int

        /// Makes limits.
        public init(maxUncompressedBytes: Int = 256 << 20, maxRows: Int = 1_000_000) {
            self.maxUncompressedBytes = maxUncompressedBytes
            self.maxRows = maxRows
        }
    }

    /// Encodes a batch for the wire.
    public static func encode(_ batch: ChangeBatch, level: Int32 = 6) throws -> [UInt8] {
        let payload = try encodePayload(batch)
        var out = ByteWriter()
        out.raw(magic)
        out.byte(format)
        out.varint(UInt64(payload.count))
        out.raw(try Deflate.compress(payload, level: level))
        return out.bytes
    }

    /// Decodes a batch from the wire; throws `badBatch` with a reason for anything malformed.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws -> ChangeBatch {
        var frame = ByteReader(bytes, what: "batch frame")
        guard bytes.count >= 4, Array(try frame.raw(3)) == magic else {
            throw BegawiError(.badBatch, "the data is not a Begawi batch (wrong magic bytes)")
        }
        let version = try frame.byte()
        guard version == format else {
            throw BegawiError(.badBatch, "the batch has format \(version), this Begawi reads format \(format); upgrade the older side")
        }
        let size = try frame.count(max: Int.max)
        let payload = try Deflate.decompress(bytes[(bytes.count - frame.remaining)...], expectedSize: size, limit: limits.maxUncompressedBytes)
        return try decodePayload(payload, limits: limits)
    }

    // MARK: payload

    static func encodePayload(_ batch: ChangeBatch) throws -> [UInt8] {
        var head = ByteWriter()
        head.string(batch.replicaID)
        head.varint(batch.baseSeq)
        head.varint(batch.afterSeq)
        head.varint(batch.throughSeq)
        head.byte(batch.complete ? 1 : 0)
        head.varint(UInt64(batch.tables.count))
        var valueStreamStart: [Int] = []
        var valueStreamCount = 0
        for table in batch.tables {
            head.string(table.name)
            head.varint(UInt64(table.columns.count))
            for column in table.columns { head.string(column) }
            valueStreamStart.append(valueStreamCount)
            valueStreamCount += table.columns.count
        }
        var siteIndex: [String: Int] = [:]
        var sites: [String] = []
        func index(of site: String) -> Int {
            if let i = siteIndex[site] { return i }
            siteIndex[site] = sites.count
            sites.append(site)
            return sites.count - 1
        }
        var tableStream = ByteWriter()
        var keyStream = ByteWriter()
        var vectorStream = ByteWriter()
        var maskStream = ByteWriter()
        var stampStream = ByteWriter()
        var values = [ByteWriter](repeating: ByteWriter(), count: valueStreamCount)
        var lastCounter: [Int: UInt64] = [:]
        var lastMilliseconds: UInt64 = 0

        for row in batch.rows {
            guard row.table >= 0, row.table < batch.tables.count,
                  row.state.columns.count == batch.tables[row.table].columns.count else {
                throw BegawiError(.invalidArgument, "a row of the batch does not match its table's column list")
            }
            if batch.tables.count > 1 { tableStream.varint(UInt64(row.table)) }
            if let uuid = UUIDText.parse(row.key) {
                keyStream.byte(0)
                keyStream.raw(uuid)
            } else {
                keyStream.byte(1)
                keyStream.string(row.key)
            }
            let vector = row.state.vector
            vectorStream.varint(UInt64(vector.entries.count))
            for entry in vector.entries {
                let i = index(of: entry.site)
                vectorStream.varint(UInt64(i))
                vectorStream.signed(Int64(bitPattern: entry.counter &- (lastCounter[i] ?? 0)))
                lastCounter[i] = entry.counter
            }
            // Presence mask: bit 0 the deleted register (bit 1 its value), bit i+2 column i.
            var mask: UInt64 = 0
            var registers: [Register] = []
            if let deleted = row.state.deleted {
                mask |= 1
                if deleted.value == RowState.deletedMarker { mask |= 2 }
                registers.append(deleted)
            }
            for (i, register) in row.state.columns.enumerated() {
                guard let register else { continue }
                mask |= 1 << UInt64(i + 2)
                registers.append(register)
            }
            maskStream.varint(mask)
            var distinct: [Stamp] = []
            var which: [Int] = []
            for register in registers {
                if let i = distinct.firstIndex(of: register.stamp) {
                    which.append(i)
                } else {
                    which.append(distinct.count)
                    distinct.append(register.stamp)
                }
            }
            stampStream.varint(UInt64(distinct.count))
            for stamp in distinct {
                let ms = stamp.clock.milliseconds
                stampStream.signed(Int64(bitPattern: ms &- lastMilliseconds))
                lastMilliseconds = ms
                stampStream.varint(UInt64(stamp.clock.counter))
                let site = index(of: stamp.site)
                stampStream.varint(UInt64(site))
                let covered = vector[stamp.site]
                guard covered >= stamp.counter else {
                    throw BegawiError(.invalidArgument, "a row's vector does not cover one of its registers")
                }
                stampStream.varint(covered - stamp.counter)
            }
            if distinct.count > 1 {
                for i in which { stampStream.varint(UInt64(i)) }
            }
            for (i, register) in row.state.columns.enumerated() {
                guard let register else { continue }
                encode(register.value, into: &values[valueStreamStart[row.table] + i])
            }
        }
        head.varint(UInt64(sites.count))
        for site in sites { head.string(site) }
        head.varint(UInt64(batch.rows.count))
        // Evictions are optional at the end of the header, so batches without them keep format 1's bytes.
        if !batch.evictions.isEmpty {
            head.varint(UInt64(batch.evictions.count))
            for eviction in batch.evictions {
                guard eviction.table >= 0, eviction.table < batch.tables.count else {
                    throw BegawiError(.invalidArgument, "an eviction of the batch does not name one of its tables")
                }
                head.varint(UInt64(eviction.table))
                head.string(eviction.key)
            }
        }

        let streams = [head, tableStream, keyStream, vectorStream, maskStream, stampStream] + values
        var out = ByteWriter()
        out.varint(UInt64(streams.count))
        for s in streams { out.varint(UInt64(s.bytes.count)) }
        for s in streams { out.raw(s.bytes) }
        return out.bytes
    }

    /// Writes one value as the batch format does (a tag byte, then the value).
    package static func encode(_ value: SQLValue, into w: inout ByteWriter) {
        switch value {
        case .null: w.byte(0)
        case .integer(let v): w.byte(1); w.signed(v)
        case .real(let v): w.byte(2); w.fixed64(v.bitPattern)
        case .text(let v): w.byte(3); w.string(v)
        case .blob(let v): w.byte(4); w.varint(UInt64(v.count)); w.raw(v)
        }
    }

    /// Reads one value written by `encode(_:into:)`.
    package static func decodeValue(_ r: inout ByteReader) throws -> SQLValue {
        switch try r.byte() {
        case 0: return .null
        case 1: return .integer(try r.signed())
        case 2: return .real(Double(bitPattern: try r.fixed64()))
        case 3: return .text(try r.string())
        case 4: return .blob(Array(try r.raw(try r.count(max: r.remaining))))
        case let tag: throw BegawiError(.badBatch, "the batch holds a value of unknown type \(tag)")
        }
    }

    static func decodePayload(_ payload: [UInt8], limits: Limits) throws -> ChangeBatch {
        var outer = ByteReader(payload, what: "batch")
        let streamCount = try outer.count(max: 6 + 64 * 1024)
        guard streamCount >= 6 else { throw BegawiError(.badBatch, "the batch has too few streams") }
        var lengths: [Int] = []
        for _ in 0..<streamCount { lengths.append(try outer.count(max: payload.count)) }
        var start = payload.count - outer.remaining
        var readers: [ByteReader] = []
        let names = ["batch header", "table stream", "key stream", "vector stream", "mask stream", "stamp stream"]
        for (i, length) in lengths.enumerated() {
            guard length <= payload.count - start else { throw BegawiError(.badBatch, "the batch's stream lengths exceed its size") }
            readers.append(ByteReader(payload, range: start..<start + length, what: i < names.count ? names[i] : "value stream \(i - names.count)"))
            start += length
        }
        guard start == payload.count else { throw BegawiError(.badBatch, "the batch has trailing bytes after its streams") }

        var head = readers[0]
        let replicaID = try head.string()
        let baseSeq = try head.varint()
        let afterSeq = try head.varint()
        let throughSeq = try head.varint()
        let complete = try head.byte()
        guard complete <= 1, baseSeq <= throughSeq, afterSeq <= throughSeq, throughSeq <= UInt64(Int64.max) else {
            throw BegawiError(.badBatch, "the batch's sequence range is inconsistent (base \(baseSeq), after \(afterSeq), through \(throughSeq))")
        }
        let tableCount = try head.count(max: 4096)
        var tables: [BatchTable] = []
        var valueStreamStart: [Int] = []
        var valueStreams = 0
        for _ in 0..<tableCount {
            let name = try head.string()
            let columnCount = try head.count(max: TableSpec.maximumColumns)
            var columns: [String] = []
            for _ in 0..<columnCount { columns.append(try head.string()) }
            tables.append(BatchTable(name: name, columns: columns))
            valueStreamStart.append(valueStreams)
            valueStreams += columnCount
        }
        guard streamCount == 6 + valueStreams else {
            throw BegawiError(.badBatch, "the batch has \(streamCount) streams where its tables need \(6 + valueStreams)")
        }
        let siteCount = try head.count(max: 1 << 16)
        var sites: [String] = []
        for _ in 0..<siteCount {
            let site = try head.string()
            guard !site.isEmpty else { throw BegawiError(.badBatch, "the batch names an empty site id") }
            sites.append(site)
        }
        let rowCount = try head.count(max: limits.maxRows)
        var evictions: [RowEviction] = []
        if !head.atEnd {
            let count = try head.count(max: limits.maxRows)
            guard count > 0 else { throw BegawiError(.badBatch, "the batch header declares an empty eviction list") }
            for _ in 0..<count {
                let table = try head.count(max: max(tables.count - 1, 0))
                guard table < tables.count else { throw BegawiError(.badBatch, "an eviction refers to a table the batch does not name") }
                let key = try head.string()
                guard !key.isEmpty else { throw BegawiError(.badBatch, "an eviction has an empty key") }
                evictions.append(RowEviction(table: table, key: key))
            }
        }
        guard head.atEnd else { throw BegawiError(.badBatch, "the batch header has trailing bytes") }

        var tableStream = readers[1], keyStream = readers[2], vectorStream = readers[3]
        var maskStream = readers[4], stampStream = readers[5]
        var values = Array(readers[6...])
        var lastCounter: [Int: UInt64] = [:]
        var lastMilliseconds: UInt64 = 0
        var rows: [RowChange] = []
        rows.reserveCapacity(min(rowCount, keyStream.remaining / 2 + 1))
        for _ in 0..<rowCount {
            let table = tables.count > 1 ? try tableStream.count(max: tables.count - 1) : 0
            guard table < tables.count else { throw BegawiError(.badBatch, "a row refers to a table the batch does not name") }
            let key: String
            switch try keyStream.byte() {
            case 0: key = UUIDText.format(Array(try keyStream.raw(16)))
            case 1: key = try keyStream.string()
            default: throw BegawiError(.badBatch, "a row key has an unknown kind")
            }
            guard !key.isEmpty else { throw BegawiError(.badBatch, "a row has an empty key") }
            var vector = VersionVector()
            let entries = try vectorStream.count(max: siteCount)
            for _ in 0..<entries {
                let site = try vectorStream.count(max: siteCount - 1)
                let counter = (lastCounter[site] ?? 0) &+ UInt64(bitPattern: try vectorStream.signed())
                guard counter > 0, counter < 1 << 62, vector[sites[site]] == 0 else {
                    throw BegawiError(.badBatch, "a row's version vector is malformed")
                }
                lastCounter[site] = counter
                vector.raise(sites[site], to: counter)
            }
            let columnCount = tables[table].columns.count
            let mask = try maskStream.varint()
            guard mask >> UInt64(columnCount + 2) == 0, mask & 2 == 0 || mask & 1 == 1 else {
                throw BegawiError(.badBatch, "a row's register mask names columns its table does not have")
            }
            var registerCount = mask & 1
            for i in 0..<columnCount where mask & (1 << UInt64(i + 2)) != 0 { registerCount += 1 }
            // A row may carry no registers: only news of writes it has merged (its vector grew).
            let distinctCount = try stampStream.count(max: Int(registerCount))
            guard (distinctCount >= 1) == (registerCount >= 1) else { throw BegawiError(.badBatch, "a row's stamps do not match its registers") }
            var distinct: [Stamp] = []
            for _ in 0..<distinctCount {
                let ms = lastMilliseconds &+ UInt64(bitPattern: try stampStream.signed())
                guard ms <= HybridTimestamp.millisecondMask else { throw BegawiError(.badBatch, "a stamp's clock is out of range") }
                lastMilliseconds = ms
                let logical = try stampStream.count(max: Int(UInt16.max))
                let site = try stampStream.count(max: siteCount - 1)
                guard site < sites.count else { throw BegawiError(.badBatch, "a stamp names an unknown site") }
                let covered = vector[sites[site]]
                let gap = try stampStream.varint()
                guard gap < covered else { throw BegawiError(.badBatch, "a stamp's counter is not covered by its row's vector") }
                distinct.append(Stamp(clock: HybridTimestamp(milliseconds: ms, counter: UInt16(logical)), site: sites[site], counter: covered - gap))
            }
            func nextStamp() throws -> Stamp {
                distinctCount == 1 ? distinct[0] : distinct[try stampStream.count(max: distinctCount - 1)]
            }
            var state = RowState(columnCount: columnCount)
            state.vector = vector
            if mask & 1 != 0 {
                state.deleted = Register(value: mask & 2 != 0 ? RowState.deletedMarker : RowState.liveMarker, stamp: try nextStamp())
            }
            for i in 0..<columnCount where mask & (1 << UInt64(i + 2)) != 0 {
                let stamp = try nextStamp()
                state.columns[i] = Register(value: try decodeValue(&values[valueStreamStart[table] + i]), stamp: stamp)
            }
            rows.append(RowChange(table: table, key: key, state: state))
        }
        let all = [tableStream, keyStream, vectorStream, maskStream, stampStream] + values
        guard all.allSatisfy(\.atEnd) else { throw BegawiError(.badBatch, "the batch has bytes its rows do not account for") }
        return ChangeBatch(replicaID: replicaID, baseSeq: baseSeq, afterSeq: afterSeq, throughSeq: throughSeq, complete: complete == 1, tables: tables, rows: rows,
                           evictions: evictions)
    }
}
