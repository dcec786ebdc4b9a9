import BegawiCore
import BegawiHub
import Foundation
import GRDB
import Testing

/// The year benchmark (`make bench-year`, figures in BENCHMARKS.md): a year of Bontang's traffic
/// (`YearSimulation`) without and with the hub's housekeeping pass, reporting every file's size
/// against its live data. Runs only when `BEGAWI_BENCH_YEAR` is set: `WEEKS` or `WEEKS,PERCENT`
/// (the per-week load scaled to PERCENT %; the full load is 50 registrations, 200 status changes
/// and 20 deletes per site and week).
@Suite(.blocking) struct YearBenchmarkTests {
    static let setting = ProcessInfo.processInfo.environment["BEGAWI_BENCH_YEAR"]

    /// A database's size on disk, and what it would shrink to.
    struct Size {
        var file = 0
        var wal = 0
        var used = 0
        var compact = 0
        /// The synced tables' live rows alone: the compact copy without Begawi's own tables
        /// (tombstones, merge state, ledgers, outbox, the hub's feed, audit and registry).
        var live = 0
        /// The compact copy's largest tables, with their indexes (dbstat), largest first.
        var tables: [(name: String, bytes: Int)] = []

        static func of(_ path: String, scratch: String) throws -> Size {
            let size = { (p: String) in ((try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? Int) ?? 0 }
            var s = Size(wal: size(path + "-wal"))
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            try queue.inDatabase { db in
                // The file as a checkpoint leaves it (the daemons checkpoint too); the log's size is kept above.
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                s.file = size(path)
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0, free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                s.used = (pages - free) * (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
                try? FileManager.default.removeItem(atPath: scratch)
                try db.execute(sql: "VACUUM INTO ?", arguments: [scratch])
            }
            s.compact = size(scratch)
            let copy = try DatabaseQueue(path: scratch)
            try copy.writeWithoutTransaction { db in
                // dbstat is compiled into Debian's SQLite; where it is not, the breakdown is left out.
                s.tables = (try? Row.fetchAll(db, sql: """
                    SELECT coalesce(m.tbl_name, d.name) AS t, sum(d.pgsize) AS bytes FROM dbstat d
                    LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY t ORDER BY bytes DESC LIMIT 8
                    """).map { (name: $0["t"] as String? ?? "?", bytes: $0["bytes"] as Int? ?? 0) }) ?? []
                for table in try String.fetchAll(db, sql: #"SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\_%' ESCAPE '\'"#) {
                    try db.execute(sql: "DROP TABLE \"\(table)\"")
                }
                try db.execute(sql: "VACUUM")
            }
            try copy.close()
            s.live = size(scratch)
            try? FileManager.default.removeItem(atPath: scratch)
            return s
        }
    }

    static func mb(_ bytes: Int) -> String { String(format: "%.2f", Double(bytes) / 1_048_576) }

    /// One run: the simulation, its checks, and one line per file kind.
    func year(weeks: Int, load: YearSimulation.Load, housekeeping: Bool, auditDays: Int? = nil) throws -> [String] {
        let started = Date()
        var retention = HubRetention()
        retention.auditRetentionDays = auditDays
        let sim = try YearSimulation(load: load, housekeeping: housekeeping, retention: retention)
        try sim.run(weeks: weeks)
        let seconds = Date().timeIntervalSince(started)
        // What the simulation wrote is what the hub and the office hold.
        let live = sim.liveParticipants
        #expect(Set(try sim.h.hubRows("participants").keys) == live)
        #expect(Set(try sim.h.siteRows("disnaker", "participants").keys) == live)
        let audit = auditDays.map { ", audit_retention_days \($0)" } ?? ""
        var lines = ["housekeeping \(housekeeping ? "on" : "off")\(audit): \(weeks) weeks in \(Int(seconds)) s; \(live.count) live participants; passes: \(sim.housekept.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))"]
        let scratch = sim.h.folder.file("compact.sqlite")
        var groups: [(String, [String])] = [("hub", ["hub"])]
        for (prefix, _, _) in YearSimulation.kinds {
            groups.append((prefix, sim.sites.map(\.id).filter { $0 == prefix || $0.hasPrefix(prefix + "-") }))
        }
        for (name, ids) in groups {
            let sizes = try ids.map { try Size.of(sim.h.folder.file("\($0).sqlite"), scratch: scratch) }
            let largest = sizes.max { $0.file < $1.file }!
            lines.append("  \(name) (\(ids.count), largest): file after checkpoint \(YearBenchmarkTests.mb(largest.file)) MB, wal before \(YearBenchmarkTests.mb(largest.wal)) MB, used pages \(YearBenchmarkTests.mb(largest.used)) MB, compact (VACUUM INTO) \(YearBenchmarkTests.mb(largest.compact)) MB, live rows only \(YearBenchmarkTests.mb(largest.live)) MB, file/compact \(String(format: "%.2f", Double(largest.file) / Double(max(largest.compact, 1)))), file/live \(String(format: "%.2f", Double(largest.file) / Double(max(largest.live, 1))))")
            lines.append("    its largest tables (with indexes, compact): " + largest.tables.map { "\($0.name) \(YearBenchmarkTests.mb($0.bytes))" }.joined(separator: ", "))
        }
        sim.h.close()
        return lines
    }

    @Test(.enabled(if: setting != nil, "set BEGAWI_BENCH_YEAR=WEEKS[,PERCENT] to run (make bench-year)"))
    func aYearOfBontang() throws {
        let parts = (YearBenchmarkTests.setting ?? "").split(separator: ",").compactMap { Int($0) }
        let weeks = parts.first ?? 52, percent = parts.count > 1 ? parts[1] : 100
        guard (1...104).contains(weeks), (1...100).contains(percent) else {
            Issue.record("BEGAWI_BENCH_YEAR must be WEEKS (1-104) or WEEKS,PERCENT (1-100)")
            return
        }
        let full = YearSimulation.Load()
        let load = YearSimulation.Load(registrations: full.registrations * percent / 100, statusChanges: full.statusChanges * percent / 100,
                                       deletes: full.deletes * percent / 100)
        var report = ["year benchmark: \(weeks) weeks at \(percent) % (per site and week: \(load.registrations) registrations, \(load.statusChanges) status changes, \(load.deletes) deletes)"]
        for housekeeping in [false, true] { report += try year(weeks: weeks, load: load, housekeeping: housekeeping) }
        // The audit is kept by default; an office that archives it after 90 days keeps this much less.
        report += try year(weeks: weeks, load: load, housekeeping: true, auditDays: 90)
        print(report.joined(separator: "\n"))
    }
}
