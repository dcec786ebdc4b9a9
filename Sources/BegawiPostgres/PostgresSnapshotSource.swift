import BegawiCore
import BegawiHub
import BegawiReplica
import NIOCore
import PostgresNIO

/// The rows of one snapshot part as the hub's PostgreSQL database holds them, for
/// `SnapshotPartWriter` to write into the part file a SQLite hub writes (the sites adopt either).
///
/// Reads in a REPEATABLE READ transaction of its own: the feed's head first, then the rows, all as
/// of one snapshot; the transaction ends before the rows are handed over, so that the part's
/// writing (seconds for 50,000 rows) never holds a transaction open, idle, on the server (its
/// `idle_in_transaction_session_timeout` would end the session). Each row is its published copy (`pub_state`, the state readers take at the
/// row's place in the feed), so everything the part holds was published at or before the head, and
/// everything published later has a position above it (docs/postgresql.md, "Snapshot parts").
struct PostgresSnapshotSource: SnapshotRowSource {
    /// The hub's epoch, named in the part.
    let epoch: String
    /// A session, outside any transaction.
    let link: PostgresLink
    /// The site's replica: rows it holds whole are left out, as a pull leaves them out.
    let receiver: String?
    /// Whether the site the part is for may see a row of `r` (`PostgresHubStore.visibleRowsFilter`,
    /// "true" without rules): a part holds only what the site's pulls would give it.
    let visible: String
    /// `PostgresHubStore.byteOrder`: nothing, or `COLLATE "C"` on a database of another collation.
    let byteOrder: String

    /// Reads the head, then up to `maxRows` published rows of `table` after `afterKey` in byte order
    /// of their keys (the order SQLite compares text in), and hands over each row not held whole by
    /// the receiver with its merge state in a replica's encoding, site numbers local to this part.
    ///
    /// The rows come framed in a few results of up to `PostgresHubStore.snapshotChunkRows` rows each
    /// (`snapshotChunks`), not one result row each: postgres-nio's work per result row (its
    /// messages, a `PostgresRow`, the array of them, a generic decode) was a fifth of the hub's CPU
    /// for a part. Each state is read in place (`SnapshotStateTranscoder`).
    func read(table: TableSpec, after afterKey: String?, maxRows: Int, row: (SnapshotRow) throws -> Void) throws -> SnapshotRowRead {
        let (head, chunks) = try link.transaction { link in
            // One snapshot for the head and the rows: every row is as of a position at most the head.
            try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            guard let headRow = try link.query("SELECT pos FROM _begawi_feed_head").first else {
                throw PostgresHubStore.damaged("the feed's head (_begawi_feed_head) is missing")
            }
            let pos = try PostgresHubStore.decode("_begawi_feed_head") { try headRow.decode(Int64.self) }
            guard let head = UInt64(exactly: pos) else { throw PostgresHubStore.damaged("the feed's head (_begawi_feed_head) is negative") }
            let rows = PostgresHubStore.snapshotRows(table: table.name, after: afterKey, limit: maxRows, receiver: receiver,
                                                     visible: visible, byteOrder: byteOrder)
            return (head, try link.query(PostgresHubStore.snapshotChunks(rows)).map { chunk in
                try PostgresHubStore.decode("_begawi_rows") { try chunk.decode(ByteBuffer.self) }
            })
        }
        var sites = SiteDirectory(rows: [])
        var transcoder = SnapshotStateTranscoder(columnCount: table.columns.count)
        var scanned = 0
        var lastKey: String?
        for chunk in chunks {
            try chunk.withUnsafeReadableBytes { framed in
                var rest = framed[...]
                while !rest.isEmpty {
                    guard let keyField = PostgresSnapshotSource.field(&rest), let keyBytes = keyField,
                          let state = PostgresSnapshotSource.field(&rest) else {
                        throw PostgresHubStore.damaged("a snapshot part's rows (_begawi_rows) came back malformed")
                    }
                    // As postgres-nio decodes text: the database's UTF-8 taken as it is.
                    let key = String(decoding: keyBytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
                    scanned += 1
                    lastKey = key
                    // No state: a row the receiver holds whole (it counts as read, as in SQLite's parts).
                    guard let state else { continue }
                    try hand(key: key, state: state, columnCount: table.columns.count, transcoder: &transcoder, sites: &sites, row: row)
                }
            }
        }
        var numbered: [Int64: String] = [:]
        for (number, name) in sites.sites.enumerated() where number > 0 { numbered[Int64(number)] = name }
        return SnapshotRowRead(position: head, sites: numbered, scanned: scanned, lastKey: lastKey)
    }

    /// Hands over the row `key` whose published state is `state`: read in place into the part's
    /// encoding, or, for a state that path does not take (damaged, or of a later schema), decoded
    /// whole, which says what is wrong with it.
    private func hand(key: String, state: UnsafeRawBufferPointer, columnCount: Int, transcoder: inout SnapshotStateTranscoder,
                      sites: inout SiteDirectory, row: (SnapshotRow) throws -> Void) throws {
        if let done = transcoder.transcode(state, sites: &sites) {
            try row(SnapshotRow(key: key, vector: done.vector, stamps: done.stamps, live: done.live, values: done.values))
            return
        }
        var record = RowRecord(columnCount: columnCount)
        record.state = try MergeState.decode(Array(state), columnCount: columnCount)
        let vector = record.encodeVector(sites: &sites)
        let stamps = record.encodeStamps(sites: &sites)
        try row(SnapshotRow(key: key, vector: vector, stamps: stamps, live: record.state.isLive,
                            values: record.state.columns.map { $0?.value ?? .null }))
    }

    /// One field of `snapshotChunks`' framing, taken off the front of `rest`: a 4-byte big-endian
    /// length and that many bytes, or 0xFFFFFFFF for NULL (`.some(nil)`); nil when the bytes end early.
    static func field(_ rest: inout Slice<UnsafeRawBufferPointer>) -> UnsafeRawBufferPointer?? {
        guard rest.count >= 4 else { return nil }
        var length: UInt32 = 0
        for b in rest.prefix(4) { length = length << 8 | UInt32(b) }
        rest = rest.dropFirst(4)
        if length == 0xFFFF_FFFF { return .some(nil) }
        guard UInt64(length) <= UInt64(rest.count) else { return nil }
        let n = Int(length)
        defer { rest = rest.dropFirst(n) }
        return .some(UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
    }
}

extension PostgresHubStore {
    /// The one statement that chooses a snapshot part's rows: `table`'s published rows after
    /// `after`, at most `limit`, in byte order of their keys, each as its key and its published
    /// state (NULL for a row `receiver` holds whole), among the rows the site may see (`visible`, a
    /// condition on `r.tbl` and `r.key` from `visibleRowsFilter`: under rules, a catalogue's rows
    /// and those `_hub_visibility` grants the site, read in the part's one snapshot).
    ///
    /// The keys in byte order, as SQLite and the part's reader compare them (`byteOrder`): on a
    /// database created with the C collation the keys' own order, which the primary key serves, so
    /// that a part reads its rows and no more; on another, `COLLATE "C"`, which no index serves: each
    /// part then sorts the table's remaining keys (docs/postgresql.md). Measured on a database of the
    /// C collation, 1,000,000 rows in parts of 50,000: with `COLLATE "C"` written always, the server
    /// scanned and sorted the rest of the table for every part (its plan: a sequential scan and a
    /// sort; 43.6 s of server CPU for the first sync).
    static func snapshotRows(table: String, after: String?, limit: Int, receiver: String?, visible: String, byteOrder: String) -> PostgresQuery {
        """
        SELECT r.key, CASE WHEN r.pub_origin = \(receiver)::text THEN NULL ELSE r.pub_state END FROM _begawi_rows r
        WHERE r.tbl = \(table) AND r.pos IS NOT NULL AND r.key\(unescaped: byteOrder) > \(after ?? "") AND \(unescaped: visible)
        ORDER BY r.key\(unescaped: byteOrder) LIMIT \(Int64(max(1, limit)))
        """
    }

    /// Rows framed into one result of `snapshotChunks`: few enough that a chunk of rows holding
    /// large values stays far below PostgreSQL's 1 GB for a value, many enough that postgres-nio's
    /// work per result row no longer counts.
    static let snapshotChunkRows = 1_000

    /// The rows `rows` (a `snapshotRows` statement: key, state) as a few results, each one `bytea` of
    /// up to `snapshotChunkRows` rows in byte order of their keys: per row, the key's UTF-8 and the
    /// state, each as a 4-byte big-endian length and its bytes (0xFFFFFFFF for a NULL state). The
    /// order is the keys' bytes (`bytea` compares bytes), both for cutting the chunks and within each,
    /// whatever order the rows came in; `PostgresSnapshotSource.field` reads it.
    static func snapshotChunks(_ rows: PostgresQuery) -> PostgresQuery {
        PostgresQuery(unsafeSQL: """
            SELECT string_agg(int4send(octet_length(k)) || k || coalesce(int4send(octet_length(s)) || s, '\\xffffffff'::bytea), ''::bytea ORDER BY k)
            FROM (SELECT k, s, (row_number() OVER (ORDER BY k) - 1) / \(snapshotChunkRows) AS chunk
                  FROM (SELECT convert_to(key, 'UTF8') AS k, state AS s FROM (\(rows.sql)) picked(key, state)) named) numbered
            GROUP BY chunk ORDER BY chunk
            """, binds: rows.binds)
    }

    /// `byteOrder` for the database `link` is in: nothing when its collation is libc's C (or
    /// POSIX), else ` COLLATE "C"`. An ICU database keeps `datcollate` from its template (C on a
    /// cluster made with `--locale=C`) while it sorts by its ICU locale: the provider is checked too
    /// (`datlocprovider`, PostgreSQL 15 and later).
    static func keyCollation(on link: PostgresLink) throws -> String {
        guard let row = try link.query("""
            SELECT datlocprovider = 'c' AND datcollate IN ('C', 'POSIX') FROM pg_database WHERE datname = current_database()
            """).first else {
            return #" COLLATE "C""#
        }
        return try decode("pg_database") { try row.decode(Bool.self) } ? "" : #" COLLATE "C""#
    }
}
