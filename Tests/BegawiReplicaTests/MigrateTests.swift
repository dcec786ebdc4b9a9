import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// A replica moving to a later schema version in one transaction: rows written before keep reading,
/// exporting and merging; new columns and tables sync; staff writing meanwhile lose nothing; a
/// change that is not an addition never reaches the file.
@Suite(.blocking) struct MigrateTests {
    /// `t` with a fourth column `d`, and a new table `u`.
    static let v2 = Schema(tables: [
        TableSpec(name: "t", columns: testTable.columns + [ColumnSpec(name: "d"), ColumnSpec(name: "e", type: "INTEGER")]),
        TableSpec(name: "u", columns: [ColumnSpec(name: "x", notNull: true)]),
    ])

    @Test func rowsWrittenBeforeAMigrationSyncWithTheNewColumns() throws {
        let folder = TemporaryFolder()
        var a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        var b = try Replica.create(at: folder.file("b.sqlite"), siteID: "b", schema: testSchema)
        let staffA = try StaffApp(path: a.path), staffB = try StaffApp(path: b.path)
        try staffA.execute("INSERT INTO t (id, a, b, c) VALUES ('r1', 'a1', 'b1', 'c1'), ('r2', 'a2', 'b2', 'c2')")
        try staffA.execute("DELETE FROM t WHERE id = 'r2'")
        try staffA.execute("INSERT INTO t (id, a) VALUES ('r3', 'a3')")
        try sync(from: a, to: b)
        // A write captured but not yet absorbed when the migration starts is kept too.
        try staffA.execute("UPDATE t SET c = 'c3' WHERE id = 'r3'")

        a = try a.migrate(to: MigrateTests.v2)
        b = try b.migrate(to: MigrateTests.v2)
        #expect(a.schema == MigrateTests.v2)
        #expect(try a.rows(of: "t") == ["r1": [.text("a1"), .text("b1"), .text("c1"), .null, .null], "r3": [.text("a3"), .null, .text("c3"), .null, .null]])

        try staffA.execute("UPDATE t SET d = 'd1', b = 'B1' WHERE id = 'r1'")
        try staffA.execute("INSERT INTO t (id, a, d, e) VALUES ('r4', 'a4', 'd4', 4)")
        try staffA.execute("INSERT INTO u (id, x) VALUES ('u1', 'x1')")
        try staffB.execute("UPDATE t SET e = 30 WHERE id = 'r3'")
        try sync(from: a, to: b)
        try sync(from: b, to: a)
        let expected: [String: [SQLValue]] = [
            "r1": [.text("a1"), .text("B1"), .text("c1"), .text("d1"), .null],
            "r3": [.text("a3"), .null, .text("c3"), .null, .integer(30)],
            "r4": [.text("a4"), .null, .null, .text("d4"), .integer(4)],
        ]
        #expect(try a.rows(of: "t") == expected)
        #expect(try b.rows(of: "t") == expected)
        #expect(try b.rows(of: "u") == ["u1": [.text("x1")]])

        // A replica made at v2 gets every row, the old ones and the deleted one, from scratch.
        let c = try Replica.create(at: folder.file("c.sqlite"), siteID: "c", schema: MigrateTests.v2)
        try sync(from: a, to: c)
        #expect(try c.rows(of: "t") == expected)
        #expect(try c.rows(of: "u") == ["u1": [.text("x1")]])
        // A deleted row written again at v2 syncs back with every column, the new one too.
        try StaffApp(path: c.path).execute("INSERT INTO t (id, a, d) VALUES ('r2', 'A2', 'D2')")
        try sync(from: c, to: a)
        #expect(try a.rows(of: "t")["r2"] == [.text("A2"), .null, .null, .text("D2"), .null])

        try a.close()
        let reopened = try Replica.open(at: folder.file("a.sqlite"))
        #expect(reopened.schema == MigrateTests.v2)
    }

    @Test func migratingToTheInstalledSchemaChangesNothing() throws {
        let folder = TemporaryFolder()
        let a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: MigrateTests.v2)
        let again = try a.migrate(to: MigrateTests.v2)
        #expect(again.schema == MigrateTests.v2)
    }

    @Test func theVersionIsRecordedWithTheMigration() throws {
        let folder = TemporaryFolder()
        var a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        #expect(try a.schemaVersion() == nil)
        a = try a.migrate(to: MigrateTests.v2, version: 2)
        #expect(try a.schemaVersion() == 2)
        #expect(throws: BegawiError.self) { try a.migrate(to: testSchema, version: 3) }
        #expect(try a.schemaVersion() == 2)
        #expect(a.schema == MigrateTests.v2)
    }

    @Test func staffWritingDuringAMigrationLoseNothing() throws {
        let folder = TemporaryFolder()
        var a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        let path = a.path
        let rows = 300
        let started = DispatchSemaphore(value: 0)
        let counts = StaffCounts()
        let done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            guard let staff = try? StaffApp(path: path) else { started.signal(); return }
            for i in 0..<rows {
                counts.add(ok: (try? staff.execute("INSERT INTO t (id, a) VALUES (?, ?)", ["s\(i)", "v\(i)"])) != nil)
                if i == 20 { started.signal() }
            }
        }
        started.wait()
        a = try a.migrate(to: MigrateTests.v2)
        done.wait()
        #expect(counts.totals == (rows, 0))
        let b = try Replica.create(at: folder.file("b.sqlite"), siteID: "b", schema: MigrateTests.v2)
        try sync(from: a, to: b)
        let synced = try b.rows(of: "t")
        #expect(synced.count == rows)
        #expect((0..<rows).allSatisfy { synced["s\($0)"] == [.text("v\($0)"), .null, .null, .null, .null] })
    }

    @Test(arguments: [
        ("a dropped column", Schema(tables: [TableSpec(name: "t", columns: Array(testTable.columns.prefix(2))), MigrateTests.v2.tables[1]])),
        ("a dropped table", Schema(tables: [MigrateTests.v2.tables[1]])),
        ("a retyped column", Schema(tables: [TableSpec(name: "t", columns: [ColumnSpec(name: "a", type: "INTEGER")] + testTable.columns.dropFirst()), MigrateTests.v2.tables[1]])),
        ("a new NOT NULL column", Schema(tables: [TableSpec(name: "t", columns: testTable.columns + [ColumnSpec(name: "d", notNull: true)]), MigrateTests.v2.tables[1]])),
        ("a changed default", Schema(tables: [TableSpec(name: "t", columns: [ColumnSpec(name: "a", defaultValue: .text("x"))] + testTable.columns.dropFirst()), MigrateTests.v2.tables[1]])),
        ("a column put first", Schema(tables: [TableSpec(name: "t", columns: [ColumnSpec(name: "d")] + testTable.columns), MigrateTests.v2.tables[1]])),
    ])
    func aChangeThatIsNotAnAdditionNeverReachesTheFile(_ what: String, _ schema: Schema) throws {
        let folder = TemporaryFolder()
        let a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        try StaffApp(path: a.path).execute("INSERT INTO t (id, a, b, c) VALUES ('r1', 'a1', 'b1', 'c1')")
        let error = #expect(throws: BegawiError.self, "\(what)") { try a.migrate(to: schema) }
        #expect(error?.code == .invalidSchema)
        #expect(error?.message.contains("'t'") == true, "\(error?.message ?? "")")
        try a.close()
        let reopened = try Replica.open(at: folder.file("a.sqlite"))
        #expect(reopened.schema == testSchema)
        #expect(try reopened.rows(of: "t") == ["r1": [.text("a1"), .text("b1"), .text("c1")]])
        let tables = try DatabaseQueue(path: folder.file("a.sqlite")).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('u', '_begawi_dead_u')")
        }
        #expect(tables.isEmpty)
    }
}
