import BegawiCore
internal import CSQLite
internal import GRDB

/// A snapshot part's merge state put in this replica's terms by two SQL functions on the writer's
/// connection, so that a part's rows are adopted with `INSERT … SELECT` and no row objects:
/// `begawi_snapshot_stamps(stamps, seq)` renumbers the stamps' sites into this replica's directory and
/// gives every register the change sequence `seq` (pairs that then coincide become one, as
/// `RowRecord.encodeStamps` writes them); `begawi_snapshot_vector(vector)` renumbers a vector's sites.
/// A blob that does not parse fails the statement (the part is refused, the pages bring the rows).
final class SnapshotStamps {
    /// This replica's site number for each of the part's (0: a number the part's directory lacks).
    private let local: [Int]
    /// The part's site names by its numbers, to check that a vector is in the order this replica keeps.
    private let names: [String]
    private let columnCount: Int
    /// The greatest clock among the stamps rewritten: the replica's clock observes it.
    private(set) var maxClock: UInt64 = 0

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
        self.local = local
        self.names = names
        self.columnCount = columnCount
    }

    /// Registers both functions on `db` for the duration of `body`.
    func installed<T>(on db: Database, _ body: () throws -> T) throws -> T {
        let handle = db.sqliteConnection
        let context = Unmanaged.passUnretained(self).toOpaque()
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        sqlite3_create_function_v2(handle, Self.stampsFunction, 2, flags, context, { c, _, argv in
            SnapshotStamps.call(c, argv) { map, blob, args in try map.stamps(blob, seq: sqlite3_value_int64(args[1])) }
        }, nil, nil, nil)
        sqlite3_create_function_v2(handle, Self.vectorFunction, 1, flags, context, { c, _, argv in
            SnapshotStamps.call(c, argv) { map, blob, _ in try map.vector(blob) }
        }, nil, nil, nil)
        defer {
            sqlite3_create_function_v2(handle, Self.stampsFunction, 2, SQLITE_UTF8, nil, nil, nil, nil, nil)
            sqlite3_create_function_v2(handle, Self.vectorFunction, 1, SQLITE_UTF8, nil, nil, nil, nil, nil)
        }
        return try withExtendedLifetime(self) { try body() }
    }

    private static func call(_ c: OpaquePointer?, _ argv: UnsafeMutablePointer<OpaquePointer?>?,
                             _ rewrite: (SnapshotStamps, [UInt8], UnsafeMutablePointer<OpaquePointer?>) throws -> [UInt8]) {
        guard let argv, let data = sqlite3_user_data(c) else { return }
        let map = Unmanaged<SnapshotStamps>.fromOpaque(data).takeUnretainedValue()
        let count = Int(sqlite3_value_bytes(argv[0]))
        let bytes = count == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: sqlite3_value_blob(argv[0]), count: count))
        do {
            let out = try rewrite(map, bytes, argv)
            out.withUnsafeBytes { sqlite3_result_blob(c, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(out.count), begawi_sqlite_transient()) }
        } catch {
            sqlite3_result_error(c, "a snapshot row's merge state is malformed", -1)
        }
    }

    private func site(_ number: UInt64) throws -> Int {
        guard number < UInt64(local.count), local[Int(number)] != 0 else {
            throw BegawiError(.badBatch, "a snapshot row's stamp names a site the part does not list")
        }
        return Int(number)
    }

    /// The stamps blob (see `RowRecord`) with this replica's site numbers and `seq` for every register.
    func stamps(_ bytes: [UInt8], seq: Int64) throws -> [UInt8] {
        var r = ByteReader(bytes, what: "snapshot row stamps")
        let mask = try r.varint()
        let count = try r.count(max: columnCount + 1)
        var pairs: [(clock: UInt64, site: Int, counter: UInt64)] = []
        pairs.reserveCapacity(count)
        for _ in 0..<count {
            let clock = try r.varint(), number = try site(try r.varint()), counter = try r.varint()
            _ = try r.varint()
            pairs.append((clock, local[number], counter))
            maxClock = max(maxClock, clock)
        }
        // The registers present, in order: the deleted register, then each column (bits beyond the columns are not registers).
        let columns: UInt64 = columnCount >= 62 ? ~3 : ((1 << UInt64(columnCount)) - 1) << 2
        let registers = (mask & 1) + UInt64((mask & columns).nonzeroBitCount)
        let canonical = (mask & 1 != 0 ? mask & 3 : 0) | (mask & columns)
        var distinct: [Int] = []
        var which: [Int] = []
        which.reserveCapacity(Int(registers))
        for _ in 0..<registers {
            guard count > 0 else { throw BegawiError(.badBatch, "a snapshot row has registers without stamps") }
            let index = count == 1 ? 0 : try r.count(max: count - 1)
            let p = pairs[index]
            if let j = distinct.firstIndex(where: { pairs[$0] == p }) {
                which.append(j)
            } else {
                which.append(distinct.count)
                distinct.append(index)
            }
        }
        var w = ByteWriter(capacity: bytes.count + 8 * distinct.count)
        w.varint(canonical)
        w.varint(UInt64(distinct.count))
        for i in distinct {
            w.varint(pairs[i].clock)
            w.varint(UInt64(pairs[i].site))
            w.varint(pairs[i].counter)
            w.varint(UInt64(clamping: seq))
        }
        if distinct.count > 1 { for j in which { w.varint(UInt64(j)) } }
        return w.bytes
    }

    /// The vector blob with this replica's site numbers (its entries stay in site order, as `VersionVector` keeps them).
    func vector(_ bytes: [UInt8]) throws -> [UInt8] {
        var r = ByteReader(bytes, what: "snapshot row vector")
        let n = try r.count(max: 1 << 16)
        var w = ByteWriter(capacity: bytes.count + 4)
        w.varint(UInt64(n))
        var previous: String?
        for _ in 0..<n {
            let number = try site(try r.varint()), counter = try r.varint()
            guard counter > 0, previous.map({ $0 < names[number] }) ?? true else {
                throw BegawiError(.badBatch, "a snapshot row's vector is not in site order")
            }
            previous = names[number]
            w.varint(UInt64(local[number]))
            w.varint(counter)
        }
        return w.bytes
    }
}
