import BegawiCore

/// The stored merge state of one row (`_begawi_rows`): its vector and register stamps, and for each
/// register the local sequence number of its last change. Values live in the table itself (live rows)
/// or in its `_begawi_dead_` twin (deleted rows), not here.
struct RowRecord {
    var seq: UInt64
    var state: RowState
    /// Local change sequence per register: index 0 the deleted register, i+1 column i.
    var registerSeq: [UInt64]

    init(columnCount: Int) {
        seq = 0
        state = RowState(columnCount: columnCount)
        registerSeq = Array(repeating: 0, count: columnCount + 1)
    }

    /// Encodes the stamps blob: a presence mask, then per register clock, site, counter and sequence.
    func encodeStamps(sites: inout SiteDirectory) -> [UInt8] {
        var w = ByteWriter()
        var mask: UInt64 = 0
        if let d = state.deleted {
            mask |= 1
            if d.value == RowState.deletedMarker { mask |= 2 }
        }
        for (i, r) in state.columns.enumerated() where r != nil { mask |= 1 << UInt64(i + 2) }
        w.varint(mask)
        func put(_ stamp: Stamp, _ seq: UInt64) {
            w.varint(stamp.clock.rawValue)
            w.varint(UInt64(sites.id(for: stamp.site)))
            w.varint(stamp.counter)
            w.varint(seq)
        }
        if let d = state.deleted { put(d.stamp, registerSeq[0]) }
        for (i, r) in state.columns.enumerated() {
            if let r { put(r.stamp, registerSeq[i + 1]) }
        }
        return w.bytes
    }

    func encodeVector(sites: inout SiteDirectory) -> [UInt8] {
        var w = ByteWriter()
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
        for _ in 0..<n {
            let site = try sites.site(for: Int(try v.varint()))
            record.state.vector.raise(site, to: try v.varint())
        }
        var r = ByteReader(stamps, what: "stored row stamps")
        let mask = try r.varint()
        func get() throws -> (Stamp, UInt64) {
            let clock = HybridTimestamp(rawValue: try r.varint())
            let site = try sites.site(for: Int(try r.varint()))
            let counter = try r.varint()
            let seq = try r.varint()
            return (Stamp(clock: clock, site: site, counter: counter), seq)
        }
        if mask & 1 != 0 {
            let (stamp, seq) = try get()
            record.state.deleted = Register(value: mask & 2 != 0 ? RowState.deletedMarker : RowState.liveMarker, stamp: stamp)
            record.registerSeq[0] = seq
        }
        for i in 0..<columnCount where mask & (1 << UInt64(i + 2)) != 0 {
            let (stamp, seq) = try get()
            record.state.columns[i] = Register(value: .null, stamp: stamp)
            record.registerSeq[i + 1] = seq
        }
        return record
    }
}

/// The replica's mapping between site ids and the small integers its stored stamps use.
struct SiteDirectory {
    private(set) var ids: [String: Int] = [:]
    private(set) var sites: [String] = [""]
    /// Sites added since the last save.
    private(set) var added: [(Int, String)] = []

    init(rows: [(Int, String)]) {
        for (id, site) in rows.sorted(by: { $0.0 < $1.0 }) {
            while sites.count < id { sites.append("") }
            if sites.count == id { sites.append(site) } else { sites[id] = site }
            ids[site] = id
        }
    }

    mutating func id(for site: String) -> Int {
        if let id = ids[site] { return id }
        let id = sites.count
        sites.append(site)
        ids[site] = id
        added.append((id, site))
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
