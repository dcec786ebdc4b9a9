import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Handled entries of the hub's conflict ledger leave it, with their values, after
/// `ledger_retention_days`; those the office has not acted on stay (issue 15, item 3).
@Suite struct HubLedgerRetentionTests {
    @Test func reappliedOrMootConflictsLeaveAfterTheRetentionOthersStay() throws {
        let folder = TemporaryFolder()
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schema: Schema(tables: [TableSpec(name: "t", columns: [ColumnSpec(name: "a")])]))
        let store = try SQLiteHubStore(path: path)
        defer { try? store.close() }
        let day: Int64 = 86_400_000, now: Int64 = 1_796_428_800_000
        try store.hubReplica.ownerWrite { db in
            try db.execute(sql: "INSERT INTO t(id, a) VALUES ('live', 'x')")
            // 1: not acted on; 2: re-applied by the office; 3: its row is gone; 4: gone but recent (and the newest).
            for (key, at) in [("live", now - 100 * day), ("live", now - 100 * day), ("gone", now - 100 * day), ("gone", now - day)] {
                try db.execute(sql: """
                    INSERT INTO _begawi_conflicts(tbl, key, col, loser_value, winner_value, winner_deleted, loser_clock, loser_site,
                      loser_counter, winner_clock, winner_site, winner_counter, detected_at) VALUES ('t', ?, 'a', 'lost', 'won', 0, 1, 'lpk-b', 1, 2, 'lpk-c', 1, ?)
                    """, arguments: [key, at])
            }
            try db.execute(sql: "INSERT INTO _hub_reapplied(conflict, at, by) VALUES (2, ?, 'disnaker')", arguments: [now - 99 * day])
        }
        var retention = HubRetention()
        retention.ledgerRetentionDays = 90
        let done = try store.housekeep(now: UInt64(now), retention: retention)
        #expect(done["conflicts.cleared"] == 2)
        let left = try store.hubReplica.ownerRead { db in
            (try Int64.fetchAll(db, sql: "SELECT id FROM _begawi_conflicts ORDER BY id"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_reapplied"))
        }
        #expect(left.0 == [1, 4])
        #expect(left.1 == 0)
        // Still there at the next pass, however much later, until the office acts on it.
        #expect(try store.housekeep(now: UInt64(now + 1_000 * day), retention: retention)["conflicts.cleared"] == 0)
        #expect(try store.hubReplica.conflicts().map(\.id) == [1, 4])
    }
}
