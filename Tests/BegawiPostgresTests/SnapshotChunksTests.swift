import BegawiCore
import BegawiHub
@testable import BegawiPostgres
import BegawiReplica
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// A PostgreSQL hub's snapshot parts, read in chunks of framed rows and transcoded in place, are the
/// very files the row-by-row reading made before (the site sees no difference): checked byte for
/// byte against that reading, kept here, over parts of more rows than a chunk holds, with keys of
/// several bytes per character and with rows the receiver holds whole (NULL states) among them.
@Suite(.enabled(if: TestPostgres.available, TestPostgres.skipped)) struct SnapshotChunksTests {
    /// The reading before chunks: one result row per table row, each state decoded whole
    /// (`MergeState`) and encoded again (`RowRecord`).
    struct RowByRowSource: SnapshotRowSource {
        let epoch: String
        let link: PostgresLink
        let receiver: String?
        let visible: String
        let byteOrder: String

        func read(table: TableSpec, after afterKey: String?, maxRows: Int, row: (SnapshotRow) throws -> Void) throws -> SnapshotRowRead {
            let (head, found) = try link.transaction { link in
                try link.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                let head = try #require(try link.query("SELECT pos FROM _begawi_feed_head").first).decode(Int64.self)
                return (try #require(UInt64(exactly: head)), try link.query(PostgresHubStore.snapshotRows(table: table.name, after: afterKey, limit: maxRows,
                                                                                   receiver: receiver, visible: visible, byteOrder: byteOrder)))
            }
            var sites = SiteDirectory(rows: [])
            var scanned = 0
            var lastKey: String?
            for found in found {
                let (key, bytes) = try found.decode((String, ByteBuffer?).self)
                scanned += 1
                lastKey = key
                guard let bytes else { continue }
                var record = RowRecord(columnCount: table.columns.count)
                record.state = try MergeState.decode(Array(bytes.readableBytesView), columnCount: table.columns.count)
                let vector = record.encodeVector(sites: &sites)
                let stamps = record.encodeStamps(sites: &sites)
                try row(SnapshotRow(key: key, vector: vector, stamps: stamps, live: record.state.isLive,
                                    values: record.state.columns.map { $0?.value ?? .null }))
            }
            var numbered: [Int64: String] = [:]
            for (number, name) in sites.sites.enumerated() where number > 0 { numbered[Int64(number)] = name }
            return SnapshotRowRead(position: head, sites: numbered, scanned: scanned, lastKey: lastKey)
        }
    }

    @Test func thePartsAreTheFilesTheRowByRowReadingMade() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let store = try #require(hub.store as? PostgresHubStore)
            var (a, _) = try hub.seedCourses(count: 2_345)
            // Keys of several bytes per character, which sort after every ASCII key in bytes.
            let wide = ["cé", "c✓", "c😀", "cÅ"].map { a.write($0, ["title": .text("Kursus \($0)"), "quota": .integer(5)], insert: true) }
            _ = try store.push(site: a.record, replica: a.replica, batch: a.batch(wide), schemaVersion: nil)
            let folder = TemporaryFolder("pg-chunks")
            let fresh = try SnapshotSite(hub, id: "lpk-fresh", in: folder)
            defer { fresh.close() }
            let spec = try #require(try store.exchangeDocument().schema.table(named: "courses"))
            // A new site (every state given) and lpk-a (the rows it holds whole come as NULL states).
            for (site, replica) in [(fresh.record, fresh.replica.replicaID), (a.record, a.replica)] {
                var after: String?
                var parts = 0
                var rows = 0
                while true {
                    let part = try #require(try store.snapshotPart(site: site, replica: replica, table: "courses", after: after, maxRows: 1_100,
                                                                   schemaVersion: nil, compressed: false))
                    let before = try store.pool.withLink { link in
                        try SnapshotPartWriter.file(table: spec, after: after, maxRows: 1_100,
                                                    from: RowByRowSource(epoch: store.hubReplicaID, link: link, receiver: replica,
                                                                         visible: store.visibleRowsFilter(for: site, table: "r.tbl", key: "r.key"),
                                                                         byteOrder: store.byteOrder))
                    }
                    #expect(part.bytes == before.file, "part \(parts + 1) for \(site.id)")
                    #expect(part.rows == before.part.rows)
                    parts += 1
                    rows += part.rows
                    if before.part.finished { break }
                    after = before.part.lastKey
                    try #require(parts < 10)
                }
                #expect(parts == 3, "2,349 keys in parts of 1,100")
                if site.id == "lpk-fresh" {
                    #expect(rows == 2_349)
                } else {
                    #expect(rows == 2, "lpk-a holds all but the two rows lpk-b changed")
                }
            }
        }
    }

    /// A state the transcoder does not read (a vector out of order, which the store never writes)
    /// goes the old way and gives the same part; a damaged one is refused as a damaged database.
    @Test func aStateTheTranscoderDoesNotReadGoesTheOldWay() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let store = try #require(hub.store as? PostgresHubStore)
            _ = try hub.seedCourses()
            let folder = TemporaryFolder("pg-chunks")
            let fresh = try SnapshotSite(hub, id: "lpk-fresh", in: folder)
            defer { fresh.close() }
            let spec = try #require(try store.exchangeDocument().schema.table(named: "courses"))
            func part() throws -> [UInt8] {
                try #require(try store.snapshotPart(site: fresh.record, replica: fresh.replica.replicaID, table: "courses", after: nil,
                                                    maxRows: 50, schemaVersion: nil, compressed: false)).bytes
            }
            _ = try part()
            // c2 was written by lpk-a and lpk-b: its vector written again in the wrong order.
            try store.pool.withLink { link in
                let row = try #require(try link.query("SELECT pub_state FROM _begawi_rows WHERE tbl = 'courses' AND key = 'c2'").first)
                var state = try MergeState.decode(Array(try row.decode(ByteBuffer.self).readableBytesView), columnCount: 2)
                let entries = state.vector.entries
                try #require(entries.map(\.site) == ["lpk-a", "lpk-b"])
                state.vector = VersionVector()
                var w = ByteWriter()
                w.varint(2)
                for entry in entries.reversed() {
                    w.string(entry.site)
                    w.varint(entry.counter)
                }
                let reordered = ByteBuffer(bytes: w.bytes + MergeState.encode(state).dropFirst())
                try link.query("UPDATE _begawi_rows SET pub_state = \(reordered) WHERE tbl = 'courses' AND key = 'c2'")
            }
            let reordered = try part()
            let before = try store.pool.withLink { link in
                try SnapshotPartWriter.file(table: spec, after: nil, maxRows: 50,
                                            from: RowByRowSource(epoch: store.hubReplicaID, link: link, receiver: fresh.replica.replicaID,
                                                                 visible: "true", byteOrder: store.byteOrder))
            }
            #expect(reordered == before.file)
            try store.pool.withLink { link in
                try link.query("UPDATE _begawi_rows SET pub_state = '\\x0101'::bytea WHERE tbl = 'courses' AND key = 'c5'")
            }
            let refused = #expect(throws: BegawiError.self) { try part() }
            #expect(refused?.code == .corrupted, "\(String(describing: refused))")
        }
    }

    /// The framing of `snapshotChunks` as read back: lengths, NULL, and bytes that end early.
    @Test func aChunksFieldsAreReadAndATruncatedOneIsRefused() {
        let framed: [UInt8] = [0, 0, 0, 2, 0x63, 0x31, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2]
        framed.withUnsafeBytes { bytes in
            var rest = bytes[...]
            let key = PostgresSnapshotSource.field(&rest)
            #expect(key??.map { $0 } == [0x63, 0x31])
            let null = PostgresSnapshotSource.field(&rest)
            #expect(null != nil && null! == nil, "NULL")
            let empty = PostgresSnapshotSource.field(&rest)
            #expect(empty??.count == 0)
            #expect(PostgresSnapshotSource.field(&rest) == nil, "5 bytes announced, 2 left")
            var short = bytes[0..<3]
            #expect(PostgresSnapshotSource.field(&short) == nil, "no whole length")
        }
    }
}
