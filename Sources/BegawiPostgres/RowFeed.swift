import BegawiCore
import PostgresNIO

/// The hub's feed on `_begawi_rows`: a changed row waits (`pending`, its changed registers 0) until
/// a publisher gives it the next position and copies its state to the published columns (`pub_*`).
/// Readers page by `pos > cursor` and take the published state.
///
/// Why readers take a published copy rather than the row as pushed: a row changed again must stay
/// in the feed at its old position, with its old state, until it gets the new one. Hidden in
/// between (an earlier version of this store set `pos` to NULL), a reader could complete a page
/// past the old position without the row and raise its base over registers it never received;
/// the concurrent push test caught a reader missing values so. With the copy, the published
/// state moves as a SQLite replica's does in one transaction: the base keeps its meaning.
///
/// No reader skips a row, for the reasons `PostgresFeed` gives: publishers take turns on the feed's
/// head (`FOR UPDATE`, taken in a statement of its own), so the statement that gives positions
/// sees every position given before and gives larger ones only, and a publish's positions become
/// visible together. A reader that sees a position therefore sees every smaller one, and a row
/// published later gets a position above any a reader has seen.
///
/// Without the fence: a row gets a position as soon as its push has committed and a publisher
/// sees it, not once every older transaction on the server has ended. `PostgresFeed`'s comment and
/// docs/postgresql.md say why the fence is not what keeps readers from skipping, and what it costs
/// (one long transaction anywhere on the server would hold every site's feed). Rows a push holds
/// locked are skipped (`SKIP LOCKED`): the push publishes them itself after its commit.
enum RowFeed {
    /// Publishes every row waiting, `limit` at a time (a first push of many rows waits for no later
    /// publish); stops when another session holds the turn. Returns how many rows got positions.
    @discardableResult
    static func publishAll(limit: Int = 10_000, on link: PostgresLink) throws -> Int {
        var total = 0
        while true {
            let placed = try publish(limit: limit, on: link)
            total += placed
            if placed < limit { return total }
        }
    }

    /// Gives new positions to at most `limit` committed rows changed since published, in (transaction, table, key)
    /// order, and sets their changed registers' positions to the row's; returns how many. 0 also
    /// when another session is publishing.
    @discardableResult
    static func publish(limit: Int = 10_000, on link: PostgresLink) throws -> Int {
        // A read first: locking the head takes a transaction id, and polls of an idle feed would spend them.
        // ORDER BY the partial index's columns: with statistics taken while most rows waited, the
        // planner otherwise scans the whole table for a row that is not there (43 ms at 20,000 rows).
        let ready = try link.query("""
            SELECT EXISTS (SELECT 1 FROM _begawi_rows WHERE pending AND state IS NOT NULL ORDER BY xid LIMIT 1)
                OR EXISTS (SELECT 1 FROM _hub_feed WHERE pos IS NULL ORDER BY xid LIMIT 1)
            """)
        guard let row = ready.first, try PostgresHubStore.decode("_begawi_rows", { try row.decode(Bool.self) }) else { return 0 }
        return try link.transaction { link in
            guard let head = try link.query("SELECT pos FROM _begawi_feed_head FOR UPDATE SKIP LOCKED").first else { return 0 }
            let start = try PostgresHubStore.decode("_begawi_feed_head") { try head.decode(Int64.self) }
            // A new statement, so a new snapshot: it sees the positions the previous publisher committed.
            // Rows, then the visibility events of the same transaction (`_hub_feed`, in the order
            // they were recorded): one order, so that a grant follows the row it grants.
            let rows = try link.query("""
                WITH waiting AS (
                    SELECT tbl, key, xid FROM _begawi_rows
                    WHERE pending AND state IS NOT NULL
                    ORDER BY xid, tbl, key LIMIT \(Int64(max(1, limit)))
                    FOR UPDATE SKIP LOCKED),
                events AS (SELECT id, xid FROM _hub_feed WHERE pos IS NULL ORDER BY xid, id LIMIT \(Int64(max(1, limit))) FOR UPDATE SKIP LOCKED),
                ordered AS (
                    SELECT xid, 0 AS class, tbl, key, 0::bigint AS id FROM waiting
                    UNION ALL SELECT xid, 1, '', '', id FROM events),
                ready AS (SELECT class, tbl, key, id, row_number() OVER (ORDER BY xid, class, tbl, key, id) AS n FROM ordered),
                placed AS (
                    UPDATE _begawi_rows r SET pos = \(start) + ready.n, pending = false,
                        register_seq = array_replace(r.register_seq, 0::bigint, \(start) + ready.n),
                        pub_seq = array_replace(r.register_seq, 0::bigint, \(start) + ready.n), pub_state = r.state, pub_origin = r.origin
                    FROM ready WHERE ready.class = 0 AND r.tbl = ready.tbl AND r.key = ready.key
                    RETURNING r.pos),
                marked AS (
                    UPDATE _hub_feed f SET pos = \(start) + ready.n FROM ready WHERE ready.class = 1 AND f.id = ready.id
                    RETURNING f.pos)
                UPDATE _begawi_feed_head SET pos = (SELECT coalesce(max(pos), \(start)) FROM (SELECT pos FROM placed UNION ALL SELECT pos FROM marked) AS p)
                RETURNING (SELECT count(*) FROM placed) + (SELECT count(*) FROM marked)
                """)
            guard let row = rows.first else { return 0 }
            let placed = Int(clamping: try PostgresHubStore.decode("_begawi_feed_head") { try row.decode(Int64.self) })
            // Delivered at the commit, to every hub process listening (`PostgresFeedListener`).
            if placed > 0 { try link.query("NOTIFY begawi_feed") }
            return placed
        }
    }
}
