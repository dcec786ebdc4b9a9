import BegawiCore
import BegawiReplica
import Foundation

/// How long the site's applies hold the replica's write lock, and what that does to a staff
/// application writing the same file (issue 12, item 10).
extension Bench {
    /// The hub's default page (`HubConfiguration.pageRows`).
    static let hubPageRows = 2_000
    /// Rows a later pull brings into a replica that already holds the first sync.
    static let laterPullRows = 15_000

    /// One configuration's figures for one phase.
    struct LockHoldFigures {
        var holds: [Duration]
        var seconds: Double
        var staff: StaffWriter.Tally
    }

    func lockHold() throws {
        print("\n== write-lock holds while a site applies pulled pages of \(Self.hubPageRows) rows, a staff writer inserting every ~2 ms on its own connection ==")
        let (firstSync, laterPull) = try lockHoldPages()
        // Side by side, alternating: this machine's speed drifts by tens of percent.
        let configurations: [(budget: Duration?, busy: Int32)] = [
            (Replica.pageWriteBudget, 1_000), (nil, 1_000), (Replica.pageWriteBudget, 0), (nil, 0),
        ]
        var results: [(budget: Duration?, busy: Int32, first: LockHoldFigures, later: LockHoldFigures)] = []
        for (i, c) in configurations.enumerated() {
            let (first, later) = try lockHoldRun(firstSync: firstSync, laterPull: laterPull, budget: c.budget, busy: c.busy, trial: i)
            results.append((c.budget, c.busy, first, later))
        }
        for phase in [0, 1] {
            print(phase == 0
                  ? "  first sync of a new site: \(rows) rows in \(firstSync.count) pages"
                  : "  a later pull: \(Self.laterPullRows) changed rows in \(laterPull.count) pages, into the replica holding the first sync")
            print("    apply                                   busy timeout  txns   hold p50    p99     max    lock held  staff failed        longest staff insert  apply time")
            for r in results {
                let f = phase == 0 ? r.first : r.later
                let ms = f.holds.map(Self.milliseconds).sorted()
                let held = ms.reduce(0, +) / 1000
                let name = r.budget == nil ? "one transaction per page (reference)" : "budget \(Int(Self.milliseconds(r.budget!))) ms (Replica.pageWriteBudget)"
                print(String(format: "    %@  %@  %5d  %6.1f ms %6.1f ms %6.1f ms  %5.1f %%    %5d of %5d = %5.2f %%  %7.1f ms         %6.1f s",
                             name.padding(toLength: 40, withPad: " ", startingAt: 0) as NSString,
                             (r.busy == 0 ? "none        " : "\(r.busy / 1000) s         ") as NSString,
                             ms.count, Self.quantile(ms, 0.5), Self.quantile(ms, 0.99), ms.last ?? 0,
                             100 * held / max(f.seconds, 1e-9), f.staff.failed, f.staff.tried,
                             100 * Double(f.staff.failed) / Double(max(f.staff.tried, 1)), f.staff.longest, f.seconds))
            }
        }
        print("  (lock held: the holds' sum over the phase's wall time, decoding included; a write with no busy timeout fails about that often)")
    }

    /// The first sync's pages and a later pull's pages, encoded for the wire as the hub sends them.
    func lockHoldPages() throws -> (firstSync: [[UInt8]], laterPull: [[UInt8]]) {
        let p = path("lock-hold-hub")
        removeDatabase(p)
        let hub = try Replica.create(at: p, siteID: "hub", schema: EnrollmentFixture.schema)
        defer {
            try? hub.close()
            removeDatabase(p)
        }
        let db = try RawDatabase(path: p)
        var made = 0
        while made < rows {
            // In chunks: a million rows of Swift values at once would take gigabytes.
            let n = min(100_000, rows - made)
            try db.execute("BEGIN IMMEDIATE")
            try db.insert(insertSQL, rows: fixtureRows(n, seed: UInt64(made + 1)))
            try db.execute("COMMIT")
            try hub.captureLocalChanges()
            made += n
        }
        func pages(after start: ExchangeCursor) throws -> ([[UInt8]], ExchangeCursor) {
            var cursor = start
            var out: [[UInt8]] = []
            while true {
                let (batch, bytes) = try hub.exportEncoded(after: cursor, limits: BatchLimits(maxRows: Self.hubPageRows))
                if batch.rows.isEmpty { return (out, cursor) }
                out.append(bytes)
                cursor = batch.cursorAfter
            }
        }
        let (first, cursor) = try pages(after: .start)
        // Staff at other sites changed two columns of rows spread over the whole key range
        // (participant ids are random).
        try db.execute("UPDATE enrollments SET status = 'active', started_on = '2026-05-02' WHERE id IN (SELECT id FROM enrollments ORDER BY participant_id LIMIT \(Self.laterPullRows))")
        try hub.captureLocalChanges()
        let (later, _) = try pages(after: cursor)
        return (first, later)
    }

    /// A new site applies the first sync's pages, then the later pull's, while a staff writer inserts.
    func lockHoldRun(firstSync: [[UInt8]], laterPull: [[UInt8]], budget: Duration?, busy: Int32, trial: Int) throws -> (LockHoldFigures, LockHoldFigures) {
        let p = path("lock-hold-site-\(trial)")
        removeDatabase(p)
        let site = try Replica.create(at: p, siteID: "lpk-bontang-01", schema: EnrollmentFixture.schema)
        defer {
            try? site.close()
            removeDatabase(p)
        }
        let staff = try StaffWriter(path: p, busyMilliseconds: busy)
        staff.start()
        defer { staff.stop() }
        func phase(_ pages: [[UInt8]]) throws -> LockHoldFigures {
            let before = staff.snapshot(resetLongest: true)
            site.writeLockMeter.start()
            let t = try seconds {
                for bytes in pages {
                    // As SyncRound does: decoded outside any transaction, then applied within the budget.
                    let batch = try BatchCodec.decode(bytes)
                    let result = try budget.map { try site.apply(batch, budget: $0) } ?? site.apply(batch)
                    guard result.advancedCursor else { throw BegawiError(.invalidArgument, "a page did not continue the cursor") }
                }
            }
            let holds = site.writeLockMeter.stop()
            return LockHoldFigures(holds: holds, seconds: t, staff: staff.snapshot() - before)
        }
        usleep(50_000)
        let first = try phase(firstSync)
        usleep(50_000)
        let later = try phase(laterPull)
        return (first, later)
    }

    static func milliseconds(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * q).rounded(.up)) - 1))]
    }
}
