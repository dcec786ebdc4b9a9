import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The snapshot part writer takes rows from any source (`SnapshotRowSource`), not only a replica: a
/// hub store on PostgreSQL feeds it row by row. Fed the rows of a replica's own parts, it writes the
/// same parts, and a new site adopts them.
@Suite struct SnapshotRowSourceTests {
    /// A source that is not a replica file: rows handed over one by one, as another engine reads them.
    struct ListSource: SnapshotRowSource {
        let epoch: String
        let rows: [SnapshotRow]
        let answer: SnapshotRowRead

        func read(table: TableSpec, after afterKey: String?, maxRows: Int, row: (SnapshotRow) throws -> Void) throws -> SnapshotRowRead {
            for r in rows { try row(r) }
            return answer
        }
    }

    /// Every table of a part file, each as its rows in order.
    static func contents(of file: [UInt8], in folder: TemporaryFolder) throws -> [String: [[DatabaseValue]]] {
        let path = folder.file("part-\(UUID().uuidString).sqlite")
        try Data(file).write(to: URL(fileURLWithPath: path))
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            var out: [String: [[DatabaseValue]]] = [:]
            for (table, order) in [("part", "name"), ("sites", "id"), ("records", "n"), ("live", "n"), ("dead", "n")] {
                out[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)").map { Array($0.databaseValues) }
            }
            return out
        }
    }

    /// The rows and read of a replica's part file, as a source would hand them over.
    static func source(from file: [UInt8], epoch: String, in folder: TemporaryFolder) throws -> ListSource {
        let tables = try contents(of: file, in: folder)
        let fields = Dictionary(uniqueKeysWithValues: try #require(tables["part"]).map { (String.fromDatabaseValue($0[0])!, $0[1]) })
        let values = Dictionary(uniqueKeysWithValues: (tables["live"]! .map { ($0[0], (true, $0)) }) + tables["dead"]!.map { ($0[0], (false, $0)) })
        let rows = try tables["records"]!.map { record in
            let (live, row) = try #require(values[record[0]])
            return SnapshotRow(key: String.fromDatabaseValue(record[1])!, vector: Array(Data.fromDatabaseValue(record[2])!),
                               stamps: Array(Data.fromDatabaseValue(record[3])!), live: live,
                               values: row.dropFirst(2).map { v in
                                   switch v.storage {
                                   case .null: .null
                                   case .int64(let i): .integer(i)
                                   case .double(let d): .real(d)
                                   case .string(let s): .text(s)
                                   case .blob(let b): .blob(Array(b))
                                   }
                               })
        }
        let sites = Dictionary(uniqueKeysWithValues: tables["sites"]!.map { (Int64.fromDatabaseValue($0[0])!, String.fromDatabaseValue($0[1])!) })
        let read = SnapshotRowRead(position: try #require(Int64.fromDatabaseValue(fields["position"]!).flatMap { UInt64(exactly: $0) }), sites: sites,
                                   scanned: rows.count, lastKey: String.fromDatabaseValue(fields["last_key"]!))
        return ListSource(epoch: epoch, rows: rows, answer: read)
    }

    /// A hub replica holding rows from two sites, some updated and one deleted.
    static func hub(in folder: TemporaryFolder) throws -> Replica {
        let hub = try Replica.create(at: folder.file("hub.sqlite"), siteID: "hub", schema: testSchema, clock: ManualClock())
        let site = try Replica.create(at: folder.file("site.sqlite"), siteID: "lpk-a", schema: testSchema, clock: ManualClock())
        defer { try? site.close() }
        let staff = try StaffApp(path: folder.file("site.sqlite"))
        for i in 0..<7 { try staff.execute("INSERT INTO t(id, a, b, c) VALUES (?, 'peserta', ?, ?)", ["row-\(i)", "kelas \(i)", i]) }
        try staff.execute("UPDATE t SET b = 'Las Listrik' WHERE id = 'row-2'")
        try staff.execute("DELETE FROM t WHERE id = 'row-4'")
        try sync(from: site, to: hub)
        let office = try StaffApp(path: folder.file("hub.sqlite"))
        try office.execute("UPDATE t SET c = 99 WHERE id = 'row-5'")
        _ = try hub.captureLocalChanges()
        return hub
    }

    @Test func aPartFromAnotherSourceIsTheReplicasOwnAndASiteAdoptsIt() throws {
        let folder = TemporaryFolder("snapshot-source")
        let hub = try Self.hub(in: folder)
        defer { try? hub.close() }
        let newSite = try Replica.create(at: folder.file("new.sqlite"), siteID: "lpk-b", schema: testSchema, clock: ManualClock())
        defer { try? newSite.close() }
        var after: String?
        var parts = 0
        while true {
            let (part, file) = try hub.snapshotPartFile(table: "t", after: after, maxRows: 3, receiverReplicaID: nil, scope: .all)
            let source = try Self.source(from: file, epoch: hub.replicaID, in: folder)
            let (written, writtenFile) = try SnapshotPartWriter.file(table: testTable, after: after, maxRows: 3, from: source)
            #expect(written == part)
            #expect(try Self.contents(of: writtenFile, in: folder) == Self.contents(of: file, in: folder))
            _ = try newSite.adoptSnapshotPart(writtenFile, from: hub.replicaID, budget: .seconds(60))
            parts += 1
            after = part.lastKey
            if part.finished { break }
            try #require(parts < 10)
        }
        #expect(parts == 3)
        #expect(try newSite.rows(of: "t") == hub.rows(of: "t"))
        #expect(try newSite.rows(of: "t").count == 6)
    }

    @Test func aSourceGivingRowsOutOfOrderOrTooManyIsRefused() throws {
        let folder = TemporaryFolder("snapshot-source")
        let hub = try Self.hub(in: folder)
        defer { try? hub.close() }
        let (_, file) = try hub.snapshotPartFile(table: "t", after: nil, maxRows: 3, receiverReplicaID: nil, scope: .all)
        let source = try Self.source(from: file, epoch: hub.replicaID, in: folder)
        let reversed = ListSource(epoch: source.epoch, rows: source.rows.reversed(), answer: source.answer)
        let disorder = #expect(throws: BegawiError.self) { try SnapshotPartWriter.file(table: testTable, after: nil, maxRows: 3, from: reversed) }
        #expect(disorder?.message.contains("out of key order") == true, "\(disorder?.message ?? "")")
        let tooMany = #expect(throws: BegawiError.self) { try SnapshotPartWriter.file(table: testTable, after: nil, maxRows: 2, from: source) }
        #expect(tooMany?.message.contains("more than the 2 rows") == true, "\(tooMany?.message ?? "")")
        let short = ListSource(epoch: source.epoch, rows: source.rows.map { var r = $0; r.values.removeLast(); return r }, answer: source.answer)
        let narrow = #expect(throws: BegawiError.self) { try SnapshotPartWriter.file(table: testTable, after: nil, maxRows: 3, from: short) }
        #expect(narrow?.message.contains("not the table's 3") == true, "\(narrow?.message ?? "")")
    }
}
