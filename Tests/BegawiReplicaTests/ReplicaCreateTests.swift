import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// What `Replica.create` refuses: tables that cannot be synced, and files that already hold something.
@Suite(.blocking) struct ReplicaCreateTests {
    @Test func anIntegerPrimaryKeyIsRefusedNamingTheTable() throws {
        let folder = TemporaryFolder("create")
        let path = folder.file("site.sqlite")
        let table = TableSpec(name: "participants", primaryKey: ColumnSpec(name: "id", type: "INTEGER", notNull: true),
                              columns: [ColumnSpec(name: "name")])
        let schema = Schema(tables: [testTable, table])

        let error = try #require(throws: BegawiError.self) {
            _ = try Replica.create(at: path, siteID: "lpk-1", schema: schema)
        }
        #expect(error.code == .invalidSchema)
        #expect(error.message.contains("participants"), "\(error.message)")
        #expect(error.message.contains("TEXT"), "\(error.message)")
        // Refused before anything was written.
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(FileSnapshot(path).folderListing.isEmpty)
    }

    @Test func creatingOverAnExistingDatabaseIsRefusedAndLeavesItUnchanged() throws {
        let folder = TemporaryFolder("create")
        let path = folder.file("staff.sqlite")
        try SQLiteShell.run(path, """
            CREATE TABLE t(id TEXT PRIMARY KEY, a, b, c);
            INSERT INTO t VALUES ('k1', 'someone''s', 'own', 'data');
            """)
        let before = FileSnapshot(path)

        let error = try #require(throws: BegawiError.self) {
            _ = try Replica.create(at: path, siteID: "lpk-1", schema: testSchema)
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains(path), "\(error.message)")
        #expect(FileSnapshot(path) == before)
        #expect(try SQLiteShell.run(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '_begawi%'") == "0\n")
    }

    @Test func creatingOverAnotherReplicaOrATextFileIsRefused() throws {
        let folder = TemporaryFolder("create")
        let existing = folder.file("existing.sqlite")
        try Replica.create(at: existing, siteID: "lpk-1", schema: testSchema).close()
        try SQLiteShell.run(existing, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        let text = folder.file("notes.txt")
        try Data("not a database\n".utf8).write(to: URL(fileURLWithPath: text))
        let before = [FileSnapshot(existing), FileSnapshot(text)]

        for path in [existing, text] {
            let error = try #require(throws: BegawiError.self) {
                _ = try Replica.create(at: path, siteID: "blki", schema: testSchema)
            }
            #expect(error.code == .invalidArgument)
        }
        #expect([FileSnapshot(existing), FileSnapshot(text)] == before)
        let reopened = try Replica.open(at: existing)
        defer { try? reopened.close() }
        #expect(reopened.siteID == "lpk-1")
    }

    @Test func anEmptyFileMayBeMadeAReplica() throws {
        let folder = TemporaryFolder("create")
        let path = folder.file("site.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let replica = try Replica.create(at: path, siteID: "lpk-1", schema: testSchema)
        defer { try? replica.close() }
        try SQLiteShell.run(path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        #expect(try replica.pendingCaptureCount() == 1)
    }
}
