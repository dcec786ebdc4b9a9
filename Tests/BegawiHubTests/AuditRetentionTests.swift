import BegawiCore
@testable import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The audit is archived by month before it is pruned, each entry exactly once even across a crash
/// between writing and deleting, with keys and actions only (issue 15, item 3).
@Suite struct AuditRetentionTests {
    static let months: [(String, Int64)] = [("2026-01", 1_768_003_200_000), ("2026-02", 1_770_681_600_000), ("2026-03", 1_773_100_800_000)]
    static let now: UInt64 = 1_796_428_800_000  // 2026-12-05
    struct Injected: Error {}

    /// A hub with the Handak Begawi rules whose audit holds `perMonth` entries in each of three months and one of today.
    static func hub(perMonth: Int = 3_000, reason: String? = "bad-value") throws -> HubHarness {
        let harness = try HubHarness()
        try add(to: harness.store, months: months.map(\.1), perMonth: perMonth, reason: reason, today: true)
        return harness
    }

    /// Adds `perMonth` audit entries from the start of each month, and one of today.
    static func add(to store: SQLiteHubStore, months: [Int64], perMonth: Int, reason: String? = "bad-value", today: Bool) throws {
        try store.hubReplica.ownerWrite { db in
            var generator = UUIDv7Generator()
            for start in months {
                for i in 0..<perMonth {
                    // Keys as Begawi makes them: a UUIDv7, or a participant key derived from a NIK ("p" and 32 hex digits).
                    let key = i.isMultiple(of: 2) ? generator.next() : "p" + String(repeating: "0123456789abcdef", count: 2)
                    try db.execute(sql: "INSERT INTO _hub_audit(at, site, tbl, key, action, reason) VALUES (?, 'lpk-a', 't', ?, ?, ?)",
                                   arguments: [start + Int64(i) * 60_000, key, i.isMultiple(of: 3) ? "refused" : "inserted", reason])
                }
            }
            if today {
                try db.execute(sql: "INSERT INTO _hub_audit(at, site, tbl, key, action) VALUES (?, 'lpk-a', 't', 'today', 'inserted')",
                               arguments: [Int64(now)])
            }
        }
    }

    static func retention(_ folder: TemporaryFolder) -> HubRetention {
        var retention = HubRetention()
        retention.auditRetentionDays = 30
        retention.auditArchiveFolder = folder.file("audit")
        return retention
    }

    /// Every archived entry, by file name.
    static func archived(_ folder: String) throws -> [String: [[String: Any]]] {
        var out: [String: [[String: Any]]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            #expect(name.hasSuffix(".jsonl.gz"), "a file other than an archive is left: \(name)")
            let bytes = try GzipDecoder.decode(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))), limit: 1 << 28)
            out[name] = try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
        }
        return out
    }

    /// Checks that the archives hold ids 1…count once each, in the file of their month, with keys and actions only.
    static func expectEachOnce(_ files: [String: [[String: Any]]], count: Int) {
        var ids: [Int64] = []
        for (name, entries) in files {
            for entry in entries {
                ids.append((entry["id"] as! NSNumber).int64Value)
                #expect(name.hasPrefix("audit-" + AuditArchive.month(of: (entry["at"] as! NSNumber).int64Value) + "."))
                #expect(Set(entry.keys).isSubset(of: ["id", "at", "time", "site", "table", "key", "action", "reason"]))
            }
        }
        #expect(ids.sorted() == (1...Int64(count)).map { $0 })
    }

    static func auditCount(_ store: SQLiteHubStore) throws -> Int {
        try store.hubReplica.ownerRead { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_audit") ?? 0 }
    }

    @Test func entriesOfThreeMonthsAreArchivedByMonthThenPruned() throws {
        let harness = try Self.hub(), folder = harness.folder, store = harness.store
        // Kept by default: nothing is archived or pruned.
        #expect(try store.housekeep(now: Self.now, retention: HubRetention())["audit.archived"] == nil)
        #expect(try Self.auditCount(store) == 9_001)

        let done = try store.housekeep(now: Self.now, retention: Self.retention(folder))
        #expect(done["audit.archived"] == 9_000)
        #expect(try Self.auditCount(store) == 1)
        let files = try Self.archived(folder.file("audit"))
        // Chunks of 5,000 ids, one file per month in each: January and February, then February and March.
        let epoch = store.hubReplicaID
        #expect(files.keys.sorted() == ["audit-2026-01.\(epoch).000000000001-000000005000.jsonl.gz", "audit-2026-02.\(epoch).000000000001-000000005000.jsonl.gz",
                                        "audit-2026-02.\(epoch).000000005001-000000009000.jsonl.gz", "audit-2026-03.\(epoch).000000005001-000000009000.jsonl.gz"])
        Self.expectEachOnce(files, count: 9_000)
        #expect(AuditArchive.time(of: 1_773_100_800_123) == "2026-03-10T00:00:00.123Z")
        // A standard gzip file of JSON lines: `zcat FILE | jq` reads it.
        let zcat = Process()
        zcat.executableURL = URL(fileURLWithPath: "/usr/bin/zcat")
        zcat.arguments = [folder.file("audit/audit-2026-03.\(epoch).000000005001-000000009000.jsonl.gz")]
        let out = Pipe()
        zcat.standardOutput = out
        try zcat.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        zcat.waitUntilExit()
        #expect(zcat.terminationStatus == 0)
        #expect(text.split(separator: "\n").count == 3_000)
        #expect(text.hasPrefix("{\"action\":\"refused\",\"at\":1773100800000,\"id\":6001,\"key\":"))
        // A second pass finds nothing more to archive.
        #expect(try store.housekeep(now: Self.now, retention: Self.retention(folder))["audit.archived"] == 0)
    }

    @Test func aFailureBetweenWritingAndDeletingArchivesEachEntryExactlyOnce() throws {
        let harness = try Self.hub(), folder = harness.folder, store = harness.store
        var calls = 0
        #expect(throws: Injected.self) {
            _ = try store.archiveAudit(before: Int64(Self.now) - 30 * 86_400_000, folder: folder.file("audit")) {
                calls += 1
                if calls == 2 { throw Injected() }
            }
        }
        // The first chunk left; the second is written but still here.
        #expect(try Self.auditCount(store) == 4_001)
        // As if the crash came after only one of the second chunk's files was written, with a temporary
        // file of another chunk left behind.
        let epoch = store.hubReplicaID
        let march = folder.file("audit/audit-2026-03.\(epoch).000000005001-000000009000.jsonl.gz")
        try FileManager.default.moveItem(atPath: march, toPath: folder.file("audit/audit-2026-03.\(epoch).000000005001-000000008000.jsonl.gz.tmp"))

        let done = try store.housekeep(now: Self.now + 3_600_000, retention: Self.retention(folder))
        #expect(done["audit.archived"] == 4_000)
        #expect(try Self.auditCount(store) == 1)
        Self.expectEachOnce(try Self.archived(folder.file("audit")), count: 9_000)
    }

    @Test func aHubRestoredFromABackupNeverWritesOverTheArchivesOfIdsItHandsOutAgain() throws {
        let harness = try HubHarness(), folder = harness.folder
        try Self.add(to: harness.store, months: [Self.months[0].1], perMonth: 3_000, today: false)
        try harness.store.backup(to: folder.file("backup.sqlite"))
        // After the backup, the hub goes on (ids 3001…9001) and archives ids 1…9000.
        try Self.add(to: harness.store, months: [Self.months[1].1, Self.months[2].1], perMonth: 3_000, today: true)
        #expect(try harness.store.housekeep(now: Self.now, retention: Self.retention(folder))["audit.archived"] == 9_000)
        let before = try Self.archived(folder.file("audit"))

        // Restored, the backup hands out ids 3001… again.
        let restored = try SQLiteHubStore(path: folder.file("backup.sqlite"), policy: harness.policy)
        defer { try? restored.close() }
        try Self.add(to: restored, months: [Self.months[1].1], perMonth: 3_000, today: true)
        #expect(try restored.housekeep(now: Self.now, retention: Self.retention(folder))["audit.archived"] == 6_000)
        let after = try Self.archived(folder.file("audit"))
        for (name, entries) in before {
            #expect(after[name].map { NSArray(array: $0) } == NSArray(array: entries), "\(name) was written over")
        }
        let again = after.filter { $0.key.contains(restored.hubReplicaID) }
        Self.expectEachOnce(again, count: 6_000)
        #expect(again.count == 3)
    }

    @Test func anArchiveFolderThatCannotBeMadeFailsThePassAndKeepsTheAudit() throws {
        let harness = try Self.hub(perMonth: 10), folder = harness.folder
        var retention = Self.retention(folder)
        retention.auditArchiveFolder = folder.file("hub.sqlite") + "/audit"
        #expect {
            try harness.store.housekeep(now: Self.now, retention: retention)
        } throws: { error in
            let error = error as? BegawiError
            return error?.code == .storage && error?.message.contains("audit_archive_dir") == true
        }
        #expect(try Self.auditCount(harness.store) == 31)
    }

    @Test func theArchivedAuditsPagesAreGivenBack() throws {
        let harness = try Self.hub(perMonth: 10_000, reason: String(repeating: "r", count: 400))
        let folder = harness.folder, store = harness.store
        let path = folder.file("hub.sqlite")
        try store.hubReplica.checkpoint()
        let grown = DiskBytes.database(path)
        let started = ContinuousClock.now
        let done = try store.housekeep(now: Self.now, retention: Self.retention(folder))
        let pass = ContinuousClock.now - started
        let space = try store.hubReplica.space(), bytes = DiskBytes.database(path)
        print("hub housekeeping: \(done["audit.archived"] ?? 0) audit entries archived, \(done["pages.freed"] ?? 0) pages freed, "
              + "\(grown / 1024) KiB → \(bytes / 1024) KiB (live \(space.liveBytes / 1024) KiB) in \(pass)")
        #expect(done["audit.archived"] == 30_000)
        #expect((done["pages.freed"] ?? 0) > 1_000)
        #expect(done["pages.free"] == 0)
        #expect(bytes < 2 * space.liveBytes, "\(bytes) bytes on disk for \(space.liveBytes) of live pages")
    }
}
