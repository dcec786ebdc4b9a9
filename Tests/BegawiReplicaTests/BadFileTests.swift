import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// `Replica.open` refuses wrong and damaged files with a clear error, and leaves each exactly as it
/// was: same bytes, and no -wal, -shm or -journal file beside it that was not there before.
@Suite(.blocking) struct BadFileTests {
    /// Opens `path`, expecting a refusal with `code`; checks the file and its folder are untouched.
    func expectRefused(_ path: String, _ code: BegawiError.Code, sourceLocation: SourceLocation = #_sourceLocation) throws -> BegawiError {
        let before = FileSnapshot(path)
        let error = try #require(throws: BegawiError.self, sourceLocation: sourceLocation) {
            let replica = try Replica.open(at: path, clock: ManualClock())
            try replica.close()
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(path), "the message should name the file: \(error.message)", sourceLocation: sourceLocation)
        let after = FileSnapshot(path)
        #expect(after.bytes == before.bytes, "the file's bytes changed", sourceLocation: sourceLocation)
        #expect(after.folderListing == before.folderListing, "files appeared or vanished beside it", sourceLocation: sourceLocation)
        return error
    }

    @Test func aTextFileIsNotAReplica() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("site.sqlite")
        try Data(String(repeating: "nama,nik,alamat\n", count: 20).utf8).write(to: URL(fileURLWithPath: path))
        _ = try expectRefused(path, .notAReplica)
    }

    @Test func anEmptyFileIsNotAReplica() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("site.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        _ = try expectRefused(path, .notAReplica)
    }

    @Test func anotherSQLiteDatabaseIsNotAReplica() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("staff.sqlite")
        try SQLiteShell.run(path, """
            CREATE TABLE t(id TEXT PRIMARY KEY, a, b, c);
            INSERT INTO t VALUES ('k1', 'a', 'b', 'c');
            """)
        let error = try expectRefused(path, .notAReplica)
        #expect(error.message.contains("not a Begawi replica"))
    }

    @Test func anotherSQLiteDatabaseInWALModeIsNotAReplica() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("staff.sqlite")
        try SQLiteShell.run(path, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE t(id TEXT PRIMARY KEY, a, b, c);
            INSERT INTO t VALUES ('k1', 'a', 'b', 'c');
            """)
        _ = try expectRefused(path, .notAReplica)
    }

    @Test func aReplicaFromANewerBegawiIsRefused() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("site.sqlite")
        try Replica.create(at: path, siteID: "lpk-1", schema: testSchema).close()
        try SQLiteShell.run(path, "UPDATE _begawi_state SET value = 99 WHERE name = 'format'")
        #expect(try SQLiteShell.run(path, "SELECT value FROM _begawi_state WHERE name = 'format'") == "99\n")

        let error = try expectRefused(path, .newerFormat)
        #expect(error.message.contains("99"), "\(error.message)")
    }

    @Test func aReplicaWithoutAFormatMarkerIsCorrupted() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("site.sqlite")
        try Replica.create(at: path, siteID: "lpk-1", schema: testSchema).close()
        try SQLiteShell.run(path, "DELETE FROM _begawi_state WHERE name = 'format'")
        _ = try expectRefused(path, .corrupted)
    }

    @Test func aReplicaWithADamagedPageIsCorrupted() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("site.sqlite")
        try Replica.create(at: path, siteID: "lpk-1", schema: testSchema).close()
        try SQLiteShell.run(path, """
            INSERT INTO t(id, a, b, c)
            SELECT printf('participant-%05d', value), printf('name %d', value), hex(randomblob(24)), 'Banjarmasin'
            FROM generate_series(1, 3000);
            """)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the shell left a WAL: the damage below would not be the whole story")

        // A leaf page of table t from the middle of the file: beyond page 1, inside a b-tree.
        let pages = try SQLiteShell.run(path, "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' ORDER BY pageno")
            .split(separator: "\n").compactMap { Int($0) }
        try #require(pages.count > 10, "the table is too small to damage a page in its middle")
        let page = pages[pages.count / 2]
        let pageSize = Int(try SQLiteShell.run(path, "PRAGMA page_size").trimmingCharacters(in: .whitespacesAndNewlines))!

        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        // The page header (type, first freeblock, cell count, content start) and the first cell pointers.
        try handle.seek(toOffset: UInt64((page - 1) * pageSize))
        var garbage = SplitMix64(seed: 7)
        try handle.write(contentsOf: Data([0xEE] + (1..<48).map { _ in UInt8.random(in: 0...255, using: &garbage) }))
        try handle.close()
        try #require(try !SQLiteShell.quickCheckPasses(path), "the damage did not make quick_check fail")

        let error = try expectRefused(path, .corrupted)
        #expect(error.message.contains("backup"), "\(error.message)")
    }

    @Test func aMissingFileIsNotAReplicaAndIsNotCreated() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("missing.sqlite")
        _ = try expectRefused(path, .notAReplica)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aSoundReplicaStillOpensAfterAnotherProgramUsedIt() throws {
        let folder = TemporaryFolder("badfile")
        let path = folder.file("site.sqlite")
        try Replica.create(at: path, siteID: "lpk-1", schema: testSchema).close()
        try SQLiteShell.run(path, "INSERT INTO t(id, a, b, c) VALUES ('k1', 'a', 'b', 'c')")
        #expect(try SQLiteShell.quickCheckPasses(path))
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        #expect(try replica.pendingCaptureCount() == 1)
        #expect(try replica.rows(of: "t").keys.sorted() == ["k1"])
    }
}
