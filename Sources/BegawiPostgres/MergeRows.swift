import BegawiCore
import NIOCore
import PostgresNIO

/// A push's rows in `_begawi_rows`: locked together in key order, merged in memory, written back.
///
/// Locking: one upsert over the batch's keys, sorted, locks each row in that order, the rows
/// already there (`ON CONFLICT … DO UPDATE`, which locks as `FOR UPDATE` does) and new ones alike
/// (inserted as placeholders without a state, removed again if nothing merged into them). Every
/// push takes its rows in the same order, so two pushes touching the same rows wait for each
/// other and cannot deadlock; the feed's publisher skips rows a push holds (`SKIP LOCKED`).
struct MergeRows {
    /// One row's stored state and what the merge did to it.
    struct Entry {
        /// The merge state; nil for a row the hub does not hold.
        var state: RowState?
        /// Per register (0 the deleted register, i+1 column i) the feed position of its last change; 0 not yet published.
        var registerSeq: [Int64]
        /// The replica that holds the row whole (its own rows are not sent back to it).
        var origin: String?
        /// Whether the push changed it.
        var changed: Bool
    }

    var entries: [RowKey: Entry] = [:]
    /// Every key the batch names, in locking order.
    let keys: [RowKey]

    /// Locks the batch's rows (see the type's comment) and reads their state.
    static func lock(_ batch: ChangeBatch, schema: Schema, on link: PostgresLink) throws -> MergeRows {
        var named = Set<RowKey>()
        for row in batch.rows {
            named.insert(RowKey(table: batch.tables[row.table].name, key: row.key))
        }
        let keys = named.sorted { ($0.table, $0.key) < ($1.table, $1.key) }
        var rows = MergeRows(keys: keys)
        guard !keys.isEmpty else { return rows }
        let counts = Dictionary(schema.tables.map { ($0.name, $0.columns.count) }, uniquingKeysWith: { a, _ in a })
        var bindings = PostgresBindings()
        bindings.append(keys.map(\.table))
        bindings.append(keys.map(\.key))
        // WITH ORDINALITY and ORDER BY: the rows are inserted, and locked, in the sorted order.
        let locked = try link.query(PostgresQuery(unsafeSQL: """
            INSERT INTO _begawi_rows (tbl, key)
            SELECT tbl, key FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(tbl, key, n) ORDER BY n
            ON CONFLICT (tbl, key) DO UPDATE SET tbl = EXCLUDED.tbl
            RETURNING tbl, key, state, register_seq, origin
            """, binds: bindings))
        for row in locked {
            let (table, key, state, registerSeq, origin) = try PostgresHubStore.decode("_begawi_rows") {
                try row.decode((String, String, ByteBuffer?, [Int64], String?).self)
            }
            guard let columnCount = counts[table] else { continue }
            let decoded = try state.map { try MergeState.decode(Array($0.readableBytesView), columnCount: columnCount) }
            rows.entries[RowKey(table: table, key: key)] = Entry(state: decoded, registerSeq: registerSeq, origin: origin, changed: false)
        }
        return rows
    }

    /// Writes the changed rows' merge state (each waits for the next publish, which gives it a new
    /// position; readers keep the version last published until then) and values, and
    /// removes the placeholders of rows nothing merged into.
    func write(schema: Schema, on link: PostgresLink) throws {
        let changed = keys.filter { entries[$0]?.changed == true }
        let unused = keys.filter { entries[$0]?.changed != true && entries[$0]?.state == nil }
        try Self.removePlaceholders(unused, on: link)
        guard !changed.isEmpty else { return }
        var bindings = PostgresBindings()
        bindings.append(changed.map(\.table))
        bindings.append(changed.map(\.key))
        bindings.append(changed.map { ByteBuffer(bytes: MergeState.encode(entries[$0]!.state!)) })
        // Arrays of arrays and of NULLs do not bind: register positions travel as array literals, no origin as ''.
        bindings.append(changed.map { "{" + entries[$0]!.registerSeq.map(String.init).joined(separator: ",") + "}" })
        bindings.append(changed.map { entries[$0]!.origin ?? "" })
        try link.query(PostgresQuery(unsafeSQL: """
            UPDATE _begawi_rows r SET state = u.state, register_seq = u.seqs::bigint[], origin = nullif(u.origin, ''),
                pending = true, xid = pg_current_xact_id()
            FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[]) AS u(tbl, key, state, seqs, origin)
            WHERE r.tbl = u.tbl AND r.key = u.key
            """, binds: bindings))
        for table in schema.tables {
            let rows = changed.filter { $0.table == table.name }.map { key in
                let state = entries[key]!.state!
                // A column the row has no write of (added later, or unknown to the sender) holds its default.
                let values = zip(state.columns, table.columns).map { $0?.value ?? $1.absentValue }
                return (key: key.key, values: values, live: state.isLive)
            }
            if !rows.isEmpty { try SyncedTables.write(rows, table: table, on: link) }
        }
    }
}

extension MergeRows {
    /// Deletes the placeholders (rows without a state, made to be locked) among `keys`; rows with a
    /// state are left as they are. Nothing is asked of the server when `keys` is empty.
    static func removePlaceholders(_ keys: some Collection<RowKey>, on link: PostgresLink) throws {
        guard !keys.isEmpty else { return }
        var bindings = PostgresBindings()
        bindings.append(keys.map(\.table))
        bindings.append(keys.map(\.key))
        try link.query(PostgresQuery(unsafeSQL: """
            DELETE FROM _begawi_rows r USING unnest($1::text[], $2::text[]) AS u(tbl, key)
            WHERE r.tbl = u.tbl AND r.key = u.key AND r.state IS NULL
            """, binds: bindings))
    }
}
