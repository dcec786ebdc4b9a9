import BegawiCore

/// The SQL that makes a file a Begawi replica: bookkeeping tables, and per synced table its twin for
/// deleted rows and the capture triggers.
enum ReplicaSQL {
    /// The replica format this build writes and reads; a file with a greater one was made by a newer Begawi.
    static let format: Int64 = 1

    static let bookkeeping = """
        CREATE TABLE _begawi_state(name TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
        CREATE TABLE _begawi_tables(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, spec TEXT NOT NULL);
        CREATE TABLE _begawi_outbox(seq INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, key TEXT NOT NULL, op INTEGER NOT NULL, mask INTEGER, wall INTEGER NOT NULL);
        CREATE TABLE _begawi_applying(engine INTEGER);
        CREATE TABLE _begawi_rows(tbl INTEGER NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, vector BLOB NOT NULL, stamps BLOB NOT NULL, origin INTEGER, PRIMARY KEY(tbl, key)) WITHOUT ROWID;
        CREATE TABLE _begawi_peers(id INTEGER PRIMARY KEY, replica TEXT NOT NULL UNIQUE);
        CREATE INDEX _begawi_rows_by_seq ON _begawi_rows(seq);
        CREATE TABLE _begawi_sites(id INTEGER PRIMARY KEY, site TEXT NOT NULL UNIQUE);
        CREATE TABLE _begawi_cursors(source TEXT PRIMARY KEY NOT NULL, base INTEGER NOT NULL, position INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE _begawi_conflicts(
            id INTEGER PRIMARY KEY,
            tbl TEXT NOT NULL, key TEXT NOT NULL, col TEXT NOT NULL,
            loser_value, winner_value, winner_deleted INTEGER NOT NULL,
            loser_clock INTEGER NOT NULL, loser_site TEXT NOT NULL, loser_counter INTEGER NOT NULL,
            winner_clock INTEGER NOT NULL, winner_site TEXT NOT NULL, winner_counter INTEGER NOT NULL,
            detected_at INTEGER NOT NULL);
        """

    /// Outbox operation codes written by the triggers.
    enum Op: Int64 {
        case insert = 1, update = 2, delete = 3
    }

    static func quote(_ identifier: String) -> String { "\"" + identifier + "\"" }
    static func dead(_ table: TableSpec) -> String { quote("_begawi_dead_" + table.name) }

    static func createTable(_ table: TableSpec) -> String {
        let columns = table.columns.map { c in
            "\(quote(c.name)) \(c.type.uppercased())" + (c.notNull ? " NOT NULL" : "") + (c.defaultLiteral.map { " DEFAULT " + $0 } ?? "")
        }
        return "CREATE TABLE \(quote(table.name)) (\(quote(table.primaryKey.name)) TEXT PRIMARY KEY NOT NULL, \(columns.joined(separator: ", ")))"
    }

    static func createDeadTable(_ table: TableSpec) -> String {
        let columns = table.columns.map { "\(quote($0.name)) \($0.type.uppercased())" }
        return "CREATE TABLE \(dead(table)) (\(quote(table.primaryKey.name)) TEXT PRIMARY KEY NOT NULL, \(columns.joined(separator: ", ")))"
    }

    /// Milliseconds since the Unix epoch from SQLite's built-in clock ('now' is fixed per statement).
    static let wallExpression = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    static let notApplying = "NOT EXISTS (SELECT 1 FROM _begawi_applying)"

    /// Capture triggers: each write by any program appends one outbox row in the same transaction.
    ///
    /// `UPDATE OF` lists the columns whose assignment fires a trigger, so SQLite does not even run
    /// the rekey trigger for an UPDATE that leaves the key out (nearly all of them, the engine's too).
    static func triggers(_ table: TableSpec, id: Int64) -> [String] {
        let t = quote(table.name)
        let key = quote(table.primaryKey.name)
        let name = { (suffix: String) in quote("_begawi_\(table.name)_\(suffix)") }
        let changed = table.columns.map { "NEW.\(quote($0.name)) IS NOT OLD.\(quote($0.name))" }
        let mask = table.columns.enumerated().map { i, c in
            "((NEW.\(quote(c.name)) IS NOT OLD.\(quote(c.name))) << \(i))"
        }.joined(separator: " | ")
        let oldValues = ([table.primaryKey] + table.columns).map { "OLD.\(quote($0.name))" }.joined(separator: ", ")
        let outbox = "INSERT INTO _begawi_outbox(tbl, key, op, mask, wall) VALUES"
        return [
            """
            CREATE TRIGGER \(name("insert")) AFTER INSERT ON \(t) WHEN \(notApplying)
            BEGIN \(outbox) (\(id), NEW.\(key), \(Op.insert.rawValue), NULL, \(wallExpression)); END
            """,
            """
            CREATE TRIGGER \(name("update")) AFTER UPDATE OF \(table.columns.map { quote($0.name) }.joined(separator: ", ")) ON \(t)
            WHEN \(notApplying) AND NEW.\(key) IS OLD.\(key) AND (\(changed.joined(separator: " OR ")))
            BEGIN \(outbox) (\(id), NEW.\(key), \(Op.update.rawValue), \(mask), \(wallExpression)); END
            """,
            """
            CREATE TRIGGER \(name("rekey")) AFTER UPDATE OF \(key) ON \(t)
            WHEN \(notApplying) AND NEW.\(key) IS NOT OLD.\(key)
            BEGIN
              INSERT OR REPLACE INTO \(dead(table)) VALUES (\(oldValues));
              \(outbox) (\(id), OLD.\(key), \(Op.delete.rawValue), NULL, \(wallExpression));
              \(outbox) (\(id), NEW.\(key), \(Op.insert.rawValue), NULL, \(wallExpression));
            END
            """,
            """
            CREATE TRIGGER \(name("delete")) AFTER DELETE ON \(t) WHEN \(notApplying)
            BEGIN
              INSERT OR REPLACE INTO \(dead(table)) VALUES (\(oldValues));
              \(outbox) (\(id), OLD.\(key), \(Op.delete.rawValue), NULL, \(wallExpression));
            END
            """,
        ]
    }
}
