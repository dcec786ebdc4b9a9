import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// A new site with a real replica file, taking its first sync from a hub store as a site's round
/// does (`SyncRound.adoptSnapshot`, without HTTP): snapshot parts adopted one after another, then the
/// pages after the snapshot's position; or the pages alone.
struct SnapshotSite {
    let record: SiteRecord
    let replica: Replica

    /// A new replica for a registered site, holding the schema of `schemaText`.
    init(_ hub: StoreHub, id: String, in folder: TemporaryFolder, schemaText: Data = StoreKind.firstSchema) throws {
        let credential = try hub.store.addSite(id: id, kind: .lpk, name: "Site \(id)")
        record = try #require(try hub.store.authenticate(token: credential.token))
        replica = try Replica.create(at: folder.file("\(id).sqlite"), siteID: id, schema: SchemaDocument.parse(schemaText).schema)
    }

    func close() { try? replica.close() }

    /// Adopts the store's snapshot part by part (at most `maxRows` rows each), running `between`
    /// after each part with its number (from 1); returns each part's rows.
    @discardableResult
    func adoptSnapshot(from store: any HubStore, maxRows: Int, between: (Int) throws -> Void = { _ in }) throws -> [Int] {
        let epoch = store.hubReplicaID
        var next = try #require(try replica.nextSnapshotPart(from: epoch))
        var rows: [Int] = []
        while true {
            let part = try #require(try store.snapshotPart(site: record, replica: replica.replicaID, table: next.table, after: next.after,
                                                           maxRows: maxRows, schemaVersion: nil, compressed: false))
            let adoption = try replica.adoptSnapshotPart(part.bytes, from: epoch, budget: .seconds(60))
            #expect(adoption.rows == part.rows)
            rows.append(adoption.rows)
            try between(rows.count)
            if adoption.cursor != nil { return rows }
            next = try #require(adoption.next)
            try #require(rows.count < 1_000)
        }
    }

    /// Pulls and applies every page after the replica's cursor; returns the keys the pages held, in order.
    @discardableResult
    func pullPages(from store: any HubStore, maxRows: Int = 1_000) throws -> [String] {
        var cursor = try replica.cursor(for: store.hubReplicaID)
        var keys: [String] = []
        while true {
            let page = try store.pull(site: record, replica: replica.replicaID, after: cursor, maxRows: maxRows, schemaVersion: nil, fresh: false).batch
            _ = try replica.apply(page)
            keys += page.rows.map(\.key)
            cursor = page.cursorAfter
            if page.complete { return keys }
        }
    }

    /// Every row's merge state, values included, tombstones too.
    func states(_ table: String = "courses") throws -> [String: RowState] { try replica.rowStates(of: table) }
}

extension TestSite {
    /// A delete of a row, as a replica's export sends it.
    mutating func delete(_ key: String) -> RowChange {
        counter += 1
        clock += 1
        let stamp = Stamp(clock: HybridTimestamp(milliseconds: clock, counter: 0), site: record.id, counter: counter)
        var held = known[key] ?? RowState(columnCount: columns.count)
        held.vector.raise(record.id, to: counter)
        held.deleted = Register(value: RowState.deletedMarker, stamp: stamp)
        var sent = RowState(columnCount: columns.count)
        sent.vector = held.vector
        sent.deleted = held.deleted
        known[key] = held
        return RowChange(table: 0, key: key, state: sent)
    }
}

extension StoreHub {
    /// Rows for a new site to pull: `lpk-a` inserts `count` courses (keys `c1`…), `lpk-b` pulls
    /// them, then both change `c2` while apart (a merged state of two writers) and `lpk-b` deletes `c4`.
    func seedCourses(count: Int = 9) throws -> (a: TestSite, b: TestSite) {
        var a = try site("lpk-a", clock: 1_000)
        var b = try site("lpk-b", clock: 2_000)
        let rows = (1...count).map { a.write("c\($0)", ["title": .text("Las \($0)"), "quota": .integer(Int64($0) * 10)], insert: true) }
        _ = try store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
        try pullAll(into: &b)
        let theirs = [b.write("c2", ["quota": .integer(21)]), b.delete("c4")]
        let ours = [a.write("c2", ["title": .text("Las Listrik")])]
        _ = try store.push(site: a.record, replica: a.replica, batch: a.batch(ours), schemaVersion: nil)
        _ = try store.push(site: b.record, replica: b.replica, batch: b.batch(theirs), schemaVersion: nil)
        return (a, b)
    }
}
