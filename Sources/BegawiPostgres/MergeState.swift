import BegawiCore

/// A row's merge state as `_begawi_rows.state` keeps it: BegawiCore's `RowState` whole, values
/// included, so that a push's merge and a pull's page read one row of one table.
///
/// Why the values live here and not only in the synced tables (docs/postgresql.md): a PostgreSQL
/// column holds one type, a SQLite column any value (type affinity), so a value a site sends does
/// not always fit its column's type; the merge state keeps it exactly, and the synced tables are
/// the office's readable copy. Site ids are written as text (no site directory, which several
/// processes would have to share).
///
/// Layout: the vector (count, then site and counter per entry), the deleted register, then the
/// column count and each column's register; a register is a presence byte, then its value
/// (`BatchCodec`'s encoding), clock, site and counter.
enum MergeState {
    /// The state's bytes.
    static func encode(_ state: RowState) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.varint(UInt64(state.vector.entries.count))
        for entry in state.vector.entries {
            w.string(entry.site)
            w.varint(entry.counter)
        }
        register(state.deleted, into: &w)
        w.varint(UInt64(state.columns.count))
        for column in state.columns { register(column, into: &w) }
        return w.bytes
    }

    /// A state read back, fitted to a table of `columnCount` columns (a later schema version adds
    /// columns: their registers are absent). Bytes the store did not write are a damaged database.
    static func decode(_ bytes: [UInt8], columnCount: Int) throws -> RowState {
        do {
            return try read(bytes, columnCount: columnCount)
        } catch let newer as NewerSchema {
            throw newer
        } catch {
            throw BegawiError(.corrupted, "a row's merge state (_begawi_rows.state) in the hub's PostgreSQL database cannot be read; restore the database from a backup (pg_dump)",
                              cause: (error as? BegawiError)?.message ?? "\(type(of: error))")
        }
    }

    private static func read(_ bytes: [UInt8], columnCount: Int) throws -> RowState {
        var r = ByteReader(bytes, what: "a row's merge state (_begawi_rows.state)")
        var state = RowState(columnCount: columnCount)
        let entries = try r.count(max: 1 << 16)
        var pairs: [(String, UInt64)] = []
        pairs.reserveCapacity(entries)
        for _ in 0..<entries { pairs.append((try r.string(), try r.varint())) }
        state.vector = VersionVector(pairs)
        state.deleted = try register(&r)
        let columns = try r.count(max: TableSpec.maximumColumns + 1)
        // Written by a process that knows a later schema version: merged or paged with this one's
        // tables, its later columns would be lost. The caller reads the published versions again.
        guard columns <= columnCount else { throw NewerSchema() }
        for i in 0..<columns {
            let column = try register(&r)
            if i < columnCount { state.columns[i] = column }
        }
        guard r.atEnd else { throw BegawiError(.corrupted, "a row's merge state (_begawi_rows.state) has bytes after its end") }
        return state
    }

    private static func register(_ register: Register?, into w: inout ByteWriter) {
        guard let register else {
            w.byte(0)
            return
        }
        w.byte(1)
        BatchCodec.encode(register.value, into: &w)
        w.varint(register.stamp.clock.rawValue)
        w.string(register.stamp.site)
        w.varint(register.stamp.counter)
    }

    private static func register(_ r: inout ByteReader) throws -> Register? {
        switch try r.byte() {
        case 0: return nil
        case 1:
            let value = try BatchCodec.decodeValue(&r)
            let clock = HybridTimestamp(rawValue: try r.varint())
            return Register(value: value, stamp: Stamp(clock: clock, site: try r.string(), counter: try r.varint()))
        default:
            throw BegawiError(.corrupted, "a row's merge state (_begawi_rows.state) holds an unknown register marker")
        }
    }
}

/// A row's merge state written under a later schema version than the process holds: it reads the
/// published versions again (`refresh`) and tries once more.
struct NewerSchema: Error {}
