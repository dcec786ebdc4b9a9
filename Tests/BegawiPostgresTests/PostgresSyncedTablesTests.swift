import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// The synced tables on PostgreSQL, the office's readable copy: live rows in the table, deleted
/// ones in its `_begawi_dead_` twin, columns typed; a value that does not fit its column's type is
/// NULL there, and still comes back to sites exactly as it was sent.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresSyncedTablesTests {
    @Test func theSyncedTablesHoldAReadableCopy() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            var a = try hub.site("lpk-a", clock: 1_000)
            var b = try hub.site("lpk-b", clock: 2_000)
            let rows = [
                a.write("c1", ["title": .text("Las"), "quota": .integer(12)], insert: true),
                // SQLite keeps text that is no number in an INTEGER column; a bigint column cannot.
                a.write("c2", ["title": .integer(7), "quota": .text("dua belas")], insert: true),
                a.write("c3", ["title": .text("Jahit"), "quota": .integer(3)], insert: true),
            ]
            _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
            var delete = a.write("c3", [:])
            delete.state.deleted = Register(value: RowState.deletedMarker, stamp: Stamp(clock: HybridTimestamp(milliseconds: a.clock, counter: 0),
                                                                                       site: a.record.id, counter: a.counter))
            _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([delete]), schemaVersion: nil)

            try TestPostgres.withLink(to: hub) { link in
                let live = try link.query("SELECT id, title, quota FROM courses ORDER BY id").map { try $0.decode((String, String?, Int64?).self) }
                #expect(live.map(\.0) == ["c1", "c2"])
                #expect(live[0].1 == "Las" && live[0].2 == 12)
                #expect(live[1].1 == "7" && live[1].2 == nil, "text in a bigint column is NULL in the copy")
                let dead = try link.query("SELECT id, title FROM _begawi_dead_courses").map { try $0.decode((String, String?).self) }
                #expect(dead.map(\.0) == ["c3"])
                #expect(dead.first?.1 == "Jahit")
            }
            try hub.pullAll(into: &b)
            #expect(b.liveRows["c2"]?["quota"] == .text("dua belas"))
            #expect(b.liveRows["c2"]?["title"] == .integer(7))
        }
    }

    /// A process that has not seen a version published through another one must not drop the
    /// later columns' values when it merges a row: it reads the versions again and merges with them.
    @Test func aVersionPublishedThroughAnotherProcessLosesNoColumn() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let first = hub.store
            let other = try #require(try hub.another() as? PostgresHubStore)
            var old = try hub.site("lpk-old", clock: 1_000)
            _ = try first.push(site: old.record, replica: old.replica,
                               batch: old.batch([old.write("c1", ["title": .text("Las"), "quota": .integer(1)], insert: true)]), schemaVersion: 1)
            _ = try other.publish(schemaText: HubStoreExchangeTests.second)
            var new = try hub.site("lpk-new", clock: 2_000, columns: ["title", "quota", "room"])
            new.known["c1"] = RowState(columnCount: 3)
            _ = try other.push(site: new.record, replica: new.replica, batch: new.batch([new.write("c1", ["room": .text("R2")])]), schemaVersion: 2)
            // The first process still holds version 1 as the current one.
            #expect(first.currentSchemaVersion == 1)
            let update = old.write("c1", ["quota": .integer(2)])
            #expect(try first.push(site: old.record, replica: old.replica, batch: old.batch([update]), schemaVersion: 1).rowsChanged == 1)
            #expect(first.currentSchemaVersion == 2)
            #expect(try first.rows(of: "courses")["c1"] == [.text("Las"), .integer(2), .text("R2")])
        }
    }
}
