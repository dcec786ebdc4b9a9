import BegawiCore
@testable import BegawiPostgres
import NIOCore
import PostgresNIO

/// A change feed on PostgreSQL that never skips: readers page by one number, and every change
/// below a reader's cursor was visible to it before the cursor passed it.
///
/// Kept in the tests as the reference of the argument the hub's row feed (`RowFeed`) rests on, with
/// the fence the issue proposed, which the store does not use (docs/postgresql.md, "The feed:
/// positions given behind a fence"): `PostgresFeedTests` show that turn-taking publishers never let
/// a reader skip, and that a reader paging by the writers' own numbers does.
///
/// Writers record changes inside their own transactions (`record`), each with the writer's
/// transaction id (`pg_current_xact_id()`). `publish` gives positions; readers take changes by
/// position (`read`). Why no reader can skip a change:
///
/// 1. Publishers take turns on the feed's head row (`FOR UPDATE`), locked in a statement of its
///    own: the statement that gives positions then runs on a snapshot taken after the previous
///    publisher committed, sees every position given so far, and gives only larger ones.
/// 2. So positions become visible in increasing order: when a publish commits positions above
///    head `h`, every position up to `h` was committed before it began. A reader that sees a
///    position sees every smaller one.
/// 3. A position goes only to a change the publisher sees, hence committed, and only once. Every
///    change published later gets a position above the head of its time, hence above any
///    position a reader has seen: a cursor never passes a change it did not take.
///
/// The fence decides which committed changes get positions: those whose transaction id is below
/// `pg_snapshot_xmin` of the publishing statement's snapshot. Every transaction with a smaller id
/// has ended, and ids are handed out in increasing order, so no change can still appear below
/// the fence: positions follow transaction order, and a change is delivered only once every
/// older transaction has ended. The fence alone would not make one-number paging safe: filtering
/// `xid < fence` while paging by the writers' own numbers still skips (a transaction takes id 5
/// and waits while another takes 6 and commits; a reader takes 6, and 5 commits behind its
/// cursor: the tests' canary shows it with no fence at all). The turn-taking publisher is what
/// keeps the cursor one number (`ExchangeCursor.seq`); a run with the fence removed still
/// delivered every change once. What the fence costs: a change waits for the oldest transaction
/// open on the whole server when it was written. A long transaction delays delivery, never
/// reorders or loses it; the sessions' statement and idle-in-transaction timeouts bound Begawi's
/// own, and `lag` shows any (a forgotten prepared transaction too). docs/postgresql.md weighs
/// keeping it. Each change is written twice: inserted, then given its position.
struct PostgresFeed: Sendable {
    /// Makes the feed's handle; its tables are made by `install`.
    init() {}

    /// Makes the feed's tables when missing; several processes may call it at once.
    func install(on link: PostgresLink) throws {
        try link.transaction { link in
            // CREATE … IF NOT EXISTS is not safe against itself in another session: take turns.
            try link.query("SELECT pg_advisory_xact_lock(7301946)")
            try link.query("""
                CREATE TABLE IF NOT EXISTS _begawi_changes (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
                    pos bigint UNIQUE,
                    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    body bytea NOT NULL)
                """)
            try link.query("CREATE INDEX IF NOT EXISTS _begawi_changes_pending ON _begawi_changes (xid, id) WHERE pos IS NULL")
            try link.query("""
                CREATE TABLE IF NOT EXISTS _begawi_feed_head (
                    one boolean PRIMARY KEY DEFAULT true CHECK (one),
                    pos bigint NOT NULL)
                """)
            try link.query("INSERT INTO _begawi_feed_head (one, pos) VALUES (true, 0) ON CONFLICT DO NOTHING")
        }
    }

    /// Records a change in the link's open transaction (or on its own); returns its id.
    @discardableResult
    func record(_ body: [UInt8], on link: PostgresLink) throws -> Int64 {
        let rows = try link.query("INSERT INTO _begawi_changes (body) VALUES (\(ByteBuffer(bytes: body))) RETURNING id")
        guard let row = rows.first else { throw PostgresFailure.error(Missing(), doing: "recording a change") }
        return try decode(row, as: Int64.self)
    }

    /// Gives positions, in (transaction id, id) order, to at most `limit` changes below the fence;
    /// returns how many. 0 also when another session is publishing: its changes come with its commit.
    @discardableResult
    func publish(limit: Int = 10_000, on link: PostgresLink) throws -> Int {
        // A read first: locking the head takes a transaction id, and an idle feed polled every
        // second would spend one per poll.
        let ready = try link.query("""
            SELECT EXISTS (SELECT 1 FROM _begawi_changes WHERE pos IS NULL AND xid < pg_snapshot_xmin(pg_current_snapshot()))
            """)
        guard let row = ready.first, try decode(row, as: Bool.self) else { return 0 }
        return try link.transaction { link in
            guard let head = try link.query("SELECT pos FROM _begawi_feed_head FOR UPDATE SKIP LOCKED").first else { return 0 }
            let start = try decode(head, as: Int64.self)
            // A new statement, so a new snapshot: it sees the positions the previous publisher committed.
            let rows = try link.query("""
                WITH fence AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
                ready AS (
                    SELECT c.id, row_number() OVER (ORDER BY c.xid, c.id) AS n
                    FROM _begawi_changes c, fence
                    WHERE c.pos IS NULL AND c.xid < fence.xmin
                    ORDER BY c.xid, c.id
                    LIMIT \(max(1, limit))),
                placed AS (
                    UPDATE _begawi_changes c SET pos = \(start) + ready.n
                    FROM ready, fence
                    WHERE c.id = ready.id AND c.pos IS NULL AND c.xid < fence.xmin
                    RETURNING c.pos)
                UPDATE _begawi_feed_head SET pos = (SELECT coalesce(max(pos), \(start)) FROM placed)
                RETURNING (SELECT count(*) FROM placed)
                """)
            guard let row = rows.first else { return 0 }
            return Int(clamping: try decode(row, as: Int64.self))
        }
    }

    /// The changes after `cursor`, in position order, at most `limit` of them.
    func read(after cursor: UInt64, limit: Int, on link: PostgresLink) throws -> [FeedChange] {
        guard let after = Int64(exactly: cursor) else {
            throw BegawiError(.invalidArgument, "a feed cursor is at most \(Int64.max)")
        }
        let rows = try link.query("""
            SELECT pos, id, body FROM _begawi_changes WHERE pos > \(after) ORDER BY pos LIMIT \(max(1, limit))
            """)
        return try rows.map { row in
            let (pos, id, body) = try decodeChange(row)
            guard let position = UInt64(exactly: pos) else { throw PostgresFailure.error(Missing(), doing: "reading the feed") }
            return FeedChange(position: position, id: id, body: Array(body.readableBytesView))
        }
    }

    /// Publishes what is ready, then reads: a reader's poll.
    func next(after cursor: UInt64, limit: Int, on link: PostgresLink) throws -> [FeedChange] {
        try publish(on: link)
        return try read(after: cursor, limit: limit, on: link)
    }

    /// How far the fence trails the committed changes (for the hub's metrics).
    func lag(on link: PostgresLink) throws -> FenceLag {
        let rows = try link.query("""
            SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(recorded_at)), 0)::float8
            FROM _begawi_changes WHERE pos IS NULL
            """)
        guard let row = rows.first else { return FenceLag(changes: 0, seconds: 0) }
        do {
            let (changes, seconds) = try row.decode((Int64, Double).self)
            return FenceLag(changes: changes, seconds: max(0, seconds))
        } catch {
            throw PostgresFailure.error(error, doing: "reading the fence's lag")
        }
    }

    private func decode<T: PostgresDecodable>(_ row: PostgresRow, as type: T.Type) throws -> T {
        do {
            return try row.decode(T.self)
        } catch {
            throw PostgresFailure.error(error, doing: "reading the feed")
        }
    }

    private func decodeChange(_ row: PostgresRow) throws -> (Int64, Int64, ByteBuffer) {
        do {
            return try row.decode((Int64, Int64, ByteBuffer).self)
        } catch {
            throw PostgresFailure.error(error, doing: "reading the feed")
        }
    }

    private struct Missing: Error {}
}
