package import BegawiCore
internal import GRDB

/// The stored merge state of one row (`_begawi_rows`): its vector and register stamps, and for each
/// register the local sequence number of its last change. Values live in the table itself (live rows)
/// or in its `_begawi_dead_` twin (deleted rows), not here.
///
/// Stamps blob: a presence mask (bit 0 the deleted register, bit 1 its value, bit i+2 column i), the
/// distinct (stamp, sequence) pairs, then, when there is more than one, each register's pair index.
/// Most rows hold one or two distinct writes, so a row's metadata stays a few dozen bytes.
package struct RowRecord {
    var seq: UInt64
    package var state: RowState
    /// Local change sequence per register: index 0 the deleted register, i+1 column i.
    var registerSeq: [UInt64]
    /// The number of another replica (`_begawi_peers.id`) known to hold this row's whole state, so that
    /// exports to it may skip the row; nil once a local write or a merge gives this replica something
    /// that replica lacks. A value below -1 marks a row born here that no other replica's change has
    /// reached since (see `bornAt`). Stored in `_begawi_rows.origin`.
    var heldWholeBy: Int64?

    /// For a row born in this replica and written only here since, the change sequence of its birth:
    /// a receiver whose cursor is before it never had any version of the row. Kept in `heldWholeBy`
    /// (as -2 - seq), which names a replica only for rows another replica's change reached.
    var bornAt: UInt64? {
        guard let heldWholeBy, heldWholeBy <= -2 else { return nil }
        return UInt64(-(heldWholeBy + 2))
    }

    /// Marks the row as born here at `seq`.
    mutating func markBorn(at seq: UInt64) {
        heldWholeBy = -2 - Int64(clamping: min(seq, UInt64(Int64.max - 2)))
    }

    package init(columnCount: Int) {
        seq = 0
        state = RowState(columnCount: columnCount)
        registerSeq = Array(repeating: 0, count: columnCount + 1)
    }

    package func encodeStamps(sites: inout SiteDirectory) -> [UInt8] {
        var mask: UInt64 = 0
        if let d = state.deleted {
            mask |= 1
            if d.value == RowState.deletedMarker { mask |= 2 }
        }
        for i in state.columns.indices where state.columns[i] != nil { mask |= 1 << UInt64(i + 2) }
        // Distinct (stamp, sequence) pairs in register order; usually one (an insert) or two.
        var distinct: [(stamp: Stamp, seq: UInt64)] = []
        var which: [UInt8] = []
        var w = ByteWriter(capacity: 64)
        w.varint(mask)
        if let only = RowRecord.singleStamp(state, registerSeq) {
            distinct = [only]
        } else {
            which.reserveCapacity(state.columns.count + 1)
            var registers: [(Stamp, UInt64)] = []
            registers.reserveCapacity(state.columns.count + 1)
            if let d = state.deleted { registers.append((d.stamp, registerSeq[0])) }
            for i in state.columns.indices {
                if let r = state.columns[i] { registers.append((r.stamp, registerSeq[i + 1])) }
            }
            for (stamp, seq) in registers {
                var found = -1
                for j in distinct.indices where distinct[j].seq == seq && distinct[j].stamp == stamp {
                    found = j
                    break
                }
                if found < 0 {
                    found = distinct.count
                    distinct.append((stamp, seq))
                }
                which.append(UInt8(truncatingIfNeeded: found))
            }
        }
        w.varint(UInt64(distinct.count))
        for (stamp, seq) in distinct {
            w.varint(stamp.clock.rawValue)
            w.varint(UInt64(sites.id(for: stamp.site)))
            w.varint(stamp.counter)
            w.varint(seq)
        }
        if distinct.count > 1 { for i in which { w.varint(UInt64(i)) } }
        return w.bytes
    }

    /// The one (stamp, sequence) pair all registers share, if they do (as after an insert).
    static func singleStamp(_ state: RowState, _ registerSeq: [UInt64]) -> (stamp: Stamp, seq: UInt64)? {
        var first: (stamp: Stamp, seq: UInt64)?
        if let d = state.deleted { first = (d.stamp, registerSeq[0]) }
        for i in state.columns.indices {
            guard let r = state.columns[i] else { continue }
            if let f = first {
                guard f.seq == registerSeq[i + 1], f.stamp.counter == r.stamp.counter, f.stamp.clock == r.stamp.clock,
                      f.stamp.site == r.stamp.site else { return nil }
            } else {
                first = (r.stamp, registerSeq[i + 1])
            }
        }
        return first
    }

    package func encodeVector(sites: inout SiteDirectory) -> [UInt8] {
        var w = ByteWriter(capacity: 2 + 12 * state.vector.entries.count)
        w.varint(UInt64(state.vector.entries.count))
        for e in state.vector.entries {
            w.varint(UInt64(sites.id(for: e.site)))
            w.varint(e.counter)
        }
        return w.bytes
    }

    /// Decodes a stored record; register values are left `.null` until loaded from the table.
    static func decode(seq: UInt64, stamps: [UInt8], vector: [UInt8], columnCount: Int, sites: SiteDirectory) throws -> RowRecord {
        var record = RowRecord(columnCount: columnCount)
        record.seq = seq
        var v = ByteReader(vector, what: "stored row vector")
        let n = try v.count(max: 1 << 16)
        var pairs: [(String, UInt64)] = []
        pairs.reserveCapacity(n)
        for _ in 0..<n { pairs.append((try sites.site(for: Int(clamping: try v.varint())), try v.varint())) }
        record.state.vector = VersionVector(pairs)
        var r = ByteReader(stamps, what: "stored row stamps")
        let mask = try r.varint()
        let count = try r.count(max: columnCount + 1)
        var distinct: [(Stamp, UInt64)] = []
        for _ in 0..<count {
            let clock = HybridTimestamp(rawValue: try r.varint())
            let site = try sites.site(for: Int(clamping: try r.varint()))
            let counter = try r.varint()
            distinct.append((Stamp(clock: clock, site: site, counter: counter), try r.varint()))
        }
        func next() throws -> (Stamp, UInt64) {
            guard !distinct.isEmpty else { throw BegawiError(.corrupted, "a stored row has registers without stamps; restore the replica from a backup") }
            return count == 1 ? distinct[0] : distinct[try r.count(max: count - 1)]
        }
        if mask & 1 != 0 {
            let (stamp, seq) = try next()
            record.state.deleted = Register(value: mask & 2 != 0 ? RowState.deletedMarker : RowState.liveMarker, stamp: stamp)
            record.registerSeq[0] = seq
        }
        for i in 0..<columnCount where mask & (1 << UInt64(i + 2)) != 0 {
            let (stamp, seq) = try next()
            record.state.columns[i] = Register(value: .null, stamp: stamp)
            record.registerSeq[i + 1] = seq
        }
        return record
    }
}

/// The replica's mapping between site ids and the small integers its stored stamps use.
package struct SiteDirectory {
    private(set) var ids: [String: Int] = [:]
    package private(set) var sites: [String] = [""]
    /// Sites added since the last save.
    private(set) var added: [(Int, String)] = []
    private var lastSite = ""
    private var lastID = 0

    /// The directory stored in the replica.
    static func load(_ db: Database) throws -> SiteDirectory {
        let rows: [(Int, String)] = try Row.fetchAll(db, sql: "SELECT id, site FROM _begawi_sites").map { ($0[0], $0[1]) }
        // Ids index an array: one out of range (a hand-edited file) must not trap or fill memory.
        guard rows.allSatisfy({ (1...SiteDirectory.maxID).contains($0.0) }) else {
            throw BegawiError(.corrupted, "the replica's site directory holds an id outside 1–\(SiteDirectory.maxID); restore the file from a backup")
        }
        return SiteDirectory(rows: rows)
    }

    /// The largest site id a replica may hold: far more sites than any hub serves.
    static let maxID = 1 << 20

    package init(rows: [(Int, String)]) {
        for (id, site) in rows.sorted(by: { $0.0 < $1.0 }) {
            while sites.count < id { sites.append("") }
            if sites.count == id { sites.append(site) } else { sites[id] = site }
            ids[site] = id
        }
    }

    package mutating func id(for site: String) -> Int {
        if site == lastSite, lastID != 0 { return lastID }
        let id: Int
        if let known = ids[site] {
            id = known
        } else {
            id = sites.count
            sites.append(site)
            ids[site] = id
            added.append((id, site))
        }
        lastSite = site
        lastID = id
        return id
    }

    func site(for id: Int) throws -> String {
        guard id > 0, id < sites.count, !sites[id].isEmpty else {
            throw BegawiError(.corrupted, "the replica's stored stamps name an unknown site; restore the file from a backup")
        }
        return sites[id]
    }

    mutating func takeAdded() -> [(Int, String)] {
        defer { added = [] }
        return added
    }
}
