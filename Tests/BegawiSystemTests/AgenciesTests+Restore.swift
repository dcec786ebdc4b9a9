import Foundation
import Testing

extension AgenciesTests {
    /// The hub restored from a backup made before an erasure, its erasure log kept: `hub backup
    /// --check` named the erasure the backup lacks, and the restarted hub erases the person again
    /// before any site pulls, a torn last line of the log notwithstanding; the sites are told as
    /// for a first erasure. On PostgreSQL the backup is a `pg_dump`, restored with `pg_restore` and
    /// `hub restored` (which says the restored database lacks the erasure), the log is the file
    /// `erasure_log` names, and the hub started on it erases again as on SQLite.
    @Test(arguments: ClusterStore.available) func aRestoredBackupIsErasedAgainBeforeTheFirstPull(store: ClusterStore) throws {
        let agencies = try Agencies(label: "erasure-restore", store: store)
        try agencies.addSite("disnaker", kind: "office")
        try agencies.addSite("lpk-a", kind: "lpk")
        try agencies.registerPartners(at: "disnaker")
        var source = Bontang(series: 8)
        let (erased, kept) = (source.person(), source.person())
        try agencies.offerProgram("prog-a", by: "lpk-a", title: "Teknik Las")
        try agencies.register(erased, at: "lpk-a")
        try agencies.register(kept, at: "lpk-a")
        try agencies.enroll("enr-1", erased.key, in: "prog-a", at: "lpk-a")
        try agencies.syncAll(rounds: 2)
        let postgres = agencies.cluster.postgres
        let backup = agencies.cluster.path(postgres == nil ? "backup.sqlite" : "backup.dump")
        if let postgres {
            try postgres.dump(to: backup)
        } else {
            let wrote = try agencies.hub("backup", [backup])
            #expect(wrote.contains("it holds 0 erasures"), "\(wrote)")
        }

        let report = try agencies.hub("erase-participant", ["--key", erased.key])
        #expect(report.contains("erased 2 rows"), "\(report)")
        if postgres == nil {
            let check = try agencies.hub("backup", ["--check", backup])
            #expect(check.contains("lacks 1 erasures") && !check.contains(erased.key), "\(check)")
            #expect(try agencies.hub("backup", ["--check", "--keys", backup]).contains("\t2\t\(erased.key)"))
        }

        // Restore the backup over the database; the erasure log stays.
        agencies.cluster.stopHub()
        let logPath: String
        if let postgres {
            try postgres.restore(from: backup)
            let restored = try agencies.hub("restored")
            #expect(restored.contains("epoch is now") && restored.contains("lacks 1 erasures"), "\(restored)")
            #expect(!restored.contains(erased.key))
            logPath = agencies.cluster.path("hub.erasures")
        } else {
            let database = agencies.cluster.path("hub.sqlite")
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            try FileManager.default.copyItem(atPath: backup, toPath: database)
            logPath = database + ".erasures"
        }
        try agencies.expectPresent(erased.personalValues, in: "hub", "control: the restored backup holds her")
        // And a crash mid-append left a torn last line: skipped with a warning, not a refusal to start.
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        try log.write(contentsOf: Data(#"{"sha256":"0f3a"#.utf8))
        try log.close()
        try agencies.cluster.startHub()

        // Before any site's pull, the hub no longer holds her.
        #expect(try agencies.keys("hub", "participants", where: "id = ?", [erased.key]).isEmpty)
        #expect(try agencies.keys("hub", "enrollments", where: "id = 'enr-1'").isEmpty)
        #expect(try agencies.keys("hub", "participants", where: "id = ?", [kept.key]) == [kept.key])
        try agencies.expectAbsent(erased.personalValues, from: "hub", "erased again at start")
        #expect(agencies.cluster.hubLog().contains("erased again before serving"), "\(agencies.cluster.hubLog())")
        #expect(agencies.cluster.hubLog().contains("torn or damaged lines"), "\(agencies.cluster.hubLog())")
        #expect(try agencies.cluster.query("hub", "SELECT count(*) FROM _hub_feed WHERE kind = 2 AND key = ?", [erased.key]).first?.first != "0")

        // The sites never pulled the first erasure: the next rounds remove her there too.
        try agencies.expectPresent(erased.personalValues, in: "lpk-a", "control: lpk-a had not synced since the erasure")
        try agencies.syncAll(rounds: 2)
        for site in agencies.sites {
            #expect(try agencies.keys(site, "participants", where: "id = ?", [erased.key]).isEmpty, "\(site) still holds her")
            #expect(try agencies.keys(site, "participants", where: "id = ?", [kept.key]) == [kept.key], "\(site) lost the other person")
            try agencies.expectAbsent(erased.personalValues, from: site, "she was erased")
        }
        #expect(try agencies.keys("hub", "participants", where: "id = ?", [erased.key]).isEmpty, "a site's re-send brought her back")
        agencies.expectNoPersonalData([erased, kept])
    }
}
