import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// The first sync of a new site from each store, side by side in one run (issue 17, item 8): not a
/// test, a command that prints figures (BENCHMARKS.md, "First sync of a fresh site"). Runs only when
/// `BEGAWI_BENCH_FIRST_SYNC` names a number of rows and `BEGAWI_TEST_POSTGRES` a server:
///
///     BEGAWI_BENCH_FIRST_SYNC=100000 BEGAWI_TEST_POSTGRES=URL swift test --skip-build --filter FirstSyncBenchmark
///
/// Each hub gets the rows from one site's pushes of 5,000 (not timed); a new site then takes them
/// by snapshot parts of 50,000 rows (gzip, as on the wire, undone and adopted as a site does, one
/// part after another: the hub's and the site's time apart), and another by pages of 2,000.
/// `BEGAWI_BENCH_STORES=postgres` (or `sqlite`) measures one store only.
@Suite(.blocking) struct FirstSyncBenchmark {
    static let rows = ProcessInfo.processInfo.environment["BEGAWI_BENCH_FIRST_SYNC"].flatMap { Int($0) }.map { max(1, $0) }
    /// The stores to measure (`BEGAWI_BENCH_STORES=postgres`, or `sqlite`); both by default.
    static let kinds = ProcessInfo.processInfo.environment["BEGAWI_BENCH_STORES"].map { $0.split(separator: ",").compactMap { StoreKind(rawValue: String($0)) } }
        ?? [.sqlite, .postgres]

    @Test(.enabled(if: rows != nil && TestPostgres.available))
    func firstSyncFromEachStore() throws {
        let count = try #require(Self.rows)
        for kind in Self.kinds {
            try kind.withHub { (hub) throws in
                var a = try hub.site("lpk-a", clock: 1_000)
                let filling = ContinuousClock.now
                var next = 0
                while next < count {
                    let end = min(count, next + 5_000)
                    let rows = (next..<end).map { i in
                        a.write(String(format: "e%09d", i), ["title": .text("Pelatihan Las Listrik angkatan \(i % 97)"), "quota": .integer(Int64(i % 40))],
                                insert: true)
                    }
                    _ = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch(rows), schemaVersion: nil)
                    a.known = [:]
                    next = end
                }
                let filled = ContinuousClock.now - filling
                let folder = TemporaryFolder("first-sync-bench")
                let snap = try SnapshotSite(hub, id: "lpk-snap", in: folder)
                let paged = try SnapshotSite(hub, id: "lpk-pages", in: folder)
                defer { snap.close(); paged.close() }

                let epoch = hub.store.hubReplicaID
                var progress = try #require(try snap.replica.nextSnapshotPart(from: epoch))
                var (hubTime, siteTime, bytes, parts) = (Duration.zero, Duration.zero, 0, 0)
                while true {
                    let asked = ContinuousClock.now
                    let part = try #require(try hub.store.snapshotPart(site: snap.record, replica: snap.replica.replicaID, table: progress.table,
                                                                       after: progress.after, maxRows: 50_000, schemaVersion: nil, compressed: true))
                    let built = ContinuousClock.now
                    hubTime += built - asked
                    bytes += part.bytes.count
                    parts += 1
                    let adoption = try snap.replica.adoptSnapshotPart(try GzipDecoder.decode(part.bytes, limit: 1 << 31), from: epoch, budget: .milliseconds(500))
                    siteTime += ContinuousClock.now - built
                    if adoption.cursor != nil { break }
                    progress = try #require(adoption.next)
                }

                var cursor = ExchangeCursor.start
                var (pullTime, applyTime, pages) = (Duration.zero, Duration.zero, 0)
                while true {
                    let asked = ContinuousClock.now
                    let page = try hub.store.pull(site: paged.record, replica: paged.replica.replicaID, after: cursor, maxRows: 2_000,
                                                  schemaVersion: nil, fresh: false).batch
                    let pulled = ContinuousClock.now
                    pullTime += pulled - asked
                    _ = try paged.replica.apply(page)
                    applyTime += ContinuousClock.now - pulled
                    pages += 1
                    cursor = page.cursorAfter
                    if page.complete { break }
                }
                #expect(try snap.replica.rows(of: "courses").count == count)
                #expect(try paged.replica.rows(of: "courses").count == count)
                func s(_ d: Duration) -> String { String(format: "%.2f s", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
                print("""
                    first sync of \(count) rows from \(kind.rawValue) (filled by 5,000-row pushes in \(s(filled))):
                      snapshot: \(parts) parts, \(bytes) bytes gzip; hub \(s(hubTime)), site \(s(siteTime)), together \(s(hubTime + siteTime))
                      pages:    \(pages) pages of 2,000; hub \(s(pullTime)), site \(s(applyTime)), together \(s(pullTime + applyTime))
                    """)
            }
        }
    }
}
