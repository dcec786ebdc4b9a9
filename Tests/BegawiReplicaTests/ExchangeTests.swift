import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// Export and apply between real replica files: idempotent, order-tolerant, bounded, and convergent.
@Suite(.blocking) struct ExchangeTests {
    static let t0: UInt64 = 1_780_000_000_000

    func replica(_ folder: TemporaryFolder, _ site: String, schema: Schema = testSchema) throws -> Replica {
        try Replica.create(at: folder.file("\(site).sqlite"), siteID: site, schema: schema, clock: ManualClock(Self.t0))
    }

    /// Writes `sql` through the shell at `replica`'s file and stamps it at the given wall time.
    func write(_ replica: Replica, at wall: UInt64, _ sql: String) throws {
        try SQLiteShell.run(replica.path, sql)
        try replica.captureLocalChanges(clock: .wall(wall))
    }

    @Test func applyingTheSameBatchTwiceChangesNothingTheSecondTime() throws {
        let folder = TemporaryFolder("exchange")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "disnaker")
        defer {
            try? a.close()
            try? b.close()
        }
        try write(a, at: Self.t0, "INSERT INTO t(id, a, b, c) SELECT 'k' || value, 'a', 'b', value FROM generate_series(1, 5)")
        try write(a, at: Self.t0 + 5, "UPDATE t SET b = 'b2' WHERE id IN ('k1', 'k2'); DELETE FROM t WHERE id = 'k5'")
        let (batch, bytes) = try a.exportEncoded(after: .start)

        let first = try b.apply(encoded: bytes)
        #expect(first.rowsChanged == 5)
        #expect(first.advancedCursor)
        let after = try ReplicaSnapshot(b, sources: [a.replicaID])

        let again = try b.apply(encoded: bytes)
        #expect(again.rowsChanged == 0)
        #expect(again.conflicts == 0)
        #expect(again.cursor == first.cursor)
        let direct = try b.apply(batch)
        #expect(direct.rowsChanged == 0)
        #expect(try ReplicaSnapshot(b, sources: [a.replicaID]) == after)
        #expect(try b.rows(of: "t") == a.rows(of: "t"))
    }

    @Test func batchesAppliedOutOfOrderThenInOrderConverge() throws {
        let folder = TemporaryFolder("exchange")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "disnaker")
        defer {
            try? a.close()
            try? b.close()
        }
        for i in 0..<12 {
            try write(a, at: Self.t0 + UInt64(i), "INSERT INTO t(id, a, b, c) VALUES ('k\(i)', 'a\(i)', 'b', 'c')")
        }
        try write(a, at: Self.t0 + 100, "UPDATE t SET a = 'updated' WHERE id IN ('k0', 'k11')")
        // The exporter's view: batches of 4 rows, each after the previous one.
        var batches: [ChangeBatch] = []
        var cursor = ExchangeCursor.start
        repeat {
            let batch = try a.export(after: cursor, limits: BatchLimits(maxRows: 4))
            batches.append(batch)
            cursor = batch.cursorAfter
        } while !batches.last!.complete
        try #require(batches.count == 3)

        // The network delivers the last two first: merged, but the cursor does not skip ahead.
        for batch in batches.reversed().dropLast() {
            let result = try b.apply(batch)
            #expect(result.rowsChanged == 4)
            #expect(!result.advancedCursor)
            #expect(try b.cursor(for: a.replicaID) == .start)
        }
        // Then everything in order: the cursor walks through, and nothing is merged twice.
        var changed: [Int] = []
        for batch in batches {
            let result = try b.apply(batch)
            #expect(result.advancedCursor)
            changed.append(result.rowsChanged)
        }
        #expect(changed == [4, 0, 0])
        #expect(try b.cursor(for: a.replicaID) == batches.last!.cursorAfter)
        #expect(try b.rows(of: "t") == a.rows(of: "t"))
        #expect(try b.rowStates(of: "t") == a.rowStates(of: "t"))
        #expect(try a.export(after: b.cursor(for: a.replicaID)).rows.isEmpty)
    }

    @Test func aBatchFromBeyondTheCursorsBaseIsRefusedUntilItsPredecessorArrives() throws {
        let folder = TemporaryFolder("exchange")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "disnaker")
        defer {
            try? a.close()
            try? b.close()
        }
        try write(a, at: Self.t0, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        let first = try a.export(after: .start)
        try write(a, at: Self.t0 + 1, "UPDATE t SET b = 'second' WHERE id = 'k1'")
        let second = try a.export(after: first.cursorAfter)
        // The second carries only column b: applied alone it would leave k1 without a and c.
        #expect(second.rows.first?.state.columns.map { $0 == nil } == [true, false, true])

        let error = try #require(throws: BegawiError.self) { try b.apply(second) }
        #expect(error.code == .outOfOrder)
        #expect(try b.rowStates(of: "t").isEmpty)
        _ = try b.apply(first)
        _ = try b.apply(second)
        #expect(try b.rows(of: "t") == ["k1": [.text("a"), .text("second"), .text("c")]])
        #expect(try b.rowStates(of: "t") == a.rowStates(of: "t"))
    }

    @Test func exportHonoursMaxRowsAndTheCursorAdvancesToComplete() throws {
        let folder = TemporaryFolder("exchange")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "disnaker")
        defer {
            try? a.close()
            try? b.close()
        }
        try write(a, at: Self.t0, "INSERT INTO t(id, a, b, c) SELECT printf('k%02d', value), 'a', 'b', 'c' FROM generate_series(1, 25)")

        var keys: [String] = []
        var sizes: [Int] = []
        var positions: [UInt64] = []
        while true {
            let cursor = try b.cursor(for: a.replicaID)
            let batch = try a.export(after: cursor, limits: BatchLimits(maxRows: 10))
            #expect(batch.afterSeq == cursor.seq)
            #expect(batch.baseSeq == cursor.baseSeq)
            keys += batch.rows.map(\.key)
            sizes.append(batch.rows.count)
            let result = try b.apply(encoded: try BatchCodec.encode(batch))
            #expect(result.advancedCursor)
            let next = try b.cursor(for: a.replicaID)
            positions.append(next.seq)
            if batch.complete {
                #expect(next.baseSeq == next.seq)
                break
            }
            // Until the last batch, the base stays: later rows may still lack older registers here.
            #expect(next.baseSeq == 0)
            #expect(next.seq > cursor.seq)
            try #require(sizes.count < 10)
        }
        #expect(sizes == [10, 10, 5])
        #expect(keys.count == 25 && Set(keys).count == 25)
        #expect(positions == positions.sorted())
        #expect(try b.rows(of: "t") == a.rows(of: "t"))
        // Caught up: the next export is empty and complete.
        let tail = try a.export(after: b.cursor(for: a.replicaID), limits: BatchLimits(maxRows: 10))
        #expect(tail.rows.isEmpty && tail.complete)

        let single = try a.export(after: .start, limits: BatchLimits(maxRows: 1))
        #expect(single.rows.count == 1 && !single.complete)
    }

    @Test func exportHonoursMaxValueBytesButAlwaysSendsARow() throws {
        let folder = TemporaryFolder("exchange")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "disnaker")
        defer {
            try? a.close()
            try? b.close()
        }
        try write(a, at: Self.t0, "INSERT INTO t(id, a, b, c) SELECT 'k' || value, printf('%.1000c', 'x'), NULL, NULL FROM generate_series(1, 12)")
        let small = try a.export(after: .start, limits: BatchLimits(maxRows: 100, maxValueBytes: 2_500))
        #expect((1...3).contains(small.rows.count), "\(small.rows.count) rows")
        #expect(!small.complete)
        let tiny = try a.export(after: .start, limits: BatchLimits(maxRows: 100, maxValueBytes: 1))
        #expect(tiny.rows.count == 1)
        #expect(try sync(from: a, to: b, limits: BatchLimits(maxRows: 100, maxValueBytes: 2_500)) >= 4)
        #expect(try b.rows(of: "t") == a.rows(of: "t"))
    }

    @Test func aDeletedRowTravelsAsATombstoneAndALateOlderUpdateDoesNotReviveIt() throws {
        let folder = TemporaryFolder("exchange")
        let a = try replica(folder, "lpk-1")
        let b = try replica(folder, "blki")
        let c = try replica(folder, "disnaker")
        defer {
            for r in [a, b, c] { try? r.close() }
        }
        try write(a, at: Self.t0, "INSERT INTO t(id, a, b, c) VALUES ('k', 'a', 'b', 'c'), ('other', 'a', 'b', 'c')")
        try sync(from: a, to: b)

        // Offline, b edits the row; a little later a deletes it.
        try write(b, at: Self.t0 + 10, "UPDATE t SET a = 'late edit' WHERE id = 'k'")
        try write(a, at: Self.t0 + 1_000, "DELETE FROM t WHERE id = 'k'")

        let deletion = try a.export(after: try c.cursor(for: a.replicaID))
        let tombstone = try #require(deletion.rows.first { $0.key == "k" })
        #expect(tombstone.state.deleted?.value == RowState.deletedMarker)
        try sync(from: a, to: c)
        #expect(try c.rows(of: "t").keys.sorted() == ["other"])
        #expect(try c.rowStates(of: "t")["k"]?.isLive == false)

        // The delete reaches b; b's older edit then reaches a and c.
        try sync(from: a, to: b)
        try sync(from: b, to: a)
        try sync(from: b, to: c)
        try sync(from: a, to: c)
        for r in [a, b, c] {
            #expect(try r.rows(of: "t").keys.sorted() == ["other"], "\(r.siteID) revived the row")
            #expect(try r.rowStates(of: "t")["k"]?.isLive == false)
        }
        #expect(try a.rowStates(of: "t") == b.rowStates(of: "t"))
        #expect(try c.rowStates(of: "t") == a.rowStates(of: "t"))
        // The edit did not vanish silently: it lost to the delete, and a ledger says so.
        let ledger = try (a.conflicts() + b.conflicts() + c.conflicts()).filter { $0.key == "k" }
        #expect(!ledger.isEmpty)
        #expect(ledger.allSatisfy { $0.winnerIsDelete && $0.column == "a" && $0.loserValue == .text("late edit") })

        // A later re-insert does bring the row back, everywhere.
        try write(c, at: Self.t0 + 2_000, "INSERT INTO t(id, a, b, c) VALUES ('k', 'again', 'b', 'c')")
        for (from, to) in [(c, a), (c, b), (a, b), (b, a)] { try sync(from: from, to: to) }
        for r in [a, b, c] {
            #expect(try r.rows(of: "t")["k"] == [.text("again"), .text("b"), .text("c")], "\(r.siteID)")
        }
    }

    @Test func rowsAreEqualOnBothSidesAfterSync() throws {
        let folder = TemporaryFolder("exchange")
        let people = TableSpec(name: "people", key: "nik", columns: [
            ColumnSpec(name: "name"), ColumnSpec(name: "age", type: "INTEGER"), ColumnSpec(name: "score", type: "REAL"),
            ColumnSpec(name: "photo", type: "BLOB"), ColumnSpec(name: "extra", type: "NUMERIC"),
        ])
        let schema = Schema(tables: [testTable, people])
        let a = try replica(folder, "lpk-1", schema: schema)
        let b = try replica(folder, "bplk", schema: schema)
        defer {
            try? a.close()
            try? b.close()
        }
        try write(a, at: Self.t0, """
            INSERT INTO people VALUES ('6371010101900001', 'Siti Nurhaliza', 24, 87.5, X'00FF10', 'x');
            INSERT INTO people VALUES ('0190b0a2-8f3c-7a10-9b2e-4c5d6e7f8091', 'Ahmad ''Udin''', -3, 1e300, zeroblob(0), 42);
            INSERT INTO people VALUES ('0190B0A2-8F3C-7A10-9B2E-4C5D6E7F8092', 'ÜTF-8 ✓ 日本', 9223372036854775807, -0.25, NULL, NULL);
            INSERT INTO t(id, a, b, c) SELECT 'a' || value, value, 'from a', NULL FROM generate_series(1, 30);
            """)
        try write(b, at: Self.t0 + 1, """
            INSERT INTO people VALUES ('6371010101900009', 'Budi', NULL, NULL, randomblob(300), 3.5);
            INSERT INTO t(id, a, b, c) SELECT 'b' || value, value, 'from b', 'c' FROM generate_series(1, 30);
            """)
        try sync(from: a, to: b, limits: BatchLimits(maxRows: 7))
        try sync(from: b, to: a, limits: BatchLimits(maxRows: 7))

        // Both edit the same rows: different columns merge, the same column converges on one winner.
        try write(a, at: Self.t0 + 10, "UPDATE people SET age = 25 WHERE nik = '6371010101900001'; UPDATE t SET a = 'by a', b = 'by a' WHERE id = 'b1'")
        try write(b, at: Self.t0 + 20, "UPDATE people SET name = 'Siti N.' WHERE nik = '6371010101900001'; UPDATE t SET b = 'by b' WHERE id = 'b1'")
        try sync(from: a, to: b, limits: BatchLimits(maxRows: 3))
        try sync(from: b, to: a, limits: BatchLimits(maxRows: 3))

        for table in ["t", "people"] {
            #expect(try a.rows(of: table) == b.rows(of: table), "table \(table)")
            #expect(try a.rowStates(of: table) == b.rowStates(of: table), "table \(table)")
        }
        #expect(try a.rows(of: "t").count == 60)
        #expect(try a.rows(of: "people").count == 4)
        #expect(try a.rows(of: "people")["6371010101900001"] == [.text("Siti N."), .integer(25), .real(87.5), .blob([0x00, 0xFF, 0x10]), .text("x")])
        #expect(try b.rows(of: "people")["0190B0A2-8F3C-7A10-9B2E-4C5D6E7F8092"]?[0] == .text("ÜTF-8 ✓ 日本"))
        #expect(try b.rows(of: "t")["b1"] == [.text("by a"), .text("by b"), .text("c")])
        // The losing concurrent write of t.b is in a ledger.
        let ledger = try a.conflicts() + b.conflicts()
        #expect(ledger.contains { $0.key == "b1" && $0.column == "b" && $0.loserValue == .text("by a") })
        // And the bytes of the two tables, as the shell reads them, are the same.
        for table in ["t", "people"] {
            let query = "SELECT * FROM \(table) ORDER BY 1"
            #expect(try SQLiteShell.run(a.path, query, options: ["-quote"]) == SQLiteShell.run(b.path, query, options: ["-quote"]))
        }
    }
}
