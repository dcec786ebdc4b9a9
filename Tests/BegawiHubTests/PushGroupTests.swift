import BegawiCore
@testable import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Pushes that wait for the hub's writer commit together, each in a savepoint of its own: a push
/// that fails leaves nothing and the others land, and the hub holds what the same pushes one by one
/// leave in a second hub (rows, tombstones, who may see what, audit), whatever their order.
@Suite(.blocking) struct PushGroupTests {
    func enroll(_ h: HubHarness, _ site: String, _ id: String, _ person: String, _ program: String) throws {
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')", [id, person, program])
    }

    /// What a hub holds, sorted, without change numbers, times or the stored form of the merge state
    /// (compared decoded): the same pushes in another order leave the same.
    func contents(_ path: String, _ schema: Schema) throws -> [String] {
        let queue = try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? queue.close() }
        return try queue.read { db in
            var out: [String] = []
            func add(_ sql: String) throws { out += try Row.fetchAll(db, sql: sql).map { "\(sql.prefix(40)): \($0)" } }
            try add("SELECT t.name, r.key FROM _begawi_rows r JOIN _begawi_tables t ON t.id = r.tbl ORDER BY 1, 2")
            for table in schema.tables {
                try add("SELECT * FROM \"\(table.name)\" ORDER BY 1")
                try add("SELECT * FROM \"_begawi_dead_\(table.name)\" ORDER BY 1")
            }
            try add("SELECT site, tbl, key FROM _hub_visibility ORDER BY 1, 2, 3")
            try add("SELECT site, tbl, key, action, reason FROM _hub_audit ORDER BY 1, 2, 3, 4")
            try add("SELECT count(*) FROM _hub_visibility v JOIN _begawi_tables t ON t.name = v.tbl LEFT JOIN _begawi_rows r ON r.tbl = t.id AND r.key = v.key WHERE v.seq IS NOT r.seq")
            return out
        }
    }

    @Test func pushesWaitingForTheWriterCommitTogetherAndFailAlone() throws {
        let lpks = ["lpk-a", "lpk-b", "lpk-c", "lpk-d", "lpk-e"]
        let h = try HubHarness.withPartners([("disnaker", .office)] + lpks.map { ($0, SiteKind.lpk) })
        try h.sync("disnaker")
        var batches: [(site: String, replica: String, batch: ChangeBatch)] = []
        for (n, site) in lpks.enumerated() {
            try h.staff(site, "INSERT INTO programs(id, provider, title) VALUES (?, ?, 'Las')", ["prog-\(site)", site])
            for i in 0..<20 {
                let person = try h.register(site, Person.make(100 * n + i))
                try enroll(h, site, "enr-\(site)-\(i)", person, "prog-\(site)")
            }
            let s = h.site(site)
            let session = try h.store.session(site: s.record, replica: s.replica.replicaID, configuration: HubConfiguration())
            batches.append((site, s.replica.replicaID, try s.replica.export(after: session.pushCursor, for: session.hubReplicaID)))
        }
        // One push that must fail inside the group after it wrote: a replica new to the hub is claimed
        // for lpk-e, then its batch names another replica; the savepoint takes the claim back.
        let stray = UUID().uuidString.lowercased()
        let bad = (site: "lpk-e", replica: stray, batch: batches[4].batch)
        let jobs = batches + [bad]

        // A second hub takes the good pushes one by one.
        let path = h.folder.file("hub-alone.sqlite")
        try SQLiteHubStore.create(at: path, schema: h.document.schema, clock: h.clock)
        let alone = try SQLiteHubStore(path: path, clock: h.clock, policy: h.document.policy)
        for record in try h.store.sites() { _ = try alone.addSite(id: record.id, kind: record.kind, name: record.name) }
        let aloneSites = Dictionary(uniqueKeysWithValues: try alone.sites().map { ($0.id, $0) })
        let disnaker = h.site("disnaker")
        let office = try disnaker.replica.export(after: .start, for: alone.hubReplicaID)
        _ = try alone.push(site: try #require(aloneSites["disnaker"]), replica: disnaker.replica.replicaID, batch: office)
        for job in batches {
            let outcome = try alone.push(site: try #require(aloneSites[job.site]), replica: job.replica, batch: job.batch)
            #expect(outcome.refused.isEmpty)
        }

        // The writer is held while all six pushes start: one leads and waits for it, five queue.
        let records = Dictionary(uniqueKeysWithValues: try h.store.sites().map { ($0.id, $0) })
        let held = DispatchSemaphore(value: 0), holding = DispatchSemaphore(value: 0)
        let store = h.store
        let holder = Thread {
            _ = try? store.hubReplica.ownerWrite { _ in
                holding.signal()
                held.wait()
            }
        }
        holder.start()
        holding.wait()
        let outcomes = Outcomes(count: jobs.count)
        let done = DispatchGroup()
        for (i, job) in jobs.enumerated() {
            let record = try #require(records[job.site])
            done.enter()
            Thread {
                outcomes.set(i, Result { try store.push(site: record, replica: job.replica, batch: job.batch) })
                done.leave()
            }.start()
        }
        for _ in 0..<3_000 where h.store.pushGroups.counts.waiting < jobs.count - 1 { Thread.sleep(forTimeInterval: 0.01) }
        #expect(h.store.pushGroups.counts.waiting == jobs.count - 1)
        held.signal()
        done.wait()

        #expect(h.store.pushGroups.counts.largestGroup >= jobs.count - 1)
        for (i, job) in batches.enumerated() {
            let outcome = try outcomes.get(i).get()
            #expect(outcome.refused.isEmpty && outcome.rowsChanged == job.batch.rows.count, "\(job.site)")
        }
        #expect(throws: BegawiError.self) { try outcomes.get(jobs.count - 1).get() }
        let claimed = try h.store.hubReplica.ownerRead { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_replicas WHERE replica = ?", arguments: [stray]) }
        #expect(claimed == 0)
        let together = try contents(h.folder.file("hub.sqlite"), h.document.schema)
        let oneByOne = try contents(path, h.document.schema)
        let differing = zip(together, oneByOne).filter { $0 != $1 }.prefix(3).map { "\($0.0) | \($0.1)" }
        #expect(together.count == oneByOne.count && differing.isEmpty, "\(together.count) against \(oneByOne.count); \(differing)")
        #expect(together.count > 200)
        // The merge state, decoded (its stored form numbers sites and changes in the order they came).
        for table in h.document.schema.tables {
            #expect(try h.store.hubReplica.rowStates(of: table.name) == alone.hubReplica.rowStates(of: table.name), "\(table.name)")
        }
        // The sites' pulls after the group: each holds its own people only.
        try h.syncAll()
        for site in lpks { #expect(try h.siteStateKeys(site, "participants").count == 20, "\(site)") }
    }

    /// Results set by the pushing threads, read once they are done.
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<PushOutcome, any Error>?]

        init(count: Int) { results = Array(repeating: nil, count: count) }

        func set(_ i: Int, _ result: Result<PushOutcome, any Error>) {
            lock.lock()
            results[i] = result
            lock.unlock()
        }

        func get(_ i: Int) throws -> Result<PushOutcome, any Error> {
            lock.lock()
            defer { lock.unlock() }
            return try #require(results[i])
        }
    }
}
