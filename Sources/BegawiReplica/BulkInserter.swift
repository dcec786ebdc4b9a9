import BegawiCore
internal import GRDB

/// Inserts rows several at a time (`INSERT ... VALUES (...), (...), ...`): one statement execution
/// per chunk instead of per row, which halves the cost of a first sync.
///
/// Rows wait in memory until `flush()`; the engine flushes before it reads what they would change
/// and before commit.
final class BulkInserter {
    private let db: Database
    private let head: String
    private let width: Int
    private let chunk: Int
    private var pending: [SQLValue] = []
    private var rows = 0

    /// `head` is `INSERT INTO t (a, b, ...) VALUES `; `width` the number of values per row.
    init(db: Database, head: String, width: Int, chunk: Int = 64) {
        self.db = db
        self.head = head
        self.width = width
        self.chunk = max(1, min(chunk, 32_000 / max(1, width)))
        pending.reserveCapacity(self.chunk * width)
    }

    func add(_ values: [SQLValue]) throws {
        precondition(values.count == width)
        pending.append(contentsOf: values)
        rows += 1
        if rows == chunk { try flush() }
    }

    func flush() throws {
        guard rows > 0 else { return }
        let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ",") + ")"
        let sql = head + Array(repeating: tuple, count: rows).joined(separator: ",")
        try FastStatement(db, sql).run(bindings: pending)
        pending.removeAll(keepingCapacity: true)
        rows = 0
    }
}
