import BegawiCore
import BegawiReplica

/// Turns a row's published merge state (`MergeState`'s bytes) straight into what a snapshot part
/// holds for it: its vector and stamps in a replica's encoding (`RowRecord.encodeVector` and
/// `encodeStamps`), whether it is live, and its values; without building a `RowState` (a string per
/// stamp, a register per column, a sorted vector) for every row of the part.
///
/// The bytes are the ones that slower path gives, site numbers included: they are given in the same
/// order (the vector's sites, then the stamps' sites in register order). For anything it does not
/// expect (a vector out of order, a damaged state, one written under a later schema) it answers nil
/// and numbers no site, and the caller takes the slower path, whose errors say what is wrong.
struct SnapshotStateTranscoder {
    /// One row as a part holds it.
    struct Transcoded {
        /// The version vector, encoded as a replica stores it.
        var vector: [UInt8]
        /// The registers' stamps, encoded as a replica stores them.
        var stamps: [UInt8]
        /// Whether the row is visible (its deleted register says live).
        var live: Bool
        /// The columns' values in declared order; NULL for a column no write reached.
        var values: [SQLValue]
    }

    /// A register's stamp as read: its clock, the index of its site in `siteNames`, its counter.
    private struct ReadStamp: Equatable {
        var clock: UInt64
        var site: Int
        var counter: UInt64
    }

    /// The table's columns (without the key).
    let columnCount: Int
    // Reused from row to row: the vector's entries and the registers' stamps as read, their sites' names.
    private var vectorEntries: [(site: Int, counter: UInt64)] = []
    private var stamps: [ReadStamp] = []
    private var siteNames: [String] = []

    /// A transcoder for the rows of a table of `columnCount` columns.
    init(columnCount: Int) {
        self.columnCount = columnCount
    }

    /// The row whose published state is `bytes`, its site numbers taken from (and added to) `sites`;
    /// nil when the state is not one this path reads (the caller decodes it with `MergeState`).
    mutating func transcode(_ bytes: UnsafeRawBufferPointer, sites: inout SiteDirectory) -> Transcoded? {
        vectorEntries.removeAll(keepingCapacity: true)
        stamps.removeAll(keepingCapacity: true)
        siteNames.removeAll(keepingCapacity: true)
        var r = Cursor(bytes.assumingMemoryBound(to: UInt8.self))

        // The vector: sites in strictly rising order and counters above zero, as `VersionVector` keeps them.
        guard let entries = r.varint(), entries <= 1 << 16 else { return nil }
        for _ in 0..<Int(entries) {
            guard let site = r.string(), let counter = r.varint(), counter > 0 else { return nil }
            if let last = siteNames.last, !(last < site) { return nil }
            siteNames.append(site)
            vectorEntries.append((siteNames.count - 1, counter))
        }

        // The deleted register.
        var mask: UInt64 = 0
        var live = false
        switch r.byte() {
        case 0?: break
        case 1?:
            guard let marker = r.value(), let stamp = readStamp(&r) else { return nil }
            mask |= 1
            if marker == RowState.deletedMarker { mask |= 2 }
            live = marker == RowState.liveMarker
            stamps.append(stamp)
        default: return nil
        }

        // The columns' registers: at most the table's columns (more: written under a later schema).
        guard let columns = r.varint(), columns <= UInt64(columnCount) else { return nil }
        var values = [SQLValue](repeating: .null, count: columnCount)
        for i in 0..<Int(columns) {
            switch r.byte() {
            case 0?: continue
            case 1?:
                guard let value = r.value(), let stamp = readStamp(&r) else { return nil }
                values[i] = value
                mask |= 1 << UInt64(i + 2)
                stamps.append(stamp)
            default: return nil
            }
        }
        guard r.atEnd else { return nil }

        // Site numbers: the vector's sites first, then the stamps', as the replica's encoders ask for them.
        var vector = ByteWriter(capacity: 2 + 12 * vectorEntries.count)
        vector.varint(UInt64(vectorEntries.count))
        for entry in vectorEntries {
            vector.varint(UInt64(sites.id(for: siteNames[entry.site])))
            vector.varint(entry.counter)
        }
        var encoded = ByteWriter(capacity: 32)
        encoded.varint(mask)
        // Distinct stamps in register order (each with sequence 0: a part's rows have no local
        // changes); usually one, as after an insert, and then no per-register indexes.
        var distinct: [ReadStamp] = []
        var which: [UInt8] = []
        if let first = stamps.first, stamps.allSatisfy({ same($0, first) }) {
            distinct = [first]
        } else {
            for stamp in stamps {
                let found = distinct.firstIndex { same($0, stamp) } ?? distinct.count
                if found == distinct.count { distinct.append(stamp) }
                which.append(UInt8(truncatingIfNeeded: found))
            }
        }
        encoded.varint(UInt64(distinct.count))
        for stamp in distinct {
            encoded.varint(stamp.clock)
            encoded.varint(UInt64(sites.id(for: siteNames[stamp.site])))
            encoded.varint(stamp.counter)
            encoded.varint(0)
        }
        if distinct.count > 1 { for i in which { encoded.varint(UInt64(i)) } }
        return Transcoded(vector: vector.bytes, stamps: encoded.bytes, live: live, values: values)
    }

    /// Whether two stamps are the same write (their sites compared by name: a site can be read twice).
    private func same(_ a: ReadStamp, _ b: ReadStamp) -> Bool {
        a.clock == b.clock && a.counter == b.counter && (a.site == b.site || siteNames[a.site] == siteNames[b.site])
    }

    /// A register's clock, site and counter; its site's name read once when it repeats the last one's.
    private mutating func readStamp(_ r: inout Cursor) -> ReadStamp? {
        guard let clock = r.varint(), let name = r.stringBytes(), let counter = r.varint() else { return nil }
        let site: Int
        if let last = siteNames.last, last.utf8.elementsEqual(name) {
            site = siteNames.count - 1
        } else {
            guard let text = String.validUTF8(name) else { return nil }
            siteNames.append(text)
            site = siteNames.count - 1
        }
        return ReadStamp(clock: clock, site: site, counter: counter)
    }

    /// Reads `MergeState`'s bytes in place; every read checks its bounds and answers nil past them.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let b = bytes[offset]
                offset += 1
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
            return nil
        }

        /// `n` bytes, nil when fewer are left.
        mutating func raw(_ n: UInt64) -> UnsafeBufferPointer<UInt8>? {
            guard n <= UInt64(bytes.count - offset) else { return nil }
            let count = Int(n)
            defer { offset += count }
            return UnsafeBufferPointer(rebasing: bytes[offset..<offset + count])
        }

        /// A length-prefixed string's bytes.
        mutating func stringBytes() -> UnsafeBufferPointer<UInt8>? {
            guard let n = varint() else { return nil }
            return raw(n)
        }

        /// A length-prefixed string; nil when it is not UTF-8.
        mutating func string() -> String? {
            guard let bytes = stringBytes() else { return nil }
            return String.validUTF8(bytes)
        }

        /// A value as `BatchCodec` writes it.
        mutating func value() -> SQLValue? {
            switch byte() {
            case 0?: return .null
            case 1?:
                guard let v = varint() else { return nil }
                return .integer(Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1))
            case 2?:
                guard let eight = raw(8) else { return nil }
                var v: UInt64 = 0
                for (i, b) in eight.enumerated() { v |= UInt64(b) << UInt64(8 * i) }
                return .real(Double(bitPattern: v))
            case 3?: return string().map { .text($0) }
            case 4?:
                guard let n = varint(), let blob = raw(n) else { return nil }
                return .blob(Array(blob))
            default: return nil
            }
        }
    }
}
