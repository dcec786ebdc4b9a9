import BegawiCore
internal import CSQLite
internal import GRDB

/// A snapshot part's merge state put in this replica's terms by two SQL functions on the writer's
/// connection, so that a part's rows are adopted with `INSERT … SELECT` and no row objects:
/// `begawi_snapshot_stamps(stamps, seq)` renumbers the stamps' sites into this replica's directory and
/// gives every register the change sequence `seq` (pairs that then coincide become one, as
/// `RowRecord.encodeStamps` writes them); `begawi_snapshot_vector(vector)` renumbers a vector's sites.
/// A blob that does not parse fails the statement (the part is refused, the pages bring the rows).
///
/// Both run once per adopted row: they read SQLite's bytes in place and write into buffers kept from
/// row to row, so a row costs no allocation.
final class SnapshotStamps {
    /// The renumbering and its buffers, taken as a whole by each call (one exclusive access per row, not one per buffer use).
    private var work: Rewriter

    /// The greatest clock among the stamps rewritten: the replica's clock observes it.
    var maxClock: UInt64 { work.maxClock }

    static let stampsFunction = "begawi_snapshot_stamps"
    static let vectorFunction = "begawi_snapshot_vector"

    /// Maps the part's directory `(number, site)` into `sites` (adding the sites it lacks).
    init(part: [(Int, String)], sites: inout SiteDirectory, columnCount: Int) {
        let size = (part.map(\.0).max() ?? 0) + 1
        var local = Array(repeating: 0, count: size), names = Array(repeating: "", count: size)
        for (number, site) in part {
            local[number] = sites.id(for: site)
            names[number] = site
        }
        work = Rewriter(local: local, names: names, columnCount: columnCount)
    }

    /// Registers both functions on `db` for the duration of `body`.
    func installed<T>(on db: Database, _ body: () throws -> T) throws -> T {
        let handle = db.sqliteConnection
        let context = Unmanaged.passUnretained(self).toOpaque()
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        sqlite3_create_function_v2(handle, Self.stampsFunction, 2, flags, context, { c, _, argv in
            SnapshotStamps.call(c, argv) { work, blob, args in try work.stamps(blob, seq: sqlite3_value_int64(args[1])) }
        }, nil, nil, nil)
        sqlite3_create_function_v2(handle, Self.vectorFunction, 1, flags, context, { c, _, argv in
            SnapshotStamps.call(c, argv) { work, blob, _ in try work.vector(blob) }
        }, nil, nil, nil)
        defer {
            sqlite3_create_function_v2(handle, Self.stampsFunction, 2, SQLITE_UTF8, nil, nil, nil, nil, nil)
            sqlite3_create_function_v2(handle, Self.vectorFunction, 1, SQLITE_UTF8, nil, nil, nil, nil, nil)
        }
        return try withExtendedLifetime(self) { try body() }
    }

    private static func call(_ c: OpaquePointer?, _ argv: UnsafeMutablePointer<OpaquePointer?>?,
                             _ rewrite: (inout Rewriter, UnsafeRawBufferPointer, UnsafeMutablePointer<OpaquePointer?>) throws -> Void) {
        guard let argv, let data = sqlite3_user_data(c) else { return }
        let map = Unmanaged<SnapshotStamps>.fromOpaque(data).takeUnretainedValue()
        // The blob's pointer before its size, as SQLite asks; an empty blob has no pointer.
        let start = sqlite3_value_blob(argv[0])
        let blob = UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : Int(sqlite3_value_bytes(argv[0])))
        do {
            try rewrite(&map.work, blob, argv)
            map.work.out.bytes.withUnsafeBytes {
                sqlite3_result_blob(c, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), begawi_sqlite_transient())
            }
        } catch {
            sqlite3_result_error(c, "a snapshot row's merge state is malformed", -1)
        }
    }

    /// The stamps blob (see `RowRecord`) with this replica's site numbers and `seq` for every register.
    func stamps(_ bytes: [UInt8], seq: Int64) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try work.stamps($0, seq: seq) }
        return work.out.bytes
    }

    /// The vector blob with this replica's site numbers (its entries stay in site order, as `VersionVector` keeps them).
    func vector(_ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try work.vector($0) }
        return work.out.bytes
    }
}

/// What `SnapshotStamps` does to one row's blob, into `out`, with buffers kept from row to row.
private struct Rewriter {
    /// This replica's site number for each of the part's (0: a number the part's directory lacks).
    let local: [Int]
    /// The part's site names by its numbers, to check that a vector is in the order this replica keeps.
    let names: [String]
    let columnCount: Int
    var maxClock: UInt64 = 0
    /// The last row's result.
    var out = ByteWriter(capacity: 64)
    private var pairs: [Pair] = []
    private var distinct: [Int] = []
    private var which: [Int] = []

    private struct Pair: Equatable {
        var clock: UInt64, site: Int, counter: UInt64
    }

    init(local: [Int], names: [String], columnCount: Int) {
        self.local = local
        self.names = names
        self.columnCount = columnCount
        pairs.reserveCapacity(columnCount + 1)
        distinct.reserveCapacity(columnCount + 1)
        which.reserveCapacity(columnCount + 1)
    }

    private func site(_ number: UInt64) throws -> Int {
        guard number < UInt64(local.count), local[Int(number)] != 0 else {
            throw BegawiError(.badBatch, "a snapshot row's stamp names a site the part does not list")
        }
        return local[Int(number)]
    }

    mutating func stamps(_ bytes: UnsafeRawBufferPointer, seq: Int64) throws {
        var r = RawReader(bytes: bytes, what: "snapshot row stamps")
        let mask = try r.varint()
        let count = try r.count(max: columnCount + 1)
        // The registers present, in order: the deleted register, then each column (bits beyond the columns are not registers).
        let columns: UInt64 = columnCount >= 62 ? ~3 : ((1 << UInt64(columnCount)) - 1) << 2
        let registers = (mask & 1) + UInt64((mask & columns).nonzeroBitCount)
        let canonical = (mask & 1 != 0 ? mask & 3 : 0) | (mask & columns)
        out.removeAll()
        out.varint(canonical)
        if count == 1 {
            // Every register under one stamp (a row written once): no register lists its pair.
            let clock = try r.varint(), mapped = try site(try r.varint()), counter = try r.varint()
            _ = try r.varint()
            maxClock = max(maxClock, clock)
            guard registers > 0 else { return out.varint(0) }
            out.varint(1)
            out.varint(clock)
            out.varint(UInt64(mapped))
            out.varint(counter)
            out.varint(UInt64(clamping: seq))
            return
        }
        pairs.removeAll(keepingCapacity: true)
        for _ in 0..<count {
            let clock = try r.varint(), mapped = try site(try r.varint()), counter = try r.varint()
            _ = try r.varint()
            pairs.append(Pair(clock: clock, site: mapped, counter: counter))
            maxClock = max(maxClock, clock)
        }
        distinct.removeAll(keepingCapacity: true)
        which.removeAll(keepingCapacity: true)
        for _ in 0..<registers {
            guard count > 0 else { throw BegawiError(.badBatch, "a snapshot row has registers without stamps") }
            let index = try r.count(max: count - 1)
            if let j = distinct.firstIndex(where: { pairs[$0] == pairs[index] }) {
                which.append(j)
            } else {
                which.append(distinct.count)
                distinct.append(index)
            }
        }
        out.varint(UInt64(distinct.count))
        for i in distinct {
            out.varint(pairs[i].clock)
            out.varint(UInt64(pairs[i].site))
            out.varint(pairs[i].counter)
            out.varint(UInt64(clamping: seq))
        }
        if distinct.count > 1 { for j in which { out.varint(UInt64(j)) } }
    }

    mutating func vector(_ bytes: UnsafeRawBufferPointer) throws {
        var r = RawReader(bytes: bytes, what: "snapshot row vector")
        let n = try r.count(max: 1 << 16)
        out.removeAll()
        out.varint(UInt64(n))
        var previous: Int?
        for _ in 0..<n {
            let number = try r.varint(), mapped = try site(number), counter = try r.varint()
            guard counter > 0, previous.map({ names[$0] < names[Int(number)] }) ?? true else {
                throw BegawiError(.badBatch, "a snapshot row's vector is not in site order")
            }
            previous = Int(number)
            out.varint(UInt64(mapped))
            out.varint(counter)
        }
    }

    /// Reads varints as `ByteReader` does, from the bytes SQLite holds (`ByteReader` reads an array: a copy per row).
    private struct RawReader {
        let bytes: UnsafeRawBufferPointer
        let what: String
        var offset = 0

        init(bytes: UnsafeRawBufferPointer, what: String) {
            self.bytes = bytes
            self.what = what
        }

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < bytes.count, shift < 64 else {
                    throw BegawiError(.badBatch, "the \(what) is truncated or malformed at byte \(offset); the pages bring the rows instead")
                }
                let b = bytes[offset]
                offset += 1
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }

        mutating func count(max limit: Int) throws -> Int {
            let v = try varint()
            guard v <= UInt64(limit) else {
                throw BegawiError(.badBatch, "the \(what) is truncated or malformed at byte \(offset); the pages bring the rows instead")
            }
            return Int(v)
        }
    }
}
