import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiTestSupport
import Foundation
import Testing

/// Catch-up after a site migrated a version, one test body against each store: the live rows
/// holding values of the columns added since, sent whole, in feed order, a page at a time.
@Suite(.blocking) struct HubStoreCatchUpTests {
    static let third = Data(#"{"version": 3, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}, {"name": "room"}, {"name": "seats", "type": "INTEGER"}]}]}"#.utf8)

    /// Every page of a catch-up from `fromVersion`, `maxRows` rows each: the pages' rows and the
    /// positions they ended at.
    static func catchUpAll(_ hub: StoreHub, site: TestSite, fromVersion: Int, schemaVersion: Int, maxRows: Int)
    throws -> (rows: [(key: String, columns: [String], state: RowState)], pages: Int) {
        var after: UInt64 = 0
        var rows: [(key: String, columns: [String], state: RowState)] = []
        var pages = 0
        while true {
            let (batch, bytes, next) = try hub.store.catchUp(site: site.record, replica: site.replica, fromVersion: fromVersion,
                                                             schemaVersion: schemaVersion, afterSeq: after, maxRows: maxRows)
            #expect(try BatchCodec.decode(bytes) == batch)
            #expect(batch.rows.count <= maxRows)
            rows += batch.rows.map { ($0.key, batch.tables[$0.table].columns, $0.state) }
            pages += 1
            guard let next else { return (rows, pages) }
            #expect(next > after)
            after = next
            try #require(pages < 100)
        }
    }

    /// The world after a migration: `lpk-a` wrote c1…c4 under version 1; version 2 adds `room`;
    /// `lpk-b`, on version 2, gives c2 a room, adds c5 with one, adds c6 with one and deletes it,
    /// and adds c7 without one; then `lpk-a`, still on version 1, renames c1.
    static func migrated(_ hub: StoreHub) throws -> (a: TestSite, b: TestSite) {
        var a = try hub.site("lpk-a", clock: 1_000)
        let rows = (1...4).map { a.write("c\($0)", ["title": .text("Las \($0)"), "quota": .integer(Int64($0))], insert: true) }
        _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: 1)
        _ = try hub.publish(HubStoreExchangeTests.second)
        var b = try hub.site("lpk-b", clock: 2_000, columns: ["title", "quota", "room"])
        for batch in [[b.write("c2", ["room": .text("R2")])],
                      [b.write("c5", ["title": .text("Las 5"), "room": .text("R5")], insert: true)],
                      [b.write("c6", ["title": .text("Las 6"), "room": .text("R6")], insert: true)],
                      [b.delete("c6"), b.write("c7", ["title": .text("Las 7")], insert: true)]] {
            _ = try hub.store.push(site: b.record, replica: b.replica, batch: b.batch(batch), schemaVersion: 2)
        }
        _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([a.write("c1", ["title": .text("Las Satu")])]), schemaVersion: 1)
        return (a, b)
    }

    @Test(arguments: StoreKind.available)
    func aMigratedSiteCatchesUpOnTheRowsWithTheAddedColumns(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let (a, _) = try Self.migrated(hub)
            let (rows, pages) = try Self.catchUpAll(hub, site: a, fromVersion: 1, schemaVersion: 2, maxRows: 1)
            #expect(rows.map(\.key) == ["c2", "c5"], "live rows with a room, in feed order; not the deleted c6, nor c7 or c1 without one")
            #expect(pages == 2)
            let c2 = try #require(rows.first)
            #expect(c2.columns == ["title", "quota", "room"])
            #expect(c2.state.columns.map { $0?.value } == [.text("Las 2"), .integer(2), .text("R2")], "the row whole")
            #expect(c2.state.isLive)
            // In one page, and nothing for a site that came from the version it is on.
            #expect(try Self.catchUpAll(hub, site: a, fromVersion: 1, schemaVersion: 2, maxRows: 100).rows.map(\.key) == ["c2", "c5"])
            #expect(try Self.catchUpAll(hub, site: a, fromVersion: 2, schemaVersion: 2, maxRows: 100).rows.isEmpty)
        }
    }

    /// A site that migrated to version 2 while the hub is at 3 gets the rows with a room, cut to
    /// version 2's columns; one that came from 2 to 3 gets those with seats.
    @Test(arguments: StoreKind.available)
    func aCatchUpIsCutToTheSitesVersion(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let (a, _) = try Self.migrated(hub)
            _ = try hub.publish(Self.third)
            var c = try hub.site("lpk-c", clock: 3_000, columns: ["title", "quota", "room", "seats"])
            _ = try hub.store.push(site: c.record, replica: c.replica, batch: c.batch([c.write("c3", ["seats": .integer(30)])]), schemaVersion: 3)
            let toTwo = try Self.catchUpAll(hub, site: a, fromVersion: 1, schemaVersion: 2, maxRows: 100).rows
            #expect(toTwo.map(\.key) == ["c2", "c5"])
            #expect(toTwo.allSatisfy { $0.columns == ["title", "quota", "room"] })
            let toThree = try Self.catchUpAll(hub, site: a, fromVersion: 2, schemaVersion: 3, maxRows: 100).rows
            #expect(toThree.map(\.key) == ["c3"])
            #expect(toThree.first?.state.columns.map { $0?.value } == [.text("Las 3"), .integer(3), nil, .integer(30)])
        }
    }

    /// Both stores give a migrated site the same rows and merge state.
    @Test func bothStoresGiveTheSameCatchUp() throws {
        var results: [StoreKind: [String]] = [:]
        for kind in StoreKind.available {
            results[kind] = try kind.withHub { (hub) throws in
                let (a, _) = try Self.migrated(hub)
                return try Self.catchUpAll(hub, site: a, fromVersion: 1, schemaVersion: 2, maxRows: 1).rows.map { "\($0.key) \($0.columns) \($0.state)" }
            }
        }
        if let postgres = results[.postgres] { #expect(postgres == results[.sqlite]) }
    }
}
