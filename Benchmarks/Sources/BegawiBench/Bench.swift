import BegawiCore
import BegawiReplica
import CSQLite
import Foundation

func sqlite3VersionString() -> UnsafePointer<CChar> { sqlite3_libversion() }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// CPU seconds (user + system) this process has used.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

struct Bench {
    let folder: String
    let rows: Int
    var counter = 0

    init(folder: String, rows: Int) {
        self.folder = folder
        self.rows = rows
    }

    func path(_ name: String) -> String { folder + "/" + name + ".sqlite" }

    func removeDatabase(_ p: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: p + suffix) }
    }

    /// Rows of enrollment-like values with time-ordered keys.
    func fixtureRows(_ n: Int, seed: UInt64) -> [[SQLValue]] {
        var rng = SplitMix64(seed: seed)
        var keys = UUIDv7Generator(clock: SystemWallClock(), random: SplitMix64(seed: seed ^ 0xABCDEF))
        let programs = (0..<40).map { _ in keys.next() }
        return (0..<n).map { EnrollmentFixture.row($0, key: keys.next(), rng: &rng, programs: programs) }
    }

    /// Seconds to insert `data` into a fresh plain table (or a fresh replica's synced table) in one
    /// transaction, through one prepared statement, or through `sql` when given.
    /// With `withoutAutoVacuum`, the replica is turned to `auto_vacuum = NONE` (and vacuumed) before the
    /// inserts: what incremental auto-vacuum, which lets housekeeping give pages back in steps, costs them.
    func timedInsert(synced: Bool, data: [[SQLValue]], sql: String? = nil, withoutAutoVacuum: Bool = false) throws -> Double {
        let p = path(synced ? "insert-synced" : "insert-plain")
        removeDatabase(p)
        if synced {
            try Replica.create(at: p, siteID: "bench", schema: EnrollmentFixture.schema).close()
            if withoutAutoVacuum { try RawDatabase(path: p).execute("PRAGMA auto_vacuum = NONE; VACUUM") }
        } else {
            try RawDatabase(path: p).execute(plainDDL)
        }
        let db = try RawDatabase(path: p)
        let t = try seconds {
            try db.execute("BEGIN IMMEDIATE")
            if let sql { try db.execute(sql) } else { try db.insert(insertSQL, rows: data) }
            try db.execute("COMMIT")
        }
        removeDatabase(p)
        return t
    }

    var plainDDL: String {
        "CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, " + EnrollmentFixture.table.columns.map { "\"\($0.name)\" \($0.type)" }.joined(separator: ", ") + ")"
    }

    var insertSQL: String {
        let t = EnrollmentFixture.table
        let columns = ([t.primaryKey] + t.columns).map { "\"\($0.name)\"" }.joined(separator: ", ")
        return "INSERT INTO \(t.name) (\(columns)) VALUES (\(Array(repeating: "?", count: t.columns.count + 1).joined(separator: ", ")))"
    }

    // MARK: capture

    func capture() throws {
        print("\n== capture overhead: \(rows) inserts in one transaction, synced table vs plain table ==")
        let data = fixtureRows(rows, seed: 1)
        let cte = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO enrollments SELECT printf('0190%08x-0000-7000-8000-%012x', i, abs(random()) % 281474976710656),
              printf('p-%016x%016x', random(), random()), printf('0190aaaa-0000-7000-8000-%012x', i % 40), printf('lpk-bontang-%02d', 1 + i % 12),
              'registered', printf('2026-03-%02d', 1 + i % 28), printf('2026-04-%02d', 1 + i % 28), NULL, NULL, 'APBD Kota Bontang',
              'Peserta hadir pada orientasi', printf('operator-%d', i % 7) FROM n
            """
        func once(synced: Bool, viaSQL: Bool, withoutAutoVacuum: Bool = false) throws -> Double {
            try timedInsert(synced: synced, data: data, sql: viaSQL ? cte : nil, withoutAutoVacuum: withoutAutoVacuum)
        }
        for viaSQL in [false, true] {
            var ratios: [Double] = [], plain: [Double] = [], synced: [Double] = [], bare: [Double] = [], bareRatios: [Double] = []
            for pair in 0..<9 {
                // Side by side, rotating which goes first: this machine's speed drifts by tens of percent.
                // The third of each trio is the replica without incremental auto-vacuum.
                var p = 0.0, s = 0.0, b = 0.0
                for step in 0..<3 {
                    switch (step + pair) % 3 {
                    case 0: p = try once(synced: false, viaSQL: viaSQL)
                    case 1: s = try once(synced: true, viaSQL: viaSQL)
                    default: b = try once(synced: true, viaSQL: viaSQL, withoutAutoVacuum: true)
                    }
                }
                plain.append(p)
                synced.append(s)
                bare.append(b)
                ratios.append(s / p)
                bareRatios.append(b / p)
            }
            let r = ratios.sorted(), rb = bareRatios.sorted()
            print(String(format: "  %@: plain %.0f rows/s, synced %.0f rows/s; ratio median %.2fx (pairs ranged %.2f–%.2f)%@",
                         (viaSQL ? "one INSERT ... SELECT in SQL       " : "prepared statement bound from Swift") as NSString,
                         Double(rows) / median(plain), Double(rows) / median(synced), median(ratios), r.first!, r.last!,
                         (viaSQL ? "" : ", target <= 1.3x") as NSString))
            print(String(format: "    the same replica without incremental auto-vacuum: %.0f rows/s; ratio median %.2fx (ranged %.2f–%.2f)",
                         Double(rows) / median(bare), median(bareRatios), rb.first!, rb.last!))
        }
        print("  (9 pairs each; noise-free instruction counts: see BENCHMARKS.md for the callgrind command)")
    }

    // MARK: apply

    /// A replica holding `rows` captured inserts, and one batch of all of them.
    func source(_ name: String, rows n: Int, seed: UInt64) throws -> (Replica, ChangeBatch) {
        let p = path(name)
        removeDatabase(p)
        let replica = try Replica.create(at: p, siteID: "lpk-a", schema: EnrollmentFixture.schema)
        try RawDatabase(path: p).execute("BEGIN")
        let db = try RawDatabase(path: p)
        try db.execute("BEGIN IMMEDIATE")
        try db.insert(insertSQL, rows: fixtureRows(n, seed: seed))
        try db.execute("COMMIT")
        try replica.captureLocalChanges()
        let batch = try replica.export(after: .start, limits: BatchLimits(maxRows: n, maxValueBytes: Int.max))
        return (replica, batch)
    }

    func apply() throws {
        print("\n== apply: one \(rows)-change batch (a change = one row with all its columns) ==")
        let (a, batch) = try source("apply-source", rows: rows, seed: 2)
        let bytes = try BatchCodec.encode(batch)
        let plainRows = fixtureRows(rows, seed: 2)
        var decodeTimes: [Double] = [], emptyTimes: [Double] = [], plainTimes: [Double] = [], ratios: [Double] = []
        for trial in 0..<5 {
            // The same number of plain inserts of like rows, side by side: the reference the targets scale from.
            let plain = try timedInsert(synced: false, data: plainRows)
            let p = path("apply-empty-\(trial)")
            removeDatabase(p)
            let b = try Replica.create(at: p, siteID: "hub", schema: EnrollmentFixture.schema)
            var decoded: ChangeBatch?
            decodeTimes.append(try seconds { decoded = try BatchCodec.decode(bytes) })
            let applied = try seconds { _ = try b.apply(decoded!) }
            try b.close()
            removeDatabase(p)
            plainTimes.append(plain)
            emptyTimes.append(applied)
            ratios.append(plain / applied)
        }
        let d = median(decodeTimes), e = median(emptyTimes), pl = median(plainTimes)
        print(String(format: "  plain inserts of like rows, side by side: %.0f rows/s", Double(rows) / pl))
        print(String(format: "  into an empty replica: %.0f changes/s = %.2f of the plain insert rate (pairs %.2f–%.2f); target 150,000/s, i.e. 0.44 of the 340,000 rows/s reference",
                     Double(rows) / e, median(ratios), ratios.min()!, ratios.max()!))
        print(String(format: "  decoding the %d-byte batch adds %.3f s (%.0f changes/s decoded and applied)", bytes.count, d, Double(rows) / (e + d)))

        // Every change conflicts: the receiver edited the same column of every row, concurrently.
        var conflictTimes: [Double] = [], conflictRatios: [Double] = []
        for trial in 0..<3 {
            let (c, changes) = try conflictingChanges(source: a, batch: batch, name: "apply-conflict-\(trial)", trial: trial)
            let plain = try timedInsert(synced: false, data: plainRows)
            var result: ApplyResult?
            let t = try seconds { result = try c.apply(changes) }
            guard result?.conflicts == rows else { throw BegawiError(.invalidArgument, "expected \(rows) conflicts, got \(result?.conflicts ?? -1)") }
            conflictTimes.append(t)
            conflictRatios.append(plain / t)
            try c.close()
            removeDatabase(c.path)
        }
        print(String(format: "  into a replica where every change conflicts: %.0f changes/s = %.2f of the plain insert rate (pairs %.2f–%.2f), %d ledger rows; target 60,000/s, i.e. 0.18 of the reference",
                     Double(rows) / median(conflictTimes), median(conflictRatios), conflictRatios.min()!, conflictRatios.max()!, rows))
        try a.close()
        removeDatabase(a.path)
    }

    /// A receiver holding all of `batch` that changed `status` in every row, and the source's later,
    /// concurrent change of the same column in every row: applying it conflicts on every row.
    func conflictingChanges(source a: Replica, batch: ChangeBatch, name: String, trial: Int) throws -> (Replica, ChangeBatch) {
        let p = path(name)
        removeDatabase(p)
        let c = try Replica.create(at: p, siteID: "lpk-b", schema: EnrollmentFixture.schema)
        _ = try c.apply(batch)
        try RawDatabase(path: p).execute("UPDATE enrollments SET status = 'active'")
        try c.captureLocalChanges()
        try RawDatabase(path: a.path).execute("UPDATE enrollments SET status = 'completed', notes = 'trial \(trial)'")
        return (c, try a.export(after: try c.cursor(for: a.replicaID), limits: BatchLimits(maxRows: rows, maxValueBytes: Int.max)))
    }

    // MARK: bytes

    func bytes() throws {
        print("\n== bytes on the wire: batches of 1,000 ==")
        let (a, inserts) = try source("bytes-source", rows: 1000, seed: 3)
        let insertBatch = try a.export(after: .start, limits: BatchLimits(maxRows: 1000))
        _ = inserts
        let p = path("bytes-receiver")
        removeDatabase(p)
        let r = try Replica.create(at: p, siteID: "hub", schema: EnrollmentFixture.schema)
        _ = try r.apply(insertBatch)
        // 2-column updates of 1,000 rows.
        try RawDatabase(path: a.path).execute("UPDATE enrollments SET status = 'active', started_on = '2026-05-02'")
        let updateBatch = try a.export(after: try r.cursor(for: a.replicaID), limits: BatchLimits(maxRows: 1000))
        print("  " + "encoding".padding(toLength: 44, withPad: " ", startingAt: 0) + "insert B/row  2-col update B/row")
        for (name, encode) in encoders() {
            let i = Double(try encode(insertBatch).count) / Double(insertBatch.rows.count)
            let u = Double(try encode(updateBatch).count) / Double(updateBatch.rows.count)
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%8.1f      %8.1f", i, u))
        }
        print("  " + "targets".padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%8.1f      %8.1f", 70.0, 40.0))
        try sqldiffReference()
        try a.close()
        try r.close()
    }

    func encoders() -> [(String, (ChangeBatch) throws -> [UInt8])] {
        [
            ("JSON, uncompressed", { Array(try BatchJSON.encode($0)) }),
            ("JSON + zlib -6", { try Deflate.compress(Array(try BatchJSON.encode($0)), level: 6) }),
            ("columnar binary, uncompressed", { try BatchCodec.encode($0, level: 0) }),
            ("columnar binary + zlib -6 (the wire format)", { try BatchCodec.encode($0, level: 6) }),
            ("columnar binary + zlib -9", { try BatchCodec.encode($0, level: 9) }),
        ]
    }

    /// sqldiff changesets of the same change, compressed with zstd, when the tools are installed.
    func sqldiffReference() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqldiff"), FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd") else {
            print("  (sqldiff or zstd missing: `make bench-deps` installs them for the reference figures)")
            return
        }
        let ddl = plainDDL
        let before = path("diff-before"), after = path("diff-after")
        for p in [before, after] { removeDatabase(p); try RawDatabase(path: p).execute(ddl) }
        let data = fixtureRows(1000, seed: 3)
        let db = try RawDatabase(path: after)
        try db.insert(insertSQL, rows: data)
        let insertBytes = try changesetSize(before, after)
        try RawDatabase(path: before).insert(insertSQL, rows: data)
        try db.execute("UPDATE enrollments SET status = 'active', started_on = '2026-05-02'")
        let updateBytes = try changesetSize(before, after)
        print("  " + "sqldiff --changeset + zstd -19 (reference)".padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(format: "%8.1f      %8.1f", Double(insertBytes) / 1000, Double(updateBytes) / 1000))
    }

    func changesetSize(_ a: String, _ b: String) throws -> Int {
        let out = folder + "/changeset.bin"
        try run("/usr/bin/sqldiff", ["--changeset", out, a, b])
        try run("/usr/bin/zstd", ["-q", "-f", "-19", out, "-o", out + ".zst"])
        return (try FileManager.default.attributesOfItem(atPath: out + ".zst")[.size] as? Int) ?? 0
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
    }
}

/// A plain JSON rendering of a batch, to compare the wire format against.
enum BatchJSON {
    struct Reg: Encodable { let v: String?; let clock: UInt64; let site: String; let counter: UInt64 }
    struct Row: Encodable { let table: String; let key: String; let vv: [String: UInt64]; let deleted: Bool?; let registers: [String: Reg] }

    static func encode(_ batch: ChangeBatch) throws -> Data {
        let rows = batch.rows.map { row in
            let t = batch.tables[row.table]
            var regs: [String: Reg] = [:]
            for (i, r) in row.state.columns.enumerated() {
                guard let r else { continue }
                let v: String?
                switch r.value {
                case .text(let s): v = s
                case .integer(let x): v = String(x)
                case .null: v = nil
                default: v = "?"
                }
                regs[t.columns[i]] = Reg(v: v, clock: r.stamp.clock.rawValue, site: r.stamp.site, counter: r.stamp.counter)
            }
            return Row(table: t.name, key: row.key, vv: Dictionary(uniqueKeysWithValues: row.state.vector.entries.map { ($0.site, $0.counter) }),
                       deleted: row.state.deleted.map { $0.value == RowState.deletedMarker }, registers: regs)
        }
        return try JSONEncoder().encode(rows)
    }
}
