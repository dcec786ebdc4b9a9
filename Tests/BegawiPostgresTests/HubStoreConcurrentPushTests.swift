import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiTestSupport
import Foundation
import Testing

/// Several sites push at once through two store instances on one database (two hub processes),
/// into overlapping rows, while a reader pulls page by page: no push fails or deadlocks, no change
/// is lost, and the reader's pages follow each other without a gap or a row sent twice.
@Suite(.blocking) struct HubStoreConcurrentPushTests {
    static let writers = 4
    static let pushes = 12
    static let rowsPerPush = 8
    static let keys = 20

    @Test(arguments: StoreKind.available)
    func overlappingPushesThroughTwoProcessesLoseNothing(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let stores: [any RegistryHubStore] = [hub.store, try hub.another()]
            var sites: [TestSite] = []
            for i in 0..<Self.writers { sites.append(try hub.site("lpk-\(i)", clock: 1_000_000 + UInt64(i) * 7)) }
            let reader = try hub.site("lpk-reader", clock: 0)
            let failures = Shared<[String]>([])
            // Every write made, by key: the hub must end with the one that wins (the greatest stamp).
            let written = Shared<[String: [Register]]>([:])
            let running = Shared(Self.writers)
            let pulled = Shared<[ChangeBatch]>([])
            var jobs: [@Sendable () -> Void] = []
            for (i, start) in sites.enumerated() {
                let store = stores[i % 2]
                jobs.append {
                    var site = start
                    var order = SplitMix64(seed: UInt64(i) + 1)
                    for n in 0..<Self.pushes {
                        var keys = Set<String>()
                        while keys.count < Self.rowsPerPush { keys.insert("k\(Int(order.next() % UInt64(Self.keys)))") }
                        // In no particular order: the store locks rows in its own order.
                        let rows = keys.shuffled(using: &order).map { key in
                            site.write(key, ["title": .text("\(site.record.id) \(n)"), "quota": .integer(Int64(n))], insert: true)
                        }
                        do {
                            _ = try store.push(site: site.record, replica: site.replica, batch: site.batch(rows), schemaVersion: nil)
                            written.with { all in
                                for row in rows { all[row.key, default: []].append(row.state.columns[0]!) }
                            }
                        } catch {
                            failures.with { $0.append("\(site.record.id) push \(n): \(error)") }
                        }
                    }
                    running.with { $0 -= 1 }
                }
            }
            jobs.append {
                var site = reader
                var cursor = ExchangeCursor.start
                var finished = false
                var turn = 0
                while true {
                    // Once every writer has ended, one more pull that reaches the head ends the reading.
                    let last = running.with { $0 == 0 }
                    do {
                        let page = try stores[turn % 2].pull(site: site.record, replica: site.replica, after: cursor, maxRows: 5,
                                                              schemaVersion: nil, fresh: false).batch
                        turn += 1
                        site.absorb(page)
                        pulled.with { $0.append(page) }
                        cursor = page.cursorAfter
                        finished = last && page.complete
                    } catch {
                        failures.with { $0.append("reader: \(error)") }
                        finished = last
                    }
                    if finished { break }
                }
            }
            concurrently(jobs)
            #expect(failures.with { $0 }.isEmpty, "\(failures.with { $0 })")

            let expected = written.with { all in
                all.mapValues { registers in registers.max { $1.stamp.beats($0.stamp) }!.value }
            }
            #expect(expected.count == Self.keys)
            let merged = try hub.store.rows(of: "courses").mapValues { $0[0] }
            #expect(merged == expected)

            // The reader, page by page: each page starts where the last ended, names a row once,
            // and never sends again a write it already sent once its base caught up; it ends with every winning write.
            let pages = pulled.with { $0 }
            var held = reader
            var delivered = Set<String>()
            var previous = ExchangeCursor.start
            for page in pages {
                #expect(page.afterSeq == previous.seq && page.baseSeq == previous.baseSeq)
                #expect(Set(page.rows.map(\.key)).count == page.rows.count)
                for row in page.rows {
                    guard let title = row.state.columns[0] else { continue }
                    let write = "\(row.key) \(title.stamp)"
                    if page.baseSeq == page.afterSeq { #expect(!delivered.contains(write), "\(write) was sent twice") }
                    delivered.insert(write)
                }
                held.absorb(page)
                previous = page.cursorAfter
            }
            #expect(held.liveRows.mapValues { $0["title"] } == expected.mapValues { Optional($0) })
            #expect(previous.seq == (try hub.store.headSeq()))
        }
    }
}
