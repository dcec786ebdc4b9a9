import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// A NOT NULL column added with a default: SQLite fills the rows stored before, the merge gives it to
/// rows from a replica that does not know the column yet, and an explicit value is kept.
extension MigrateTests {
    /// `t` with `d TEXT NOT NULL DEFAULT 'O''Brien'` (a quote, written doubled in SQL).
    static let withDefault = Schema(tables: [
        TableSpec(name: "t", columns: testTable.columns + [ColumnSpec(name: "d", notNull: true, defaultValue: .text("O'Brien"))]),
    ])

    @Test func aDefaultedColumnHoldsItsDefaultWhereNoWriteSetIt() throws {
        let folder = TemporaryFolder()
        var a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        var b = try Replica.create(at: folder.file("b.sqlite"), siteID: "b", schema: testSchema)
        let staffA = try StaffApp(path: a.path), staffB = try StaffApp(path: b.path)
        try staffA.execute("INSERT INTO t (id, a) VALUES ('r1', 'a1')")
        try sync(from: a, to: b)
        b = try b.migrate(to: MigrateTests.withDefault)
        #expect(try b.rows(of: "t")["r1"] == [.text("a1"), .null, .null, .text("O'Brien")])

        // `a` is still on the version before: its new row and its edit arrive without the column.
        try staffA.execute("INSERT INTO t (id, a) VALUES ('r2', 'a2')")
        try staffA.execute("UPDATE t SET b = 'b1' WHERE id = 'r1'")
        try sync(from: a, to: b)
        try staffB.execute("INSERT INTO t (id, a, d) VALUES ('r3', 'a3', 'Gedung')")
        try staffB.execute("INSERT INTO t (id, a) VALUES ('r4', 'a4')")
        let expected: [String: [SQLValue]] = [
            "r1": [.text("a1"), .text("b1"), .null, .text("O'Brien")],
            "r2": [.text("a2"), .null, .null, .text("O'Brien")],
            "r3": [.text("a3"), .null, .null, .text("Gedung")],
            "r4": [.text("a4"), .null, .null, .text("O'Brien")],
        ]
        #expect(try b.rows(of: "t") == expected)

        a = try a.migrate(to: MigrateTests.withDefault)
        try sync(from: b, to: a)
        #expect(try a.rows(of: "t") == expected)
        // A replica made at the new version from scratch holds the same.
        let c = try Replica.create(at: folder.file("c.sqlite"), siteID: "c", schema: MigrateTests.withDefault)
        try sync(from: b, to: c)
        #expect(try c.rows(of: "t") == expected)
        // The DDL says it to every program that writes the file.
        let sql = try DatabaseQueue(path: folder.file("c.sqlite")).read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 't'")
        }
        #expect(sql?.contains(#""d" TEXT NOT NULL DEFAULT 'O''Brien'"#) == true, "\(sql ?? "")")
        for replica in [a, b, c] { try replica.close() }
    }
}
