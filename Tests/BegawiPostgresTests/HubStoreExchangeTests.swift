import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// Session, push and pull, one test body against each store: what a site gets from the hub does
/// not depend on where the hub keeps its data.
@Suite(.blocking) struct HubStoreExchangeTests {
    static let second = Data(#"{"version": 2, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}, {"name": "room"}]}]}"#.utf8)

    @Test(arguments: StoreKind.available)
    func aSitePushesAndAnotherPulls(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            var a = try hub.site("lpk-a", clock: 1_000)
            var b = try hub.site("lpk-b", clock: 2_000)
            let session = try hub.store.session(site: a.record, replica: a.replica, configuration: HubConfiguration())
            #expect(session.pushCursor == .start)
            #expect(session.hubReplicaID == hub.store.hubReplicaID)
            #expect(session.schemaVersion == 1)

            let rows = (1...3).map { a.write("c\($0)", ["title": .text("Las \($0)"), "quota": .integer(Int64($0) * 10)], insert: true) }
            let outcome = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
            #expect(outcome.rowsChanged == 3)
            #expect(outcome.conflicts == 0)
            #expect(outcome.cursor == ExchangeCursor(baseSeq: 1, seq: 1))
            #expect(try hub.store.session(site: a.record, replica: a.replica, configuration: HubConfiguration()).pushCursor == outcome.cursor)

            let (pages, cursor) = try hub.pullAll(into: &b, maxRows: 2)
            #expect(pages.count == 2)
            #expect(cursor.seq == (try hub.store.headSeq()))
            #expect(b.liveRows == a.liveRows)
            #expect(b.liveRows["c2"]?["quota"] == .integer(20))

            // The writer's own rows are not sent back to it, unless it asks for a fresh copy.
            var echo = a
            #expect(try hub.pullAll(into: &echo).pages.flatMap(\.rows).isEmpty)
            #expect(try hub.pullAll(into: &echo, fresh: true).pages.flatMap(\.rows).count == 3)

            // An update by the reader reaches the writer: a row it no longer holds whole.
            let update = b.write("c1", ["quota": .integer(11)])
            #expect(try hub.store.push(site: b.record, replica: b.replica, batch: b.batch([update]), schemaVersion: nil).rowsChanged == 1)
            let next = try hub.pullAll(into: &a, from: cursor)
            #expect(next.pages.flatMap(\.rows).map(\.key) == ["c1"])
            #expect(a.liveRows["c1"]?["quota"] == .integer(11))
            #expect(try hub.store.rows(of: "courses")["c1"] == [.text("Las 1"), .integer(11)])
            let health = try hub.store.health().first { $0.site == "lpk-a" }
            #expect(health?.pushes == 1)
            #expect(health?.rowsReceived == 3)
        }
    }

    @Test(arguments: StoreKind.available)
    func anotherSitesReplicaIsRefused(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let a = try hub.site("lpk-a", clock: 1_000)
            var b = try hub.site("lpk-b", clock: 2_000)
            _ = try hub.store.session(site: a.record, replica: a.replica, configuration: HubConfiguration())
            let error = #expect(throws: BegawiError.self) {
                try hub.store.session(site: b.record, replica: a.replica, configuration: HubConfiguration())
            }
            #expect(error?.code == .unauthorized)
            // A batch whose source is not the request's replica is refused whole.
            let row = b.write("c1", ["title": .text("x")], insert: true)
            var batch = b.batch([row])
            batch.replicaID = UUID().uuidString.lowercased()
            let bad = #expect(throws: BegawiError.self) { try hub.store.push(site: b.record, replica: b.replica, batch: batch, schemaVersion: nil) }
            #expect(bad?.code == .badBatch)
            #expect(try hub.store.rows(of: "courses").isEmpty)
        }
    }

    /// Two sites change one row's title while apart: the hub keeps the later write on either store,
    /// and records the same entry in its conflict ledger.
    @Test func aConcurrentUpdateGivesTheSameWinnerAndLedgerOnBothStores() throws {
        var results: [StoreKind: (rows: [String: [SQLValue]], ledger: [String], pulled: [String: [String: SQLValue]])] = [:]
        for kind in StoreKind.available {
            results[kind] = try kind.withHub { (hub) throws in
                // Fixed ids and clocks: both stores get byte for byte the same pushes.
                var a = try hub.site("lpk-a", clock: 1_000)
                var b = try hub.site("lpk-b", clock: 5_000)
                let insert = a.write("c1", ["title": .text("Las"), "quota": .integer(10)], insert: true)
                _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([insert]), schemaVersion: nil)
                try hub.pullAll(into: &b)
                let mine = a.write("c1", ["title": .text("Las Dasar")])
                let theirs = b.write("c1", ["title": .text("Las Lanjut")])
                let first = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([mine]), schemaVersion: nil)
                let second = try hub.store.push(site: b.record, replica: b.replica, batch: b.batch([theirs]), schemaVersion: nil)
                #expect(first.conflicts == 0)
                #expect(second.conflicts == 1)
                var reader = try hub.site("lpk-c", clock: 9_000)
                try hub.pullAll(into: &reader, maxRows: 1)
                return (try hub.store.rows(of: "courses"), try hub.store.ledger(), reader.liveRows)
            }
        }
        let sqlite = try #require(results[.sqlite])
        #expect(sqlite.rows["c1"] == [.text("Las Lanjut"), .integer(10)])
        #expect(sqlite.ledger.count == 1)
        #expect(sqlite.pulled["c1"]?["title"] == .text("Las Lanjut"))
        if let postgres = results[.postgres] {
            #expect(postgres.rows == sqlite.rows)
            // Stamps name the sites by id and carry the writers' clocks, so the lines match exactly.
            #expect(postgres.ledger.map { $0.replacingOccurrences(of: #"\d+\.\d+@"#, with: "", options: .regularExpression) }
                        == sqlite.ledger.map { $0.replacingOccurrences(of: #"\d+\.\d+@"#, with: "", options: .regularExpression) })
            #expect(postgres.ledger == sqlite.ledger)
            #expect(postgres.pulled == sqlite.pulled)
        }
    }

    @Test(arguments: StoreKind.available)
    func outOfOrderAndReplayedBatches(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            var a = try hub.site("lpk-a", clock: 1_000)
            let first = a.batch([a.write("c1", ["title": .text("Las")], insert: true)])
            #expect(try hub.store.push(site: a.record, replica: a.replica, batch: first, schemaVersion: nil).cursor == ExchangeCursor(baseSeq: 1, seq: 1))

            // The same batch again (its answer was lost): nothing changes, the cursor stays.
            let again = try hub.store.push(site: a.record, replica: a.replica, batch: first, schemaVersion: nil)
            #expect(again.rowsChanged == 0)
            #expect(again.cursor == ExchangeCursor(baseSeq: 1, seq: 1))

            // A batch from past the hub's cursor's base is refused, naming the cursor to export from.
            a.seq = 5
            let ahead = a.batch([a.write("c2", ["title": .text("Jahit")], insert: true)])
            let error = #expect(throws: BegawiError.self) { try hub.store.push(site: a.record, replica: a.replica, batch: ahead, schemaVersion: nil) }
            #expect(error?.code == .outOfOrder)
            #expect(error?.message.contains("export again from cursor 1/1") == true, "\(error?.message ?? "")")
            #expect(try hub.store.rows(of: "courses").keys.sorted() == ["c1"])
            #expect(try hub.store.cursor(forReplica: a.replica) == ExchangeCursor(baseSeq: 1, seq: 1))

            // A batch that leaves a gap (its base held, its range not following the cursor) merges, and the cursor stays.
            var gap = ahead
            gap.baseSeq = 1
            let merged = try hub.store.push(site: a.record, replica: a.replica, batch: gap, schemaVersion: nil)
            #expect(merged.rowsChanged == 1)
            #expect(merged.cursor == ExchangeCursor(baseSeq: 1, seq: 1))
        }
    }

    @Test(arguments: StoreKind.available)
    func aBadValueIsRefused(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            var a = try hub.site("lpk-a", clock: 1_000)
            let good = a.write("c1", ["title": .text("Las"), "quota": .integer(10)], insert: true)
            let bell = a.write("c2", ["title": .text("Las\u{7}Dasar")], insert: true)
            let outcome = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([good, bell]), schemaVersion: nil)
            #expect(outcome.rowsChanged == 1)
            #expect(outcome.refused.map(\.key) == ["c2"])
            #expect(outcome.refused.first?.reason == .badValue)
            #expect(outcome.refused.first?.message.contains("U+0007") == true)
            #expect(outcome.restore == nil, "the hub holds nothing of a new row it refused")
            #expect(try hub.store.rows(of: "courses").keys.sorted() == ["c1"])

            // A refused change of a row the hub holds: the site is given the hub's row back, whole.
            let long = a.write("c1", ["title": .text(String(repeating: "x", count: 5_000))])
            let refused = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([long]), schemaVersion: nil)
            #expect(refused.refused.map(\.key) == ["c1"])
            let text = try #require(refused.restore)
            let restore = try BatchCodec.decode(Array(try #require(Data(base64Encoded: text))))
            #expect(restore.rows.map(\.key) == ["c1"])
            #expect(restore.rows.first?.state.columns.first??.value == .text("Las"))
            #expect(try hub.store.rows(of: "courses")["c1"] == [.text("Las"), .integer(10)])
        }
    }

    @Test(arguments: StoreKind.available)
    func aPullIsProjectedOntoVersionOneAfterVersionTwoAddedAColumn(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            var old = try hub.site("lpk-old", clock: 1_000)
            let before = old.write("c1", ["title": .text("Las"), "quota": .integer(10)], insert: true)
            _ = try hub.store.push(site: old.record, replica: old.replica, batch: old.batch([before]), schemaVersion: 1)
            _ = try hub.publish(Self.second)
            var new = try hub.site("lpk-new", clock: 2_000, columns: ["title", "quota", "room"])
            let row = new.write("c2", ["title": .text("Jahit"), "quota": .integer(5), "room": .text("R2")], insert: true)
            #expect(try hub.store.push(site: new.record, replica: new.replica, batch: new.batch([row]), schemaVersion: 2).rowsChanged == 1)
            #expect(try hub.store.rows(of: "courses")["c1"] == [.text("Las"), .integer(10), .null])

            let page = try hub.store.pull(site: old.record, replica: old.replica, after: .start, maxRows: 100, schemaVersion: 1, fresh: true).batch
            #expect(page.tables == [BatchTable(name: "courses", columns: ["title", "quota"])])
            #expect(page.rows.count == 2)
            #expect(page.rows.allSatisfy { $0.state.columns.count == 2 })
            let current = try hub.store.pull(site: old.record, replica: old.replica, after: .start, maxRows: 100, schemaVersion: 2, fresh: true).batch
            #expect(current.tables == [BatchTable(name: "courses", columns: ["title", "quota", "room"])])
            #expect(current.rows.first { $0.key == "c2" }?.state.columns[2]?.value == .text("R2"))
            let never = #expect(throws: BegawiError.self) {
                try hub.store.pull(site: old.record, replica: old.replica, after: .start, maxRows: 100, schemaVersion: 3, fresh: false)
            }
            #expect(never?.code == .invalidArgument)
        }
    }
}

extension HubStoreExchangeTests {
    @Test(arguments: StoreKind.available)
    func aDeleteReachesTheOtherSites(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            var a = try hub.site("lpk-a", clock: 1_000)
            var b = try hub.site("lpk-b", clock: 2_000)
            let rows = ["c1", "c2"].map { a.write($0, ["title": .text("Las"), "quota": .integer(1)], insert: true) }
            _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
            let cursor = try hub.pullAll(into: &b).cursor
            #expect(b.liveRows.keys.sorted() == ["c1", "c2"])

            var delete = a.write("c1", [:])
            delete.state.deleted = Register(value: RowState.deletedMarker, stamp: Stamp(clock: HybridTimestamp(milliseconds: a.clock, counter: 0),
                                                                                       site: a.record.id, counter: a.counter))
            a.known["c1"]?.deleted = delete.state.deleted
            #expect(try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([delete]), schemaVersion: nil).rowsChanged == 1)
            let page = try hub.pullAll(into: &b, from: cursor)
            #expect(page.pages.flatMap(\.rows).map(\.key) == ["c1"])
            #expect(b.liveRows.keys.sorted() == ["c2"])
            #expect(try hub.store.rows(of: "courses").keys.sorted() == ["c2"])
        }
    }
}
