import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiSite
import Foundation
import GRDB
import Testing

/// A new replica's first pull as a snapshot (issue 16): real rounds (`SiteDaemon.syncOnce`) against a
/// real hub file, in parts sized to the link (pages of 10 rows here: parts of 10, 20, 40… rows, as the
/// in-process link is fast), compared with a site that pulls pages.
@Suite struct SnapshotTests {
    /// A hub holding 250 notes of `lpk-a`, 20 of them deleted and 30 updated, for new sites to pull.
    static func world() async throws -> PurgeWorld {
        let world = try PurgeWorld()
        world.hubConfiguration.pageRows = 10
        try world.addSite("lpk-a")
        let keys = try world.insert("lpk-a", count: 250, tag: "n")
        try await world.sync("lpk-a")
        try world.staff("lpk-a", "DELETE FROM notes WHERE id IN (\(keys[0..<20].map { "'\($0)'" }.joined(separator: ",")))")
        try world.staff("lpk-a", "UPDATE notes SET body = 'edited' WHERE id IN (\(keys[100..<130].map { "'\($0)'" }.joined(separator: ",")))")
        try await world.sync("lpk-a")
        return world
    }

    /// `world()` with `lpk-pages`, which pulled it by pages, and `lpk-snap`, new and not yet synced.
    static func pagedAndNew() async throws -> PurgeWorld {
        let world = try await world()
        try world.addSite("lpk-pages")
        try world.addSite("lpk-snap")
        try await world.sync("lpk-pages")
        return world
    }

    /// Every row's merge state and values, by key, as the replica would export them to a new replica
    /// (independent of its own change numbers), and its tombstones' stored values.
    static func state(_ world: PurgeWorld, _ site: String) throws -> (rows: [String: RowState], dead: Set<String>) {
        let replica = try Replica.open(at: world.path(site), clock: world.clock)
        defer { try? replica.close() }
        let batch = try replica.export(after: .start, limits: BatchLimits(maxRows: 100_000, maxValueBytes: 1 << 30))
        return (Dictionary(uniqueKeysWithValues: batch.rows.map { ($0.key, $0.state) }), try world.keys(world.path(site), dead: true))
    }

    @Test func aSnapshotGivesWhatThePagesGive() async throws {
        let world = try await SnapshotTests.world()
        try world.addSite("lpk-pages")
        try world.addSite("lpk-snap")
        let pages = try await world.sync("lpk-pages")
        let transport = world.transport("lpk-snap")
        transport.snapshots = true
        let snap = try await world.sync("lpk-snap", transport: transport)
        #expect(transport.snapshotParts == 5, "250 rows, alive or deleted, in parts of 10, 20, 40, 80 and the last 100")
        #expect(transport.snapshotRows == [10, 20, 40, 80, 160], "each part asked for twice the last while they arrive fast")
        #expect(snap.received == 250 && pages.received == 250)
        let a = try SnapshotTests.state(world, "lpk-pages"), b = try SnapshotTests.state(world, "lpk-snap")
        #expect(a.rows.count == 250)
        #expect(a.rows == b.rows, "the same rows, values, stamps and vectors")
        #expect(a.dead == b.dead && a.dead.count == 20)
        #expect(try world.keys(world.path("lpk-pages")) == world.keys(world.path("lpk-snap")))
        // Both continue from the same position: a later change reaches both alike.
        try world.staff("lpk-a", "UPDATE notes SET body = 'later' WHERE id = 'lpk-a-n-200'")
        try await world.sync("lpk-a")
        let transportAgain = world.transport("lpk-snap")
        transportAgain.snapshots = true
        #expect(try await world.sync("lpk-snap", transport: transportAgain).received == 1)
        #expect(transportAgain.snapshotParts == 0, "a replica that pulled once pulls pages")
        #expect(try await world.sync("lpk-pages").received == 1)
        #expect(try SnapshotTests.state(world, "lpk-pages").rows == SnapshotTests.state(world, "lpk-snap").rows)
        #expect(!FileManager.default.fileExists(atPath: world.path("lpk-snap") + ".snapshot"))
    }

    @Test func aCutTransferResumesWhereItStopped() async throws {
        let world = try await SnapshotTests.pagedAndNew()
        let cut = world.transport("lpk-snap")
        cut.snapshots = true
        cut.snapshotPartsLeft = 2
        await #expect(throws: BegawiError.self) { try await world.sync("lpk-snap", transport: cut) }
        let replica = try Replica.open(at: world.path("lpk-snap"), clock: world.clock)
        #expect(try replica.cursor(for: world.store.hubReplicaID) == .start, "the cursor moves only with the last part")
        #expect(try replica.snapshotProgress(from: world.store.hubReplicaID)?.after == "lpk-a-n-124", "resumes after the second part (keys in text order)")
        try replica.close()
        #expect(try world.count(world.path("lpk-snap"), "SELECT count(*) FROM _begawi_rows") == 30)
        #expect(cut.snapshotRows == [10, 20, 40, 20, 10], "the third part asked again at half the size, twice, before the round gave up")
        let resumed = world.transport("lpk-snap")
        resumed.snapshots = true
        let report = try await world.sync("lpk-snap", transport: resumed)
        #expect(report.received == 220, "only the rows after the second part")
        #expect(resumed.snapshotRows.first == 10, "a new round sizes its parts from one page again")
        #expect(try SnapshotTests.state(world, "lpk-pages").rows == SnapshotTests.state(world, "lpk-snap").rows)
    }

    @Test func aPartLostToTheLinkIsAskedAgainSmallerInTheSameRound() async throws {
        let world = try await SnapshotTests.pagedAndNew()
        let transport = world.transport("lpk-snap")
        transport.snapshots = true
        // The connection drops in the middle of the third part, and again in that of the first one asked after it grew back.
        transport.loseSnapshotRequests = [3, 5]
        let report = try await world.sync("lpk-snap", transport: transport)
        #expect(transport.snapshotRows == [10, 20, 40, 20, 40, 20, 40, 80, 160], "half the size after each loss, twice after each part received")
        #expect(transport.snapshotParts == 7 && report.received == 250, "one round: nothing adopted twice")
        #expect(try SnapshotTests.state(world, "lpk-pages").rows == SnapshotTests.state(world, "lpk-snap").rows)
        #expect(try world.count(world.path("lpk-snap"), "SELECT count(*) FROM _begawi_rows") == 250)
    }

    @Test func staffWritesDuringTheSnapshotAreKept() async throws {
        let world = try await SnapshotTests.world()
        try world.addSite("lpk-snap")
        let transport = world.transport("lpk-snap")
        transport.snapshots = true
        var parts = 0
        transport.beforeSnapshotPart = {
            parts += 1
            guard parts == 2 else { return }
            // Between two parts: a new row, and the same key as a row of a later part (a concurrent write).
            try world.staff("lpk-snap", "INSERT INTO notes(id, body, site) VALUES ('own-1', 'mine', 'lpk-snap'), ('lpk-a-n-99', 'theirs too', 'lpk-snap')")
        }
        try await world.sync("lpk-snap", transport: transport)
        try await world.sync("lpk-snap")
        try await world.sync("lpk-a")
        let hub = try world.store.rows(of: "notes")
        #expect(hub["own-1"] != nil, "the staff's new row reached the hub")
        let here = try Replica.open(at: world.path("lpk-snap"), clock: world.clock)
        defer { try? here.close() }
        #expect(try here.rows(of: "notes")["own-1"] != nil)
        #expect(try here.rows(of: "notes")["lpk-a-n-99"] == hub["lpk-a-n-99"], "the concurrent write merged as in any pull")
        #expect(try here.rows(of: "notes").count == 231)
    }

    /// The adoption turns the capture triggers off on its connection while it writes a part's rows; a
    /// program's own trigger keeps every trigger on, so it sees adopted rows as it sees a pulled page's.
    @Test func aProgramsOwnTriggerSeesTheAdoptedRowsAndCaptureResumesAfter() async throws {
        let world = try await SnapshotTests.pagedAndNew()
        try world.addSite("lpk-own")
        try world.staff("lpk-own", "CREATE TABLE seen(id TEXT); CREATE TRIGGER seen_notes AFTER INSERT ON notes BEGIN INSERT INTO seen VALUES (NEW.id); END")
        for site in ["lpk-snap", "lpk-own"] {
            let transport = world.transport(site)
            transport.snapshots = true
            #expect(try await world.sync(site, transport: transport).received == 250)
            #expect(transport.snapshotParts == 5)
            #expect(try world.count(world.path(site), "SELECT count(*) FROM _begawi_outbox") == 0, "\(site): nothing adopted is captured as a write")
        }
        #expect(try world.count(world.path("lpk-own"), "SELECT count(*) FROM seen") == 230, "every live row adopted, through the program's trigger")
        #expect(try SnapshotTests.state(world, "lpk-pages").rows == SnapshotTests.state(world, "lpk-snap").rows)
        #expect(try SnapshotTests.state(world, "lpk-pages").rows == SnapshotTests.state(world, "lpk-own").rows)
        // The replica's writes after the adoption are captured again.
        try world.staff("lpk-snap", "UPDATE notes SET body = 'mine' WHERE id = 'lpk-a-n-200'")
        #expect(try world.count(world.path("lpk-snap"), "SELECT count(*) FROM _begawi_outbox") == 1)
        #expect(try await world.sync("lpk-snap").sent == 1)
    }

    /// A part cut midway (here by a row whose merge state does not parse; a power cut takes back the
    /// unsynced commits before it alike) keeps the transactions it committed; adopted again, the rows it
    /// holds already merge and the rest are written: the same rows as the pages give.
    @Test func aPartCutMidwayIsAdoptedAgainOverWhatItCommitted() async throws {
        let world = try PurgeWorld()
        try world.addSite("lpk-a")
        _ = try world.insert("lpk-a", count: 1200, tag: "n")
        try await world.sync("lpk-a")
        try world.addSite("lpk-pages")
        try world.addSite("lpk-snap")
        try await world.sync("lpk-pages")
        let replica = try Replica.open(at: world.path("lpk-snap"), clock: world.clock)
        defer { try? replica.close() }
        let site = world.records["lpk-snap"]!, hub = world.store.hubReplicaID
        _ = try world.store.session(site: site, replica: replica.replicaID, configuration: world.hubConfiguration)
        let bytes = try world.store.snapshotPart(site: site, replica: replica.replicaID, table: "notes", after: nil, maxRows: 2000,
                                                 schemaVersion: nil, compressed: false)!.bytes
        let whole = world.folder.file("part.sqlite"), cut = world.folder.file("cut.sqlite")
        try Data(bytes).write(to: URL(fileURLWithPath: whole))
        try Data(bytes).write(to: URL(fileURLWithPath: cut))
        try DatabaseQueue(path: cut).inDatabase { try $0.execute(sql: "UPDATE records SET stamps = x'ff' WHERE n = 1100") }
        // A budget of a microsecond: a first transaction of 500 rows, then transactions of 100.
        #expect(throws: BegawiError.self) { try replica.adoptSnapshotPart(at: cut, from: hub, budget: .microseconds(1)) }
        #expect(try world.count(world.path("lpk-snap"), "SELECT count(*) FROM _begawi_rows") == 1000, "the transactions before the bad row's stay")
        #expect(try replica.cursor(for: hub) == .start)
        let again = try replica.adoptSnapshotPart(at: whole, from: hub, budget: .microseconds(1))
        #expect(again.rows == 1200 && again.merged == 1000)
        #expect(again.cursor != nil, "the only part: the cursor moves")
        #expect(try SnapshotTests.state(world, "lpk-pages").rows == SnapshotTests.state(world, "lpk-snap").rows)
    }

    @Test func aPartComesAsItIsWhenAskedAndIsAdoptedFromMemory() async throws {
        let world = try await SnapshotTests.world()
        try world.addSite("lpk-snap")
        let replica = try Replica.open(at: world.path("lpk-snap"), clock: world.clock)
        defer { try? replica.close() }
        let site = world.records["lpk-snap"]!
        _ = try world.store.session(site: site, replica: replica.replicaID, configuration: world.hubConfiguration)
        func part(compressed: Bool) throws -> [UInt8] {
            try world.store.snapshotPart(site: site, replica: replica.replicaID, table: "notes", after: nil, maxRows: 100,
                                         schemaVersion: nil, compressed: compressed)!.bytes
        }
        let plain = try part(compressed: false), packed = try part(compressed: true)
        #expect(plain.starts(with: Array("SQLite format 3".utf8)), "a SQLite file as it is")
        #expect(try GzipDecoder.decode(packed, limit: 1 << 30) == plain)
        #expect(packed.count * 2 < plain.count)
        #expect(try replica.snapshotPart(following: plain, from: world.store.hubReplicaID).rows == 100)
        #expect(try replica.adoptSnapshotPart(plain, from: world.store.hubReplicaID, budget: .seconds(1)).rows == 100)
        #expect(try replica.rows(of: "notes").count + world.keys(world.path("lpk-snap"), dead: true).count == 100, "alive or deleted")
        // Bytes that are no SQLite file are refused as a part that does not fit: the pages bring the rows.
        for bad in [[], Array(plain.prefix(100)), Array(repeating: UInt8(7), count: 8192)] {
            #expect(throws: BegawiError.self) { try replica.snapshotPart(following: bad, from: world.store.hubReplicaID) }
        }
    }
}
