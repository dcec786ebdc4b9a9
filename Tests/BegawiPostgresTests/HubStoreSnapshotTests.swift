import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiSite
import BegawiTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// A new site's first sync by snapshot parts, one test body against each store: the parts give the
/// rows and merge state the pages give, and the pages after the snapshot bring what changed while
/// the parts were read, once.
@Suite(.blocking) struct HubStoreSnapshotTests {
    @Test(arguments: StoreKind.available)
    func aSnapshotGivesWhatThePagesGive(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let folder = TemporaryFolder("pg-snapshot")
            _ = try hub.seedCourses()
            let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
            let paged = try SnapshotSite(hub, id: "lpk-pages", in: folder)
            defer { snap.close(); paged.close() }
            #expect(try snap.adoptSnapshot(from: hub.store, maxRows: 4) == [4, 4, 1], "9 rows, the deleted one included")
            #expect(try snap.pullPages(from: hub.store).isEmpty, "nothing changed since the snapshot")
            #expect(try paged.pullPages(from: hub.store, maxRows: 4).count == 9)
            let states = try snap.states()
            #expect(states.count == 9)
            #expect(states == (try paged.states()), "the same rows, values, stamps and vectors")
            #expect(states["c2"]?.columns.map { $0?.stamp.site } == ["lpk-a", "lpk-b"], "a row merged from two writers keeps both")
            #expect(states["c4"]?.isLive == false)
            #expect(try snap.replica.rows(of: "courses") == paged.replica.rows(of: "courses"))
            #expect(try snap.replica.cursor(for: hub.store.hubReplicaID) == paged.replica.cursor(for: hub.store.hubReplicaID))
        }
    }

    /// Both stores give a new site the same merge state (the sites' clocks are the tests' own).
    @Test func bothStoresGiveTheSameSnapshot() throws {
        var results: [StoreKind: [String: RowState]] = [:]
        for kind in StoreKind.available {
            results[kind] = try kind.withHub { (hub) throws in
                let folder = TemporaryFolder("pg-snapshot")
                _ = try hub.seedCourses()
                let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
                defer { snap.close() }
                try snap.adoptSnapshot(from: hub.store, maxRows: 2)
                return try snap.states()
            }
        }
        if let postgres = results[.postgres] { #expect(postgres == results[.sqlite]) }
    }

    @Test(arguments: StoreKind.available)
    func aPushWhileThePartsAreReadIsReceivedOnceAfter(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let folder = TemporaryFolder("pg-snapshot")
            var (a, _) = try hub.seedCourses()
            let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
            let paged = try SnapshotSite(hub, id: "lpk-pages", in: folder)
            defer { snap.close(); paged.close() }
            // After the first part (c1, c2, c3): a row of it, a row of a later part, and a new key between parts.
            let parts = try snap.adoptSnapshot(from: hub.store, maxRows: 3) { part in
                guard part == 1 else { return }
                let rows = [a.write("c2", ["quota": .integer(22)]), a.write("c8", ["title": .text("Las Kayu")]),
                            a.write("c55", ["title": .text("Las Baru"), "quota": .integer(5)], insert: true)]
                _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
            }
            #expect(parts.reduce(0, +) >= 9)
            let after = try snap.pullPages(from: hub.store, maxRows: 2)
            #expect(after.sorted() == ["c2", "c55", "c8"], "each change made while the parts were read, once")
            #expect(try snap.pullPages(from: hub.store).isEmpty)
            try paged.pullPages(from: hub.store)
            #expect(try snap.states() == paged.states())
            #expect(try snap.replica.rows(of: "courses") == hub.store.rows(of: "courses"))
            #expect(try snap.replica.rows(of: "courses")["c8"] == [.text("Las Kayu"), .integer(80)])
            #expect(try snap.replica.conflicts().isEmpty, "nothing received twice merged as a conflict")
        }
    }

    /// On PostgreSQL a push's rows wait for their positions until a publisher gives them (its own
    /// publish, or the next push's or pull's). A row committed but not yet published while the parts
    /// are read is in them as last published, and the pages after the snapshot bring its change.
    @Test(.enabled(if: TestPostgres.available))
    func aRowCommittedButNotYetPublishedReachesTheSiteAfterTheSnapshot() throws {
        try StoreKind.postgres.withHub { (hub) throws in
            let folder = TemporaryFolder("pg-snapshot")
            var (a, _) = try hub.seedCourses()
            let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
            defer { snap.close() }
            // Another session holds the publishers' turn: the push commits, its rows wait unpublished.
            let holder = try PostgresLink.connect(try #require(hub.settings))
            defer { holder.close() }
            try holder.query("BEGIN")
            try holder.query("SELECT pos FROM _begawi_feed_head FOR UPDATE")
            let change = a.write("c5", ["quota": .integer(55)])
            _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([change]), schemaVersion: nil)
            let waiting = try holder.query("SELECT count(*) FROM _begawi_rows WHERE pending").first
            #expect(try waiting?.decode(Int64.self) == 1)
            try snap.adoptSnapshot(from: hub.store, maxRows: 4)
            #expect(try snap.replica.rows(of: "courses")["c5"] == [.text("Las 5"), .integer(50)], "as last published")
            try holder.query("COMMIT")
            #expect(try snap.pullPages(from: hub.store) == ["c5"])
            #expect(try snap.replica.rows(of: "courses")["c5"] == [.text("Las 5"), .integer(55)])
        }
    }

    @Test(arguments: StoreKind.available)
    func aPartAskedAgainGivesTheSameRows(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let folder = TemporaryFolder("pg-snapshot")
            _ = try hub.seedCourses()
            let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
            let paged = try SnapshotSite(hub, id: "lpk-pages", in: folder)
            defer { snap.close(); paged.close() }
            let epoch = hub.store.hubReplicaID
            func part(_ after: String?, compressed: Bool = false) throws -> (rows: Int, bytes: [UInt8]) {
                try #require(try hub.store.snapshotPart(site: snap.record, replica: snap.replica.replicaID, table: "courses", after: after,
                                                        maxRows: 4, schemaVersion: nil, compressed: compressed))
            }
            let first = try part(nil)
            let adopted = try snap.replica.adoptSnapshotPart(first.bytes, from: epoch, budget: .seconds(60))
            let after = try #require(adopted.next?.after)
            #expect(after == "c4")
            // The second part is lost to the link and asked again.
            let lost = try part(after)
            let again = try part(after)
            #expect(lost.rows == 4 && again.rows == 4)
            #expect(lost.bytes == again.bytes, "the same part file")
            let gzip = try part(after, compressed: true)
            #expect(Array(gzip.bytes.prefix(2)) == [0x1f, 0x8b], "gzip when asked compressed")
            #expect(try GzipDecoder.decode(gzip.bytes, limit: 1 << 30) == again.bytes, "gzip of the same file")
            var next = try snap.replica.adoptSnapshotPart(again.bytes, from: epoch, budget: .seconds(60))
            while next.cursor == nil {
                let progress = try #require(next.next)
                next = try snap.replica.adoptSnapshotPart(try part(progress.after).bytes, from: epoch, budget: .seconds(60))
            }
            try paged.pullPages(from: hub.store)
            #expect(try snap.states() == paged.states())
            #expect(try snap.states().count == 9)
        }
    }

    /// Rows the asking replica holds whole (it sent them, and nothing changed them since) are left
    /// out of its parts, as its pulls leave them out, yet the parts go through their keys.
    @Test(arguments: StoreKind.available)
    func rowsTheReceiverHoldsWholeAreLeftOut(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let (a, _) = try hub.seedCourses()
            var echo = a
            let pulled = try hub.pullAll(into: &echo).pages.flatMap(\.rows).map(\.key).sorted()
            #expect(pulled == ["c2", "c4"], "the rows lpk-b changed")
            func part(after: String?, maxRows: Int) throws -> Int {
                try #require(try hub.store.snapshotPart(site: a.record, replica: a.replica, table: "courses", after: after, maxRows: maxRows,
                                                        schemaVersion: nil, compressed: false)).rows
            }
            #expect(try part(after: nil, maxRows: 50) == 2, "the parts hold what a pull from the start gives")
            // In parts of 4 keys (c1–c4, c5–c8, c9), the kept rows fall in the first.
            #expect(try [part(after: nil, maxRows: 4), part(after: "c4", maxRows: 4), part(after: "c8", maxRows: 4)] == [2, 0, 0])
        }
    }

    /// Parts go through a table's keys in byte order (as SQLite and the part's reader compare them)
    /// on a database whose own collation orders text otherwise (ICU's English: `_c a1 B2`, where
    /// bytes give `B2 _c a1`); in the database's order the part writer would refuse the rows.
    @Test(.enabled(if: TestPostgres.available))
    func keysComeInByteOrderWhateverTheDatabasesCollation() throws {
        let database = try ScratchDatabase(options: "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'")
        defer { database.drop() }
        let hub = try StoreHub.postgres(database.settings)
        defer { hub.close() }
        _ = try hub.publish(StoreKind.firstSchema)
        var a = try hub.site("lpk-a", clock: 1_000)
        let keys = ["a1", "B2", "_c", "d4", "Zebra", "zz", "\u{C9}1"]
        let rows = keys.map { a.write($0, ["title": .text("Las \($0)")], insert: true) }
        _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
        let folder = TemporaryFolder("pg-snapshot")
        let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
        let paged = try SnapshotSite(hub, id: "lpk-pages", in: folder)
        defer { snap.close(); paged.close() }
        #expect(try snap.adoptSnapshot(from: hub.store, maxRows: 2) == [2, 2, 2, 1])
        try paged.pullPages(from: hub.store)
        #expect(try snap.states().count == keys.count)
        #expect(try snap.states() == paged.states())
    }

    /// A site's schema version that is not the current one gets no snapshot (its pages cut the
    /// columns), and a table the hub does not sync is refused with its name.
    @Test(arguments: StoreKind.available)
    func aSiteOnAnotherVersionGetsNoSnapshot(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let folder = TemporaryFolder("pg-snapshot")
            _ = try hub.seedCourses()
            let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
            defer { snap.close() }
            _ = try hub.publish(HubStoreExchangeTests.second)
            #expect(try hub.store.snapshotPart(site: snap.record, replica: snap.replica.replicaID, table: "courses", after: nil, maxRows: 4,
                                               schemaVersion: 1, compressed: false) == nil)
            let current = try #require(try hub.store.snapshotPart(site: snap.record, replica: snap.replica.replicaID, table: "courses", after: nil,
                                                                  maxRows: 4, schemaVersion: 2, compressed: false))
            #expect(current.rows == 4)
            let error = #expect(throws: BegawiError.self) {
                try hub.store.snapshotPart(site: snap.record, replica: snap.replica.replicaID, table: "rooms", after: nil, maxRows: 4,
                                           schemaVersion: 2, compressed: false)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("'rooms'") == true, "\(error?.message ?? "")")
        }
    }
}

/// A new site's first sync through a real round (`SiteDaemon.syncOnce`: session, snapshot parts sized
/// to the link, then pages), against each store without HTTP, compared with a site that pulls pages.
@Suite(.blocking) struct HubStoreFirstSyncTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// One round of a site daemon on the replica at `path`; returns its report.
    static func round(_ hub: StoreHub, site: SiteRecord, path: String, snapshot: Bool, pageRows: Int) async throws -> (RoundReport, InProcessTransport) {
        var hubConfiguration = HubConfiguration()
        hubConfiguration.pageRows = pageRows
        let transport = InProcessTransport(store: hub.store, site: site, configuration: hubConfiguration)
        var configuration = SiteConfiguration(replicaPath: path)
        configuration.firstPullBySnapshot = snapshot
        let daemon = SiteDaemon(configuration: configuration, transport: transport, logger: logger)
        return (try await daemon.syncOnce().0, transport)
    }

    @Test(arguments: StoreKind.available)
    func aNewSitesFirstRoundAdoptsTheSnapshotAndThenPullsPages(kind: StoreKind) async throws {
        let folder = TemporaryFolder("pg-first-sync")
        try await kind.withHubAsync { hub in
            var (a, _) = try hub.seedCourses(count: 60)
            let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
            let paged = try SnapshotSite(hub, id: "lpk-pages", in: folder)
            let (snapPath, pagedPath) = (snap.replica.path, paged.replica.path)
            snap.close()
            paged.close()
            let (report, transport) = try await Self.round(hub, site: snap.record, path: snapPath, snapshot: true, pageRows: 10)
            #expect(transport.served.parts == 3, "60 rows in parts of 10, 20, then the last 30 of the 40 asked")
            #expect(report.received == 60)
            let (pages, pageTransport) = try await Self.round(hub, site: paged.record, path: pagedPath, snapshot: false, pageRows: 10)
            #expect(pageTransport.served.parts == 0 && pages.received == 60)
            // A change after the first sync reaches the snapshot's site by a page, once.
            let change = a.write("c30", ["quota": .integer(301)])
            _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([change]), schemaVersion: nil)
            let (next, nextTransport) = try await Self.round(hub, site: snap.record, path: snapPath, snapshot: true, pageRows: 10)
            #expect(next.received == 1 && nextTransport.served.parts == 0, "a replica that pulled once pulls pages")
            _ = try await Self.round(hub, site: paged.record, path: pagedPath, snapshot: false, pageRows: 10)
            let one = try Replica.open(at: snapPath), other = try Replica.open(at: pagedPath)
            defer { try? one.close(); try? other.close() }
            #expect(try one.rowStates(of: "courses") == other.rowStates(of: "courses"))
            #expect(try one.rows(of: "courses") == hub.store.rows(of: "courses"))
            #expect(try one.rows(of: "courses")["c30"]?.last == .integer(301))
        }
    }

    /// A site that pulled rows while on version 1 (their rooms cut) migrates to version 2 in a real
    /// round and catches up: the rows whose room was set reach it whole.
    @Test(arguments: StoreKind.available)
    func aSiteMigratesInARoundAndCatchesUp(kind: StoreKind) async throws {
        let folder = TemporaryFolder("pg-first-sync")
        try await kind.withHubAsync { hub in
            _ = try hub.seedCourses()
            let site = try SnapshotSite(hub, id: "lpk-m", in: folder)
            let path = site.replica.path
            site.close()
            #expect(try await Self.round(hub, site: site.record, path: path, snapshot: true, pageRows: 10).0.received == 9)
            _ = try hub.publish(HubStoreExchangeTests.second)
            var c = try hub.site("lpk-c", clock: 3_000, columns: ["title", "quota", "room"])
            let rows = [c.write("c3", ["room": .text("R3")]), c.write("c10", ["title": .text("Las 10"), "room": .text("R10")], insert: true)]
            _ = try hub.store.push(site: c.record, replica: c.replica, batch: c.batch(rows), schemaVersion: 2)
            // Before it learns of version 2, the site pulls those rows as a version 1 site: without their rooms.
            do {
                let replica = try Replica.open(at: path)
                defer { try? replica.close() }
                var cursor = try replica.cursor(for: hub.store.hubReplicaID)
                while true {
                    let page = try hub.store.pull(site: site.record, replica: replica.replicaID, after: cursor, maxRows: 10, schemaVersion: 1, fresh: false).batch
                    _ = try replica.apply(page)
                    cursor = page.cursorAfter
                    if page.complete { break }
                }
                #expect(try replica.rows(of: "courses")["c10"] == [.text("Las 10"), .null])
            }
            let (_, transport) = try await Self.round(hub, site: site.record, path: path, snapshot: true, pageRows: 1)
            #expect(transport.served.catchUps == 2, "c3 and c10, a page of one row each")
            let replica = try Replica.open(at: path)
            defer { try? replica.close() }
            #expect(replica.schema.table(named: "courses")?.columns.map(\.name) == ["title", "quota", "room"])
            #expect(try replica.rows(of: "courses")["c3"]?.last == .text("R3"))
            #expect(try replica.rows(of: "courses")["c10"] == [.text("Las 10"), .null, .text("R10")])
            #expect(try replica.rows(of: "courses") == hub.store.rows(of: "courses"))
        }
    }
}

extension StoreKind {
    /// `withHub` for a body that runs a site daemon's rounds (async): a new hub of this kind with
    /// schema version 1 published, removed afterwards.
    func withHubAsync(_ body: (StoreHub) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let folder = TemporaryFolder()
            let path = folder.file("hub.sqlite")
            try SQLiteHubStore.create(at: path, schemaText: StoreKind.firstSchema)
            let hub = try StoreHub(kind: self, open: { try SQLiteHubStore(path: path) },
                                   publish: { text, _ in try SQLiteHubStore.publish(at: path, schemaText: text) },
                                   published: { _ in try SQLiteHubStore.published(at: path) })
            defer { hub.close() }
            try await body(hub)
        case .postgres:
            try await TestPostgres.withDatabaseAsync { settings in
                let hub = try StoreHub.postgres(settings)
                defer { hub.close() }
                _ = try hub.publish(StoreKind.firstSchema)
                try await body(hub)
            }
        }
    }
}
