import BegawiCore
@testable import BegawiPostgres
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// A snapshot part reads its rows and no more on a database of the C collation: the server walks the
/// primary key from the part's first key instead of sorting what remains of the table for every
/// part (1,000,000 rows in parts of 50,000 cost the server 43.6 s of CPU that way). On a database of
/// another collation the parts keep byte order by `COLLATE "C"`, which no index serves
/// (`HubStoreSnapshotTests.keysComeInByteOrderWhateverTheDatabasesCollation` checks the order).
@Suite(.enabled(if: TestPostgres.available, TestPostgres.skipped)) struct SnapshotPlanTests {
    /// The plan of one part's statement, as `EXPLAIN` gives it.
    func plan(_ store: PostgresHubStore) throws -> String {
        let statement = PostgresHubStore.snapshotRows(table: "courses", after: "k5", limit: 50, receiver: nil, visible: "true",
                                                      byteOrder: store.byteOrder)
        return try store.pool.withLink { link in
            try link.query(PostgresQuery(unsafeSQL: "EXPLAIN " + statement.sql, binds: statement.binds)).map { row in
                try row.decode(String.self)
            }.joined(separator: "\n")
        }
    }

    @Test func onADatabaseOfTheCCollationAPartWalksThePrimaryKey() throws {
        let database = try ScratchDatabase(options: "TEMPLATE template0 LOCALE 'C'")
        defer { database.drop() }
        let store = try PostgresHubStore(settings: database.settings, poolSize: 1)
        defer { store.close() }
        #expect(store.byteOrder.isEmpty)
        try store.pool.withLink { link in
            // Enough rows that a sequential scan and a sort would be the cheaper plan if the key's order were not the index's.
            try link.query("""
                INSERT INTO _begawi_rows (tbl, key, pos, pub_state) SELECT 'courses', 'k' || g, g, '\\x00'::bytea FROM generate_series(1, 20000) g
                """)
            try link.query("ANALYZE _begawi_rows")
        }
        let plan = try plan(store)
        #expect(plan.contains("Index") && !plan.contains("Sort"), "\(plan)")
    }

    @Test func onADatabaseOfAnotherCollationThePartsKeepByteOrder() throws {
        let database = try ScratchDatabase(options: "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'")
        defer { database.drop() }
        let store = try PostgresHubStore(settings: database.settings, poolSize: 1)
        defer { store.close() }
        #expect(store.byteOrder == #" COLLATE "C""#)
    }
}
