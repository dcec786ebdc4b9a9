import BegawiCore
import BegawiHub
import BegawiRules
import Foundation
import Testing

/// A site in the store-level exchange tests: its replica id, and batches made by hand the way a
/// replica's export makes them (each batch the next span of its change sequence, with the
/// registers its writes changed), so that both stores get exactly the same pushes.
struct TestSite {
    let record: SiteRecord
    let replica: String
    /// The table's columns as this site's schema version declares them.
    var columns: [String]
    /// The site's write counter and the milliseconds of its clock (set so that tests decide who wins).
    var counter: UInt64 = 0
    var clock: UInt64
    /// The last change sequence number exported.
    var seq: UInt64 = 0
    /// The rows as this site holds them (its writes and what it pulled), for the vectors of its next writes.
    var known: [String: RowState] = [:]

    init(record: SiteRecord, columns: [String] = ["title", "quota"], clock: UInt64) {
        self.record = record
        replica = UUID().uuidString.lowercased()
        self.columns = columns
        self.clock = clock
    }

    /// A write of some columns (by name) of a row; an insert also sets the row live.
    mutating func write(_ key: String, _ values: [String: SQLValue], insert: Bool = false) -> RowChange {
        counter += 1
        clock += 1
        let stamp = Stamp(clock: HybridTimestamp(milliseconds: clock, counter: 0), site: record.id, counter: counter)
        var held = known[key] ?? RowState(columnCount: columns.count)
        held.vector.raise(record.id, to: counter)
        var sent = RowState(columnCount: columns.count)
        sent.vector = held.vector
        if insert {
            held.deleted = Register(value: RowState.liveMarker, stamp: stamp)
            sent.deleted = held.deleted
        }
        for (name, value) in values {
            guard let i = columns.firstIndex(of: name) else { continue }
            held.columns[i] = Register(value: value, stamp: stamp)
            sent.columns[i] = held.columns[i]
        }
        known[key] = held
        return RowChange(table: 0, key: key, state: sent)
    }

    /// The next batch of this site's changes, as its export after the last one would make it.
    mutating func batch(_ rows: [RowChange]) -> ChangeBatch {
        defer { seq += 1 }
        return ChangeBatch(replicaID: replica, baseSeq: seq, afterSeq: seq, throughSeq: seq + 1, complete: true,
                           tables: [BatchTable(name: "courses", columns: columns)], rows: rows)
    }

    /// Takes a pulled page's rows into what the site holds (merged as a replica would).
    mutating func absorb(_ page: ChangeBatch) {
        for row in page.rows {
            let names = page.tables[row.table].columns
            var incoming = RowState(columnCount: columns.count)
            incoming.vector = row.state.vector
            incoming.deleted = row.state.deleted
            for (i, name) in names.enumerated() {
                if let position = columns.firstIndex(of: name) { incoming.columns[position] = row.state.columns[i] }
            }
            var held = known[row.key] ?? RowState(columnCount: columns.count)
            _ = held.merge(incoming)
            known[row.key] = held
        }
    }

    /// The live rows this site holds, values by column name.
    var liveRows: [String: [String: SQLValue]] {
        known.filter { $0.value.isLive }.mapValues { state in
            Dictionary(uniqueKeysWithValues: zip(columns, state.columns).map { ($0, $1?.value ?? .null) })
        }
    }
}

extension StoreHub {
    /// Registers a site and returns it with a new replica.
    func site(_ id: String, clock: UInt64, columns: [String] = ["title", "quota"]) throws -> TestSite {
        let credential = try store.addSite(id: id, kind: .lpk, name: "Site \(id)")
        let record = try #require(try store.authenticate(token: credential.token))
        return TestSite(record: record, columns: columns, clock: clock)
    }

    /// Pulls every page after `cursor` (at most `maxRows` rows each) into the site; returns the pages.
    @discardableResult
    func pullAll(into site: inout TestSite, from start: ExchangeCursor = .start, maxRows: Int = 1000, schemaVersion: Int? = nil,
                 fresh: Bool = false, store: (any RegistryHubStore)? = nil) throws -> (pages: [ChangeBatch], cursor: ExchangeCursor) {
        let store = store ?? self.store
        var cursor = start
        var pages: [ChangeBatch] = []
        while true {
            let page = try store.pull(site: site.record, replica: site.replica, after: cursor, maxRows: maxRows,
                                      schemaVersion: schemaVersion, fresh: fresh).batch
            site.absorb(page)
            pages.append(page)
            cursor = page.cursorAfter
            if page.complete { return (pages, cursor) }
        }
    }
}
