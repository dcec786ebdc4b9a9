import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiTestSupport
import Foundation
import PostgresNIO
import Testing

/// The hub's housekeeping on both stores, one body each (issue 15's purge and retention, issue 17):
/// tombstones purged below the horizon and kept above it, a site away past the retention expired
/// and re-baselined, handled ledger entries cleared after their retention, the audit archived then
/// pruned, and two store instances (two hub processes) keeping house at once.
@Suite(.blocking) struct HubStoreHousekeepingTests {
    static let day: UInt64 = 86_400_000

    @Test(arguments: StoreKind.available)
    func tombstonesBelowTheHorizonGoAndThoseAboveStay(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            let keys = try world.insert("lpk-a", count: 6, tag: "c")
            try await world.sync("lpk-a")
            try await world.sync("lpk-b")
            try world.delete("lpk-a", keys.prefix(3))
            // Twice: a pull acknowledges what the site held when it asked.
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            let done = try world.housekeep()
            #expect(done["tombstones.purged"] == 3, "\(done)")
            #expect(done["sites.expired"] == 0, "\(done)")
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 0)
            #expect(try world.count("SELECT count(*) FROM _hub_purged") == 3)
            #expect(try world.count("SELECT count(*) FROM _begawi_rows") == 3)

            // A delete no other site has pulled is above the horizon: it stays.
            try world.delete("lpk-a", [keys[3]])
            try await world.sync("lpk-a")
            #expect(try world.housekeep()["tombstones.purged"] == 0)
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 1)
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            #expect(try world.housekeep()["tombstones.purged"] == 1)
            #expect(try world.hubKeys() == Set(keys.suffix(2)))
            #expect(try world.siteKeys("lpk-b") == Set(keys.suffix(2)))

            // A session tells a site the hub's time `retention_days` ago (before which it may purge its own).
            var configuration = HubConfiguration()
            configuration.retention = world.retention
            let session = try world.hub.store.session(site: world.records["lpk-a"]!, replica: UUID().uuidString.lowercased(), configuration: configuration)
            #expect(session.purgeBefore == world.clock.nowMilliseconds() - 180 * Self.day)
        }
    }

    @Test(arguments: StoreKind.available)
    func aRowWrittenAgainWhileThePurgeRunsKeepsItsMetadata(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            let keys = try world.insert("lpk-a", count: 5, tag: "c")
            try await world.sync("lpk-a")
            try await world.sync("lpk-b")
            try world.delete("lpk-a", keys)
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            // One tombstone per batch; after the first, lpk-b (which saw the deletes) inserts one still
            // there again and pushes it through another process: between the horizon and that row's purge.
            let other = try world.hub.another()
            world.purgeState.chunkRows = 1
            nonisolated(unsafe) var chosen: String?
            nonisolated(unsafe) var failure: (any Error)?
            world.purgeState.betweenChunks = { _ in
                guard chosen == nil else { return }
                do {
                    let left = try world.count("SELECT count(*) FROM _begawi_dead_courses")
                    guard left > 0 else { return }
                    let key = try #require(keys.first { key in (try? world.count("SELECT count(*) FROM _begawi_dead_courses WHERE id = '\(key)'")) == 1 })
                    chosen = key
                    try world.staff("lpk-b", "INSERT INTO courses(id, title, quota) VALUES (?, 'again', 2)", [key])
                    try world.pushNow("lpk-b", through: other)
                } catch {
                    failure = error
                }
            }
            let done = try world.housekeep()
            #expect(failure == nil, "\(String(describing: failure))")
            let again = try #require(chosen)
            #expect(done["tombstones.purged"] == 4, "\(done)")
            #expect(try world.hubKeys() == [again])
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 0)
            #expect(try world.count("SELECT count(*) FROM _begawi_rows WHERE key = '\(again)'") == 1)
            #expect(try world.count("SELECT count(*) FROM _hub_purged WHERE key = '\(again)'") == 0)
            #expect(try world.count("SELECT count(*) FROM _hub_purged") == 4)
        }
    }

    @Test(arguments: StoreKind.available)
    func aSiteAwayPastTheRetentionExpiresAndComesBackByReBaselining(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            world.retention.retentionDays = 30
            for id in ["lpk-a", "lpk-b", "lpk-c"] { try world.addSite(id) }
            let keys = try world.insert("lpk-a", count: 10, tag: "c")
            for _ in 0..<2 { for id in ["lpk-a", "lpk-b", "lpk-c"] { try await world.sync(id) } }
            #expect(try world.siteKeys("lpk-c") == Set(keys))

            // Away, lpk-c edits a row lpk-a then deletes, and adds two of its own.
            try world.staff("lpk-c", "UPDATE courses SET title = 'edited while away' WHERE id = ?", [keys[0]])
            let new = try world.insert("lpk-c", count: 2, tag: "new")
            try world.delete("lpk-a", keys.prefix(4))
            var purged = 0
            for step in 1...4 {
                world.clock.advance(days: 10)
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
                let done = try world.housekeep()
                purged += done["tombstones.purged"] ?? 0
                // Nothing goes while lpk-c still counts as active (its acknowledgement holds the horizon).
                if step < 4 { #expect(done["tombstones.purged"] == 0, "purged on day \(step * 10)") }
            }
            #expect(purged == 4)
            #expect(try world.expired() == ["lpk-c"])
            #expect(try world.count("SELECT count(*) FROM _hub_purged") == 4)

            // Its return: the edit of a purged row is refused, its cursor too; it pulls a fresh copy.
            let back = try await world.sync("lpk-c")
            let pulls = back.pulls
            #expect(pulls.first?.fresh == false && (pulls.first?.seq ?? 0) > 0, "\(pulls)")
            #expect(pulls.count > 1 && pulls.dropFirst().allSatisfy(\.fresh), "\(pulls)")
            let hub = try world.hubKeys()
            #expect(hub == Set(keys.dropFirst(4)).union(new))
            #expect(try world.siteKeys("lpk-c") == hub)
            #expect(try world.siteKeys("lpk-c", dead: true).isDisjoint(with: keys.prefix(4)))
            // Nothing came back to life at the hub: no merge state for a purged row.
            #expect(try world.count("SELECT count(*) FROM _begawi_rows WHERE key = '\(keys[0])'") == 0)
            let replica = try Replica.open(at: world.path("lpk-c"))
            let ledger = try replica.refusals()
            try replica.close()
            #expect(ledger.filter { $0.reason == .purged }.map(\.key) == [keys[0]], "\(ledger)")

            // Back in contact, it no longer counts as expired once the hub has kept house again.
            try await world.sync("lpk-c")
            try world.housekeep()
            #expect(try world.expired().isEmpty)
            try await world.sync("lpk-a")
            #expect(try world.siteKeys("lpk-a") == hub)
        }
    }

    @Test(arguments: StoreKind.available)
    func handledLedgerEntriesLeaveAfterTheirRetention(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            world.retention.ledgerRetentionDays = 90
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            let keys = try world.insert("lpk-a", count: 3, tag: "c")
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            // Each site changes the three titles; one of each pair loses: three conflicts.
            for key in keys {
                try world.staff("lpk-a", "UPDATE courses SET title = 'from a' WHERE id = ?", [key])
                try world.staff("lpk-b", "UPDATE courses SET title = 'from b' WHERE id = ?", [key])
            }
            try await world.sync("lpk-a")
            try await world.sync("lpk-b")
            let ledger = try world.hub.store.conflicts()
            #expect(ledger.map(\.key).sorted() == keys.sorted(), "\(ledger)")
            // The oldest entry's row is deleted (the entry is handled: nothing left to re-apply); the
            // others stay live (the newest entry stays whatever it holds: its id is never reused).
            let handled = ledger[0].key
            try await world.sync("lpk-a")
            try world.delete("lpk-a", [handled])
            try await world.sync("lpk-a")
            // The office re-applied the second (its row stays live). The office makes `_hub_reapplied` on
            // PostgreSQL (not built yet): made here as the SQLite hub makes it.
            let reapplied = ledger[1].key
            try world.execute("CREATE TABLE IF NOT EXISTS _hub_reapplied(conflict bigint PRIMARY KEY, at bigint NOT NULL, by text NOT NULL)")
            try world.execute("INSERT INTO _hub_reapplied (conflict, at, by) SELECT id, 0, 'office' FROM _begawi_conflicts WHERE key = '\(reapplied)'")

            world.clock.advance(days: 80)
            #expect(try world.housekeep()["conflicts.cleared"] == 0, "not yet 90 days old")
            world.clock.advance(days: 20)
            let done = try world.housekeep()
            #expect(done["conflicts.cleared"] == 2, "\(done)")
            let left = try world.hub.store.conflicts().map(\.key)
            #expect(left == [ledger[2].key], "the entries of live rows the office has not acted on stay, however old")
            #expect(try world.count("SELECT count(*) FROM _hub_reapplied") == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func theAuditIsArchivedThenPruned(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            let archive = world.folder.file("audit")
            world.retention.auditRetentionDays = 30
            world.retention.auditArchiveFolder = archive
            // 300 entries of 40 days ago and 2 of today, as a hub with rules writes them (SQLite makes
            // the table with the rules: made here as it makes it).
            let now = Int64(world.clock.nowMilliseconds()), old = now - 40 * Int64(Self.day)
            if kind == .sqlite {
                try world.execute("""
                    CREATE TABLE IF NOT EXISTS _hub_audit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, site TEXT NOT NULL,
                        tbl TEXT NOT NULL, key TEXT NOT NULL, action TEXT NOT NULL, reason TEXT)
                    """)
            }
            let values = (1...300).map { "(\(old + Int64($0) * 1000), 'lpk-a', 'courses', 'k\($0)', 'inserted', NULL)" }
                + ["(\(now), 'lpk-a', 'courses', 'today1', 'refused', 'writer')", "(\(now), 'lpk-a', 'courses', 'today2', 'inserted', NULL)"]
            try world.execute("INSERT INTO _hub_audit (at, site, tbl, key, action, reason) VALUES " + values.joined(separator: ", "))

            let done = try world.housekeep()
            #expect(done["audit.archived"] == 300, "\(done)")
            #expect(try world.count("SELECT count(*) FROM _hub_audit") == 2)
            let files = try FileManager.default.contentsOfDirectory(atPath: archive)
            #expect(files.count == 1 && files.allSatisfy { $0.hasPrefix("audit-") && $0.hasSuffix(".jsonl.gz") }, "\(files)")
            let lines = try GzipDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: archive + "/" + files[0]))), limit: 1 << 24)
                .split(separator: UInt8(ascii: "\n"))
            #expect(lines.count == 300)
            #expect(String(decoding: lines[6], as: UTF8.self).contains("\"key\":\"k7\""))
            // A second pass has nothing more to archive: the newest entries are not old enough.
            #expect(try world.housekeep()["audit.archived"] == 0)
        }
    }

    @Test(arguments: StoreKind.available)
    func twoProcessesKeepingHouseAtOncePurgeEachTombstoneOnce(kind: StoreKind) async throws {
        try await PurgeStoreWorld.with(kind) { world in
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            // lpk-b syncs through the other store instance (another process): its acknowledgements are noted there.
            let other = try world.hub.another()
            let keys = try world.insert("lpk-a", count: 400, tag: "c")
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b", through: other)
            }
            try world.delete("lpk-a", keys.prefix(300))
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b", through: other)
            }
            // Two rounds of two passes at once, one through each instance: each instance writes what its
            // pulls acknowledged at its pass, so the first round may not yet know the other's.
            let results = Shared<[[String: Int]]>([])
            for _ in 0..<2 {
                concurrently([other, world.hub.store].map { store in
                    { @Sendable in
                        do {
                            let done = try world.housekeep(through: store)
                            results.with { $0.append(done) }
                        } catch {
                            results.with { $0.append(["failed": 1]) }
                        }
                    }
                })
            }
            let passes = results.with { $0 }
            #expect(!passes.contains { $0["failed"] != nil }, "\(passes)")
            // Together, every tombstone once.
            #expect(passes.map { $0["tombstones.purged"] ?? 0 }.reduce(0, +) == 300, "\(passes)")
            #expect(try world.count("SELECT count(*) FROM _hub_purged") == 300)
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 0)
            #expect(try world.hubKeys() == Set(keys.dropFirst(300)))
        }
    }
}

/// What only a hub of several processes on PostgreSQL meets: a site's pulls noted by two processes,
/// each writing its notes at its own pass.
@Suite(.blocking, .enabled(if: TestPostgres.available, TestPostgres.skipped))
struct PostgresHousekeepingTests {
    @Test func aLaterAcknowledgementWrittenFirstIsNotWrittenOver() async throws {
        try await PurgeStoreWorld.with(.postgres) { world in
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            let keys = try world.insert("lpk-a", count: 40, tag: "c")
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            // A day later lpk-b pulls the deletes through another process, which writes its notes first;
            // the first process still holds lpk-b's older note and writes it at its pass.
            world.clock.advance(days: 1)
            try world.delete("lpk-a", keys.prefix(30))
            let other = try world.hub.another()
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b", through: other)
            }
            try world.housekeep(through: other)
            let done = try world.housekeep()
            // With the older note written over the later one, the horizon stays below the deletes (0 purged).
            #expect(done["tombstones.purged"] == 30, "\(done)")
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 0)
        }
    }

    @Test func aPassFindingAnotherRunningWritesItsAcknowledgementsAndLeavesTheRest() async throws {
        try await PurgeStoreWorld.with(.postgres) { world in
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            let keys = try world.insert("lpk-a", count: 10, tag: "c")
            try await world.sync("lpk-a")
            try await world.sync("lpk-b")
            try world.delete("lpk-a", keys.prefix(4))
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            // Another process's pass holds the turn (its session-level lock, from a session of its own).
            let settings = try #require(world.hub.settings)
            let holder = try PostgresLink.connect(settings)
            defer { holder.close() }
            try holder.query("SELECT pg_advisory_lock(7301955)")
            let skipped = try world.housekeep()
            #expect(skipped == ["housekeeping.elsewhere": 1], "\(skipped)")
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 4)
            #expect(try world.count("SELECT count(*) FROM _hub_acks") == 2, "the acknowledgements are written all the same")
            // Once it lets go, the next pass (of any process) purges with them.
            try holder.query("SELECT pg_advisory_unlock(7301955)")
            #expect(try world.housekeep(through: try world.hub.another())["tombstones.purged"] == 4)
        }
    }

    @Test func aTombstoneAPushHoldsIsLeftForTheNextPassWithoutWaiting() async throws {
        try await PurgeStoreWorld.with(.postgres) { world in
            try world.addSite("lpk-a")
            try world.addSite("lpk-b")
            let keys = try world.insert("lpk-a", count: 6, tag: "c")
            try await world.sync("lpk-a")
            try await world.sync("lpk-b")
            try world.delete("lpk-a", keys.prefix(4))
            for _ in 0..<2 {
                try await world.sync("lpk-a")
                try await world.sync("lpk-b")
            }
            // A push's transaction holds one tombstone's row (as its upsert locks it) while the pass runs.
            let holder = try PostgresLink.connect(try #require(world.hub.settings))
            defer { holder.close() }
            // Were the pass to wait for the lock, it would wait on this very thread until the statement
            // timeout, and fail.
            let first = try holder.transaction { link in
                try link.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM _begawi_rows WHERE tbl = 'courses' AND key = '\(keys[0])' FOR UPDATE"))
                return try world.housekeep()
            }
            #expect(first["tombstones.purged"] == 3, "\(first)")
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses WHERE id = '\(keys[0])'") == 1)
            #expect(try world.housekeep()["tombstones.purged"] == 1)
            #expect(try world.count("SELECT count(*) FROM _begawi_dead_courses") == 0)
        }
    }
}
