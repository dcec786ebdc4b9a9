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

    var insertSQL: String {
        let t = EnrollmentFixture.table
        let columns = ([t.primaryKey] + t.columns).map { "\"\($0.name)\"" }.joined(separator: ", ")
        return "INSERT INTO \(t.name) (\(columns)) VALUES (\(Array(repeating: "?", count: t.columns.count + 1).joined(separator: ", ")))"
    }

    // MARK: capture

    func capture() throws {
        print("\n== capture overhead: \(rows) inserts in one transaction, synced table vs plain table ==")
        let data = fixtureRows(rows, seed: 1)
        let plainDDL = "CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, " + EnrollmentFixture.table.columns.map { "\"\($0.name)\" \($0.type)" }.joined(separator: ", ") + ")"
        var plainTimes: [Double] = [], syncedTimes: [Double] = [], plainSQL: [Double] = [], syncedSQL: [Double] = []
        let cte = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO enrollments SELECT printf('0190%08x-0000-7000-8000-%012x', i, abs(random()) % 281474976710656),
              printf('p-%016x%016x', random(), random()), printf('0190aaaa-0000-7000-8000-%012x', i % 40), printf('lpk-bontang-%02d', 1 + i % 12),
              'registered', printf('2026-03-%02d', 1 + i % 28), printf('2026-04-%02d', 1 + i % 28), NULL, NULL, 'APBD Kota Bontang',
              'Peserta hadir pada orientasi', printf('operator-%d', i % 7) FROM n
            """
        for trial in 0..<5 {
            for synced in [trial % 2 == 0, trial % 2 != 0] {
                for viaSQL in [false, true] {
                    let p = path("capture-\(synced)-\(viaSQL)")
                    removeDatabase(p)
                    if synced {
                        try Replica.create(at: p, siteID: "bench", schema: EnrollmentFixture.schema).close()
                    } else {
                        try RawDatabase(path: p).execute(plainDDL)
                    }
                    let db = try RawDatabase(path: p)
                    let t = try seconds {
                        try db.execute("BEGIN IMMEDIATE")
                        if viaSQL { try db.execute(cte) } else { try db.insert(insertSQL, rows: data) }
                        try db.execute("COMMIT")
                    }
                    switch (synced, viaSQL) {
                    case (true, false): syncedTimes.append(t)
                    case (false, false): plainTimes.append(t)
                    case (true, true): syncedSQL.append(t)
                    case (false, true): plainSQL.append(t)
                    }
                    removeDatabase(p)
                }
            }
        }
        let p1 = median(plainTimes), s1 = median(syncedTimes), p2 = median(plainSQL), s2 = median(syncedSQL)
        print(String(format: "  prepared statement, bound from Swift: plain %.3f s (%.0f rows/s), synced %.3f s (%.0f rows/s): ratio %.2fx (target <= 1.3x)",
                     p1, Double(rows) / p1, s1, Double(rows) / s1, s1 / p1))
        print(String(format: "  one INSERT ... SELECT in SQL:         plain %.3f s (%.0f rows/s), synced %.3f s (%.0f rows/s): ratio %.2fx",
                     p2, Double(rows) / p2, s2, Double(rows) / s2, s2 / p2))
        print("  (median of 5 trials each, alternating order)")
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
        print("\n== apply: one \(rows)-change batch ==")
        let (a, batch) = try source("apply-source", rows: rows, seed: 2)
        let bytes = try BatchCodec.encode(batch)
        var decodeTimes: [Double] = [], emptyTimes: [Double] = []
        for trial in 0..<3 {
            let p = path("apply-empty-\(trial)")
            removeDatabase(p)
            let b = try Replica.create(at: p, siteID: "hub", schema: EnrollmentFixture.schema)
            var decoded: ChangeBatch?
            decodeTimes.append(try seconds { decoded = try BatchCodec.decode(bytes) })
            let cpu0 = cpuSeconds()
            emptyTimes.append(try seconds { _ = try b.apply(decoded!) })
            print(String(format: "    trial %d: %.3f s wall, %.3f s cpu", trial, emptyTimes.last!, cpuSeconds() - cpu0))
            try b.close()
            removeDatabase(p)
        }
        let d = median(decodeTimes), e = median(emptyTimes)
        print(String(format: "  into an empty replica: %.3f s = %.0f changes/s (target >= 150,000); decoding the %d-byte batch: %.3f s more (%.0f changes/s with it)",
                     e, Double(rows) / e, bytes.count, d, Double(rows) / (e + d)))

        // Every change conflicts: the receiver edited the same column of every row, concurrently.
        var conflictTimes: [Double] = []
        for trial in 0..<2 {
            let p = path("apply-conflict-\(trial)")
            removeDatabase(p)
            let c = try Replica.create(at: p, siteID: "lpk-b", schema: EnrollmentFixture.schema)
            _ = try c.apply(batch)
            try RawDatabase(path: p).execute("UPDATE enrollments SET status = 'active'")
            try c.captureLocalChanges()
            try RawDatabase(path: a.path).execute("UPDATE enrollments SET status = 'completed', notes = 'trial \(trial)'")
            let changes = try a.export(after: try c.cursor(for: a.replicaID), limits: BatchLimits(maxRows: rows, maxValueBytes: Int.max))
            var result: ApplyResult?
            conflictTimes.append(try seconds { result = try c.apply(changes) })
            guard result?.conflicts == rows else { throw BegawiError(.invalidArgument, "expected \(rows) conflicts, got \(result?.conflicts ?? -1)") }
            try c.close()
            removeDatabase(p)
        }
        let cf = median(conflictTimes)
        print(String(format: "  into a replica where every change conflicts: %.3f s = %.0f changes/s (target >= 60,000), %d ledger rows",
                     cf, Double(rows) / cf, rows))
        try a.close()
        removeDatabase(a.path)
    }

    /// One apply where every change conflicts, for a profiler.
    func profileConflict() throws {
        let (a, batch) = try source("profile-conflict-source", rows: rows, seed: 2)
        let p = path("profile-conflict")
        removeDatabase(p)
        let c = try Replica.create(at: p, siteID: "lpk-b", schema: EnrollmentFixture.schema)
        _ = try c.apply(batch)
        try RawDatabase(path: p).execute("UPDATE enrollments SET status = 'active'")
        try c.captureLocalChanges()
        try RawDatabase(path: a.path).execute("UPDATE enrollments SET status = 'completed'")
        let changes = try a.export(after: try c.cursor(for: a.replicaID), limits: BatchLimits(maxRows: rows, maxValueBytes: Int.max))
        let t = try seconds { _ = try c.apply(changes) }
        print(String(format: "conflicting apply: %.3f s", t))
    }

    /// One capture run, plain or synced, for `valgrind --tool=callgrind --toggle-collect='*insert*'`.
    func profileCapture(synced: Bool) throws {
        let data = fixtureRows(rows, seed: 1)
        let p = path("profile-capture")
        removeDatabase(p)
        if synced {
            try Replica.create(at: p, siteID: "bench", schema: EnrollmentFixture.schema).close()
        } else {
            try RawDatabase(path: p).execute(plainDDL)
        }
        let db = try RawDatabase(path: p)
        try db.execute("BEGIN IMMEDIATE")
        try db.insert(insertSQL, rows: data)
        try db.execute("COMMIT")
        removeDatabase(p)
    }

    var plainDDL: String {
        "CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, " + EnrollmentFixture.table.columns.map { "\"\($0.name)\" \($0.type)" }.joined(separator: ", ") + ")"
    }

    /// Applies one batch into fresh replicas several times, for a profiler to look at.
    func profileApply() throws {
        let (_, batch) = try source("profile-source", rows: rows, seed: 2)
        for trial in 0..<5 {
            let p = path("profile-\(trial)")
            removeDatabase(p)
            let b = try Replica.create(at: p, siteID: "hub", schema: EnrollmentFixture.schema)
            let t = try seconds { _ = try b.apply(batch) }
            print(String(format: "apply: %.3f s", t))
            try b.close()
            removeDatabase(p)
        }
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
        print("  encoding                                   insert B/row   2-col update B/row")
        for (name, encode) in encoders() {
            let i = Double(try encode(insertBatch).count) / Double(insertBatch.rows.count)
            let u = Double(try encode(updateBatch).count) / Double(updateBatch.rows.count)
            print(String(format: "  %-42@ %8.1f      %8.1f", name as NSString, i, u))
        }
        print("  targets                                        70.0          40.0")
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
        let ddl = "CREATE TABLE enrollments (id TEXT PRIMARY KEY NOT NULL, " + EnrollmentFixture.table.columns.map { "\"\($0.name)\" \($0.type)" }.joined(separator: ", ") + ")"
        let before = path("diff-before"), after = path("diff-after")
        for p in [before, after] { removeDatabase(p); try RawDatabase(path: p).execute(ddl) }
        let data = fixtureRows(1000, seed: 3)
        let db = try RawDatabase(path: after)
        try db.insert(insertSQL, rows: data)
        let insertBytes = try changesetSize(before, after)
        try RawDatabase(path: before).insert(insertSQL, rows: data)
        try db.execute("UPDATE enrollments SET status = 'active', started_on = '2026-05-02'")
        let updateBytes = try changesetSize(before, after)
        print(String(format: "  sqldiff --changeset + zstd -19 (reference) %8.1f      %8.1f", Double(insertBytes) / 1000, Double(updateBytes) / 1000))
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
