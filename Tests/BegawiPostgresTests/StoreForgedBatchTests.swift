import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// BegawiHubTests' `ForgedBatchTests` on both stores. Batches forged by an authenticated site, pushed straight to the hub's store as its push route
/// would hand them over: every forged row is refused, the refusal is audited, and nothing of the
/// hub's rows or merge state changes. A legitimate batch built the same way lands, so the test can fail.
///
/// The batches are random: the seed is printed, and `BEGAWI_FORGED_SEED=<seed>` replays a run.
@Suite(.blocking) struct StoreForgedBatchTests {
    /// As many on SQLite as BegawiHubTests ran there before this test replaced it; 200 on
    /// PostgreSQL, where reading the whole hub after each batch made 600 the suite's longest test
    /// (9 minutes under load). Every kind of forgery still comes at least 10 times.
    static func batchCount(_ kind: StoreKind) -> Int { kind == .sqlite ? 1_200 : 200 }

    @Test(arguments: StoreKind.available) func forgedBatchesAreRefusedAndChangeNothing(kind: StoreKind) throws {
        let seed = ProcessInfo.processInfo.environment["BEGAWI_FORGED_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("StoreForgedBatchTests (\(kind.rawValue)): seed \(seed); replay with BEGAWI_FORGED_SEED=\(seed)")
        var forge = Forge(world: try ForgeWorld(kind: kind), rng: SplitMix64(seed: seed))
        let world = forge.world
        let before = try world.snapshot()
        var previous = before
        var audited = try world.h.store.auditCount(action: "refused")
        var failures: [String] = []
        var kinds: [Forgery: Int] = [:]
        var reasons: [String: Int] = [:]

        for index in 0..<StoreForgedBatchTests.batchCount(kind) {
            let (pusher, rows) = forge.batch()
            let batch = world.batch(from: pusher, rows)
            let outcome = try world.h.store.push(site: world.h.site(pusher).record, replica: world.h.site(pusher).replica.replicaID, batch: batch, schemaVersion: nil)
            func fail(_ text: String) { failures.append("batch \(index) from \(pusher): \(text)") }
            for row in rows {
                kinds[row.forgery, default: 0] += 1
                let refusals = outcome.refused.filter { $0.table == row.table && $0.key == row.key }
                guard refusals.count == 1, let refusal = refusals.first else {
                    fail("\(row.forgery) on \(row.table)/\(row.key) was \(refusals.isEmpty ? "accepted" : "refused \(refusals.count) times")")
                    continue
                }
                reasons[refusal.reason.code, default: 0] += 1
                if refusal.reason.code.isEmpty || refusal.message.isEmpty { fail("\(row.forgery) on \(row.table): empty reason or message") }
                if !row.expected.contains(refusal.reason.code) {
                    fail("\(row.forgery) on \(row.table)/\(row.key): reason '\(refusal.reason.code)', expected \(row.expected.sorted())")
                }
            }
            if outcome.refused.count != rows.count { fail("\(outcome.refused.count) refusals for \(rows.count) rows") }
            if outcome.rowsChanged != 0 { fail("\(outcome.rowsChanged) rows changed") }
            let after = try world.snapshot()
            if after != previous { fail("the hub changed: \(previous.difference(to: after))") }
            previous = after
            let count = try world.h.store.auditCount(action: "refused")
            if count != audited + rows.count { fail("the audit trail gained \(count - audited) refusals for \(rows.count) rows") }
            audited = count
            if failures.count > 40 { break }
        }

        let report = failures.prefix(40).joined(separator: "\n")
        #expect(failures.count == 0, "\(failures.count) failures (seed \(seed)):\n\(report)")
        #expect(try world.snapshot() == before, "the hub changed (seed \(seed))")
        print("StoreForgedBatchTests (\(kind.rawValue)): forgeries \(kinds.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "))")
        print("StoreForgedBatchTests (\(kind.rawValue)): reasons \(reasons.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        if failures.isEmpty {
            for forgery in Forgery.allCases {
                #expect(kinds[forgery, default: 0] >= StoreForgedBatchTests.batchCount(kind) / 20, "forgery \(forgery.rawValue) is rare: \(kinds[forgery, default: 0]) rows")
            }
        }

        // The control: legitimate batches in the same style land.
        let prog = try #require(try world.hubValues("programs", "prog-a"))
        let update = forge.ownUpdate(pusher: "lpk-a", table: "programs", key: "prog-a", column: "title", value: .text("Las 3G, angkatan 2"))
        let newcomer = Person.make(9_001)
        let insert = forge.insert(pusher: "lpk-b", table: "participants", key: newcomer.key(world.h.policy),
                                  values: ["nik": .text(newcomer.nik), "full_name": .text(newcomer.name), "registered_by": .text("lpk-b")])
        let outcome = try world.h.store.push(site: world.h.site("lpk-a").record, replica: world.h.site("lpk-a").replica.replicaID,
                                             batch: world.batch(from: "lpk-a", [update]), schemaVersion: nil)
        #expect(outcome.refused.isEmpty, "\(outcome.refused.map(\.reason))")
        #expect(outcome.rowsChanged == 1)
        #expect(try world.hubValues("programs", "prog-a")?["title"] == .text("Las 3G, angkatan 2"))
        #expect(try world.hubValues("programs", "prog-a")?["provider"] == prog["provider"])
        let second = try world.h.store.push(site: world.h.site("lpk-b").record, replica: world.h.site("lpk-b").replica.replicaID,
                                            batch: world.batch(from: "lpk-b", [insert]), schemaVersion: nil)
        #expect(second.refused.isEmpty, "\(second.refused.map(\.reason))")
        #expect(try world.hubValues("participants", newcomer.key(world.h.policy))?["registered_by"] == .text("lpk-b"))
        #expect(try world.snapshot() != before)
        #expect(try world.h.store.auditCount(action: "refused") == audited)
    }
}
