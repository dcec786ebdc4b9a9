import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// The erasure log beside the hub's database: written before `erase` returns, compared with the
/// database at every open with rules, so that neither a restored backup nor a crash between the
/// commit and the append loses an erasure.
@Suite(.blocking) struct ErasureLogTests {
    /// A hub with an office and an LPK, and two people registered there and synced.
    func world() throws -> (HubHarness, [Person], [String]) {
        let h = try HubHarness()
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        let people = [Person.make(21), Person.make(22)]
        var keys: [String] = []
        for p in people {
            let key = p.key(h.policy)
            try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, '0811', 'lpk-a')",
                        [key, p.nik, p.name, p.birth])
            try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-a', 'registered')",
                        ["enr-\(key.prefix(8))", key])
            keys.append(key)
        }
        try h.syncAll()
        return (h, people, keys)
    }

    var log: (HubHarness) -> String { { $0.folder.file("hub.sqlite.erasures") } }

    /// The store reopened on the harness's files as the daemon opens it (with the rules).
    func reopen(_ h: HubHarness) throws -> SQLiteHubStore {
        h.close()
        return try SQLiteHubStore(path: h.folder.file("hub.sqlite"), policy: h.policy)
    }

    @Test func anErasureIsLoggedWithKeysAndTimesOnlyInAFileOfMode0600() throws {
        let (h, people, keys) = try world()
        #expect(!FileManager.default.fileExists(atPath: log(h)), "control: no log before the first erasure")
        let report = try h.store.erase(key: keys[0])
        let entries = try ErasureLog(path: log(h)).read()
        #expect(entries.entries.map(\.person) == [keys[0]] && entries.skippedLines.isEmpty)
        #expect(Set(entries.entries[0].rowKeys) == Set(report.rows))
        let text = try String(contentsOfFile: log(h), encoding: .utf8)
        #expect(text.hasSuffix("}\n") && text.split(separator: "\n").count == 1, "\(text)")
        for value in [people[0].nik, people[0].name, people[0].birth] { #expect(!text.contains(value)) }
        let mode = try FileManager.default.attributesOfItem(atPath: log(h))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The key is a keyed hash of the NIK, not the NIK.
        #expect(keys[0] != people[0].nik && !keys[0].contains(people[0].nik))
        // Nothing to do at the next open: database and log agree.
        let store = try reopen(h)
        defer { try? store.close() }
        #expect(store.erasuresReconciled == ErasureReconciliation())
    }

    /// A crash after the database's commit and before the append: the next open appends it.
    @Test func aCrashBetweenTheCommitAndTheAppendLosesNothing() throws {
        let (h, _, keys) = try world()
        _ = try h.store.erase(key: keys[0])
        let before = try Data(contentsOf: URL(fileURLWithPath: log(h)))
        _ = try h.store.erase(key: keys[1])
        // The state such a crash leaves: the second erasure committed, the log as it was before.
        try before.write(to: URL(fileURLWithPath: log(h)))
        #expect(try ErasureLog(path: log(h)).read().entries.map(\.person) == [keys[0]], "control: the log lacks the second erasure")
        let store = try reopen(h)
        defer { try? store.close() }
        #expect(store.erasuresReconciled?.appended == 1 && store.erasuresReconciled?.reapplied == 0)
        #expect(try ErasureLog(path: log(h)).read().entries.map(\.person) == keys)
    }

    /// A torn last line (a crash mid-append) is skipped and reported, never a refusal to open; the
    /// erasure it held is in the database and is logged again, on a line of its own.
    @Test func aTornLastLineIsSkippedWithAWarning() throws {
        let (h, _, keys) = try world()
        _ = try h.store.erase(key: keys[0])
        _ = try h.store.erase(key: keys[1])
        let text = try String(contentsOfFile: log(h), encoding: .utf8)
        try String(text.dropLast(25)).write(toFile: log(h), atomically: false, encoding: .utf8)
        let store = try reopen(h)
        defer { try? store.close() }
        #expect(store.erasuresReconciled?.skippedLines == [2])
        #expect(store.erasuresReconciled?.appended == 1)
        let again = try ErasureLog(path: log(h)).read()
        #expect(again.entries.map(\.person) == keys && again.skippedLines == [2])
        // A damaged middle line (a flipped digit) fails its checksum the same way.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: log(h))))
        let at = bytes.firstIndex(of: UInt8(ascii: "1"))!
        bytes[at] = UInt8(ascii: "2")
        try Data(bytes).write(to: URL(fileURLWithPath: log(h)))
        #expect(try ErasureLog(path: log(h)).read().skippedLines.contains(1))
    }

    /// A database restored from a backup made before an erasure: the open erases the person again,
    /// tells the sites, and refuses their writes as erased; a missing log is written anew.
    @Test func aRestoredBackupIsErasedAgainAtOpen() throws {
        let (h, _, keys) = try world()
        try h.store.backup(to: h.folder.file("backup.sqlite"))
        #expect(try SQLiteHubStore.erasures(inBackup: h.folder.file("backup.sqlite")).isEmpty)
        _ = try h.store.erase(key: keys[0])
        let lacking = try SQLiteHubStore.erasures(lackedBy: h.folder.file("backup.sqlite"), log: ErasureLog(path: log(h)))
        #expect(lacking.map(\.person) == [keys[0]] && lacking[0].rows.count == 2)
        h.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: h.folder.file("hub.sqlite") + suffix) }
        try FileManager.default.copyItem(atPath: h.folder.file("backup.sqlite"), toPath: h.folder.file("hub.sqlite"))
        let store = try SQLiteHubStore(path: h.folder.file("hub.sqlite"), policy: h.policy)
        #expect(store.erasuresReconciled?.reapplied == 1)
        #expect(try store.rows(of: "participants").keys.sorted() == [keys[1]])
        #expect(try store.rows(of: "enrollments").count == 1)
        #expect(try store.trace(key: keys[0]).contains { $0.action == "erasure sent" && $0.site == "lpk-a" })
        #expect(try store.trace(key: keys[0]).contains { $0.action == "erased" && $0.reason == "re-applied from the erasure log" })
        try store.close()
        // Once erased again, the next open has nothing to do; without the log it is written anew.
        try FileManager.default.removeItem(atPath: log(h))
        let third = try SQLiteHubStore(path: h.folder.file("hub.sqlite"), policy: h.policy)
        defer { try? third.close() }
        #expect(third.erasuresReconciled == ErasureReconciliation(reapplied: 0, appended: 1, recreated: true))
        #expect(try ErasureLog(path: log(h)).read().entries.map(\.person) == [keys[0]])
    }
}
