import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// Installing further tables into an existing replica.
@Suite(.blocking) struct InstallTests {
    let extra = TableSpec(name: "vacancies", columns: [ColumnSpec(name: "title"), ColumnSpec(name: "quota", type: "INTEGER")])

    @Test func aNewTableIsInstalledCapturedAndSynced() throws {
        let folder = TemporaryFolder()
        let a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        let b = try Replica.create(at: folder.file("b.sqlite"), siteID: "b", schema: testSchema)
        let a2 = try a.install(Schema(tables: [testTable, extra]))
        let b2 = try b.install(Schema(tables: [testTable, extra]))
        #expect(a2.schema.tables.map(\.name) == ["t", "vacancies"])
        try StaffApp(path: a2.path).execute("INSERT INTO vacancies (id, title, quota) VALUES ('v1', 'Welder', 4)")
        try sync(from: a2, to: b2)
        #expect(try b2.rows(of: "vacancies") == ["v1": [.text("Welder"), .integer(4)]])
        // Reopening finds the installed table again.
        try b2.close()
        let reopened = try Replica.open(at: folder.file("b.sqlite"))
        #expect(reopened.schema.tables.map(\.name) == ["t", "vacancies"])
    }

    @Test func installingTheSameSchemaChangesNothing() throws {
        let folder = TemporaryFolder()
        let a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        let again = try a.install(testSchema)
        #expect(again === a)
    }

    @Test func changingAnInstalledTablesColumnsIsRefused() throws {
        let folder = TemporaryFolder()
        let a = try Replica.create(at: folder.file("a.sqlite"), siteID: "a", schema: testSchema)
        let changed = TableSpec(name: "t", columns: [ColumnSpec(name: "a"), ColumnSpec(name: "b")])
        let error = #expect(throws: BegawiError.self) { try a.install(Schema(tables: [changed])) }
        #expect(error?.code == .invalidSchema)
        #expect(error?.message.contains("'t'") == true)
    }
}
